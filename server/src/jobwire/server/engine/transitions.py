"""What follows a written job change: events, the batch's counts, and the log line."""

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from jobwire.server.engine.batch_counts import BatchCounts
from jobwire.server.engine.events import EventBus, Published
from jobwire.server.storage.batches import BatchStore
from jobwire.server.storage.documents import (
    COMPLETED,
    PROCESSING,
    TERMINAL,
    Document,
    batch_to_proto,
    job_to_proto,
    utcnow,
)
from jobwire.v1 import job_pb2

logger = logging.getLogger("jobwire.server.engine")


def job_topic(job_id: str) -> str:
    return f"job:{job_id}"


def batch_topic(batch_id: str) -> str:
    return f"batch:{batch_id}"


def job_event(document: Document, kind: job_pb2.JobEventKind.ValueType) -> Published:
    return Published(
        version=document["version"],
        status=document["status"],
        terminal=document["status"] in TERMINAL,
        replaceable=kind == job_pb2.JOB_EVENT_KIND_PROGRESS,
        build=lambda: job_pb2.JobEvent(kind=kind, job=job_to_proto(document)),
    )


def batch_event(document: Document, kind: job_pb2.BatchEventKind.ValueType) -> Published:
    return Published(
        version=document["version"],
        status=document["status"],
        terminal=document["status"] in TERMINAL,
        replaceable=kind == job_pb2.BATCH_EVENT_KIND_UPDATED and document["status"] not in TERMINAL,
        build=lambda: job_pb2.BatchEvent(kind=kind, batch=batch_to_proto(document)),
    )


class Transitions:
    """Publishes job changes and keeps batch counts in step with job statuses."""

    def __init__(self, bus: EventBus, batches: BatchStore, batch_count_interval: float) -> None:
        self.bus = bus
        self.counts = BatchCounts(batches, self.batch_changed, batch_count_interval)

    def progressed(self, document: Document) -> None:
        """A running job reported progress or wrote to its log."""
        self.bus.publish(
            job_topic(document["_id"]), job_event(document, job_pb2.JOB_EVENT_KIND_PROGRESS)
        )

    def cancel_requested(self, document: Document) -> None:
        """A running job was asked to stop; its status follows when it has."""
        self.bus.publish(
            job_topic(document["_id"]), job_event(document, job_pb2.JOB_EVENT_KIND_STATUS)
        )
        logger.info("job %s cancellation requested type=%s", document["_id"], document["job_type"])

    async def moved(
        self, old_status: str, document: Document, usage: Mapping[str, Any] | None = None
    ) -> None:
        """A job changed status: event and log line now, and its batch's counts written
        before this returns (callers answer API requests that may read the batch next)."""
        self.moved_in_background(old_status, document, usage)
        # The job's change is written: its batch must follow even if the caller is cancelled.
        await asyncio.shield(self.counts.write())

    def moved_in_background(
        self, old_status: str, document: Document, usage: Mapping[str, Any] | None = None
    ) -> None:
        """A job changed status: event and log line now, its batch's counts with the next
        write of counts."""
        self.bus.publish(
            job_topic(document["_id"]), job_event(document, job_pb2.JOB_EVENT_KIND_STATUS)
        )
        _log_state_change(old_status, document)
        batch_id = document.get("batch_id")
        if batch_id and old_status != document["status"]:
            self.counts.move(batch_id, old_status, document["status"], usage or {})

    def batch_changed(self, batch: Document) -> None:
        self.bus.publish(
            batch_topic(batch["_id"]), batch_event(batch, job_pb2.BATCH_EVENT_KIND_UPDATED)
        )

    async def close(self) -> None:
        """Writes the batch counts not written yet."""
        await self.counts.close()


# Statuses in which a leftover error of an earlier attempt is not news.
_QUIET_ERROR = (PROCESSING, COMPLETED)


def _log_state_change(old_status: str, document: Document) -> None:
    started = document.get("started_at")
    elapsed = (utcnow() - started).total_seconds() if started else 0.0
    error = document.get("error") or {}
    logger.info(
        "job %s %s -> %s type=%s attempt=%s/%s elapsed=%.3fs%s",
        document["_id"],
        old_status,
        document["status"],
        document["job_type"],
        document.get("attempt", 0),
        document.get("max_attempts", 0),
        elapsed,
        f" error={error['code']}" if error and document["status"] not in _QUIET_ERROR else "",
    )
