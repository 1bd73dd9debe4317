"""Running one claimed job: the handler, its lease, its time limit and its outcome."""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from google.protobuf import json_format

from jobwire.client.specs import wrap_kind
from jobwire.server import errors
from jobwire.server.config import Settings, WorkerSettings
from jobwire.server.context import (
    ArtifactStore,
    AttemptInfo,
    InputOpener,
    JobCancelled,
    JobContext,
    WorkPools,
)
from jobwire.server.engine.progress import ProgressWriter
from jobwire.server.engine.retry_policy import RetryPolicy
from jobwire.server.engine.transitions import Transitions
from jobwire.server.errors import InvalidParameters, JobFailed
from jobwire.server.registry import HandlerResult, JobType
from jobwire.server.storage.documents import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PENDING,
    PROCESSING,
    Document,
    error_document,
    message_to_document,
    utcnow,
)
from jobwire.server.storage.jobs import (
    JobStore,
    requeue_update,
    terminal_update,
    usage_increments,
)
from jobwire.v1 import job_pb2

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended, before it is written."""

    status: str
    """The job's next stored status."""
    error: Document | None = None
    result: job_pb2.JobResult | None = None
    retry_delay: float = 0.0


class RunningJob:
    """One attempt in flight on this server; the dispatcher keeps these by job id."""

    def __init__(
        self, document: Document, job_type: JobType, on_release: Callable[[], None]
    ) -> None:
        self.document = document
        self.job_type = job_type
        self.cancellation = asyncio.Event()
        self.lease_lost = False
        self._on_release: Callable[[], None] | None = on_release

    def release(self) -> None:
        """Frees the attempt's capacity once its handler is done, before its outcome is
        written, so the next job can start meanwhile. Later calls do nothing."""
        on_release, self._on_release = self._on_release, None
        if on_release is not None:
            on_release()


