"""Chunked exact top-k against the full-matrix reference, exclusion by identity, ties, FAISS."""

from __future__ import annotations

import pytest
import torch
from cir_eval.search import candidate_scores, faiss_topk, full_topk, sort_by_score, topk


def _tied_data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    # small integer vectors: many exactly equal scores
    queries = torch.randint(-2, 3, (37, 4), generator=gen).float()
    gallery = torch.randint(-2, 3, (101, 4), generator=gen).float()
    return queries, gallery


@pytest.mark.parametrize(("query_chunk", "gallery_chunk", "k"), [(5, 7, 10), (100, 1000, 10), (3, 13, 101), (8, 4, 1)])
def test_chunked_topk_matches_full_matrix(query_chunk: int, gallery_chunk: int, k: int) -> None:
    queries, gallery = _tied_data()
    scores, indices = topk(queries, gallery, k, "dot", query_chunk=query_chunk, gallery_chunk=gallery_chunk)
    ref_scores, ref_indices = full_topk(queries @ gallery.T, k)
    assert torch.equal(indices, ref_indices)
    assert torch.equal(scores, ref_scores)


def test_ties_rank_by_gallery_index() -> None:
    queries = torch.tensor([[1.0, 0.0]])
    gallery = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 0.0]])
    _, indices = topk(queries, gallery, 4, "dot", gallery_chunk=2)
    assert indices.tolist() == [[1, 3, 4, 2]]


def test_k_larger_than_gallery_returns_whole_gallery() -> None:
    queries, gallery = _tied_data()
    _, indices = topk(queries, gallery[:6], 50, "dot")
    assert indices.shape == (37, 6)
    assert sorted(indices[0].tolist()) == list(range(6))


def test_exclusion_by_identity_not_first_hit() -> None:
    queries = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    gallery = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    # query 0 excludes item 1 (ranked second), query 1 excludes item 0 (ranked first)
    _, indices = topk(queries, gallery, 2, "dot", exclude=torch.tensor([1, 0]))
    assert indices.tolist() == [[0, 2], [1, 2]]
    # excluding an id never reached keeps the true top-k
    _, indices = topk(queries, gallery, 1, "dot", exclude=torch.tensor([2, 2]))
    assert indices.tolist() == [[0], [0]]


def test_custom_similarity_callable() -> None:
    def negative_distance(q: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return -torch.cdist(q, g)

    queries = torch.tensor([[0.0, 0.0]])
    gallery = torch.tensor([[3.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    scores, indices = topk(queries, gallery, 3, negative_distance, gallery_chunk=2)
    assert indices.tolist() == [[1, 2, 0]]
    assert scores.tolist() == [[-1.0, -2.0, -3.0]]


def test_empty_gallery_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty gallery"):
        topk(torch.ones(1, 2), torch.ones(0, 2), 1)


def test_candidate_scores_with_padding() -> None:
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    gallery = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    scores = candidate_scores(queries, gallery, torch.tensor([[2, 0, -1], [0, 1, 2]]), "dot", chunk=1)
    assert scores.tolist() == [[0.5, 1.0, float("-inf")], [0.0, 1.0, 0.5]]
    _, ranked = sort_by_score(scores, torch.tensor([[0, 1, 2], [0, 1, 2]]))
    assert ranked.tolist() == [[1, 0, 2], [1, 2, 0]]


def test_faiss_flat_index_agrees_with_exact_search() -> None:
    pytest.importorskip("faiss")
    gen = torch.Generator().manual_seed(1)
    queries = torch.nn.functional.normalize(torch.randn(50, 16, generator=gen), dim=1)
    gallery = torch.nn.functional.normalize(torch.randn(500, 16, generator=gen), dim=1)
    exact_scores, exact = topk(queries, gallery, 10, "cosine", gallery_chunk=64)
    approx_scores, approx = faiss_topk(queries, gallery, 10, "cosine")
    assert torch.equal(exact, approx)
    assert torch.allclose(exact_scores, approx_scores, atol=1e-5)
