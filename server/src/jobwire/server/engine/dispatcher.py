"""The dispatcher: claims due jobs while this server has capacity, and runs them.

It wakes at once when this server accepts a job or finishes one, and otherwise looks
for work every `poll_interval`, for jobs that other instances accepted.
"""

import asyncio
import logging
from collections import Counter

from jobwire.server.config import WorkerSettings
from jobwire.server.engine.runner import JobRunner, RunningJob
from jobwire.server.errors import DatabaseUnavailable
from jobwire.server.registry import HandlerRegistry
from jobwire.server.storage.documents import Document
from jobwire.server.storage.jobs import JobStore

logger = logging.getLogger(__name__)


class Dispatcher:
    """One per server; owns the tasks of the attempts running here."""

    def __init__(
        self,
        *,
        jobs: JobStore,
        registry: HandlerRegistry,
        runner: JobRunner,
        settings: WorkerSettings,
        owner: str,
    ) -> None:
        self.jobs = jobs
        self.registry = registry
        self.runner = runner
        self.settings = settings
        self.owner = owner
        self.running: dict[str, RunningJob] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._per_type: Counter[str] = Counter()
        self._active = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="jobwire-dispatcher")

    def wake(self) -> None:
        """Asks for a claim round now, e.g. because a job was just accepted."""
        self._wake.set()

    def request_cancel(self, job_id: str) -> bool:
        """Signals a job running here to stop; False when it does not run here."""
        running = self.running.get(job_id)
        if running is None:
            return False
        running.cancellation.set()
        return True

    async def stop(self, grace: float) -> None:
        """Stops claiming, lets running attempts finish within `grace`, requeues the rest."""
        # The claim loop ends between claims: a claim cut off mid-write would strand its job.
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task

        tasks = list(self._tasks.values())
        if tasks:
            logger.info("waiting up to %.1f s for %d running job(s)", grace, len(tasks))
            _, unfinished = await asyncio.wait(tasks, timeout=grace)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            if unfinished:
                logger.info("returned %d unfinished job(s) to the queue", len(unfinished))

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self._claim_while_capacity()
            except DatabaseUnavailable as error:
                logger.warning("claiming paused: %s", error)

            try:
                async with asyncio.timeout(self.settings.poll_interval):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _claim_while_capacity(self) -> None:
        while not self._stopping and self._active < self.settings.max_concurrent_workers:
            job_types = self._types_with_capacity()
            if not job_types:
                return
            document = await self.jobs.claim(self.owner, job_types, self.settings.lease_seconds)
            if document is None:
                return
            self._start(document)

    def _types_with_capacity(self) -> list[str]:
        return [
            job_type.name
            for job_type in self.registry
            if self._per_type[job_type.name] < job_type.concurrency(self.settings)
        ]

    def _start(self, document: Document) -> None:
        job_id, job_type = document["_id"], document["job_type"]
        running = RunningJob(
            document, self.registry.require(job_type), lambda: self._release(job_type)
        )
        self.running[job_id] = running
        self._per_type[job_type] += 1
        self._active += 1

        task = asyncio.create_task(self.runner.run(running), name=f"job {job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda done: self._finished(job_id, done))

    def _release(self, job_type: str) -> None:
        self._per_type[job_type] -= 1
        self._active -= 1
        self.wake()

    def _finished(self, job_id: str, task: "asyncio.Task[None]") -> None:
        self.running.pop(job_id).release()
        del self._tasks[job_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("job %s: runner failed", job_id, exc_info=task.exception())
