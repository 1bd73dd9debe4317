"""PDF text extraction throughput through the engine's process pool, by calling strategy.

    .venv/bin/python bench/pdf_chunking.py [--pages 400] [--rounds 3]

Compares, per engine (pypdf, PDFium), the ways the `pdf` handler could call into the
pool for one document: one opaque call for the whole document (fastest, but no progress
until the end and the pool held all along), one call per page reopening the PDF each time
(per-page progress at the price of a parse per page), and what the handler does: calls of
about CHUNK_SECONDS each on a document every pool process keeps open between calls. The
documents are a generated text PDF (fpdf2, from the handlers' `test` extra) and, when the
shared corpus is there, GeoTopo (117 pages of a real book). Prints JSON; the figures that
matter are the ratios to the opaque call, measured on the same machine in the same run.
"""

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jobwire.handlers.pdf import CHUNK_SECONDS
from jobwire.handlers.pdf_extract import (
    Engine,
    PageExtract,
    PdfSource,
    extract_pages,
    forget_documents,
    probe_pdf,
)
from jobwire.server.config import WorkerSettings
from jobwire.server.engine.pools import WorkerPools

CORPUS_BOOK = (
    Path(__file__).resolve().parents[2]
    / "shared/corpus/pdf-samples/009-pdflatex-geotopo/GeoTopo-komprimiert.pdf"
)
ENGINES: tuple[Engine, ...] = ("pypdf", "pdfium")
Strategy = Callable[[WorkerPools, PdfSource, int], Awaitable[list[float]]]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=400, help="pages of the generated PDF")
    parser.add_argument("--rounds", type=int, default=3, help="runs per measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        documents = {f"generated-{args.pages}-pages": generated_pdf(Path(scratch), args.pages)}
        if CORPUS_BOOK.is_file():
            documents["geotopo-117-pages"] = CORPUS_BOOK
        report = asyncio.run(measure(documents, args.rounds))
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


async def measure(documents: dict[str, Path], rounds: int) -> dict[str, Any]:
    worker = WorkerSettings()
    pools = WorkerPools(2, worker.process_workers, worker.process_memory_limit_mb)
    strategies: dict[str, Strategy] = {
        "one_call_per_document": one_call,
        "one_call_per_page_reopening": per_page_reopening,
        "chunked_with_kept_document": chunked,
    }
    results: dict[str, Any] = {}
    try:
        for name, path in documents.items():
            for engine in ENGINES:
                source = PdfSource(str(path), engine=engine)
                page_count = (await pools.run_cpu(probe_pdf, source, time_limit=60))[0].page_count
                # Warm up: every pool process imports the libraries once.
                await asyncio.gather(*(one_call(pools, source, 1) for _ in range(2)))
                figures = {
                    strategy: await best_of(rounds, run, pools, source, page_count)
                    for strategy, run in strategies.items()
                }
                baseline = figures["one_call_per_document"]["seconds"]
                for figure in figures.values():
                    figure["time_vs_one_call"] = round(figure["seconds"] / baseline, 2)
                results[f"{name}/{engine}"] = {"pages": page_count, **figures}
    finally:
        pools.close()
    return {
        "benchmark": "pdf_text_extraction_throughput",
        "chunk_seconds": CHUNK_SECONDS,
        "process_workers": worker.process_workers,
        "cpu_count": os.cpu_count(),
        "results": results,
    }


async def best_of(
    rounds: int, run: Strategy, pools: WorkerPools, source: PdfSource, pages: int
) -> dict[str, Any]:
    """The fastest of `rounds` runs, with its progress gaps (seconds between page reports)."""
    best: tuple[float, list[float]] | None = None
    for _ in range(rounds):
        started = time.perf_counter()
        reports = await run(pools, source, pages)
        seconds = time.perf_counter() - started
        if best is None or seconds < best[0]:
            best = (seconds, [report - started for report in reports])
    assert best is not None
    seconds, reports = best
    gaps = [later - earlier for earlier, later in zip([0.0, *reports], reports, strict=False)]
    return {
        "seconds": round(seconds, 3),
        "pages_per_second": round(pages / seconds, 1),
        "progress_reports": len(reports),
        "longest_gap_between_reports_s": round(max(gaps), 3),
        "median_gap_between_reports_s": round(statistics.median(gaps), 4),
    }


async def one_call(pools: WorkerPools, source: PdfSource, pages: int) -> list[float]:
    numbers = tuple(range(1, pages + 1))
    await pools.run_cpu(extract_pages, source, numbers, "plain", False, math.inf, time_limit=600)
    return [time.perf_counter()]


async def per_page_reopening(pools: WorkerPools, source: PdfSource, pages: int) -> list[float]:
    reports = []
    for number in range(1, pages + 1):
        await pools.run_cpu(reopen_and_extract, source, number, time_limit=600)
        reports.append(time.perf_counter())
    return reports


async def chunked(pools: WorkerPools, source: PdfSource, pages: int) -> list[float]:
    reports = []
    remaining = tuple(range(1, pages + 1))
    while remaining:
        chunk, _ = await pools.run_cpu(
            extract_pages, source, remaining, "plain", False, CHUNK_SECONDS, time_limit=600
        )
        remaining = remaining[len(chunk) :]
        reports.append(time.perf_counter())
    return reports


def reopen_and_extract(source: PdfSource, number: int) -> list[PageExtract]:
    """One page from a freshly opened document (runs in the pool)."""
    forget_documents()
    return extract_pages(source, (number,), "plain", False, math.inf)


def generated_pdf(directory: Path, pages: int) -> Path:
    from fpdf import FPDF  # The handlers' `test` extra; only this benchmark needs it here.

    document = FPDF()
    document.set_font("Helvetica", size=10)
    line = "Every job runs once at a time; leases expire and the job returns to the queue."
    for number in range(1, pages + 1):
        document.add_page()
        for row in range(45):
            document.cell(text=f"{number}.{row} {line}", new_x="LMARGIN", new_y="NEXT")
    path = directory / f"generated-{pages}.pdf"
    document.output(str(path))
    return path


if __name__ == "__main__":
    main()
