"""Pages per second of a batch of `pdf` jobs through jobwire, against a plain loop.

    .venv/bin/python bench/pdf_throughput.py [--documents 40] [--pages 10-20] [--rounds 3]

Generates text PDFs of 10 to 20 pages (or as --pages says; fpdf2, from the handlers'
`test` extra) into a temporary input root and starts a development database (or uses
MONGODB_URI) and a server with two pool processes and at most two `pdf` jobs at a time.
For each engine (pypdf, PDFium) it times, round after round, a plain loop in this single
process that opens each file and extracts the text of every page, and the same files as
one batch of `pdf` jobs (from submission to the batch's `finished_at`); the best of each
is kept. Then one more batch runs while GetJob is timed, against the same call on the
idle server measured before any batch. Collections are emptied between batches, so every
claim searches a bounded one.

Prints JSON. The figures that matter are ratios from one machine in one run: jobwire /
loop pages per second (target at least 1.7 on two cores), and loaded / idle GetJob p50
(target at most 1.5). The same loop run by two processes at once shows what this
machine's two cores give at best. On Linux it also reports the CPU seconds the database,
the server, its pool processes and this benchmark spent during the best batch: on two
cores, whatever the database and the server take is taken from the two pool processes.
"""

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from pymongo import MongoClient
from pypdf import PdfReader

from jobwire.client import JobwireClient, job_spec
from jobwire.server.devdb import DevDatabase
from jobwire.server.server_process import ServerProcess
from jobwire.server.storage import names as storage_names
from jobwire.v1 import documents_pb2, job_pb2

TARGET_THROUGHPUT_RATIO = 1.7
TARGET_GET_JOB_RATIO = 1.5
ENGINES = {"pypdf": documents_pb2.PDF_ENGINE_PYPDF, "pdfium": documents_pb2.PDF_ENGINE_PDFIUM}
# Pool processes of the server, and of the parallel plain loop it is compared with.
PROCESSES = 2
SERVER_ENVIRONMENT = {
    "JOBWIRE_GENERIC_WORKER_PER_TYPE": "{pdf: 2}",
    "JOBWIRE_GENERIC_WORKER_PROCESS_WORKERS": str(PROCESSES),
}
DATABASE = "jobwire_bench"
# Pause between two timed GetJob calls, as a client that looks now and then would make.
PROBE_PAUSE_SECONDS = 0.01
IDLE_PROBES = 300
BATCH_POLL_SECONDS = 0.1
LINE = "Every job runs once at a time; leases expire and the job returns to the queue."
TERMINAL = (job_pb2.JOB_STATUS_COMPLETED, job_pb2.JOB_STATUS_FAILED)

