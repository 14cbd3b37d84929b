"""Caption files in, scene-graph JSONL shards out: sharded, resumable, with a progress bar.

Inputs (:func:`read_captions`): ``.txt`` (one caption per line, the key is the zero-padded line
number), ``.jsonl`` (objects with ``key`` and ``caption``), ``.tsv`` / ``.csv`` (a header naming a
``key`` and a ``caption`` column; img2dataset's ``url`` column is used as key when there is no
``key``), or a folder of webdataset ``.tar`` shards (the ``.txt`` of each sample, keyed by
``__key__``).

Output: ``<out_dir>/graphs-SSSSS-of-NNNNN.jsonl``, one line per caption,
``{"key", "caption", "entities", "relations", "graph"}``: ``entities``/``relations`` in GeneCIS's
stored form and ``graph`` in our richer form (see :mod:`cir_data.scene_graph`). Shard ``s`` holds
the ``s``-th of ``N`` contiguous near-equal parts of the input (numpy ``array_split`` sizes). A
shard is written to a temporary name and renamed when complete, so a rerun skips finished shards.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cir_data.scene_graph import DEFAULT_MODEL, load_spacy, parse_captions
from cir_data.shards import iter_samples, list_shards

KEY_DIGITS = 9


def read_captions(
    path: str | Path, *, key_column: str = "key", caption_column: str = "caption"
) -> list[tuple[str, str]]:
    """(key, caption) pairs from a caption file or shard folder (formats in the module docstring)."""
    path = Path(path)
    if path.is_dir():
        return [(s["__key__"], s["txt"]) for s in iter_samples(list_shards(path), required=("txt",))]
    suffix = path.suffix.lower()
    if suffix == ".txt":
        with path.open(encoding="utf-8") as handle:
            return [(f"{i:0{KEY_DIGITS}d}", line.rstrip("\n")) for i, line in enumerate(handle)]
    if suffix == ".jsonl":
        pairs = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if key_column not in record or caption_column not in record:
                    raise KeyError(f"{path}:{number}: needs fields {key_column!r} and {caption_column!r}")
                pairs.append((str(record[key_column]), str(record[caption_column])))
        return pairs
    if suffix in (".tsv", ".csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ",")
            fields = reader.fieldnames or []
            key_field = key_column if key_column in fields else "url"
            if key_field not in fields or caption_column not in fields:
                raise KeyError(f"{path}: header {fields} lacks {key_column!r} (or 'url') and {caption_column!r}")
            return [(row[key_field], row[caption_column] or "") for row in reader]
    raise ValueError(f"{path}: unknown caption file type {suffix!r}; use .txt, .jsonl, .tsv, .csv or a shard folder")


def shard_bounds(total: int, num_shards: int) -> list[tuple[int, int]]:
    """[start, stop) of each of ``num_shards`` contiguous parts, sized as numpy ``array_split`` does."""
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    base, extra = divmod(total, num_shards)
    bounds, start = [], 0
    for s in range(num_shards):
        stop = start + base + (1 if s < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def graph_shard_path(out_dir: str | Path, shard_index: int, num_shards: int) -> Path:
    """Where shard ``shard_index`` of ``num_shards`` is written."""
    return Path(out_dir) / f"graphs-{shard_index:05d}-of-{num_shards:05d}.jsonl"


def parse_file(
    input_path: str | Path,
    out_dir: str | Path,
    *,
    shard_index: int | None = None,
    num_shards: int = 1,
    model: str = DEFAULT_MODEL,
    batch_size: int = 256,
    n_process: int = 1,
    skip_pronouns: bool = True,
    progress: bool = True,
    **read_options: str,
) -> list[Path]:
    """Parse the captions of ``input_path`` into graph shards; returns the shard paths now complete.

    ``shard_index=None`` runs every shard in turn; finished shards are skipped either way.
    """
    if shard_index is not None and not 0 <= shard_index < num_shards:
        raise ValueError(f"shard index {shard_index} is outside [0, {num_shards})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = read_captions(input_path, **read_options)
    bounds = shard_bounds(len(pairs), num_shards)
    todo = range(num_shards) if shard_index is None else [shard_index]
    nlp = None
    done = []
    for s in todo:
        target = graph_shard_path(out_dir, s, num_shards)
        if target.exists():
            done.append(target)
            continue
        nlp = nlp if nlp is not None else load_spacy(model)
        start, stop = bounds[s]
        part = pairs[start:stop]
        tmp = target.with_suffix(".jsonl.tmp")
        graphs = parse_captions((c for _, c in part), nlp, batch_size=batch_size, n_process=n_process,
                                skip_pronouns=skip_pronouns)
        pairs_graphs = zip(part, graphs, strict=True)
        bar = tqdm(pairs_graphs, total=len(part), desc=f"parse {target.name}", disable=not progress)
        with tmp.open("w", encoding="utf-8") as handle:
            for (key, caption), graph in bar:
                record = {"key": key, "caption": caption, **graph.to_genecis(), "graph": graph.to_dict()}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(tmp, target)
        done.append(target)
    return done


def iter_graph_records(graph_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Every record of every ``graphs-*.jsonl`` shard in ``graph_dir``, shards in sorted name order."""
    paths = sorted(Path(graph_dir).glob("graphs-*.jsonl"))
    if not paths:
        raise FileNotFoundError(f"{graph_dir}: no graphs-*.jsonl shards (run `cir-data parse` first)")
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{number}: not a JSON record ({err})") from err
