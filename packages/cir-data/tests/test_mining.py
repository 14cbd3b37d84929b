"""Mining: identical to the direct per-draw algorithm, the spec's invariants, shards, lexicon, attributes."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from cir_data.attribute_mining import AttributeMiner
from cir_data.concreteness import load_concreteness, read_concreteness_table
from cir_data.mining import RelationMiner, RelationRows, combine_shards, mine_shards, triplet_shard_path
from cir_data.mining_reference import ReferenceMiner

SUBJECTS = ["man", "woman", "dog", "cat", "horse", "child", "bird", "rare", "idea"]
OBJECTS = ["table", "tree", "car", "beach", "ball", "sofa", "street", "grass", "freedom"]
RELATIONS = ["on", "near", "holding", "in front of", "under"]
LEXICON = {  # word -> Conc.M; "idea" and "freedom" are abstract, the rest concrete
    "man": 4.79, "woman": 4.46, "dog": 4.85, "cat": 4.86, "horse": 4.97, "child": 4.78, "bird": 5.0, "rare": 1.9,
    "table": 4.9, "tree": 5.0, "car": 4.89, "beach": 4.86, "ball": 5.0, "sofa": 4.93, "street": 4.82,
    "grass": 4.93, "freedom": 1.5, "idea": 1.61, "mouse": 4.9,
}


def synthetic_records(n_images: int = 300, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n_images):
        relations = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            pool = [*SUBJECTS[:-2], "idea"]
            subject = "rare" if i in (3, 50, 90, 120) else rng.choices(pool, [5, 4, 4, 3, 2, 2, 2, 1])[0]
            relations.append({"subject": subject, "object": rng.choice(OBJECTS), "relation": rng.choice(RELATIONS)})
        records.append({"key": f"img{i:04d}", "relations": relations})
    return records


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return synthetic_records()


@pytest.fixture(scope="module")
def lexicon(tmp_path_factory) -> dict[str, float]:
    path = tmp_path_factory.mktemp("lex") / "brysbaert.tsv"
    lines = ["Word\tBigram\tConc.M\tConc.SD"] + [f"{w}\t0\t{s}\t1.0" for w, s in LEXICON.items()]
    path.write_text("\n".join(lines) + "\n")
    return load_concreteness(path)


@pytest.mark.parametrize("with_lexicon", [False, True])
def test_identical_to_direct_per_draw_algorithm(records, lexicon, with_lexicon: bool) -> None:
    lex = lexicon if with_lexicon else None
    fast = RelationMiner(RelationRows.from_records(records), concreteness=lex)
    slow = ReferenceMiner(records, concreteness=lex)
    table = fast.mine(range(150))
    assert list(zip(table["reference_row"], table["target_row"], table["distractor_row"], strict=True)) == [
        slow.mine_seed(s) for s in range(150)
    ]


def test_spec_invariants(records, lexicon) -> None:
    rows = RelationRows.from_records(records)
    miner = RelationMiner(rows, concreteness=lexicon)
    table = miner.mine(range(300))
    subject = [rows.subjects[s] for s in rows.subject]
    obj = [rows.objects[o] for o in rows.object]
    relation = [rows.relations[r] for r in rows.relation]
    for ref, target, dist, condition, ref_key, target_key in zip(
        table["reference_row"], table["target_row"], table["distractor_row"],
        table["condition"], table["reference_key"], table["target_key"], strict=True,
    ):
        assert subject[target] == subject[ref]
        assert obj[target] != obj[ref] and target_key != ref_key
        assert obj[dist] == obj[target]
        assert condition == f"{relation[target]} {obj[target]}"
        scores = [lexicon.get(w, -1) for i in (ref, target, dist) for w in (subject[i], obj[i])]
        assert np.mean(scores) > 4.8
    # "rare" has 4 images (< 5) and abstract words can never pass the threshold.
    assert {"rare", "idea"}.isdisjoint(subject[r] for r in table["reference_row"])
    assert "freedom" not in {obj[r] for r in table["target_row"]}
    assert set(table["kind"]) == {"relation"}


def test_candidates_and_weights_follow_the_spec(records) -> None:
    rows = RelationRows.from_records(records)
    miner = RelationMiner(rows, concreteness=None)
    images: dict[str, set] = {}
    objects: dict[str, set] = {}
    for r in records:
        for rel in r["relations"]:
            images.setdefault(rel["subject"], set()).add(r["key"])
            objects.setdefault(rel["subject"], set()).add(rel["object"])
    expected = [s for s in images if len(images[s]) >= 5 and len(objects[s]) >= 2]  # first-appearance order
    assert [rows.subjects[c] for c in miner.candidates] == expected
    weights = np.array([len(images[s]) for s in expected], dtype=float)
    assert np.allclose(np.diff(np.concatenate([[0.0], miner.cdf])), weights / weights.sum())
    assert "rare" in images and "rare" not in expected


def test_sharded_mining_is_resumable_and_combines_in_order(records, lexicon, tmp_path: Path) -> None:
    miner = RelationMiner(RelationRows.from_records(records), concreteness=lexicon)
    mine_shards(miner, tmp_path, num_samples=50, num_shards=3, shard_index=2, progress=False)
    assert [p.name for p in tmp_path.glob("*.parquet")] == ["triplets-00002-of-00003.parquet"]
    stamp = triplet_shard_path(tmp_path, 2, 3).stat().st_mtime_ns
    mine_shards(miner, tmp_path, num_samples=50, num_shards=3, progress=False)
    assert triplet_shard_path(tmp_path, 2, 3).stat().st_mtime_ns == stamp
    combined = pq.read_table(combine_shards(tmp_path, tmp_path / "all.parquet")).to_pydict()
    whole = miner.mine(range(50))
    assert combined == whole
    assert combined["seed"] == list(range(50))


def test_lexicon_rules(tmp_path: Path) -> None:
    path = tmp_path / "lex.tsv"
    path.write_text("Word\tBigram\tConc.M\nMouse\t0\t4.9\nmice\t0\t3.0\nnull\t0\t2.5\nNaN\t0\t1.25\nbaby boy\t1\t4.7\n")
    table = read_concreteness_table(path)
    assert table == {"mouse": 4.9, "mice": 3.0, "null": 1.25, "baby boy": 4.7}
    lex = load_concreteness(path)
    assert lex["mice"] == 4.9  # the plural of "mouse" overwrites the row for "mice"
    assert lex["baby boys"] == 4.7 and lex["nulls"] == 1.25
    path.write_text("Word\tBigram\tConc.M\ncar\t0\thigh\n")
    with pytest.raises(ValueError, match=r"lex\.tsv:2"):
        read_concreteness_table(path)


def test_threshold_is_strict() -> None:
    # Every subject/object scores exactly 4.8 except "ball" (5.0): accepted triplets need a ball.
    records = [
        {"key": f"i{i}", "relations": [{"subject": "dog", "object": ["cup", "ball", "box"][i % 3], "relation": "near"}]}
        for i in range(12)
    ]
    lex = {"dog": 4.8, "cup": 4.8, "box": 4.8, "ball": 5.0}
    table = RelationMiner(RelationRows.from_records(records), concreteness=lex).mine(range(40))
    rows = RelationRows.from_records(records)
    for r, t, d in zip(table["reference_row"], table["target_row"], table["distractor_row"], strict=True):
        assert "ball" in {rows.objects[rows.object[i]] for i in (r, t, d)}


def test_no_candidate_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="min_images"):
        RelationMiner(RelationRows.from_records(synthetic_records(8)), min_images=50)


def _rich(key: str, entities: list[tuple[str, list[str]]]) -> dict:
    return {"key": key, "graph": {"entities": [{"head": h, "attributes": a} for h, a in entities], "relations": []}}


def test_attribute_triplets() -> None:
    rng = random.Random(1)
    heads, colors, sizes = ["car", "dog", "chair", "shirt"], ["red", "blue", "green"], ["small", "large"]
    records = [
        _rich(f"k{i}", [(rng.choice(heads), [rng.choice(colors)]), (rng.choice(heads), [rng.choice(sizes), "shiny"])])
        for i in range(80)
    ]
    miner = AttributeMiner(records)
    change = miner.mine(range(100), "change_attribute")
    assert len(change["seed"]) == 100 and change == miner.mine(range(100), "change_attribute")
    columns = ("reference_row", "target_row", "distractor_row", "condition")
    for r, t, d, cond in zip(*(change[c] for c in columns), strict=True):
        assert miner.head[t] == miner.head[r] and miner.value[t] != miner.value[r]
        assert miner.image[t] != miner.image[r]
        assert miner.values[miner.value[t]] == cond == miner.values[miner.value[d]]
    focus = miner.mine(range(100), "focus_attribute")
    assert set(focus["condition"]) <= {"color", "size"} and len(focus["seed"]) == 100
    for r, t, d in zip(focus["reference_row"], focus["target_row"], focus["distractor_row"], strict=True):
        assert miner.value[t] == miner.value[r] and miner.head[t] != miner.head[r]
        assert miner.head[d] == miner.head[r] and miner.value[d] != miner.value[r]
        assert miner.value_axis[miner.value[d]] == miner.value_axis[miner.value[r]]
    with pytest.raises(ValueError, match="unknown attribute"):
        miner.mine([0], "relation")


def test_cli_parse_then_mine(tmp_path: Path) -> None:
    from cir_data.cli import main

    objects = ["table", "sofa", "chair", "bed"]
    captions = [f"a dog sleeping on the {objects[i % 4]}" for i in range(12)] + ["a cat on a mat"]
    (tmp_path / "captions.txt").write_text("\n".join(captions) + "\n")
    assert main(["parse", str(tmp_path / "captions.txt"), str(tmp_path / "graphs"), "--num-shards", "2",
                 "--no-progress"]) == 0
    assert main(["mine", str(tmp_path / "graphs"), str(tmp_path / "triplets"), "--num-samples", "20",
                 "--num-shards", "2", "--no-progress"]) == 0
    table = pq.read_table(tmp_path / "triplets" / "triplets.parquet").to_pydict()
    assert table["seed"] == list(range(20))
    assert all(c.startswith("sleeping on ") for c in table["condition"])
    assert all(r != t for r, t in zip(table["reference_key"], table["target_key"], strict=True))


def test_rows_from_a_one_pass_generator_equal_rows_from_a_list(records) -> None:
    streamed = RelationRows.from_records(dict(r) for r in records)
    listed = RelationRows.from_records(records)
    for column in ("image", "subject", "relation", "object"):
        assert np.array_equal(getattr(streamed, column), getattr(listed, column))
    for vocabulary in ("image_keys", "subjects", "relations", "objects"):
        assert getattr(streamed, vocabulary) == getattr(listed, vocabulary)


def test_cli_mine_streams_records_and_matches_mining_a_list(records, tmp_path: Path) -> None:
    """``cir-data mine`` (records streamed from the shards) gives the triplets of mining the records as a list."""
    import json

    from cir_data.cli import main
    from cir_data.graph_files import graph_shard_path

    graphs = tmp_path / "graphs"
    graphs.mkdir()
    half = len(records) // 2
    for index, part in enumerate((records[:half], records[half:])):
        lines = [json.dumps({**r, "caption": "unused", "entities": []}) for r in part]
        graph_shard_path(graphs, index, 2).write_text("\n".join(lines) + "\n")
    lexicon_path = tmp_path / "brysbaert.tsv"
    lexicon_lines = ["Word\tBigram\tConc.M\tConc.SD"] + [f"{w}\t0\t{s}\t1.0" for w, s in LEXICON.items()]
    lexicon_path.write_text("\n".join(lexicon_lines) + "\n")
    assert main(["mine", str(graphs), str(tmp_path / "cli"), "--num-samples", "60", "--num-shards", "3",
                 "--concreteness", str(lexicon_path), "--no-progress"]) == 0
    from_cli = pq.read_table(tmp_path / "cli" / "triplets.parquet").to_pydict()

    miner = RelationMiner(RelationRows.from_records(list(records)), concreteness=load_concreteness(lexicon_path))
    mine_shards(miner, tmp_path / "list", num_samples=60, num_shards=3, progress=False)
    from_list = pq.read_table(combine_shards(tmp_path / "list", tmp_path / "list.parquet")).to_pydict()
    assert from_cli == from_list
    assert from_cli["seed"] == list(range(60)) and len(set(from_cli["reference_key"])) > 5
