"""Submit-to-start latency of a job on an idle server, against the raw unary gRPC round trip.

    .venv/bin/python bench/submit_latency.py [--jobs 200]

Starts its own development database and server, submits jobs one at a time, and
prints JSON. The latency of a job is from the moment its SubmitJob call begins to
the `started_at` the server stored when it claimed the job (same machine, same
clock, millisecond precision); the raw round trip is a health check on the same
server. The figure that matters is their ratio: the target is a p50 under 10.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jobwire.client import JobwireClient
from jobwire.server.devdb import DevDatabase
from jobwire.server.server_process import ServerProcess
from jobwire.v1 import job_pb2

TARGET_RATIO = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, DevDatabase() as database:
        uri = database.start().rstrip("/") + "/jobwire_bench"
        with ServerProcess(uri, Path(scratch) / "server.log") as server:
            round_trips = raw_round_trips(server.address, args.jobs)
            latencies = submit_to_start(server.address, args.jobs)

    report = {
        "benchmark": "submit_to_start_latency",
        "jobs": args.jobs,
        "database": "development database (mongo-java-server, memory backend)",
        "raw_unary_round_trip_ms": summary(round_trips),
        "submit_to_start_ms": summary(latencies),
        "p50_in_round_trips": round(
            statistics.median(latencies) / statistics.median(round_trips), 2
        ),
        "target_p50_in_round_trips": TARGET_RATIO,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


def raw_round_trips(address: str, count: int) -> list[float]:
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        health.Check(health_pb2.HealthCheckRequest())
        timings = []
        for _ in range(count):
            started = time.perf_counter()
            health.Check(health_pb2.HealthCheckRequest())
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def submit_to_start(address: str, count: int) -> list[float]:
    latencies = []
    with JobwireClient(address) as client:
        for _ in range(count):
            # The server stores times in whole milliseconds; compare like with like.
            now = datetime.now(UTC)
            submitted_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
            job = client.submit_job("noop")
            while job.status != job_pb2.JOB_STATUS_COMPLETED:
                job = client.get_job(job.id)
            started_at = job.started_at.ToDatetime(tzinfo=UTC)
            latencies.append((started_at - submitted_at).total_seconds() * 1000)
    return latencies


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
    }


if __name__ == "__main__":
    main()
