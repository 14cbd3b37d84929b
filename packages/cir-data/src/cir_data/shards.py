"""Webdataset tar shards in img2dataset's layout: write, size, split and read them without crashing.

Layout (what img2dataset writes, so a downloaded CC3M and our own shards read the same way):
``<dir>/00000.tar`` holding ``000000000.jpg``, ``000000000.txt``, ``000000000.json``, ... and a
``<dir>/sizes.json`` mapping each shard's basename to its sample count (the file open_clip reads to
size an epoch). A key is the shard index followed by the sample index inside the shard, zero-padded
(5 + 4 digits by default, img2dataset's ``oom_shard_count`` and ``oom_sample_per_shard``).

Reading never stops an epoch: an undecodable member, a sample missing a required field, or a
truncated tar is skipped, counted in :class:`ReadStats` and logged, and iteration continues.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SIZES_FILE = "sizes.json"
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
# Enough reasons to diagnose a bad shard without letting a broken dataset fill memory.
MAX_REASONS_KEPT = 100


def shard_name(shard_index: int, digits: int = 5) -> str:
    """Return the tar file name of a shard, e.g. ``00012.tar``."""
    return f"{shard_index:0{digits}d}.tar"


def sample_key(shard_index: int, sample_index: int, shard_digits: int = 5, sample_digits: int = 4) -> str:
    """Return img2dataset's key for a sample: shard index then in-shard index, e.g. ``000120007``."""
    if sample_index >= 10**sample_digits:
        raise ValueError(f"sample index {sample_index} does not fit in {sample_digits} digits")
    return f"{shard_index * 10**sample_digits + sample_index:0{shard_digits + sample_digits}d}"


def _encode_field(key: str, ext: str, value: Any) -> bytes:
    """Bytes for one tar member: bytes as is, str as UTF-8, dict/list as JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
    raise TypeError(f"sample {key}: field {ext!r} has type {type(value).__name__}; use bytes, str, dict or list")


class ShardWriter:
    """Write samples (dicts of extension -> bytes/str/dict) into size-limited tar shards.

    A new shard starts when ``max_count`` samples are reached or the next sample would push the
    shard past ``max_bytes``. Members get fixed metadata (mtime 0, mode 0o444), so the same samples
    give the same bytes. ``sizes.json`` is (re)written on :meth:`close`, merged with any present.

    Example::

        with ShardWriter("out/", max_count=1000) as writer:
            key = writer.write({"jpg": jpeg_bytes, "txt": "a red car", "json": {"id": 3}})
    """

    def __init__(
        self,
        out_dir: str | Path,
        *,
        max_count: int = 10_000,
        max_bytes: int = 1 << 30,
        start_shard: int = 0,
        shard_digits: int = 5,
    ) -> None:
        if max_count < 1:
            raise ValueError(f"max_count must be >= 1, got {max_count}")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.shard_digits = shard_digits
        self.sample_digits = max(1, len(str(max_count - 1)))
        self.shard_index = start_shard - 1
        self.sizes: dict[str, int] = {}
        self._tar: tarfile.TarFile | None = None
        self._count = 0
        self._bytes = 0

    def _open_next(self) -> None:
        self._close_current()
        self.shard_index += 1
        name = shard_name(self.shard_index, self.shard_digits)
        self._tar = tarfile.open(self.out_dir / name, "w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115 (closed on rollover)
        self._count = 0
        self._bytes = 0
        self.sizes[name] = 0

    def _close_current(self) -> None:
        if self._tar is not None:
            self._tar.close()
            self._tar = None

    def write(self, sample: Mapping[str, Any], key: str | None = None) -> str:
        """Write one sample and return its key (generated img2dataset-style unless given)."""
        fields = {ext.lstrip("."): value for ext, value in sample.items() if not ext.startswith("__")}
        if not fields:
            raise ValueError("a sample needs at least one field besides __key__")
        key = key if key is not None else sample.get("__key__")
        payloads = {ext: _encode_field(str(key), ext, value) for ext, value in fields.items()}
        # Each member costs a 512-byte header plus its data padded to 512 bytes.
        size = sum(512 + -(-len(data) // 512) * 512 for data in payloads.values())
        full = self._count >= self.max_count or (self._count > 0 and self._bytes + size > self.max_bytes)
        if self._tar is None or full:
            self._open_next()
        assert self._tar is not None
        if key is None:
            key = sample_key(self.shard_index, self._count, self.shard_digits, self.sample_digits)
        if "." in str(key) or "/" in str(key):
            raise ValueError(f"sample key {key!r} must not contain '.' or '/'")
        for ext, data in payloads.items():
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o444
            self._tar.addfile(info, io.BytesIO(data))
        self._count += 1
        self._bytes += size
        self.sizes[shard_name(self.shard_index, self.shard_digits)] = self._count
        return str(key)

    def close(self) -> None:
        """Close the open shard and merge this writer's counts into ``sizes.json``."""
        self._close_current()
        write_sizes(self.out_dir, self.sizes)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_sizes(shard_dir: str | Path, sizes: Mapping[str, int]) -> Path:
    """Merge ``sizes`` (shard basename -> sample count) into ``<shard_dir>/sizes.json``."""
    path = Path(shard_dir) / SIZES_FILE
    merged = read_sizes(shard_dir) if path.exists() else {}
    merged.update({name: int(count) for name, count in sizes.items()})
    path.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
    return path


