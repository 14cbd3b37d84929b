"""Download a URL + caption list into webdataset shards with img2dataset, and summarise what failed.

img2dataset (optional extra ``cir-data[download]``) fetches, resizes and encodes the images and
writes ``00000.tar`` (``000000000.jpg/.txt/.json``), ``00000.parquet`` and ``00000_stats.json`` per
shard. On top of that, :func:`download_images` writes the ``sizes.json`` our readers and open_clip
use, and one ``stats.json`` adding up every shard's counts: successes, failures to download (HTTP
errors, time-outs, truncated bodies) and failures to decode or resize (a body that is not an
image), with the count of each error message. Failures never stop a download.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cir_data.shards import write_sizes

INPUT_FORMATS = {".txt": "txt", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".jsonl": "json"}
STATS_FILE = "stats.json"


@dataclass
class DownloadStats:
    """Counts over every shard of a download."""

    count: int = 0
    successes: int = 0
    failed_to_download: int = 0
    failed_to_resize: int = 0
    status: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        """Samples that did not arrive, for any reason."""
        return self.failed_to_download + self.failed_to_resize


def read_download_stats(output_dir: str | Path) -> tuple[DownloadStats, dict[str, int]]:
    """Sum img2dataset's ``*_stats.json`` in ``output_dir``; also return successes per shard tar name."""
    total = DownloadStats()
    status: Counter[str] = Counter()
    per_shard: dict[str, int] = {}
    for path in sorted(Path(output_dir).glob("*_stats.json")):
        data = json.loads(path.read_text())
        for name in ("count", "successes", "failed_to_download", "failed_to_resize"):
            setattr(total, name, getattr(total, name) + int(data.get(name, 0)))
        status.update({k: int(v) for k, v in data.get("status_dict", {}).items()})
        per_shard[path.name.replace("_stats.json", ".tar")] = int(data.get("successes", 0))
    total.status = dict(sorted(status.items()))
    return total, per_shard


def download_images(
    url_list: str | Path,
    output_dir: str | Path,
    *,
    image_size: int = 256,
    resize_mode: str = "border",
    encode_format: str = "jpg",
    url_col: str = "url",
    caption_col: str | None = "caption",
    processes: int = 1,
    threads: int = 16,
    timeout: float = 10,
    retries: int = 0,
    samples_per_shard: int = 10_000,
    input_format: str | None = None,
    extra_options: dict[str, Any] | None = None,
) -> DownloadStats:
    """Download ``url_list`` into webdataset shards in ``output_dir``; returns the summed stats.

    The list format comes from its suffix (.txt, .csv, .tsv, .parquet, .jsonl) unless given.
    ``extra_options`` go to ``img2dataset.download`` unchanged (e.g. ``{"distributor": "pyspark"}``).
    """
    # img2dataset imports albumentations, which otherwise asks PyPI for updates on every import.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    try:
        from img2dataset import download
    except ImportError as err:
        raise ImportError("`cir-data download` needs img2dataset: pip install 'cir-data[download]'") from err
    url_list = Path(url_list)
    fmt = input_format or INPUT_FORMATS.get(url_list.suffix.lower())
    if fmt is None:
        raise ValueError(f"{url_list}: cannot tell the list format from {url_list.suffix!r}; pass input_format")
    output_dir = Path(output_dir)
    options: dict[str, Any] = {
        "url_list": str(url_list),
        "output_folder": str(output_dir),
        "input_format": fmt,
        "url_col": url_col,
        "output_format": "webdataset",
        "image_size": image_size,
        "resize_mode": resize_mode,
        "encode_format": encode_format,
        "processes_count": processes,
        "thread_count": threads,
        "timeout": timeout,
        "retries": retries,
        "number_sample_per_shard": samples_per_shard,
        "enable_wandb": False,
        "distributor": "multiprocessing",
    }
    if caption_col is not None and fmt != "txt":
        options["caption_col"] = caption_col
    options.update(extra_options or {})
    download(**options)
    stats, per_shard = read_download_stats(output_dir)
    write_sizes(output_dir, per_shard)
    (output_dir / STATS_FILE).write_text(json.dumps(asdict(stats), indent=1) + "\n")
    return stats
