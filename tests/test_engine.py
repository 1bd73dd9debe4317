"""The engine end to end: jobs submitted over gRPC to real servers on a real database."""

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from jobwire.client import AsyncJobwireClient, InvalidArgumentError, NotFoundError, job_spec
from jobwire.server.server_process import ServerGroup
from jobwire.v1 import job_pb2

COMPLETED = job_pb2.JOB_STATUS_COMPLETED
FAILED = job_pb2.JOB_STATUS_FAILED
CANCELLED = job_pb2.JOB_STATUS_CANCELLED
PENDING = job_pb2.JOB_STATUS_PENDING


def claims_per_job(logs: str) -> Counter[str]:
    """How often each job went from pending to processing, from the servers' logs."""
    return Counter(re.findall(r"job (\S+) pending -> processing", logs))


async def all_jobs(client: AsyncJobwireClient, batch_id: str) -> list[job_pb2.Job]:
    jobs: list[job_pb2.Job] = []
    token = ""
    while True:
        page = await client.list_jobs(batch_id=batch_id, page_size=500, page_token=token)
        jobs.extend(page.jobs)
        token = page.next_page_token
        if not token:
            return jobs


async def final_state(client: AsyncJobwireClient, job_id: str) -> job_pb2.Job:
    """The job as its watch ends: in a terminal status."""
    async for event in client.watch_job(job_id):
        job = event.job
    return job


async def until_processing(client: AsyncJobwireClient, job_id: str) -> None:
    async for event in client.watch_job(job_id):
        if event.job.status == job_pb2.JOB_STATUS_PROCESSING:
            return


async def test_a_thousand_noop_jobs_complete_once_each(
    servers: ServerGroup, client: AsyncJobwireClient
) -> None:
    specs = [job_spec("noop", {"index": index}) for index in range(1000)]
    submitted = await client.submit_batch(specs, name="thousand")

    completed_counts = []
    async for event in client.watch_batch(submitted.batch.id):
        completed_counts.append(event.batch.counts.completed)
        final = event.batch

    assert completed_counts == sorted(completed_counts)
    assert final.status == COMPLETED
    assert final.counts.completed == final.counts.total == 1000

    jobs = await all_jobs(client, submitted.batch.id)
    assert len(jobs) == 1000
    assert Counter(job.status for job in jobs) == {COMPLETED: 1000}
    assert {job.attempt for job in jobs} == {1}
    assert {job.result.custom["index"] for job in jobs} == set(range(1000))
    claims = claims_per_job(servers.logs())
    assert set(claims.values()) == {1}
    assert len(claims) == 1000


async def test_sixteen_claimers_in_two_processes_never_share_a_job(
    servers: ServerGroup,
) -> None:
    first = servers.start(JOBWIRE_GENERIC_WORKER_MAX_CONCURRENT_WORKERS="8")
    servers.start(JOBWIRE_GENERIC_WORKER_MAX_CONCURRENT_WORKERS="8")
    async with AsyncJobwireClient(first.address) as client:
        specs = [job_spec("sleep", {"seconds": 0.05, "steps": 1}) for _ in range(300)]
        submitted = await client.submit_batch(specs)
        async for event in client.watch_batch(submitted.batch.id):
            final = event.batch
        jobs = await all_jobs(client, submitted.batch.id)

    assert final.counts.completed == 300
    assert {job.attempt for job in jobs} == {1}
    claims = claims_per_job(servers.logs())
    assert len(claims) == 300
    assert set(claims.values()) == {1}
    assert all("-> completed" in server.log_text() for server in servers.servers)


async def test_retryable_failures_back_off_longer_then_succeed(
    client: AsyncJobwireClient,
) -> None:
    params = {"seconds": 0.05, "steps": 1, "fail": "retryable", "fail_times": 2}
    job = await client.submit_job("sleep", params)

    retry_delays = []
    async for event in client.watch_job(job.id):
        if event.job.status == PENDING and event.job.attempt > 0:
            scheduled = event.job.run_at.ToDatetime()
            failed = event.job.error.occurred_at.ToDatetime()
            retry_delays.append((scheduled - failed).total_seconds())
        final = event.job

    assert final.status == COMPLETED
    assert final.attempt == 3
    assert [error.attempt for error in final.attempt_errors] == [1, 2]
    assert all(error.retryable for error in final.attempt_errors)
    assert len(retry_delays) == 2
    assert retry_delays[1] > retry_delays[0] > 0