def read_sizes(shard_dir: str | Path) -> dict[str, int]:
    """Read ``<shard_dir>/sizes.json``; raises naming the file if it is not a name -> count map."""
    path = Path(shard_dir) / SIZES_FILE
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not all(isinstance(v, int) for v in data.values()):
        raise ValueError(f"{path}: expected a JSON object of shard name -> integer count")
    return data


def count_samples(shards: Iterable[str | Path]) -> int:
    """Number of samples in ``shards`` according to the ``sizes.json`` beside each of them."""
    cache: dict[Path, dict[str, int]] = {}
    total = 0
    for shard in map(Path, shards):
        sizes = cache.setdefault(shard.parent, read_sizes(shard.parent))
        if shard.name not in sizes:
            raise KeyError(f"{shard.parent / SIZES_FILE}: no entry for {shard.name}")
        total += sizes[shard.name]
    return total


def list_shards(shard_dir: str | Path) -> list[Path]:
    """All ``*.tar`` files in ``shard_dir``, sorted by name."""
    return sorted(Path(shard_dir).glob("*.tar"))


def _torch_worker() -> tuple[int, int]:
    """(worker id, worker count) of a torch DataLoader worker, or (0, 1); never imports torch."""
    torch = sys.modules.get("torch")
    info = torch.utils.data.get_worker_info() if torch is not None else None
    return (info.id, info.num_workers) if info is not None else (0, 1)


