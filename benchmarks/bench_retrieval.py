"""Exact top-k retrieval: cir_eval.search.topk vs naive matmul + torch.topk, time and peak memory.

GPU (``--device cuda``, default sizes 10k queries × 1M × 768 fp16 gallery, top 50): cir-eval's
chunked fp16 search against a naive chunked loop (query chunks × the whole gallery, then
``torch.topk``) in fp32, as the obvious implementation is written, and in fp16. Times are CUDA-
synchronised; peak memory is ``torch.cuda.max_memory_allocated`` above the resident data.

CPU (default: 1,000 queries × 100k × 512 fp32, top 50): cir-eval's search against the naive full
matrix (``q @ g.T`` then ``topk``), the naive query-chunked loop and FAISS's flat index. Peak memory
is measured per method in a fresh process (peak RSS, VmHWM reset just before the search, above the
resident data); the
cir-eval search is also measured at twice the gallery to show that its peak is set by the chunk
sizes (``query_chunk × gallery_chunk × 4`` bytes per block), not by the gallery size.
Every method must find the reference's top-k ids (>= 99.9% of them on CPU, 99% on CUDA in fp16).

    PYTHONPATH=packages/cir-eval/src /work/devenv/bin/python benchmarks/bench_retrieval.py --runs 5
    PYTHONPATH=packages/cir-eval/src python benchmarks/bench_retrieval.py --device cuda --runs 5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
from collections.abc import Callable
from typing import Any

import torch
from benchcommon import median, peak_rss_mib, print_report, reset_peak_rss, rss_mib, timed_runs

from cir_eval.search import faiss_topk, topk

Search = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def embeddings(rows: int, dim: int, dtype: torch.dtype, device: str, seed: int) -> torch.Tensor:
    """Unit-norm random rows, made block by block so no full-size temporary raises the memory high-water mark."""
    out = torch.empty(rows, dim, dtype=dtype, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    for start in range(0, rows, 4096):
        block = torch.randn(min(4096, rows - start), dim, generator=generator, device=device)
        out[start : start + block.shape[0]] = torch.nn.functional.normalize(block, dim=1).to(dtype)
    return out


def naive_full(k: int) -> Search:
    """The whole [Q, G] score matrix, then topk."""
    return lambda q, g: (q.float() @ g.float().T).topk(k, dim=1)


def naive_chunked(k: int, chunk: int, dtype: torch.dtype) -> Search:
    """Query chunks against the whole gallery in ``dtype``, topk per chunk."""

    def search(q: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g = g.to(dtype)
        parts = [(q[s : s + chunk].to(dtype) @ g.T).float().topk(k, dim=1) for s in range(0, q.shape[0], chunk)]
        return torch.cat([p.values for p in parts]), torch.cat([p.indices for p in parts])

    return search


def ours(k: int, query_chunk: int, gallery_chunk: int, device: str) -> Search:
    """cir_eval.search.topk (fp16 blocks on CUDA, fp32 on CPU)."""
    return lambda q, g: topk(q, g, k, "cosine", query_chunk=query_chunk, gallery_chunk=gallery_chunk, device=device)


def methods(args: argparse.Namespace) -> dict[str, Search]:
    """The compared searches by name; the reference (ratio 1) comes first."""
    if args.device == "cuda":
        return {
            "naive chunked fp32 (reference)": naive_chunked(args.k, args.query_chunk, torch.float32),
            "naive chunked fp16": naive_chunked(args.k, args.query_chunk, torch.float16),
            "cir_eval.search.topk (fp16 blocks)": ours(args.k, args.query_chunk, args.gallery_chunk, "cuda"),
        }
    return {
        "naive full matrix (reference)": naive_full(args.k),
        f"naive query-chunked ({args.query_chunk} queries)": naive_chunked(args.k, args.query_chunk, torch.float32),
        "cir_eval.search.topk": ours(args.k, args.query_chunk, args.gallery_chunk, "cpu"),
        "cir_eval.search.faiss_topk (flat IP)": lambda q, g: faiss_topk(q, g, args.k),
    }


def cpu_peak(name: str, args: argparse.Namespace, gallery_rows: int, queue: Any) -> None:
    """In a fresh process: the rise of peak RSS (MiB) while ``name`` searches a gallery of ``gallery_rows``."""
    torch.set_num_threads(args.threads)
    queries = embeddings(args.queries, args.dim, torch.float32, "cpu", 1)
    gallery = embeddings(gallery_rows, args.dim, torch.float32, "cpu", 2)
    before = rss_mib()
    if not reset_peak_rss():
        raise SystemExit("cannot reset the peak RSS (/proc/self/clear_refs); the CPU memory figure needs Linux")
    methods(args)[name](queries, gallery)
    queue.put(peak_rss_mib() - before)


def measure_cpu_peak(name: str, args: argparse.Namespace, gallery_rows: int) -> float:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    worker = ctx.Process(target=cpu_peak, args=(name, args, gallery_rows, queue))
    worker.start()
    peak = queue.get()
    worker.join()
    return float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each method (median reported)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--queries", type=int, default=None, help="default: 10,000 on cuda, 1,000 on cpu")
    parser.add_argument("--gallery", type=int, default=None, help="default: 1,000,000 on cuda, 100,000 on cpu")
    parser.add_argument("--dim", type=int, default=None, help="default: 768 on cuda, 512 on cpu")
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--query-chunk", type=int, default=1024, help="queries per block (cir-eval's default)")
    parser.add_argument("--gallery-chunk", type=int, default=65536, help="gallery rows per block (cir-eval's default)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: on a shared 2-core machine more threads stall on busy cores)")
    args = parser.parse_args()
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is present; run on a GPU machine or use --device cpu")
    args.queries = args.queries or (10_000 if cuda else 1_000)
    args.gallery = args.gallery or (1_000_000 if cuda else 100_000)
    args.dim = args.dim or (768 if cuda else 512)
    torch.set_num_threads(args.threads)
    dtype = torch.float16 if cuda else torch.float32
    queries = embeddings(args.queries, args.dim, dtype, args.device, 1)
    gallery = embeddings(args.gallery, args.dim, dtype, args.device, 2)

    def synced(search: Search) -> Callable[[], Any]:
        def run() -> Any:
            result = search(queries, gallery)
            if cuda:
                torch.cuda.synchronize()
            return result

        return run

    compared = methods(args)
    reference_name = next(iter(compared))
    reference = compared[reference_name](queries, gallery)[1].cpu()
    times: dict[str, list[float]] = {name: [] for name in compared}
    peaks: dict[str, str] = {}
    for name, search in compared.items():
        found = search(queries, gallery)[1].cpu()  # warm-up, and the answer must match
        # Share of the reference's top-k ids found (fp16 rounding may swap near-equal neighbours on CUDA).
        agree = (found.unsqueeze(2) == reference.unsqueeze(1)).any(dim=2).float().mean().item()
        missed = f"{name} misses {100 * (1 - agree):.2f}% of the reference top-{args.k}"
        assert agree > (0.99 if cuda else 0.999), missed
        if cuda:
            resident = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            synced(search)()
            peaks[name] = f"{(torch.cuda.max_memory_allocated() - resident) / 2**20:,.0f}"
    for _ in range(args.runs):  # interleaved, so load changes hit every method alike
        for name, search in compared.items():
            times[name] += timed_runs(synced(search), 1)
    if not cuda:
        for name in compared:
            peaks[name] = f"{measure_cpu_peak(name, args, args.gallery):,.0f}"
        ours_name = "cir_eval.search.topk"
        peaks[ours_name] += f" ({measure_cpu_peak(ours_name, args, 2 * args.gallery):,.0f} at 2× gallery)"
    ref_s = median(times[reference_name])
    block_mib = min(args.query_chunk, args.queries) * min(args.gallery_chunk, args.gallery) * 4 / 2**20
    rows = [
        [name, f"{median(t) * 1000:,.0f}", ", ".join(f"{x * 1000:.0f}" for x in t), f"{args.queries / median(t):,.0f}",
         peaks[name], f"**{ref_s / median(t):.2f}×**" if name != reference_name else "1×"]
        for name, t in times.items()
    ]
    print_report(
        f"Retrieval ({args.device}): top-{args.k} of {args.queries:,} queries over {args.gallery:,} × {args.dim} "
        f"{str(dtype).removeprefix('torch.')}, blocks {args.query_chunk} × {args.gallery_chunk} "
        f"(one fp32 score block = {block_mib:,.0f} MiB), median of {args.runs} runs",
        ["method", "time (ms)", "runs (ms)", "queries/s", "peak extra memory (MiB)", "ratio to reference"],
        rows,
    )


if __name__ == "__main__":
    main()
