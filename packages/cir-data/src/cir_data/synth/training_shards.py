"""Streaming webdataset writer in img2dataset's output layout (``00000.tar`` + ``00000_stats.json``), stdlib only.

Each sample is ``<key>.jpg``, ``<key>.txt`` (the first caption) and ``<key>.json`` (img2dataset's per-sample fields
plus ``captions`` and ``scene_graph``). Keys are the 5-digit shard number followed by the index inside the shard,
as img2dataset names them.
"""

from __future__ import annotations

import io
import itertools
import json
import tarfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from cir_data.synth.world import WorldItem

SHARD_DIGITS = 5


@dataclass(frozen=True)
class ShardSummary:
    """What a shard run wrote: the shard paths and the number of samples."""

    shards: list[Path]
    count: int


def sample_key(shard_index: int, index_in_shard: int, samples_per_shard: int) -> str:
    """img2dataset's key: zero-padded shard number then zero-padded position inside the shard."""
    width = len(str(max(1, samples_per_shard - 1)))
    return f"{shard_index:0{SHARD_DIGITS}d}{index_in_shard:0{width}d}"


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(payload))


def sample_json(item: WorldItem, key: str, seed: int) -> dict[str, object]:
    """The per-sample JSON: img2dataset's fields (url, caption, key, status, …) plus captions and the scene graph."""
    return {
        "url": f"synth://{seed}/{item.index}",
        "caption": item.captions[0],
        "key": key,
        "status": "success",
        "error_message": None,
        "width": item.size,
        "height": item.size,
        "original_width": item.size,
        "original_height": item.size,
        "exif": None,
        "sha256": item.sha256,
        "captions": item.captions,
        "scene_graph": item.graph,
    }


def _write_stats(path: Path, count: int, start: float, end: float) -> None:
    stats = {
        "count": count,
        "successes": count,
        "failed_to_download": 0,
        "failed_to_resize": 0,
        "duration": end - start,
        "start_time": start,
        "end_time": end,
        "status_dict": {"success": count},
    }
    path.write_text(json.dumps(stats, indent=4))


def write_shards(
    items: Iterable[WorldItem],
    out_dir: str | Path,
    total: int,
    seed: int,
    samples_per_shard: int = 10000,
    progress: bool = True,
) -> ShardSummary:
    """Stream ``items`` into tar shards of ``samples_per_shard``; one shard is open at a time, none held in memory."""
    if samples_per_shard < 1:
        raise ValueError(f"samples_per_shard must be >= 1, got {samples_per_shard}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shards: list[Path] = []
    count = 0
    iterator = iter(tqdm(items, total=total, desc="shards", unit="img", disable=not progress))
    for shard_index in itertools.count():
        first = next(iterator, None)
        if first is None:
            break
        shards.append(out / f"{shard_index:0{SHARD_DIGITS}d}.tar")
        start = time.time()
        written = 0
        with tarfile.open(shards[-1], "w", format=tarfile.USTAR_FORMAT) as tar:
            for position, item in enumerate(
                itertools.chain([first], itertools.islice(iterator, samples_per_shard - 1))
            ):
                key = sample_key(shard_index, position, samples_per_shard)
                _add(tar, f"{key}.jpg", item.jpeg)
                _add(tar, f"{key}.txt", item.captions[0].encode())
                _add(tar, f"{key}.json", json.dumps(sample_json(item, key, seed), sort_keys=True).encode())
                written += 1
        _write_stats(out / f"{shards[-1].stem}_stats.json", written, start, time.time())
        count += written
    return ShardSummary(shards, count)