class JobRunner:
    """Runs attempts and writes their outcomes, each write conditioned on the lease."""

    def __init__(
        self,
        *,
        jobs: JobStore,
        transitions: Transitions,
        settings: Settings,
        pools: WorkPools,
        owner: str,
        artifacts: ArtifactStore | None = None,
        inputs: InputOpener | None = None,
    ) -> None:
        self.jobs = jobs
        self.transitions = transitions
        self.settings = settings
        self.worker = settings.generic_worker
        self.pools = pools
        self.owner = owner
        self.artifacts = artifacts
        self.inputs = inputs

    async def run(self, running: RunningJob) -> None:
        """Runs one claimed attempt to its written outcome.

        Cancelled from outside (server shutdown), it returns the job to the queue.
        """
        document = running.document
        reporter = ProgressWriter(
            self.jobs,
            self.transitions,
            document["_id"],
            self.owner,
            document["attempt"],
            self.worker.progress_interval,
        )
        context = self._context(running, reporter)
        started = time.monotonic()
        self.transitions.moved_in_background(PENDING, document)
        try:
            outcome = await self._attempt(running, context)
        except asyncio.CancelledError:
            unwritten = await reporter.close()
            await self._requeue(running, context, time.monotonic() - started, unwritten)
            raise
        finally:
            running.release()

        unwritten = await reporter.close()
        if running.lease_lost:
            logger.warning("job %s lost its lease; its outcome is discarded", document["_id"])
            return
        await self._record(running, context, outcome, time.monotonic() - started, unwritten)

    def _context(self, running: RunningJob, reporter: ProgressWriter) -> JobContext[Any]:
        document = running.document
        info = AttemptInfo(
            job_id=document["_id"],
            job_type=document["job_type"],
            tenant=document["tenant"],
            batch_id=document.get("batch_id") or "",
            attempt=document["attempt"],
            max_attempts=document["max_attempts"],
            deadline=asyncio.get_running_loop().time() + running.job_type.timeout,
        )
        context: JobContext[Any] = JobContext(
            info,
            None,
            reporter=reporter,
            pools=self.pools,
            settings=self.settings,
            cancellation=running.cancellation,
            artifacts=self.artifacts,
            inputs=self.inputs,
        )
        return context

    async def _attempt(self, running: RunningJob, context: JobContext[Any]) -> Outcome:
        job_type = running.job_type
        try:
            context.params = job_type.codec.decode(_params_of(running.document))
        except InvalidParameters as error:
            return _failed(errors.INVALID_PARAMETERS, str(error), context, {"field": error.field})

        handler = asyncio.create_task(job_type.handler(context))
        guards = [
            asyncio.create_task(self._keep_lease(running, handler)),
            asyncio.create_task(self._enforce_cancellation(running, handler)),
        ]
        try:
            async with asyncio.timeout(job_type.timeout):
                result = await handler
            return Outcome(COMPLETED, result=encode_result(result))
        except TimeoutError:
            message = f"attempt ran longer than {job_type.timeout:g} s"
            return _failed(errors.TIMEOUT, message, context)
        except JobCancelled:
            return _cancelled(context)
        except asyncio.CancelledError:
            if _being_cancelled():
                raise
            return _cancelled(context)
        except JobFailed as error:
            return self._after_failure(running, context, error)
        except InvalidParameters as error:
            return _failed(errors.INVALID_PARAMETERS, str(error), context, {"field": error.field})
        except Exception as error:
            context.logger.exception("handler raised %s", type(error).__name__)
            failure = JobFailed(f"{type(error).__name__}: {error}", retryable=True)
            return self._after_failure(running, context, failure)
        finally:
            for guard in guards:
                guard.cancel()
            if not handler.done():
                handler.cancel()

    def _after_failure(
        self, running: RunningJob, context: JobContext[Any], failure: JobFailed
    ) -> Outcome:
        attempt, max_attempts = context.info.attempt, context.info.max_attempts
        retrying = failure.retryable and attempt < max_attempts
        error = error_document(
            failure.code,
            failure.message,
            retryable=failure.retryable,
            attempt=attempt,
            details=failure.details,
        )
        if not retrying:
            return Outcome(FAILED, error=error)

        policy = _retry_policy(self.worker, running.job_type)
        delay = failure.retry_after if failure.retry_after is not None else policy.delay(attempt)
        return Outcome(PENDING, error=error, retry_delay=delay)

    async def _keep_lease(self, running: RunningJob, handler: "asyncio.Task[Any]") -> None:
        interval = self.worker.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await self.jobs.renew_lease(
                    running.document["_id"], self.owner, self.worker.lease_seconds
                )
            except errors.DatabaseUnavailable as error:
                logger.warning("job %s: lease renewal failed: %s", running.document["_id"], error)
                continue
            if renewed is None:
                running.lease_lost = True
                handler.cancel()
                return
            if renewed.get("cancel_requested"):
                running.cancellation.set()

    async def _enforce_cancellation(
        self, running: RunningJob, handler: "asyncio.Task[Any]"
    ) -> None:
        await running.cancellation.wait()
        await asyncio.sleep(self.worker.cancel_grace)
        logger.info(
            "job %s did not stop within %.1f s of cancellation; cancelling its task",
            running.document["_id"],
            self.worker.cancel_grace,
        )
        handler.cancel()

    async def _record(
        self,
        running: RunningJob,
        context: JobContext[Any],
        outcome: Outcome,
        wall: float,
        unwritten: Document,
    ) -> None:
        usage = usage_increments(wall, context.usage.cpu_seconds, context.usage.counters)
        update = merge_updates(await self._outcome_update(running, outcome), unwritten)
        update.setdefault("$inc", {}).update(usage)

        # A result is not read back (it can be large): the document gets it from here.
        written = update["$set"]
        unread = ("result",) if "result" in written else ()
        document = await self.jobs.update_running(
            running.document["_id"], self.owner, update, unread=unread
        )
        if document is None:
            logger.warning("job %s lost its lease before its outcome was written", context.job_id)
            return
        if unread:
            document["result"] = written["result"]
        self.transitions.moved_in_background(PROCESSING, document, usage)

    async def _outcome_update(self, running: RunningJob, outcome: Outcome) -> Document:
        if outcome.status == PENDING:
            run_at = utcnow() + timedelta(seconds=outcome.retry_delay)
            return requeue_update(run_at, outcome.error)
        if outcome.status == COMPLETED and outcome.result is not None:
            return terminal_update(COMPLETED, None, await self._result_fields(running, outcome))
        return terminal_update(outcome.status, outcome.error)

    async def _result_fields(self, running: RunningJob, outcome: Outcome) -> Document:
        result = outcome.result or job_pb2.JobResult()
        limit = self.settings.documents.inline_result_limit_kb * 1024
        if self.artifacts is None or result.ByteSize() <= limit:
            return {"result": result.SerializeToString(), "error": None}

        artifact = await self.artifacts.save_artifact(
            tenant=running.document["tenant"],
            job_id=running.document["_id"],
            name="result.binpb",
            data=result.SerializeToString(),
            content_type="application/x-protobuf",
            page=0,
        )
        return {"result": None, "result_artifact": message_to_document(artifact), "error": None}

    async def _requeue(
        self, running: RunningJob, context: JobContext[Any], wall: float, unwritten: Document
    ) -> None:
        """Returns an interrupted attempt to the queue without spending it."""
        usage = usage_increments(wall, context.usage.cpu_seconds, context.usage.counters)
        update = merge_updates(requeue_update(utcnow()), unwritten)
        update["$inc"].update(usage)
        document = await self.jobs.update_running(running.document["_id"], self.owner, update)
        if document is not None:
            self.transitions.moved_in_background(PROCESSING, document, usage)


def merge_updates(first: Document, second: Document) -> Document:
    """One update document doing what both do; they must not set the same fields."""
    merged = {operator: dict(fields) for operator, fields in first.items()}
    for operator, fields in second.items():
        merged.setdefault(operator, {}).update(fields)
    return merged


def encode_result(result: HandlerResult) -> job_pb2.JobResult:
    """Wraps what a handler returned in the JobResult oneof."""
    return wrap_kind(job_pb2.JobResult, result)


def _params_of(document: Document) -> job_pb2.JobParams:
    params = job_pb2.JobParams()
    json_format.ParseDict(document.get("params") or {}, params)
    return params


def _retry_policy(worker: WorkerSettings, job_type: JobType) -> RetryPolicy:
    initial, maximum = job_type.retry_backoff or (worker.backoff_initial, worker.backoff_max)
    return RetryPolicy(initial=initial, maximum=maximum, jitter=worker.backoff_jitter)


def _failed(
    code: str, message: str, context: JobContext[Any], details: dict[str, str] | None = None
) -> Outcome:
    return Outcome(
        FAILED, error=error_document(code, message, attempt=context.info.attempt, details=details)
    )


def _cancelled(context: JobContext[Any]) -> Outcome:
    message = "cancelled while running"
    return Outcome(
        CANCELLED, error=error_document(errors.CANCELLED, message, attempt=context.info.attempt)
    )


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
