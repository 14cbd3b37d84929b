"""Run options and the context a benchmark evaluator receives (encoder, root, embedder, search)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from cir_eval.embedding import Embedder
from cir_eval.protocol import Similarity
from cir_eval.search import drop_excluded, faiss_topk, topk

__all__ = ["EvalContext", "EvalOptions"]


@dataclass(frozen=True)
class EvalOptions:
    """Options shared by every benchmark (benchmark-specific ones are declared at registration)."""

    batch_size: int = 64
    num_workers: int = 4
    device: str | None = None
    cache_dir: str | None = None
    model_id: str | None = None
    progress: bool = True
    query_chunk: int = 1024
    gallery_chunk: int = 65536
    half: bool | None = None
    use_faiss: bool = False
    out_dir: str | None = None

    @classmethod
    def names(cls) -> set[str]:
        """Return the option names."""
        return {f.name for f in fields(cls)}


@dataclass
class EvalContext:
    """What a benchmark evaluator gets: the data root, the embedder, search and its own options."""

    encoder: Any
    root: Path
    similarity: Similarity
    embedder: Embedder
    options: EvalOptions
    benchmark_options: dict[str, Any]

    def option(self, name: str) -> Any:
        """Return a benchmark-specific option (its registered default unless the caller set it)."""
        return self.benchmark_options[name]

    @property
    def out_dir(self) -> Path:
        """Return where submission files go (``out_dir`` option, else the current directory)."""
        return Path(self.options.out_dir) if self.options.out_dir is not None else Path.cwd()

    def search(
        self, queries: torch.Tensor, gallery: torch.Tensor, k: int, exclude: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return top-k (scores, indices) with the tie rule; exact and chunked, or FAISS if asked."""
        if self.options.use_faiss:
            extra = 1 if exclude is not None else 0
            scores, indices = faiss_topk(queries, gallery, k + extra, self.similarity)
            if exclude is not None:
                keep = min(k, gallery.shape[0] - 1)
                scores, indices = drop_excluded(scores, indices, exclude, keep)
            return scores, indices
        return topk(
            queries,
            gallery,
            k,
            self.similarity,
            exclude=exclude,
            query_chunk=self.options.query_chunk,
            gallery_chunk=self.options.gallery_chunk,
            device=self.options.device,
            half=self.options.half,
            progress=self.options.progress,
        )
