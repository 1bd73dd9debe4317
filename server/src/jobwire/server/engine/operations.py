"""What clients can ask of the engine: submit, read, list, cancel, retry and watch.

Every operation takes the caller's tenant and never reads or changes another's jobs.
The gRPC servicer is a thin translation of these methods.
"""

import base64
import binascii
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from bson import ObjectId

from jobwire.server import errors
from jobwire.server.config import Settings
from jobwire.server.engine.dispatcher import Dispatcher
from jobwire.server.engine.events import EventBus
from jobwire.server.engine.transitions import Transitions, batch_topic, job_topic
from jobwire.server.engine.watch import batch_event_for, job_event_for, watch
from jobwire.server.errors import Conflict, InvalidParameters, NotFound
from jobwire.server.registry import HandlerRegistry
from jobwire.server.storage import names
from jobwire.server.storage.batches import BatchStore, new_batch_document
from jobwire.server.storage.documents import (
    CANCELLED,
    FAILED,
    PENDING,
    PROCESSING,
    TERMINAL,
    Document,
    error_document,
    message_to_document,
    status_from_proto,
    utcnow,
)
from jobwire.server.storage.files import referenced_file_ids
from jobwire.server.storage.jobs import JobStore, new_job_document, terminal_update
from jobwire.v1 import job_pb2, job_service_pb2

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
PRIORITY_RANGE = range(-100, 101)
MAX_ATTEMPTS_LIMIT = 20


class InvalidRequest(errors.JobwireError):
    """A request field is malformed; the message names it."""


@dataclass(frozen=True)
class Page:
    """Documents of one page, and what continues after them."""

    documents: list[Document]
    size: int
    filters: dict[str, Any]

    def token_after(self, kept: int) -> str:
        """The token of the next page when a response holds the first `kept` documents;
        empty after the last page."""
        if kept == 0 or (kept == len(self.documents) < self.size):
            return ""
        payload = {"before": self.documents[kept - 1]["_id"], "filters": self.filters}
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


