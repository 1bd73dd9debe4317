"""Batch counts moved in bulk: each job moves its batch's counts twice, written together.

A busy server would otherwise spend two database round trips per job on its batch alone.
Moves are summed per batch and written as one `$inc` each: at once when the last write
is older than the interval, otherwise at the interval's end. Moves a server holds when
it dies are lost; the sweeper's recount corrects their batch.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from jobwire.server.errors import DatabaseUnavailable
from jobwire.server.storage.batches import BatchStore
from jobwire.server.storage.documents import Document

logger = logging.getLogger(__name__)


class BatchCounts:
    """The count moves of one server not yet written, and their writer."""

    def __init__(
        self, batches: BatchStore, on_written: Callable[[Document], None], interval: float
    ) -> None:
        self.batches = batches
        self.on_written = on_written
        self.interval = interval
        self._pending: dict[str, Counter[str]] = {}
        self._last_write = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._writing = asyncio.Lock()

    def move(
        self, batch_id: str, old_status: str, new_status: str, usage: Mapping[str, Any]
    ) -> None:
        """Notes one job's move from `old_status` to `new_status`, with the usage it adds."""
        increments = self._pending.setdefault(batch_id, Counter())
        increments[f"counts.{old_status}"] -= 1
        increments[f"counts.{new_status}"] += 1
        increments.update(usage)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            due = max(loop.time(), self._last_write + self.interval)
            self._timer = loop.call_at(due, self._write_later)

    async def write(self) -> None:
        """Writes every move noted so far, one update per batch."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        async with self._writing:
            pending, self._pending = self._pending, {}
            self._last_write = asyncio.get_running_loop().time()
            await asyncio.gather(*(self._write_batch(*item) for item in pending.items()))

    async def close(self) -> None:
        """Writes what is noted, after the writes already under way."""
        await asyncio.gather(*self._writes, return_exceptions=True)
        await self.write()

    def _write_later(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.write())
        self._writes.add(task)
        task.add_done_callback(self._written)

    def _written(self, task: "asyncio.Task[None]") -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("writing batch counts failed", exc_info=task.exception())

    async def _write_batch(self, batch_id: str, increments: Counter[str]) -> None:
        changes = {field: value for field, value in increments.items() if value}
        if not changes:
            return
        try:
            batch = await self.batches.add_counts(batch_id, changes)
        except DatabaseUnavailable as error:
            logger.warning("batch %s: counts not written, left to the recount: %s", batch_id, error)
            return
        if batch is not None:
            self.on_written(batch)
