"""img2dataset against a loopback HTTP server: good images arrive, every fault is counted, nothing crashes."""

from __future__ import annotations

import http.server
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from cir_data.shards import ReadStats, iter_samples, list_shards, read_sizes

pytest.importorskip("img2dataset")
from cir_data.download import download_images

GOOD = {"/a.jpg": ((80, 40), (250, 0, 0)), "/b.png": ((30, 60), (0, 250, 0)), "/c.jpg": ((50, 50), (0, 0, 250))}
SLOW_SECONDS = 4


def _encode(size: tuple[int, int], color: tuple[int, int, int], fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


BODIES = {p: _encode(size, color, "PNG" if p.endswith(".png") else "JPEG") for p, (size, color) in GOOD.items()}


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: bytes, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path in BODIES:
            self._send(BODIES[self.path])
        elif self.path == "/missing":
            self.send_error(404)
        elif self.path == "/broken":
            self.send_error(500)
        elif self.path == "/slow":
            time.sleep(SLOW_SECONDS)
            self._send(BODIES["/a.jpg"])
        elif self.path == "/truncated":
            self._send(BODIES["/a.jpg"][:100], length=len(BODIES["/a.jpg"]))
            self.close_connection = True
        elif self.path == "/text":
            self._send(b"<html>not an image</html>")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.slow
def test_download_counts_every_fault(server: str, tmp_path: Path) -> None:
    paths = ["/a.jpg", "/missing", "/b.png", "/broken", "/slow", "/truncated", "/text", "/c.jpg"]
    url_list = tmp_path / "urls.tsv"
    url_list.write_text("url\tcaption\n" + "".join(f"{server}{p}\tcaption for {p}\n" for p in paths))
    out = tmp_path / "shards"
    stats = download_images(url_list, out, image_size=32, threads=4, timeout=1, samples_per_shard=100)

    assert (stats.count, stats.successes, stats.failed_to_download, stats.failed_to_resize) == (8, 3, 4, 1)
    assert stats.status["success"] == 3
    assert any("404" in k for k in stats.status) and any("500" in k for k in stats.status)
    assert any("timed out" in k for k in stats.status)
    assert json.loads((out / "stats.json").read_text())["failed_to_download"] == 4

    read_stats = ReadStats()
    samples = list(iter_samples(list_shards(out), required=("jpg", "txt"), decode_images=True, stats=read_stats))
    assert sorted(s["txt"] for s in samples) == sorted(f"caption for {p}" for p in GOOD)
    assert all(s["jpg"].size == (32, 32) for s in samples)  # resized with a border to a square
    # 100 samples per shard -> img2dataset keys of 5 shard digits + 2 sample digits.
    assert all(len(s["__key__"]) == 7 and s["__key__"].startswith("00000") for s in samples)
    assert read_stats.skipped == 0
    assert read_sizes(out) == {"00000.tar": 3}
    for sample in samples:  # the dominant colour survives resizing: the right body went with each caption
        path = sample["txt"].removeprefix("caption for ")
        center = sample["jpg"].convert("RGB").getpixel((16, 16))
        assert max(range(3), key=lambda c: center[c]) == max(range(3), key=lambda c: GOOD[path][1][c])


def test_unknown_list_format_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"urls\.xml"):
        download_images(tmp_path / "urls.xml", tmp_path / "out")
