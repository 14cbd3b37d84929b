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


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("query_chunk", "gallery_chunk", "k"), [(16, 50, 1), (7, 64, 5), (64, 333, 20), (3, 1000, 99)])
def test_many_boundary_ties_match_full_matrix(seed: int, query_chunk: int, gallery_chunk: int, k: int) -> None:
    """Scores from three values: almost every block has ties across its k-th place (and within the top k)."""
    gen = torch.Generator().manual_seed(seed)
    queries = torch.randint(0, 2, (40, 3), generator=gen).float()
    gallery = torch.randint(0, 2, (1000, 3), generator=gen).float()
    full = queries @ gallery.T
    boundary_ties = (full.sort(dim=1, descending=True).values[:, k - 1 : k + 1].diff(dim=1) == 0).sum()
    assert boundary_ties > 10  # the case under test really occurs
    scores, indices = topk(queries, gallery, k, "dot", query_chunk=query_chunk, gallery_chunk=gallery_chunk)
    ref_scores, ref_indices = full_topk(full, k)
    assert torch.equal(indices, ref_indices)
    assert torch.equal(scores, ref_scores)


def test_ties_across_blocks_and_no_ties_mixed_rows() -> None:
    """Row 0 is all ties (indices 0..k-1 win), row 1 has distinct scores (pure top-k order)."""
    gallery = torch.stack([torch.ones(30), torch.arange(30.0)], dim=1)
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    scores, indices = topk(queries, gallery, 4, "dot", gallery_chunk=8)
    assert indices.tolist() == [[0, 1, 2, 3], [29, 28, 27, 26]]
    assert scores.tolist() == [[1.0] * 4, [29.0, 28.0, 27.0, 26.0]]


def test_minus_infinity_scores_tie_by_index() -> None:
    def masked(q: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        out = q @ g.T
        out[:, 1::2] = float("-inf")
        return out

    queries = torch.tensor([[1.0]])
    gallery = torch.tensor([[1.0], [5.0], [0.0], [5.0], [2.0], [5.0]])
    scores, indices = topk(queries, gallery, 5, masked, gallery_chunk=4)
    assert indices.tolist() == [[4, 0, 2, 1, 3]]
    assert scores[0, :3].tolist() == [2.0, 1.0, 0.0] and torch.isinf(scores[0, 3:]).all()


@pytest.mark.parametrize("nan_at", [0, 57, 99])
def test_nan_anywhere_in_a_block_is_an_error(nan_at: int) -> None:
    def with_nan(q: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        out = q @ g.T
        out[1, nan_at % out.shape[1]] = float("nan")
        return out

    queries, gallery = torch.randn(3, 4), torch.randn(100, 4)
    with pytest.raises(ValueError, match="NaN"):
        topk(queries, gallery, 2, with_nan, gallery_chunk=100)


@pytest.mark.parametrize("k", [1, 7, 40])
def test_half_blocks_match_the_full_fp16_matrix_with_ties(k: int) -> None:
    """fp16 blocks (the CUDA default, forced here on CPU): top-k of the fp16 scores, returned as fp32."""
    gen = torch.Generator().manual_seed(5)
    queries = torch.randint(-1, 2, (30, 6), generator=gen).float() / 3
    gallery = torch.randint(-1, 2, (500, 6), generator=gen).float() / 3
    scores, indices = topk(queries, gallery, k, "dot", query_chunk=8, gallery_chunk=64, half=True)
    ref_scores, ref_indices = full_topk((queries.half() @ gallery.half().T).float(), k)
    assert scores.dtype == torch.float32
    assert torch.equal(indices, ref_indices)
    assert torch.equal(scores, ref_scores)
