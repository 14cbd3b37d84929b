"""GeneCIS triplet mining from scene graphs, on precomputed numpy arrays with O(1) draws.

The algorithm is ``specs/genecis.md`` §8 (``CCConditionalDistractor.get_random_sample`` and
``DeterministicDatasetWithConcreteness``):

1. every (image, relation) is a row; images without relations vanish; row order is image order;
2. candidate subjects have >= ``min_images`` distinct images and >= 2 distinct objects, in order of
   first appearance, drawn in proportion to their image count;
3. the reference is a uniform row of the subject; the target is drawn (uniform object of the
   subject, then uniform row of that subject-object pair) until its object and image both differ
   from the reference's, giving up after 100 attempts as the reference does; the text distractor
   is a uniform row with the target's object; the condition is "relation object";
4. for seed ``i`` the RNG is reseeded with ``i``; with a concreteness lexicon the mean of six
   whole-string scores (subject and object of reference, target, distractor; unknown = -1) must be
   strictly above the threshold, otherwise the draw repeats on the same stream.

**Reproduction.** Draws consume numpy's legacy ``RandomState`` in exactly the reference's call
order (``random_sample`` + CDF ``searchsorted`` for the weighted subject, ``randint(0, n)`` for
each uniform choice, as ``np.random.choice`` does), and the mean is summed left to right as
``np.mean`` does for six values. Given the same scene-graph rows, row order and lexicon, triplet
``i`` equals the reference's; ``tests/test_mining.py`` checks this against the direct per-draw
implementation in :mod:`cir_data.mining_reference`. The released 1.6M file also depends on the
spaCy/sng_parser versions that made its graphs, so re-parsing will not reproduce it (§7.2).

Everything per draw is an array lookup: subjects' rows, subject-object pairs' rows and objects'
rows are CSR tables (offsets + flat row arrays), scores are per-row arrays. Memory is a few int32
arrays of the number of rows. Shards are contiguous seed ranges (numpy ``array_split`` sizes) and
are combined in sorted shard order (the reference used unsorted ``os.listdir`` order, §8.5).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from cir_data.concreteness import UNKNOWN_SCORE
from cir_data.graph_files import shard_bounds

MAX_TARGET_ATTEMPTS = 100
TRIPLET_COLUMNS = ("seed", "reference_key", "target_key", "distractor_key", "condition", "kind",
                   "reference_row", "target_row", "distractor_row")


class _Vocabulary:
    """Strings -> dense int codes in order of first appearance."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, text: str) -> int:
        return self.codes.setdefault(text, len(self.codes))

    def words(self) -> list[str]:
        return list(self.codes)


@dataclass(frozen=True)
class RelationRows:
    """Flattened relations as columns: one row per (image, relation), codes into the vocabularies."""

    image: np.ndarray
    subject: np.ndarray
    relation: np.ndarray
    object: np.ndarray
    image_keys: list[str]
    subjects: list[str]
    relations: list[str]
    objects: list[str]

    def __len__(self) -> int:
        return len(self.image)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> RelationRows:
        """Rows from graph records (``key`` and GeneCIS-form ``relations``), in record order."""
        images, subjects, relations, objects = _Vocabulary(), _Vocabulary(), _Vocabulary(), _Vocabulary()
        columns: list[list[int]] = [[], [], [], []]
        for record in records:
            for rel in record["relations"]:
                columns[0].append(images.code(str(record["key"])))
                columns[1].append(subjects.code(rel["subject"]))
                columns[2].append(relations.code(rel["relation"]))
                columns[3].append(objects.code(rel["object"]))
        image, subject, relation, obj = (np.asarray(c, dtype=np.int64) for c in columns)
        return cls(image, subject, relation, obj, images.words(), subjects.words(), relations.words(), objects.words())


