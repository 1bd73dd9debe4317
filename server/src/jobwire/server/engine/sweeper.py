"""The sweeper: returns expired leases to the queue and corrects drifted batch counts."""

import asyncio
import logging
from datetime import timedelta

from jobwire.server import errors
from jobwire.server.config import Settings
from jobwire.server.engine.transitions import Transitions
from jobwire.server.errors import DatabaseUnavailable
from jobwire.server.storage.batches import BatchStore
from jobwire.server.storage.documents import (
    FAILED,
    PROCESSING,
    STATUSES,
    Document,
    error_document,
    utcnow,
)
from jobwire.server.storage.files import FileStore
from jobwire.server.storage.jobs import JobStore, requeue_update, terminal_update

logger = logging.getLogger(__name__)

# Jobs or batches handled per sweep; the rest wait for the next one.
SWEEP_LIMIT = 100
# A batch unchanged this long while open has its counts checked against its jobs.
RECOUNT_AFTER = timedelta(seconds=60)
# Seconds between looks for uploads and artifacts that no job references any more.
FILE_EXPIRY_INTERVAL = 300.0


class Sweeper:
    """Runs every `sweep_interval` on each server; sweeps by different servers are safe."""

    def __init__(
        self,
        jobs: JobStore,
        batches: BatchStore,
        transitions: Transitions,
        settings: Settings,
        files: FileStore,
    ) -> None:
        self.jobs = jobs
        self.batches = batches
        self.transitions = transitions
        self.settings = settings.generic_worker
        self.files = files
        self.file_retention = timedelta(hours=settings.documents.file_retention_hours)
        self._next_file_expiry = 0.0

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except DatabaseUnavailable as error:
                logger.warning("sweep skipped: %s", error)
            await asyncio.sleep(self.settings.sweep_interval)

    async def sweep(self) -> None:
        now = utcnow()
        for document in await self.jobs.expired_leases(now, SWEEP_LIMIT):
            await self._expire(document)
        for batch in await self.batches.stale_open(now - RECOUNT_AFTER, SWEEP_LIMIT):
            await self._recount(batch)

        clock = asyncio.get_running_loop().time()
        if clock >= self._next_file_expiry:
            self._next_file_expiry = clock + FILE_EXPIRY_INTERVAL
            await self.files.expire_unreferenced(self.file_retention)

    async def _expire(self, document: Document) -> None:
        attempt, max_attempts = document["attempt"], document["max_attempts"]
        retrying = attempt < max_attempts
        error = error_document(
            errors.LEASE_EXPIRED,
            f"worker {document.get('lease_owner')} stopped renewing its lease",
            retryable=retrying,
            attempt=attempt,
        )
        update = requeue_update(utcnow(), error) if retrying else terminal_update(FAILED, error)

        expired = await self.jobs.take_expired(document["_id"], utcnow(), update)
        if expired is not None:
            await self.transitions.moved(PROCESSING, expired)

    async def _recount(self, batch: Document) -> None:
        counts = await self.jobs.count_by_status(batch["_id"])
        actual = {status: counts.get(status, 0) for status in STATUSES}
        if actual == batch["counts"]:
            return
        logger.warning(
            "batch %s counts drifted: %s, jobs say %s", batch["_id"], batch["counts"], actual
        )
        corrected = await self.batches.replace_counts(batch, actual)
        if corrected is not None:
            self.transitions.batch_changed(corrected)