class JobOperations:
    """The engine's client-facing operations."""

    def __init__(
        self,
        *,
        jobs: JobStore,
        batches: BatchStore,
        registry: HandlerRegistry,
        transitions: Transitions,
        dispatcher: Dispatcher,
        bus: EventBus,
        settings: Settings,
    ) -> None:
        self.jobs = jobs
        self.batches = batches
        self.registry = registry
        self.transitions = transitions
        self.dispatcher = dispatcher
        self.bus = bus
        self.settings = settings

    async def submit(
        self, tenant: str, spec: job_service_pb2.JobSpec, idempotency_key: str
    ) -> tuple[Document, bool]:
        """Stores one job; returns it and whether it is new."""
        _check_key(idempotency_key)
        document = self._job_document(tenant, spec, "job", new_id(), "", idempotency_key)

        stored, created = await self.jobs.insert(document)
        if created:
            self._accepted(stored)
        return stored, created

    async def submit_batch(
        self,
        tenant: str,
        name: str,
        specs: Sequence[job_service_pb2.JobSpec],
        idempotency_key: str,
    ) -> tuple[Document, list[str], bool]:
        """Stores a batch and its jobs; returns the batch, its job ids and whether it is new.

        Job ids derive from the batch id, so repeating a request whose first try died
        half-way stores exactly the jobs that are missing.
        """
        _check_key(idempotency_key)
        if not specs:
            raise InvalidRequest("jobs: a batch needs at least one job")
        if len(specs) > self.settings.api.max_batch_size:
            raise InvalidRequest(f"jobs: at most {self.settings.api.max_batch_size} per batch")

        batch_id = new_id()
        jobs = [
            self._job_document(tenant, spec, f"jobs[{index}]", f"{batch_id}-{index:05d}", batch_id)
            for index, spec in enumerate(specs)
        ]
        counts: dict[str, int] = {}
        for job in jobs:
            counts[job["status"]] = counts.get(job["status"], 0) + 1

        batch, created = await self.batches.insert(
            new_batch_document(
                batch_id=batch_id,
                tenant=tenant,
                name=name[:MAX_KEY_LENGTH],
                counts=counts,
                idempotency_key=idempotency_key,
            )
        )
        if not created:
            jobs = [_rebind(job, batch["_id"], index) for index, job in enumerate(jobs)]
            jobs = jobs[: batch["total"]]

        stored = await self.jobs.insert_missing(jobs)
        if created:
            logger.info("batch %s accepted with %d job(s)", batch["_id"], stored)
        elif stored:
            logger.warning(
                "batch %s was incomplete; stored %d missing job(s)", batch["_id"], stored
            )
        self.dispatcher.wake()
        return batch, [job["_id"] for job in jobs], created

    def _job_document(
        self,
        tenant: str,
        spec: job_service_pb2.JobSpec,
        path: str,
        job_id: str,
        batch_id: str,
        idempotency_key: str = "",
    ) -> Document:
        if not spec.job_type:
            raise InvalidRequest(f"{path}.job_type: required")
        if spec.priority not in PRIORITY_RANGE:
            raise InvalidRequest(f"{path}.priority: must be from -100 to 100")
        if not 0 <= spec.max_attempts <= MAX_ATTEMPTS_LIMIT:
            raise InvalidRequest(f"{path}.max_attempts: must be from 0 to {MAX_ATTEMPTS_LIMIT}")

        job_type = self.registry.get(spec.job_type)
        if job_type is not None:
            try:
                job_type.codec.decode(spec.params)
            except InvalidParameters as error:
                field = f"{path}.params.{error.field}".rstrip(".")
                raise InvalidParameters(field, error.reason) from error

        max_attempts = spec.max_attempts or (
            job_type.max_attempts if job_type else self.settings.generic_worker.max_attempts
        )
        document = new_job_document(
            job_id=job_id,
            tenant=tenant,
            job_type=spec.job_type,
            params=message_to_document(spec.params),
            priority=spec.priority,
            run_at=spec.run_at.ToDatetime(tzinfo=utcnow().tzinfo)
            if spec.HasField("run_at")
            else utcnow(),
            max_attempts=max_attempts,
            batch_id=batch_id,
            idempotency_key=idempotency_key,
        )
        file_ids = referenced_file_ids(spec.params)
        if file_ids:
            document[names.JOB_FILE_IDS_FIELD] = file_ids
        if job_type is None:
            _fail_unknown_type(document)
        return document

    def _accepted(self, document: Document) -> None:
        logger.info(
            "job %s accepted type=%s status=%s",
            document["_id"],
            document["job_type"],
            document["status"],
        )
        self.dispatcher.wake()

    async def get_job(self, tenant: str, job_id: str) -> Document:
        document = await self.jobs.get(job_id, tenant)
        if document is None:
            raise NotFound(f"job {job_id} not found")
        return document

    async def get_batch(self, tenant: str, batch_id: str) -> Document:
        document = await self.batches.get(batch_id, tenant)
        if document is None:
            raise NotFound(f"batch {batch_id} not found")
        return document

    async def list_jobs(self, tenant: str, request: job_service_pb2.ListJobsRequest) -> Page:
        filters = {
            "status": status_from_proto(request.status) or "",
            "job_type": request.job_type,
            "batch_id": request.batch_id,
        }
        filters = {key: value for key, value in filters.items() if value}
        size = _page_size(request.page_size)
        before = _read_token(request.page_token, filters)
        documents = await self.jobs.page(tenant, filters, before, size)
        return Page(documents, size, filters)

    async def list_batches(self, tenant: str, request: job_service_pb2.ListBatchesRequest) -> Page:
        status = status_from_proto(request.status)
        filters = {"status": status} if status else {}
        size = _page_size(request.page_size)
        before = _read_token(request.page_token, filters)
        documents = await self.batches.page(tenant, filters, before, size)
        return Page(documents, size, filters)

    async def cancel_job(self, tenant: str, job_id: str, reason: str) -> Document:
        """Cancels a pending job at once; asks a processing one to stop."""
        message = f"cancelled: {reason}" if reason else "cancelled"
        error = error_document(errors.CANCELLED, message)
        cancelled = await self.jobs.update_in_status(
            job_id, [PENDING], terminal_update(CANCELLED, error), tenant
        )
        if cancelled is not None:
            await self.transitions.moved(PENDING, cancelled)
            return cancelled

        requested = await self.jobs.update_in_status(
            job_id, [PROCESSING], {"$set": {"cancel_requested": True}}, tenant
        )
        if requested is not None:
            self.transitions.cancel_requested(requested)
            self.dispatcher.request_cancel(job_id)
            return requested

        current = await self.get_job(tenant, job_id)
        raise Conflict(f"job {job_id} is already {current['status']}")

    async def cancel_batch(self, tenant: str, batch_id: str, reason: str) -> tuple[Document, int]:
        batch = await self.get_batch(tenant, batch_id)
        if batch["status"] in TERMINAL:
            raise Conflict(f"batch {batch_id} is already {batch['status']}")

        cancelled = 0
        for job_id in await self.jobs.ids_of_batch(batch_id, [PENDING, PROCESSING]):
            try:
                await self.cancel_job(tenant, job_id, reason)
            except Conflict:
                continue
            cancelled += 1
        return await self.get_batch(tenant, batch_id), cancelled

    async def retry_job(self, tenant: str, job_id: str) -> Document:
        """Puts a failed or cancelled job back to pending with a fresh set of attempts."""
        current = await self.get_job(tenant, job_id)
        if current["status"] not in (FAILED, CANCELLED):
            raise Conflict(f"job {job_id} is {current['status']}, not failed or cancelled")
        if current["job_type"] not in self.registry:
            raise Conflict(
                f"job {job_id} has type {current['job_type']!r}, which is not registered"
            )

        update = {
            "$set": {
                "status": PENDING,
                "run_at": utcnow(),
                "attempt": 0,
                "error": None,
                "cancel_requested": False,
                "finished_at": None,
            }
        }
        retried = await self.jobs.update_in_status(job_id, [current["status"]], update, tenant)
        if retried is None:
            raise Conflict(f"job {job_id} changed while it was being retried")
        await self.transitions.moved(current["status"], retried)
        self.dispatcher.wake()
        return retried

    async def watch_job(
        self, tenant: str, job_id: str, resume_after: int
    ) -> AsyncIterator[job_pb2.JobEvent]:
        async def load() -> Document | None:
            return await self.jobs.get(job_id, tenant)

        poll = self.settings.generic_worker.poll_interval
        async for message in watch(
            self.bus, job_topic(job_id), load, job_event_for, resume_after, poll
        ):
            yield cast(job_pb2.JobEvent, message)

    async def watch_batch(
        self, tenant: str, batch_id: str, resume_after: int
    ) -> AsyncIterator[job_pb2.BatchEvent]:
        async def load() -> Document | None:
            return await self.batches.get(batch_id, tenant)

        poll = self.settings.generic_worker.poll_interval
        async for message in watch(
            self.bus, batch_topic(batch_id), load, batch_event_for, resume_after, poll
        ):
            yield cast(job_pb2.BatchEvent, message)


def new_id() -> str:
    """A unique id whose order follows creation time (a MongoDB ObjectId in hex)."""
    return str(ObjectId())


def _fail_unknown_type(document: Document) -> None:
    error = error_document(
        errors.UNKNOWN_JOB_TYPE, f"no handler is registered for job type {document['job_type']!r}"
    )
    document.update(status=FAILED, error=error, attempt_errors=[error], finished_at=utcnow())


def _rebind(job: Document, batch_id: str, index: int) -> Document:
    return {**job, "_id": f"{batch_id}-{index:05d}", "batch_id": batch_id}


def _check_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"idempotency_key: at most {MAX_KEY_LENGTH} characters")


def _page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidRequest("page_size: must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _read_token(token: str, filters: dict[str, Any]) -> str:
    if not token:
        return ""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError) as error:
        raise InvalidRequest("page_token: not a token this server issued") from error
    if not isinstance(decoded, dict) or decoded.get("filters") != filters:
        raise InvalidRequest("page_token: issued for other filters")
    return str(decoded["before"])
