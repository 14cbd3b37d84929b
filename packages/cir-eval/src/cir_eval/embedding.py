"""The embedding stage: each distinct image decoded once, encoded once, optionally cached on disk.

A benchmark hands over the gallery images and the (image, text) query pairs it needs; this module
de-duplicates them by key (GeneCIS galleries share images, CIRR references repeat), decodes the
missing ones in a thread pool one batch ahead of the encoder, and feeds both ``encode_gallery`` and
``encode_query`` from the same decoded batch (an encoder with the shared-feature methods runs its
image tower once per image for both, see :mod:`cir_eval.protocol`). Results live in an in-memory store for the whole run
(so tasks share them) and, when a cache directory and a model identity are given, on disk as
shards keyed by model identity + image fingerprint (path, transform, size, mtime) + text.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from cir_eval.images import ImageRef
from cir_eval.protocol import Similarity, prepare_embeddings, shares_image_features

__all__ = ["Embedded", "Embedder", "EmbeddingStore"]


class EmbeddingStore:
    """Embeddings by key, in blocks; loads and appends ``.pt`` shards under ``cache_dir`` when given."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self._rows: dict[str, int] = {}
        self._blocks: list[torch.Tensor] = []
        self._matrix: torch.Tensor | None = None
        self._pending: list[tuple[list[str], torch.Tensor]] = []
        if cache_dir is not None and cache_dir.is_dir():
            for shard in sorted(cache_dir.glob("shard-*.pt")):
                data = torch.load(shard, weights_only=True)
                self._add(list(data["keys"]), data["embeddings"])

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def _add(self, keys: list[str], embeddings: torch.Tensor) -> None:
        start = sum(b.shape[0] for b in self._blocks)
        self._blocks.append(embeddings)
        self._rows.update({key: start + i for i, key in enumerate(keys)})
        self._matrix = None

    def add(self, keys: list[str], embeddings: torch.Tensor) -> None:
        """Store new rows; they reach the disk cache at the next :meth:`flush`."""
        if not keys:
            return
        embeddings = embeddings.detach().float().cpu().contiguous()
        self._add(keys, embeddings)
        self._pending.append((keys, embeddings))

    def flush(self) -> None:
        """Write the rows added since the last flush as one new shard (when caching on disk)."""
        pending, self._pending = self._pending, []
        if self.cache_dir is None or not pending:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        final = self.cache_dir / f"shard-{uuid.uuid4().hex}.pt"
        partial = final.with_suffix(".tmp")
        keys = [key for block_keys, _ in pending for key in block_keys]
        torch.save({"keys": keys, "embeddings": torch.cat([emb for _, emb in pending])}, partial)
        partial.replace(final)

    def gather(self, keys: Sequence[str]) -> torch.Tensor:
        """Return the stored rows for ``keys``, in order."""
        if self._matrix is None:
            self._matrix = torch.cat(self._blocks) if self._blocks else torch.empty(0, 0)
            self._blocks = [self._matrix]
        index = torch.tensor([self._rows[key] for key in keys], dtype=torch.long)
        return self._matrix.index_select(0, index)


@dataclass(frozen=True)
class Embedded:
    """Unique prepared embeddings and, per requested item, its row: ``gallery[gallery_index[i]]``."""

    gallery: torch.Tensor
    gallery_index: torch.Tensor
    queries: torch.Tensor
    query_index: torch.Tensor


def _safe_name(model_id: str) -> str:
    digest = hashlib.sha1(model_id.encode()).hexdigest()[:12]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)[:64] + "-" + digest


def _unique(keys: Sequence[str]) -> tuple[list[str], torch.Tensor]:
    rows: dict[str, int] = {}
    index = [rows.setdefault(key, len(rows)) for key in keys]
    return list(rows), torch.tensor(index, dtype=torch.long)


