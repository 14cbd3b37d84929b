"""Training shards in img2dataset's layout, read back with the stdlib tarfile."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

from PIL import Image

from cir_data.synth.training_shards import sample_key, write_shards
from cir_data.synth.world import iter_items, make_item


def test_shards_round_trip(tmp_path):
    summary = write_shards(iter_items(0, range(25)), tmp_path, total=25, seed=0, samples_per_shard=10, progress=False)
    assert [p.name for p in summary.shards] == ["00000.tar", "00001.tar", "00002.tar"]
    assert summary.count == 25
    seen = 0
    for shard_index, shard in enumerate(summary.shards):
        stats = json.loads((tmp_path / f"{shard.stem}_stats.json").read_text())
        with tarfile.open(shard) as tar:
            names = tar.getnames()
            keys = sorted({n.split(".")[0] for n in names})
            assert stats["count"] == stats["successes"] == len(keys)
            assert stats["failed_to_download"] == stats["failed_to_resize"] == 0
            for position, key in enumerate(keys):
                assert key == f"{shard_index:05d}{position}"
                index = shard_index * 10 + position
                expected = make_item(0, index)
                jpg = tar.extractfile(f"{key}.jpg").read()
                meta = json.loads(tar.extractfile(f"{key}.json").read())
                txt = tar.extractfile(f"{key}.txt").read().decode()
                assert jpg == expected.jpeg
                assert Image.open(io.BytesIO(jpg)).size == (64, 64)
                assert txt == meta["caption"] == expected.captions[0]
                assert meta["key"] == key and meta["status"] == "success"
                assert meta["sha256"] == hashlib.sha256(jpg).hexdigest()
                assert meta["scene_graph"] == expected.graph and len(meta["captions"]) >= 3
                seen += 1
    assert seen == 25


def test_keys_follow_img2dataset_widths():
    assert sample_key(0, 0, 10000) == "000000000"
    assert sample_key(12, 345, 10000) == "000120345"


def test_shards_are_byte_identical_across_runs_and_process_counts(tmp_path):
    a = write_shards(iter_items(5, range(12)), tmp_path / "a", 12, 5, samples_per_shard=5, progress=False)
    b = write_shards(iter_items(5, range(12), processes=2), tmp_path / "b", 12, 5, samples_per_shard=5, progress=False)
    assert [p.read_bytes() for p in a.shards] == [p.read_bytes() for p in b.shards]
