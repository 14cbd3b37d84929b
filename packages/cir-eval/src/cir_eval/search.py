"""Top-k search: exact and chunked (never the full query×gallery matrix), or FAISS for huge galleries.

Tie rule, used everywhere in cir-eval: rank by score descending, then by gallery index ascending.
The official scripts leave ties to ``torch.sort`` on CUDA (not stable, ``specs/genecis.md`` §3.2);
this rule makes every ranking deterministic and identical on CPU and GPU for equal scores.
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from cir_eval.protocol import Similarity, score

__all__ = ["candidate_scores", "drop_excluded", "faiss_topk", "full_topk", "sort_by_score", "topk"]


def sort_by_score(scores: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (scores, ids) of each row sorted by score descending, then id ascending."""
    by_id = ids.argsort(dim=1, stable=True)
    ids = ids.gather(1, by_id)
    scores = scores.gather(1, by_id)
    order = scores.argsort(dim=1, descending=True, stable=True)
    return scores.gather(1, order), ids.gather(1, order)


def full_topk(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the top ``k`` of a full score matrix with the tie rule (the obvious reference method)."""
    values, indices = scores.sort(dim=1, descending=True, stable=True)
    return values[:, :k], indices[:, :k]


def _chunk_topk(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-k of one block under the tie rule, reading the block once with ``torch.topk(k + 1)``.

    The k-th and (k+1)-th values are equal exactly when items tied at the boundary could be left out in
    favour of a larger index; only those rows are fully sorted. ``topk`` ranks NaN above every number, so
    a NaN anywhere in a row shows up among its top values (checked there, not on the whole block).
    """
    fetch = min(k + 1, scores.shape[1])
    values, indices = scores.topk(fetch, dim=1)
    if torch.isnan(values).any():
        raise ValueError("the similarity produced NaN scores")
    if fetch > k:
        tied = (values[:, k] == values[:, k - 1]).nonzero().flatten()
        values, indices = values[:, :k], indices[:, :k]
    else:
        tied = values.new_empty(0, dtype=torch.long)
    values, indices = sort_by_score(values, indices)
    if tied.numel():
        tied_values, tied_indices = full_topk(scores[tied], k)
        values[tied] = tied_values
        indices[tied] = tied_indices
    return values, indices


def _block_scores(queries: torch.Tensor, gallery: torch.Tensor, similarity: Similarity, half: bool) -> torch.Tensor:
    """One block of scores: fp16 for named similarities when ``half`` (its top-k is widened to fp32 after)."""
    if half and isinstance(similarity, str):
        return queries.half() @ gallery.half().T
    return score(queries, gallery, similarity).float()


def topk(
    queries: torch.Tensor,
    gallery: torch.Tensor,
    k: int,
    similarity: Similarity = "cosine",
    *,
    exclude: torch.Tensor | None = None,
    query_chunk: int = 1024,
    gallery_chunk: int = 65536,
    device: str | torch.device | None = None,
    half: bool | None = None,
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (scores, indices) [Q, k'] of the best gallery items per query, k' = min(k, eligible).

    ``queries`` [Q, D] and ``gallery`` [G, D] are prepared embeddings (normalised for cosine).
    ``exclude`` [Q] holds one gallery index per query to leave out *by identity* (-1 for none): the
    CIRR reference, an UnED query's own index entry. Blocks of ``query_chunk × gallery_chunk``
    scores are reduced to their top-k and merged, so the full matrix never exists. ``half``
    (default: on CUDA) multiplies in fp16 for named similarities; callables always get fp32.
    Results are on the CPU.
    """
    num_gallery = gallery.shape[0]
    if num_gallery == 0:
        raise ValueError("cannot search an empty gallery")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    device = torch.device(device) if device is not None else queries.device
    half = device.type == "cuda" if half is None else half
    extra = 1 if exclude is not None else 0
    fetch = min(k + extra, num_gallery)
    keep = min(k, num_gallery - extra)
    if keep < 1:
        raise ValueError("the gallery holds no item once the excluded ones are removed")
    out_scores, out_indices = [], []
    starts = range(0, queries.shape[0], query_chunk)
    for start in tqdm(starts, desc="search", disable=not progress, leave=False):
        q = queries[start : start + query_chunk].to(device)
        best_s = best_i = None
        for g_start in range(0, num_gallery, gallery_chunk):
            g = gallery[g_start : g_start + gallery_chunk].to(device)
            block = _block_scores(q, g, similarity, half)
            s, i = _chunk_topk(block, min(fetch, block.shape[1]))
            del block  # freed before the next block is computed: one block alive at a time
            s, i = s.float(), i + g_start
            if best_s is None or best_i is None:
                best_s, best_i = s, i
            else:
                # earlier blocks hold smaller indices, so a stable sort keeps the tie rule
                merged_s = torch.cat([best_s, s], dim=1)
                merged_i = torch.cat([best_i, i], dim=1)
                order = merged_s.argsort(dim=1, descending=True, stable=True)[:, :fetch]
                best_s, best_i = merged_s.gather(1, order), merged_i.gather(1, order)
        assert best_s is not None and best_i is not None
        if exclude is not None:
            best_s, best_i = drop_excluded(best_s, best_i, exclude[start : start + query_chunk].to(device), keep)
        out_scores.append(best_s.cpu())
        out_indices.append(best_i.cpu())
    return torch.cat(out_scores), torch.cat(out_indices)


def drop_excluded(
    scores: torch.Tensor, indices: torch.Tensor, exclude: torch.Tensor, keep: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Remove each row's excluded index wherever it ranks (else its last item); keep ``keep`` columns."""
    hit = indices == exclude.reshape(-1, 1)
    last = torch.zeros_like(hit)
    last[:, -1] = True
    drop = torch.where(hit.any(dim=1, keepdim=True), hit, last)
    kept = ~drop
    rows = indices.shape[0]
    return scores[kept].reshape(rows, -1)[:, :keep], indices[kept].reshape(rows, -1)[:, :keep]


def candidate_scores(
    queries: torch.Tensor,
    gallery: torch.Tensor,
    candidates: torch.Tensor,
    similarity: Similarity = "cosine",
    *,
    chunk: int = 1024,
) -> torch.Tensor:
    """Return scores [Q, N] of each query against its own candidates (gallery rows; -1 = padding → -inf).

    Used where every query has a small private gallery (GeneCIS templates, the CIRR subset).
    """
    out = []
    for start in range(0, queries.shape[0], chunk):
        q = queries[start : start + chunk]
        cand = candidates[start : start + chunk]
        valid = cand >= 0
        unique, inverse = torch.unique(cand.clamp(min=0), return_inverse=True)
        block = score(q, gallery[unique], similarity).float()
        scores = block.gather(1, inverse)
        out.append(scores.masked_fill(~valid, float("-inf")))
    return torch.cat(out)


def faiss_topk(
    queries: torch.Tensor, gallery: torch.Tensor, k: int, similarity: Similarity = "cosine"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (scores, indices) from a flat FAISS inner-product index (extra ``faiss``; imported lazily).

    Only for named similarities (cosine on prepared embeddings, or dot). Results are re-sorted with
    the tie rule; exclusion is not supported here (search k+1 and drop it yourself).
    """
    if not isinstance(similarity, str):
        raise ValueError("FAISS search supports only 'cosine' and 'dot'; use exact search for a callable")
    try:
        import faiss
    except ImportError as err:
        raise ImportError("FAISS search needs the optional extra: pip install 'cir-eval[faiss]'") from err
    if gallery.shape[0] == 0:
        raise ValueError("cannot search an empty gallery")
    index = faiss.IndexFlatIP(gallery.shape[1])
    index.add(gallery.float().contiguous().numpy())
    scores, indices = index.search(queries.float().contiguous().numpy(), min(k, gallery.shape[0]))
    return sort_by_score(torch.from_numpy(scores), torch.from_numpy(indices).long())