class Embedder:
    """Encodes images and (image, text) pairs for one run, sharing work across calls and tasks."""

    def __init__(
        self,
        encoder: Any,
        similarity: Similarity,
        *,
        batch_size: int = 64,
        num_workers: int = 4,
        device: str | torch.device | None = None,
        cache_dir: str | Path | None = None,
        model_id: str | None = None,
        progress: bool = True,
    ) -> None:
        self.encoder = encoder
        self.similarity = similarity
        self.batch_size = batch_size
        self.num_workers = max(1, num_workers)
        self.device = torch.device(device) if device is not None else _module_device(encoder)
        self.progress = progress
        disk = Path(cache_dir) / _safe_name(model_id) if cache_dir is not None and model_id else None
        self.store = EmbeddingStore(disk)
        self.preprocess = getattr(encoder, "preprocess", None)
        self.shared_features = shares_image_features(encoder)

    def embed(self, gallery: Sequence[ImageRef], queries: Sequence[tuple[ImageRef, str]]) -> Embedded:
        """Return prepared embeddings for ``gallery`` images and ``queries`` pairs (see :class:`Embedded`)."""
        refs: dict[str, ImageRef] = {}
        fingerprints: dict[str, str] = {}
        for ref in [*gallery, *(pair[0] for pair in queries)]:
            if ref.key not in refs:
                refs[ref.key] = ref
                fingerprints[ref.key] = ref.fingerprint()
        g_keys = ["g|" + fingerprints[ref.key] for ref in gallery]
        q_keys = ["q|" + fingerprints[ref.key] + "\x00" + text for ref, text in queries]
        g_unique, g_index = _unique(g_keys)
        q_unique, q_index = _unique(q_keys)
        todo_gallery = {k for k in g_unique if k not in self.store}
        pair_sets: dict[str, dict[str, str]] = {}
        for (ref, text), key in zip(queries, q_keys, strict=True):
            if key not in self.store:
                pair_sets.setdefault(ref.key, {})[key] = text
        todo_pairs = {k: list(v.items()) for k, v in pair_sets.items()}
        needed = [ref for k, ref in refs.items() if "g|" + fingerprints[k] in todo_gallery or k in todo_pairs]
        self._encode(needed, fingerprints, todo_gallery, todo_pairs)
        dim_source = self.store.gather(g_unique) if g_unique else torch.empty(0, 0)
        q_emb = self.store.gather(q_unique) if q_unique else torch.empty(0, dim_source.shape[-1])
        return Embedded(dim_source, g_index, q_emb, q_index)

    def _decode(self, ref: ImageRef) -> Any:
        image = ref.load()
        return self.preprocess(image) if self.preprocess is not None else image

    def _batches(self, pool: ThreadPoolExecutor, refs: list[ImageRef]) -> Iterator[tuple[list[ImageRef], list[Any]]]:
        """Yield decoded batches while the next batch decodes in the pool (one batch of look-ahead)."""
        chunks = [refs[i : i + self.batch_size] for i in range(0, len(refs), self.batch_size)]
        pending: list[Future[Any]] | None = None
        for i, chunk in enumerate(chunks):
            current = pending if pending is not None else [pool.submit(self._decode, r) for r in chunk]
            pending = [pool.submit(self._decode, r) for r in chunks[i + 1]] if i + 1 < len(chunks) else None
            yield chunk, [f.result() for f in current]

    def _inputs(self, decoded: list[Any]) -> Any:
        if self.preprocess is None:
            return decoded
        return torch.stack(decoded).to(self.device)

    def _encode(
        self,
        refs: list[ImageRef],
        fingerprints: dict[str, str],
        todo_gallery: set[str],
        todo_pairs: dict[str, list[tuple[str, str]]],
    ) -> None:
        if not refs:
            return
        module = self.encoder if isinstance(self.encoder, torch.nn.Module) else None
        was_training = module is not None and module.training
        if module is not None:
            module.eval()
        bar = tqdm(total=len(refs), desc="encode images", unit="img", disable=not self.progress)
        try:
            with torch.no_grad(), ThreadPoolExecutor(self.num_workers) as pool:
                for chunk, decoded in self._batches(pool, refs):
                    self._encode_batch(chunk, decoded, fingerprints, todo_gallery, todo_pairs)
                    bar.update(len(chunk))
        finally:
            self.store.flush()
            bar.close()
            if was_training and module is not None:
                module.train()

    def _encode_batch(
        self,
        chunk: list[ImageRef],
        decoded: list[Any],
        fingerprints: dict[str, str],
        todo_gallery: set[str],
        todo_pairs: dict[str, list[tuple[str, str]]],
    ) -> None:
        g_pos = [i for i, ref in enumerate(chunk) if "g|" + fingerprints[ref.key] in todo_gallery]
        pairs = [(i, key, text) for i, ref in enumerate(chunk) for key, text in todo_pairs.pop(ref.key, [])]
        computed: torch.Tensor | None = None
        row: dict[int, int] = {}
        if self.shared_features:  # one tower pass over the images the gallery or a query needs
            wanted = sorted({*g_pos, *(i for i, _, _ in pairs)})
            computed = self.encoder.encode_image_features(self._inputs([decoded[i] for i in wanted]))
            row = {i: r for r, i in enumerate(wanted)}
        if g_pos:
            if computed is not None:
                out = self.encoder.gallery_from_features(computed[[row[i] for i in g_pos]])
            else:
                out = self.encoder.encode_gallery(self._inputs([decoded[i] for i in g_pos]))
            keys = ["g|" + fingerprints[chunk[i].key] for i in g_pos]
            self.store.add(keys, prepare_embeddings(out, self.similarity).cpu())
            todo_gallery.difference_update(keys)
        for start in range(0, len(pairs), self.batch_size):
            part = pairs[start : start + self.batch_size]
            texts = [t for _, _, t in part]
            if computed is not None:
                out = self.encoder.query_from_features(computed[[row[i] for i, _, _ in part]], texts)
            else:
                out = self.encoder.encode_query(self._inputs([decoded[i] for i, _, _ in part]), texts)
            self.store.add([key for _, key, _ in part], prepare_embeddings(out, self.similarity).cpu())


def _module_device(encoder: Any) -> torch.device:
    if isinstance(encoder, torch.nn.Module):
        for tensor in encoder.parameters():
            return tensor.device
    return torch.device("cpu")
