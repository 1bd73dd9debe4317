"""Progress and log lines of a running attempt, written at a bounded rate.

Reports are written in the background, never holding up the handler: at once when the
previous write (or the attempt's start) is older than the interval, otherwise at the
interval's end, coalesced with the reports that came meanwhile. A handler that reports
on every page costs at most one write per interval, and an attempt shorter than the
interval none: its last report goes with its outcome. With an interval of 0, each
report is written before the handler goes on.
"""

import asyncio
import logging

from jobwire.server.engine.transitions import Transitions
from jobwire.server.storage import names
from jobwire.server.storage.documents import Document, utcnow
from jobwire.server.storage.jobs import JobStore

logger = logging.getLogger(__name__)


class ProgressWriter:
    """Implements `context.AttemptReporter` for one attempt of a job."""

    def __init__(
        self,
        jobs: JobStore,
        transitions: Transitions,
        job_id: str,
        owner: str,
        attempt: int,
        interval: float,
    ) -> None:
        self.jobs = jobs
        self.transitions = transitions
        self.job_id = job_id
        self.owner = owner
        self.attempt = attempt
        self.interval = interval
        self._progress: Document | None = None
        self._logs: list[Document] = []
        self._percent = 0.0
        self._last_write = asyncio.get_running_loop().time()
        self._timer: asyncio.TimerHandle | None = None
        self._writing = asyncio.Lock()

    async def progress(
        self, percent: float | None, stage: str, message: str, current: int, total: int
    ) -> None:
        if percent is None:
            percent = 100.0 * current / total if total else self._percent
        self._percent = max(self._percent, min(max(percent, 0.0), 100.0))
        self._progress = {
            "percent": self._percent,
            "stage": stage,
            "message": message,
            "current": current,
            "total": total,
            "updated_at": utcnow(),
        }
        await self._write_or_defer()

    async def log(self, level: str, message: str) -> None:
        self._logs.append(
            {"logged_at": utcnow(), "level": level, "message": message, "attempt": self.attempt}
        )
        await self._write_or_defer()

    async def close(self) -> Document:
        """Stops writing; returns what is not written yet, for the attempt's final write."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        async with self._writing:
            return self._take_update() or {}

    async def _write_or_defer(self) -> None:
        if self.interval <= 0:
            await self._flush()
            return
        if self._timer is None:
            loop = asyncio.get_running_loop()
            due = max(loop.time(), self._last_write + self.interval)
            self._timer = loop.call_at(due, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._flush())
        task.add_done_callback(_log_failure)

    async def _flush(self) -> None:
        async with self._writing:
            update = self._take_update()
            if update is None:
                return
            self._last_write = asyncio.get_running_loop().time()
            document = await self.jobs.update_running(self.job_id, self.owner, update)
        if document is not None:
            self.transitions.progressed(document)

    def _take_update(self) -> Document | None:
        if self._progress is None and not self._logs:
            return None
        update: Document = {}
        if self._progress is not None:
            update["$set"] = {"progress": self._progress}
        if self._logs:
            entries = {"$each": self._logs, "$slice": -names.JOB_LOG_LIMIT}
            update["$push"] = {"logs": entries}
        self._progress, self._logs = None, []
        return update


def _log_failure(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("progress write failed: %s", task.exception())