def _csr(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, rows): the rows of group g, in increasing row order, are rows[offsets[g]:offsets[g+1]]."""
    order = np.argsort(groups, kind="stable")
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=offsets[1:])
    return offsets, order


class RelationMiner:
    """Mines GeneCIS relation triplets from :class:`RelationRows` (see module docstring)."""

    def __init__(
        self,
        rows: RelationRows,
        *,
        min_images: int = 5,
        min_objects: int = 2,
        concreteness: Mapping[str, float] | None = None,
        threshold: float | None = 4.8,
    ) -> None:
        if len(rows) == 0:
            raise ValueError("no relations to mine from: every scene graph is empty")
        self.rows = rows
        self.threshold = threshold if concreteness is not None else None
        n_subjects, n_objects = len(rows.subjects), len(rows.objects)

        # Subject-object pairs, numbered per subject in order of first appearance (dict insertion order).
        pair_key = rows.subject * n_objects + rows.object
        unique_pairs, first_row, pair_of_row = np.unique(pair_key, return_index=True, return_inverse=True)
        pair_order = np.lexsort((first_row, unique_pairs // n_objects))
        pair_rank = np.empty_like(pair_order)
        pair_rank[pair_order] = np.arange(len(pair_order))
        self.pair_of_row = pair_rank[pair_of_row.reshape(-1)]
        self.pair_offsets, self.pair_rows = _csr(self.pair_of_row, len(unique_pairs))
        pair_subject = (unique_pairs // n_objects)[pair_order]
        self.subject_pair_offsets = np.zeros(n_subjects + 1, dtype=np.int64)
        np.cumsum(np.bincount(pair_subject, minlength=n_subjects), out=self.subject_pair_offsets[1:])

        self.subject_offsets, self.subject_rows = _csr(rows.subject, n_subjects)
        self.object_offsets, self.object_rows = _csr(rows.object, n_objects)

        image_count = np.bincount(np.unique(rows.subject * len(rows.image_keys) + rows.image) // len(rows.image_keys),
                                  minlength=n_subjects)
        object_count = np.diff(self.subject_pair_offsets)
        self.candidates = np.flatnonzero((image_count >= min_images) & (object_count >= min_objects))
        if len(self.candidates) == 0:
            raise ValueError(
                f"no subject has >= {min_images} images and >= {min_objects} objects; lower min_images"
            )
        weights = image_count[self.candidates].astype(np.float64)
        p = weights / weights.sum()
        # np.random.choice(..., p=p) builds exactly this CDF and searches it with side="right".
        self.cdf = p.cumsum()
        self.cdf /= self.cdf[-1]

        if concreteness is not None:
            subject_score = np.array([concreteness.get(w, UNKNOWN_SCORE) for w in rows.subjects], dtype=np.float64)
            object_score = np.array([concreteness.get(w, UNKNOWN_SCORE) for w in rows.objects], dtype=np.float64)
            self.row_scores = np.stack([subject_score[rows.subject], object_score[rows.object]], axis=1).tolist()
        self._image = rows.image.tolist()
        self._object = rows.object.tolist()

    def _draw(self, rs: np.random.RandomState) -> tuple[int, int, int]:
        """One (reference, target, distractor) row triple, consuming ``rs`` as the reference does."""
        subject = int(self.candidates[int(np.searchsorted(self.cdf, rs.random_sample(), side="right"))])
        start, stop = self.subject_offsets[subject], self.subject_offsets[subject + 1]
        ref = int(self.subject_rows[start + rs.randint(0, stop - start)])
        pair_start, pair_stop = self.subject_pair_offsets[subject], self.subject_pair_offsets[subject + 1]
        target = ref
        attempts = 0
        while self._object[target] == self._object[ref] or self._image[target] == self._image[ref]:
            pair = pair_start + rs.randint(0, pair_stop - pair_start)
            first, last = self.pair_offsets[pair], self.pair_offsets[pair + 1]
            target = int(self.pair_rows[first + rs.randint(0, last - first)])
            attempts += 1
            if attempts > MAX_TARGET_ATTEMPTS:
                break  # the reference gives up here and keeps this (possibly degenerate) target
        obj = self._object[target]
        first, last = self.object_offsets[obj], self.object_offsets[obj + 1]
        distractor = int(self.object_rows[first + rs.randint(0, last - first)])
        return ref, target, distractor

    def _score(self, rows: tuple[int, int, int]) -> float:
        total = 0.0
        for row in rows:  # left to right, as np.mean sums six values
            subject_score, object_score = self.row_scores[row]
            total += subject_score
            total += object_score
        return total / 6

    def mine_seed(self, seed: int, rs: np.random.RandomState | None = None) -> tuple[int, int, int]:
        """Rows of triplet ``seed``: reseed, draw, redraw on the same stream until concrete enough."""
        rs = rs if rs is not None else np.random.RandomState()
        rs.seed(seed)
        rows = self._draw(rs)
        if self.threshold is not None:
            while self._score(rows) <= self.threshold:
                rows = self._draw(rs)
        return rows

    def mine(self, seeds: Iterable[int], *, progress: bool = False) -> dict[str, list[Any]]:
        """Triplet table columns (:data:`TRIPLET_COLUMNS`) for ``seeds``."""
        seeds = list(seeds)
        rs = np.random.RandomState()
        table: dict[str, list[Any]] = {name: [] for name in TRIPLET_COLUMNS}
        keys, relations, objects = self.rows.image_keys, self.rows.relations, self.rows.objects
        for seed in tqdm(seeds, desc="mine", disable=not progress):
            ref, target, distractor = self.mine_seed(int(seed), rs)
            table["seed"].append(int(seed))
            table["reference_key"].append(keys[self._image[ref]])
            table["target_key"].append(keys[self._image[target]])
            table["distractor_key"].append(keys[self._image[distractor]])
            condition = f"{relations[int(self.rows.relation[target])]} {objects[self._object[target]]}"
            table["condition"].append(condition)
            table["kind"].append("relation")
            table["reference_row"].append(ref)
            table["target_row"].append(target)
            table["distractor_row"].append(distractor)
        return table


def write_triplets(table: Mapping[str, list[Any]], path: str | Path) -> Path:
    """Write triplet columns to a parquet file (atomically: temporary name, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(pa.table(dict(table)), tmp)
    os.replace(tmp, path)
    return path


def triplet_shard_path(out_dir: str | Path, shard_index: int, num_shards: int) -> Path:
    """Where triplet shard ``shard_index`` of ``num_shards`` is written."""
    return Path(out_dir) / f"triplets-{shard_index:05d}-of-{num_shards:05d}.parquet"


def mine_shards(
    miner: RelationMiner,
    out_dir: str | Path,
    *,
    num_samples: int,
    num_shards: int = 1,
    shard_index: int | None = None,
    progress: bool = True,
) -> list[Path]:
    """Mine seeds 0..num_samples-1 in contiguous shards; finished shards are skipped (resumable)."""
    if shard_index is not None and not 0 <= shard_index < num_shards:
        raise ValueError(f"shard index {shard_index} is outside [0, {num_shards})")
    bounds = shard_bounds(num_samples, num_shards)
    done = []
    for s in range(num_shards) if shard_index is None else [shard_index]:
        path = triplet_shard_path(out_dir, s, num_shards)
        if not path.exists():
            write_triplets(miner.mine(range(*bounds[s]), progress=progress), path)
        done.append(path)
    return done


def combine_shards(out_dir: str | Path, path: str | Path) -> Path:
    """Concatenate every ``triplets-*.parquet`` in ``out_dir`` in sorted name order into ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shards = sorted(Path(out_dir).glob("triplets-*-of-*.parquet"))
    if not shards:
        raise FileNotFoundError(f"{out_dir}: no triplets-*.parquet shards to combine")
    counts = {p.name.rsplit("-of-", 1)[1] for p in shards}
    if len(counts) != 1:
        raise ValueError(f"{out_dir}: shards from different --num-shards runs: {sorted(counts)}")
    table = pa.concat_tables([pq.read_table(p) for p in shards])
    path = Path(path)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path
