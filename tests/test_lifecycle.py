"""Servers that stop, die and restart lose no work, and say what they do."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from jobwire.client import AsyncJobwireClient, UnavailableError, job_spec
from jobwire.server.devdb import DevDatabase
from jobwire.server.server_process import ServerGroup, ServerProcess, free_port
from jobwire.v1 import job_pb2

from .test_engine import all_jobs, claims_per_job, final_state, until_processing


async def test_sigterm_halfway_through_a_batch_loses_nothing(servers: ServerGroup) -> None:
    first = servers.start()
    async with AsyncJobwireClient(first.address) as client:
        specs = [job_spec("sleep", {"seconds": 0.2, "steps": 2}) for _ in range(200)]
        submitted = await client.submit_batch(specs)
        async for event in client.watch_batch(submitted.batch.id):
            if event.batch.counts.completed >= 100:
                break

    assert first.stop() == 0
    second = servers.start()
    async with AsyncJobwireClient(second.address) as client:
        async for event in client.watch_batch(submitted.batch.id):
            final = event.batch
        jobs = await all_jobs(client, submitted.batch.id)

    assert final.status == job_pb2.JOB_STATUS_COMPLETED
    assert final.counts.completed == 200
    assert {job.status for job in jobs} == {job_pb2.JOB_STATUS_COMPLETED}
    completions = Counter(re.findall(r"job (\S+) processing -> completed", servers.logs()))
    assert len(completions) == 200
    assert set(completions.values()) == {1}


async def test_a_killed_server_loses_no_job(servers: ServerGroup) -> None:
    doomed = servers.start()
    async with AsyncJobwireClient(doomed.address) as client:
        job = await client.submit_job("sleep", {"seconds": 1.0, "steps": 2})
        await until_processing(client, job.id)
    doomed.kill()

    survivor = servers.start()
    async with AsyncJobwireClient(survivor.address) as client:
        final = await final_state(client, job.id)

    assert final.status == job_pb2.JOB_STATUS_COMPLETED
    assert final.attempt == 2
    assert [error.code for error in final.attempt_errors] == ["LEASE_EXPIRED"]
    assert claims_per_job(servers.logs())[job.id] == 2


async def test_a_database_outage_answers_unavailable_and_loses_no_job(tmp_path: Path) -> None:
    port = free_port()
    environment = {
        "JOBWIRE_STORAGE_CONNECT_TIMEOUT": "1",
        "JOBWIRE_GENERIC_WORKER_LEASE_SECONDS": "3",
        "JOBWIRE_GENERIC_WORKER_SWEEP_INTERVAL": "0.5",
        "JOBWIRE_GENERIC_WORKER_POLL_INTERVAL": "0.2",
    }
    with DevDatabase() as database:
        uri = database.start(port, tmp_path / "data") + "outage"
        with ServerProcess(uri, tmp_path / "server.log", environment=environment) as server:
            async with AsyncJobwireClient(server.address) as client:
                jobs = [await client.submit_job("sleep", {"seconds": 1.0}) for _ in range(3)]
                await until_processing(client, jobs[0].id)

                database.stop()
                with pytest.raises(UnavailableError):
                    await client.get_job(jobs[0].id)
                database.start(port, tmp_path / "data")
                finals = [await final_state(client, job.id) for job in jobs]

    assert [job.status for job in finals] == [job_pb2.JOB_STATUS_COMPLETED] * 3
    assert "database unavailable" in (tmp_path / "server.log").read_text()


async def test_each_state_change_is_logged_once(
    servers: ServerGroup, client: AsyncJobwireClient
) -> None:
    job = await client.submit_job("sleep", {"seconds": 0.05, "steps": 1})
    async for _ in client.watch_job(job.id):
        pass

    lines = [line for line in servers.logs().splitlines() if f"job {job.id} " in line]
    changes = [line for line in lines if " -> " in line]
    assert len(changes) == 2
    assert re.search(
        rf"INFO jobwire.server.engine: job {job.id} pending -> processing type=sleep "
        r"attempt=1/3 elapsed=\d+\.\d{3}s",
        changes[0],
    )
    assert "processing -> completed type=sleep attempt=1/3" in changes[1]


def test_health_and_reflection(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        requests = iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(requests)
        services = [service.name for service in next(replies).list_services_response.service]

    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert "jobwire.v1.JobService" in services


async def test_list_job_types_describes_parameters(client: AsyncJobwireClient) -> None:
    types = {info.job_type: info for info in await client.list_job_types()}

    sleep = {parameter.name: parameter for parameter in types["sleep"].parameters}
    assert sleep["seconds"].type == "number"
    assert list(sleep["fail"].allowed_values) == ["", "retryable", "permanent"]
    assert types["pdf"].params_message == "jobwire.v1.PdfParams"


def test_serve_refuses_an_unreachable_database_quickly() -> None:
    closed_port = free_port()
    uri = f"mongodb://jobwire:s3cret@127.0.0.1:{closed_port}/jobwire"
    environment = {"MONGODB_URI": uri, "JOBWIRE_STORAGE_CONNECT_TIMEOUT": "3"}

    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "jobwire.client.cli.main", "serve", "--listen", "127.0.0.1:0"],
        env={**_base_environment(), **environment},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert finished.returncode != 0
    assert time.monotonic() - started < 15
    error_lines = finished.stderr.strip().splitlines()
    assert error_lines[-1].startswith("jobwire serve: cannot reach MongoDB at")
    assert f"127.0.0.1:{closed_port}" in error_lines[-1]
    assert "s3cret" not in finished.stderr


def test_serve_names_the_missing_variable() -> None:
    environment = {key: value for key, value in _base_environment().items() if key != "MONGODB_URI"}
    finished = subprocess.run(
        [sys.executable, "-m", "jobwire.client.cli.main", "serve"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert finished.returncode != 0
    assert "MONGODB_URI" in finished.stderr.strip().splitlines()[-1]


@pytest.mark.usefixtures("mongodb_uri")
def test_devdb_command_serves_until_terminated() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "jobwire.client.cli.main", "devdb", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        ready = ""
        while "mongodb://" not in ready:
            ready = process.stderr.readline()
            assert ready, "devdb ended before it was ready"
        assert f"mongodb://127.0.0.1:{port}/" in ready
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def _base_environment() -> dict[str, str]:
    return dict(os.environ)