def split_shards(
    shards: Iterable[str | Path],
    *,
    rank: int = 0,
    world_size: int = 1,
    worker_id: int | None = None,
    num_workers: int | None = None,
) -> list[Path]:
    """The shards one (node rank, loader worker) pair reads: every ``world_size``-th, then every worker's.

    Without ``worker_id``/``num_workers`` the torch DataLoader worker is detected when torch is
    already imported by the caller. Every shard goes to exactly one (rank, worker) pair.
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is outside [0, {world_size})")
    if worker_id is None or num_workers is None:
        worker_id, num_workers = _torch_worker()
    if not 0 <= worker_id < num_workers:
        raise ValueError(f"worker_id {worker_id} is outside [0, {num_workers})")
    ordered = sorted(Path(s) for s in shards)
    return ordered[rank::world_size][worker_id::num_workers]


@dataclass
class ReadStats:
    """Counts of what a read produced and skipped, with the first reasons for each skip."""

    samples: int = 0
    corrupt_samples: int = 0
    incomplete_samples: int = 0
    truncated_shards: int = 0
    unreadable_shards: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, kind: str, reason: str) -> None:
        """Count one skip of ``kind`` and log its reason."""
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.reasons) < MAX_REASONS_KEPT:
            self.reasons.append(reason)
        logger.warning("skipped: %s", reason)

    @property
    def skipped(self) -> int:
        """Samples skipped for any reason (truncation and unreadable shards count as shards)."""
        return self.corrupt_samples + self.incomplete_samples

    def summary(self) -> str:
        """One line for logs: samples read and everything skipped."""
        return (
            f"{self.samples} samples read; skipped {self.corrupt_samples} corrupt and "
            f"{self.incomplete_samples} incomplete samples; {self.truncated_shards} truncated and "
            f"{self.unreadable_shards} unreadable shards"
        )


def _decode_image(data: bytes) -> Any:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _decode_field(ext: str, data: bytes, decode_images: bool) -> Any:
    """Decode one member by extension: txt -> str, json -> object, images -> PIL if asked, else bytes."""
    if ext == "txt":
        return data.decode("utf-8")
    if ext == "json":
        return json.loads(data.decode("utf-8"))
    if decode_images and ext in IMAGE_EXTENSIONS:
        return _decode_image(data)
    return data


def _split_name(name: str) -> tuple[str, str]:
    """(key, extension) of a member path; the key ends at the first dot of the base name, as in webdataset."""
    directory, _, base = name.rpartition("/")
    stem, dot, ext = base.partition(".")
    return (f"{directory}/{stem}" if directory else stem), (ext if dot else "")


def _ends_cleanly(tar: tarfile.TarFile) -> bool:
    """Whether two zero blocks follow the last member; tarfile stops silently at a cut or bad header."""
    assert tar.fileobj is not None
    tar.fileobj.seek(tar.offset)
    return tar.fileobj.read(1024) == bytes(1024)


def _raw_groups(path: Path, stats: ReadStats) -> Iterator[tuple[str, dict[str, bytes], bool]]:
    """(key, ext -> bytes, complete) for consecutive members sharing a key; stops cleanly on damage."""
    key: str | None = None
    group: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                member_key, ext = _split_name(member.name)
                if member_key != key and key is not None:
                    yield key, group, True
                    group = {}
                key = member_key
                handle = tar.extractfile(member)
                assert handle is not None
                data = handle.read()
                if len(data) != member.size:
                    raise tarfile.ReadError(f"member {member.name} is cut short")
                group[ext] = data
            if not _ends_cleanly(tar):
                raise tarfile.ReadError("no end-of-archive marker where the members stop")
    except (tarfile.ReadError, EOFError, OSError) as err:
        if key is None and not group:
            stats.skip("unreadable_shards", f"{path}: cannot read tar ({err})")
        else:
            stats.truncated_shards += 1
            if len(stats.reasons) < MAX_REASONS_KEPT:
                stats.reasons.append(f"{path}: truncated after key {key} ({err})")
            logger.warning("shard %s is truncated after key %s: %s", path, key, err)
            if key is not None:
                yield key, group, False
        return
    if key is not None:
        yield key, group, True


def iter_samples(
    shards: Iterable[str | Path],
    *,
    required: Iterable[str] = (),
    decode_images: bool = False,
    stats: ReadStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield samples ``{"__key__", "__url__", ext: value}`` from ``shards`` in order, skipping damage.

    ``required`` lists extensions a sample must have (e.g. ``("jpg", "txt")``). Pass a
    :class:`ReadStats` to learn what was skipped; nothing raises for bad data.
    """
    stats = stats if stats is not None else ReadStats()
    needed = tuple(required)
    for path in map(Path, shards):
        for key, group, complete in _raw_groups(path, stats):
            if not complete:
                stats.skip("incomplete_samples", f"{path}: sample {key} cut off by truncation")
                continue
            missing = [ext for ext in needed if ext not in group]
            if missing:
                stats.skip("incomplete_samples", f"{path}: sample {key} lacks {', '.join(missing)}")
                continue
            try:
                sample = {ext: _decode_field(ext, data, decode_images) for ext, data in group.items()}
            except Exception as err:  # any decoder failure is a corrupt sample, never a crash
                stats.skip("corrupt_samples", f"{path}: sample {key} does not decode ({type(err).__name__}: {err})")
                continue
            sample["__key__"] = key
            sample["__url__"] = str(path)
            stats.samples += 1
            yield sample


def iter_split_samples(
    shards: Iterable[str | Path],
    *,
    rank: int = 0,
    world_size: int = 1,
    worker_id: int | None = None,
    num_workers: int | None = None,
    **read_options: Any,
) -> Iterator[dict[str, Any]]:
    """:func:`iter_samples` over this (rank, worker)'s share of ``shards`` (see :func:`split_shards`)."""
    mine = split_shards(shards, rank=rank, world_size=world_size, worker_id=worker_id, num_workers=num_workers)
    yield from iter_samples(mine, **read_options)