async def test_permanent_failure_fails_at_once(client: AsyncJobwireClient) -> None:
    job = await client.submit_job("sleep", {"seconds": 0.01, "steps": 1, "fail": "permanent"})
    final = await final_state(client, job.id)

    assert final.status == FAILED
    assert final.attempt == 1
    assert final.error.code == "HANDLER_ERROR"
    assert not final.error.retryable


async def test_unknown_type_fails_without_a_handler(client: AsyncJobwireClient) -> None:
    job = await client.submit_job("no-such-type", {"x": 1})

    assert job.status == FAILED
    assert job.error.code == "UNKNOWN_JOB_TYPE"
    assert job.attempt == 0
    assert (await client.get_job(job.id)).status == FAILED


async def test_idempotency_key_yields_one_job(client: AsyncJobwireClient) -> None:
    first = await client.submit_job("noop", {"n": 1}, idempotency_key="order-42")
    second = await client.submit_job("noop", {"n": 1}, idempotency_key="order-42")
    listed = await client.list_jobs(job_type="noop")

    assert first.id == second.id
    assert [job.id for job in listed.jobs] == [first.id]


async def test_idempotency_key_yields_one_batch(client: AsyncJobwireClient) -> None:
    specs = [job_spec("noop") for _ in range(3)]
    first = await client.submit_batch(specs, idempotency_key="nightly")
    second = await client.submit_batch(specs, idempotency_key="nightly")

    assert first.created
    assert not second.created
    assert first.batch.id == second.batch.id
    assert list(first.job_ids) == list(second.job_ids)
    assert len((await client.list_jobs(batch_id=first.batch.id)).jobs) == 3


async def test_cancelling_a_running_job_ends_it_within_a_second(
    client: AsyncJobwireClient,
) -> None:
    job = await client.submit_job("sleep", {"seconds": 30, "steps": 30})
    await until_processing(client, job.id)

    loop = asyncio.get_running_loop()
    requested_at = loop.time()
    await client.cancel_job(job.id, "user asked")
    final = await final_state(client, job.id)
    elapsed = loop.time() - requested_at

    assert final.status == CANCELLED
    assert final.error.code == "CANCELLED"
    assert elapsed < 1.0


async def test_cancelling_a_pending_job_is_immediate(client: AsyncJobwireClient) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    job = await client.submit_job("noop", run_at=later)
    cancelled = await client.cancel_job(job.id)

    assert cancelled.status == CANCELLED
    retried = await client.retry_job(job.id)
    assert retried.status == PENDING


async def test_watch_resumes_without_gaps_or_repeats(client: AsyncJobwireClient) -> None:
    job = await client.submit_job("sleep", {"seconds": 1.5, "steps": 15})

    first_events = []
    async for event in client.watch_job(job.id):
        first_events.append(event.job.version)
        if len(first_events) == 3:
            break
    await asyncio.sleep(0.3)

    resumed = [event async for event in client.watch_job(job.id, resume_after=first_events[-1])]
    versions = [event.job.version for event in resumed]

    assert versions == list(range(first_events[-1] + 1, versions[-1] + 1))
    assert resumed[-1].job.status == COMPLETED


async def test_bad_parameters_are_refused_naming_the_field(client: AsyncJobwireClient) -> None:
    with pytest.raises(InvalidArgumentError, match="steps"):
        await client.submit_job("sleep", {"steps": 0})
    with pytest.raises(InvalidArgumentError, match="colour"):
        await client.submit_job("sleep", {"colour": "blue"})
    with pytest.raises(InvalidArgumentError, match=r"jobs\[1\]\.params\.seconds"):
        await client.submit_batch([job_spec("sleep"), job_spec("sleep", {"seconds": "x"})])


async def test_unknown_ids_are_not_found(client: AsyncJobwireClient) -> None:
    with pytest.raises(NotFoundError):
        await client.get_job("missing")
    with pytest.raises(NotFoundError):
        await client.get_batch("missing")
    with pytest.raises(NotFoundError):
        async for _ in client.watch_job("missing"):
            pass


async def test_list_pages_through_every_job(client: AsyncJobwireClient) -> None:
    submitted = await client.submit_batch([job_spec("noop") for _ in range(25)])

    seen: list[str] = []
    token, pages = "", 0
    while True:
        page = await client.list_jobs(batch_id=submitted.batch.id, page_size=10, page_token=token)
        seen.extend(job.id for job in page.jobs)
        pages += 1
        token = page.next_page_token
        if not token:
            break

    assert pages == 3
    assert sorted(seen) == sorted(submitted.job_ids)
    with pytest.raises(InvalidArgumentError):
        await client.list_jobs(job_type="sleep", page_token=token or "bm90LWEtdG9rZW4=")