Loop = Callable[[Path], int]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--documents", type=int, default=40, help="PDFs in the batch")
    parser.add_argument(
        "--pages", type=page_range, default=(10, 20), help="pages per PDF, e.g. 10-20"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs per measurement; best kept")
    parser.add_argument(
        "--pdf-jobs", type=int, default=2, help="`pdf` jobs the server runs at once (per_type)"
    )
    args = parser.parse_args()
    server_environment = {
        **SERVER_ENVIRONMENT,
        "JOBWIRE_GENERIC_WORKER_PER_TYPE": f"{{pdf: {args.pdf_jobs}}}",
    }

    with tempfile.TemporaryDirectory() as scratch, database_uri() as (uri, database_name):
        root = Path(scratch) / "inputs"
        root.mkdir()
        files = generate_pdfs(root, args.documents, args.pages)
        environment = {
            **server_environment,
            "JOBWIRE_DOCUMENTS_INPUT_ROOTS": json.dumps([str(root)]),
            "JOBWIRE_STORAGE_DATABASE": DATABASE,
        }
        log = Path(scratch) / "server.log"
        with ServerProcess(uri, log, environment=environment) as server:
            assert server.process is not None
            bench = Bench(server.address, uri, files, server.process.pid)
            report = {
                **bench.run(args.rounds),
                "server_environment": server_environment,
                "database": database_name,
            }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


@contextmanager
def database_uri() -> Iterator[tuple[str, str]]:
    """MONGODB_URI (naming no database) when set, else a development database of the run."""
    external = os.environ.get("MONGODB_URI")
    if external:
        yield external, "MONGODB_URI"
        return
    with DevDatabase() as database:
        yield database.start(), "development database (mongo-java-server, memory backend)"


class Bench:
    """One server, one set of files, and what was measured on them."""

    def __init__(self, address: str, uri: str, files: dict[Path, int], server_pid: int) -> None:
        self.address = address
        self.uri = uri
        self.files = files
        self.names = [path.name for path in files]
        self.pages = sum(files.values())
        self.server_pid = server_pid

    def run(self, rounds: int) -> dict[str, Any]:
        with JobwireClient(self.address) as client:
            # Warm up: both pool processes import both libraries, the database its code.
            for engine in ENGINES:
                self.batch(client, engine)
            probe = client.submit_job("pdf", documents_pb2.PdfParams(file_path=self.names[0]))
            wait_for(client, probe.id)
            self.clear(keep=probe.id)
            idle = get_job_latencies(client, probe.id, IDLE_PROBES)

            engines = {
                engine: self.measure_engine(client, engine, loop, probe.id, rounds)
                for engine, loop in (("pypdf", pypdf_loop), ("pdfium", pdfium_loop))
            }

        loaded = [ms for figures in engines.values() for ms in figures.pop("_loaded_ms")]
        get_job_ratio = statistics.median(loaded) / statistics.median(idle)
        return {
            "benchmark": "pdf_batch_throughput",
            "documents": len(self.files),
            "pages": self.pages,
            "pages_per_document": [min(self.files.values()), max(self.files.values())],
            "cpu_count": os.cpu_count(),
            "engines": engines,
            "target_jobwire_vs_loop": TARGET_THROUGHPUT_RATIO,
            "get_job": {
                "idle_ms": summary(idle),
                "loaded_ms": summary(loaded),
                "loaded_p50_vs_idle_p50": round(get_job_ratio, 2),
                "target_loaded_p50_vs_idle_p50": TARGET_GET_JOB_RATIO,
                "target_met": get_job_ratio <= TARGET_GET_JOB_RATIO,
            },
        }

    def measure_engine(
        self, client: JobwireClient, engine: str, loop: Loop, probe_id: str, rounds: int
    ) -> dict[str, Any]:
        loop_seconds: list[float] = []
        parallel_seconds: list[float] = []
        batches: list[dict[str, Any]] = []
        with multiprocessing.get_context("forkserver").Pool(PROCESSES) as pool:
            pool.map(abs, range(PROCESSES))
            for _ in range(rounds):
                loop_seconds.append(timed_loop(loop, self.files))
                parallel_seconds.append(timed_parallel_loop(pool, loop, self.files))
                batches.append(self.batch(client, engine))
                self.clear(keep=probe_id)
        loaded = self.batch(client, engine, probe_id=probe_id)
        self.clear(keep=probe_id)

        best_loop = min(loop_seconds)
        best_parallel = min(parallel_seconds)
        best = min(batches, key=lambda batch: float(batch["seconds"]))
        ratio = best_loop / best["seconds"]
        return {
            # What two processes of the plain loop reach on this machine: the ceiling.
            "two_loops_in_parallel_vs_loop": round(best_loop / best_parallel, 2),
            "jobwire_vs_two_loops_in_parallel": round(best_parallel / best["seconds"], 2),
            "loop_seconds": round(best_loop, 3),
            "loop_pages_per_second": round(self.pages / best_loop, 1),
            "jobwire_seconds": round(best["seconds"], 3),
            "jobwire_pages_per_second": round(self.pages / best["seconds"], 1),
            "jobwire_vs_loop": round(ratio, 2),
            "target_met": ratio >= TARGET_THROUGHPUT_RATIO,
            "loop_seconds_per_round": [round(seconds, 3) for seconds in loop_seconds],
            "jobwire_seconds_per_round": [round(batch["seconds"], 3) for batch in batches],
            # This machine's speed drifts between minutes: the ratio within each round too.
            "jobwire_vs_loop_per_round": [
                round(seconds / batch["seconds"], 2)
                for seconds, batch in zip(loop_seconds, batches, strict=True)
            ],
            "job_wall_seconds_p50": best["job_wall_p50"],
            "job_pool_cpu_seconds_p50": best["job_cpu_p50"],
            "cpu_seconds_during_best_batch": best["cpu_seconds"],
            "batch_with_get_job_probes_seconds": round(loaded["seconds"], 3),
            "loaded_get_job_ms": summary(loaded["get_job_ms"]),
            "_loaded_ms": loaded["get_job_ms"],
        }

    def batch(
        self, client: JobwireClient, engine: str, probe_id: str | None = None
    ) -> dict[str, Any]:
        """One batch of every file, from submission to its end; GetJob timed meanwhile."""
        params = [
            documents_pb2.PdfParams(
                file_path=name,
                engine=ENGINES[engine],
                extraction_method=documents_pb2.EXTRACTION_METHOD_NATIVE,
            )
            for name in self.names
        ]
        cpu_before = cpu_times(self.server_pid)
        submitted_at = datetime.now(UTC)
        batch = client.submit_batch([job_spec("pdf", p) for p in params]).batch
        latencies: list[float] = []
        while batch.status not in TERMINAL:
            if probe_id is None:
                time.sleep(BATCH_POLL_SECONDS)
            else:
                latencies += get_job_latencies(client, probe_id, 5)
            batch = client.get_batch(batch.id)
        cpu_after = cpu_times(self.server_pid)

        if batch.counts.completed != len(params):
            raise RuntimeError(f"batch {batch.id} ended with {batch.counts}")
        finished_at = batch.finished_at.ToDatetime(tzinfo=UTC)
        jobs = client.list_jobs(batch_id=batch.id, page_size=len(params)).jobs
        return {
            # The server stores times in whole milliseconds.
            "seconds": (finished_at - submitted_at).total_seconds(),
            "get_job_ms": latencies,
            "job_wall_p50": round(statistics.median(job.usage.wall_seconds for job in jobs), 3),
            "job_cpu_p50": round(statistics.median(job.usage.cpu_seconds for job in jobs), 3),
            "cpu_seconds": cpu_spent(cpu_before, cpu_after),
        }

    def clear(self, keep: str) -> None:
        """Empties the job and batch collections but for `keep`: claims search few jobs."""
        mongo: MongoClient[dict[str, Any]] = MongoClient(self.uri)
        with mongo:
            database = mongo.get_database(DATABASE)
            database[storage_names.JOBS_COLLECTION].delete_many({"_id": {"$ne": keep}})
            database[storage_names.BATCHES_COLLECTION].delete_many({})


def get_job_latencies(client: JobwireClient, job_id: str, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        client.get_job(job_id)
        timings.append((time.perf_counter() - started) * 1000)
        time.sleep(PROBE_PAUSE_SECONDS)
    return timings


def wait_for(client: JobwireClient, job_id: str) -> None:
    job = client.get_job(job_id)
    while job.status not in TERMINAL:
        time.sleep(0.02)
        job = client.get_job(job_id)
    if job.status != job_pb2.JOB_STATUS_COMPLETED:
        raise RuntimeError(f"job {job_id} failed: {job.error}")


def timed_loop(loop: Loop, files: dict[Path, int]) -> float:
    """Seconds the plain loop takes over every file; checks that it read every page."""
    started = time.perf_counter()
    pages = sum(loop(path) for path in files)
    seconds = time.perf_counter() - started
    if pages != sum(files.values()):
        raise RuntimeError(f"the loop read {pages} pages of {sum(files.values())}")
    return seconds


def timed_parallel_loop(pool: Pool, loop: Loop, files: dict[Path, int]) -> float:
    """Seconds the plain loop takes with the files shared among the pool's processes."""
    started = time.perf_counter()
    pages = sum(pool.map(loop, list(files)))
    seconds = time.perf_counter() - started
    if pages != sum(files.values()):
        raise RuntimeError(f"the parallel loop read {pages} pages of {sum(files.values())}")
    return seconds


def pypdf_loop(path: Path) -> int:
    reader = PdfReader(path)
    for page in reader.pages:
        page.extract_text()
    return len(reader.pages)


def pdfium_loop(path: Path) -> int:
    document = pdfium.PdfDocument(path)
    try:
        for page in document:
            text_page = page.get_textpage()
            text_page.get_text_range()
            text_page.close()
            page.close()
        return len(document)
    finally:
        document.close()


def page_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    pages = (int(low), int(high or low))
    if not 1 <= pages[0] <= pages[1]:
        raise argparse.ArgumentTypeError(f"not a range of pages: {text}")
    return pages


def generate_pdfs(root: Path, count: int, pages: tuple[int, int]) -> dict[Path, int]:
    """`count` text PDFs of `pages` pages (from, to) of 45 lines each: path -> pages."""
    from fpdf import FPDF  # The handlers' `test` extra; only the tests and benchmarks need it.

    low, high = pages
    files = {}
    for index in range(count):
        page_count = low + index % (high - low + 1)
        document = FPDF()
        document.set_font("Helvetica", size=10)
        for number in range(1, page_count + 1):
            document.add_page()
            for row in range(45):
                text = f"{index}.{number}.{row} {LINE}"
                document.cell(text=text, new_x="LMARGIN", new_y="NEXT")
        path = root / f"document-{index:03d}.pdf"
        document.output(str(path))
        files[path] = page_count
    return files


CpuTimes = dict[int, tuple[str, float]]
"""Process id -> (its group, CPU seconds so far)."""


def cpu_times(server_pid: int) -> CpuTimes:
    """CPU seconds so far of the server, its pool processes, the database and this process.

    Read from /proc (Linux); empty elsewhere. The database is any other child of this
    process (the development database's JVM); an external one is not seen.
    """
    proc = Path("/proc")
    if not (proc / str(server_pid)).is_dir():
        return {}
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # The process ended while being read.
                continue
            parents[int(entry.name)] = int(fields[1])
            seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def descendants(pid: int) -> list[int]:
        children = [child for child, parent in parents.items() if parent == pid]
        return children + [grandchild for child in children for grandchild in descendants(child)]

    me = os.getpid()
    groups = {me: "benchmark_client", server_pid: "server"}
    groups |= {pid: "pool_processes" for pid in descendants(server_pid)}
    groups |= {pid: "database" for pid in descendants(me) if pid not in groups}
    return {pid: (group, seconds[pid]) for pid, group in groups.items() if pid in seconds}


def cpu_spent(before: CpuTimes, after: CpuTimes) -> dict[str, float]:
    """CPU seconds per group between two readings.

    A pool process started in between counts whole (its imports are part of the cost); one
    that ended in between (pebble replaces them after a number of tasks) is missing.
    """
    spent: dict[str, float] = {}
    for pid, (group, seconds) in after.items():
        spent[group] = spent.get(group, 0.0) + seconds - before.get(pid, (group, 0.0))[1]
    spent["total"] = sum(spent.values())
    return {group: round(value, 2) for group, value in sorted(spent.items())}


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p90": round(ordered[int(len(ordered) * 0.9)], 3),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    }


if __name__ == "__main__":
    main()
