"""Shards round-trip, respect their limits, split without overlap, and survive damage."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from cir_data.shards import (
    ReadStats,
    ShardWriter,
    count_samples,
    iter_samples,
    iter_split_samples,
    list_shards,
    read_sizes,
    sample_key,
    split_shards,
)


def _jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buffer, format="JPEG")
    return buffer.getvalue()


def _samples(n: int) -> list[dict]:
    return [{"jpg": _jpeg((i * 20 % 256, 10, 200)), "txt": f"caption {i}", "json": {"i": i}} for i in range(n)]


def test_keys_follow_img2dataset() -> None:
    assert sample_key(0, 0) == "000000000"
    assert sample_key(12, 7) == "000120007"
    with pytest.raises(ValueError):
        sample_key(0, 10_000)


def test_round_trip_with_count_limit(tmp_path: Path) -> None:
    with ShardWriter(tmp_path, max_count=4) as writer:
        keys = [writer.write(s) for s in _samples(10)]
    assert [p.name for p in list_shards(tmp_path)] == ["00000.tar", "00001.tar", "00002.tar"]
    assert read_sizes(tmp_path) == {"00000.tar": 4, "00001.tar": 4, "00002.tar": 2}
    assert keys[:2] == ["000000", "000001"] and keys[4] == "000010"
    assert count_samples(list_shards(tmp_path)) == 10
    stats = ReadStats()
    read = list(iter_samples(list_shards(tmp_path), required=("jpg", "txt"), decode_images=True, stats=stats))
    assert [s["txt"] for s in read] == [f"caption {i}" for i in range(10)]
    assert [s["json"]["i"] for s in read] == list(range(10))
    assert [s["__key__"] for s in read] == keys
    assert read[3]["jpg"].size == (8, 6)
    assert stats.samples == 10 and stats.skipped == 0


def test_img2dataset_default_key_width(tmp_path: Path) -> None:
    with ShardWriter(tmp_path) as writer:
        assert writer.write({"txt": "x"}) == "000000000"
    with tarfile.open(tmp_path / "00000.tar") as tar:
        assert tar.getnames() == ["000000000.txt"]


def test_byte_limit_starts_new_shard(tmp_path: Path) -> None:
    payload = b"x" * 3000  # 512 header + 3072 data per member
    with ShardWriter(tmp_path, max_bytes=8000) as writer:
        for _ in range(5):
            writer.write({"bin": payload})
    assert read_sizes(tmp_path) == {"00000.tar": 2, "00001.tar": 2, "00002.tar": 1}


def test_same_samples_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        with ShardWriter(tmp_path / name, max_count=3) as writer:
            for s in _samples(5):
                writer.write(s)
    for shard in ("00000.tar", "00001.tar"):
        assert (tmp_path / "a" / shard).read_bytes() == (tmp_path / "b" / shard).read_bytes()


def test_readable_by_webdataset(tmp_path: Path) -> None:
    wds = pytest.importorskip("webdataset")
    with ShardWriter(tmp_path, max_count=3) as writer:
        for s in _samples(5):
            writer.write(s)
    urls = [str(p) for p in list_shards(tmp_path)]
    read = list(wds.WebDataset(urls, shardshuffle=False).decode())
    assert [r["txt"] for r in read] == [f"caption {i}" for i in range(5)]
    assert read[0]["__key__"] == "000000"


def test_split_covers_every_shard_once(tmp_path: Path) -> None:
    shards = [tmp_path / f"{i:05d}.tar" for i in range(11)]
    seen = []
    for rank in range(2):
        for worker in range(3):
            seen += split_shards(shards, rank=rank, world_size=2, worker_id=worker, num_workers=3)
    assert sorted(seen) == sorted(shards)
    assert len(set(seen)) == len(shards)
    assert split_shards(shards, rank=1, world_size=2, worker_id=0, num_workers=3) == shards[1::6]
    with pytest.raises(ValueError, match="rank 2"):
        split_shards(shards, rank=2, world_size=2)


def test_split_reads_disjoint_samples(tmp_path: Path) -> None:
    with ShardWriter(tmp_path, max_count=2) as writer:
        for s in _samples(9):
            writer.write(s)
    parts = [
        [s["txt"] for s in iter_split_samples(list_shards(tmp_path), rank=r, world_size=2, worker_id=0, num_workers=1)]
        for r in range(2)
    ]
    assert sorted(parts[0] + parts[1]) == sorted(f"caption {i}" for i in range(9))
    assert not set(parts[0]) & set(parts[1])


def _write_raw_tar(path: Path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_corrupt_members_are_skipped_and_counted(tmp_path: Path) -> None:
    good = _jpeg((1, 2, 3))
    _write_raw_tar(
        tmp_path / "00000.tar",
        [
            ("000000000.jpg", good),
            ("000000000.txt", b"fine"),
            ("000000001.jpg", b"not a jpeg at all"),
            ("000000001.txt", b"bad image"),
            ("000000002.jpg", good),
            ("000000002.json", b"{broken json"),
            ("000000003.txt", b"no image"),
            ("000000004.jpg", good),
            ("000000004.txt", b"\xff\xfe invalid utf8 \xc3\x28"),
            ("000000005.jpg", good),
            ("000000005.txt", b"also fine"),
        ],
    )
    stats = ReadStats()
    read = list(iter_samples([tmp_path / "00000.tar"], required=("jpg",), decode_images=True, stats=stats))
    assert [s["__key__"] for s in read] == ["000000000", "000000005"]
    assert stats.samples == 2
    assert stats.corrupt_samples == 3  # bad jpeg, bad json, bad utf-8
    assert stats.incomplete_samples == 1  # 000000003 lacks jpg
    assert len(stats.reasons) == 4 and "000000001" in stats.reasons[0]


# A sample here is jpg (512 header + 1024 data), txt and json (512 + 512 each): 3584 bytes.
@pytest.mark.parametrize("cut", [2 * 3584 + 512 + 100, 3 * 3584 + 188, 4 * 3584])
def test_truncated_and_unreadable_shards_do_not_stop_the_epoch(tmp_path: Path, cut: int) -> None:
    with ShardWriter(tmp_path, max_count=4) as writer:
        for s in _samples(12):
            writer.write(s)
    first = tmp_path / "00000.tar"
    data = first.read_bytes()
    assert len(_jpeg((0, 10, 200))) <= 1024
    first.write_bytes(data[:cut])  # inside an image, inside a header, right before the end marker
    (tmp_path / "00001.tar").write_bytes(b"garbage, not a tar file" * 3)
    stats = ReadStats()
    read = list(iter_samples(list_shards(tmp_path), required=("jpg", "txt"), stats=stats))
    texts = [s["txt"] for s in read]
    assert texts[-4:] == [f"caption {i}" for i in range(8, 12)]
    assert 1 <= len(texts) - 4 <= 3 and texts[0] == "caption 0"
    assert stats.truncated_shards == 1
    assert stats.unreadable_shards == 1
    assert stats.samples == len(read)
    assert "truncated" in stats.summary()


def test_json_field_round_trips_unicode(tmp_path: Path) -> None:
    meta = {"caption": "café ☕", "nested": [1, 2]}
    with ShardWriter(tmp_path) as writer:
        writer.write({"json": meta, "txt": "café"})
    (sample,) = iter_samples(list_shards(tmp_path))
    assert sample["json"] == meta and sample["txt"] == "café"
    assert json.loads((tmp_path / "sizes.json").read_text()) == {"00000.tar": 1}


def test_bad_field_type_names_the_field(tmp_path: Path) -> None:
    with ShardWriter(tmp_path) as writer, pytest.raises(TypeError, match="'npy'"):
        writer.write({"npy": 3.5}, key="k1")
