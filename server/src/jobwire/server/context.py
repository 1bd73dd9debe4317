"""What a handler gets to run one attempt of a job: `JobContext`."""

import asyncio
import logging
from collections.abc import Callable, MutableMapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

from jobwire.server.config import Settings
from jobwire.server.errors import JobwireError
from jobwire.v1 import documents_pb2

P = TypeVar("P")
T = TypeVar("T")
Args = ParamSpec("Args")


class JobCancelled(JobwireError):
    """Raised inside a handler by `raise_if_cancelled()` once cancellation was requested."""


class AttemptReporter(Protocol):
    """The engine's side of progress and log reporting for one attempt."""

    async def progress(
        self, percent: float | None, stage: str, message: str, current: int, total: int
    ) -> None: ...

    async def log(self, level: str, message: str) -> None: ...


class WorkPools(Protocol):
    """Thread and process pools shared by every job of a server; both return CPU seconds."""

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> tuple[T, float]: ...

    async def run_cpu(
        self, fn: Callable[..., T], *args: Any, time_limit: float
    ) -> tuple[T, float]: ...


class ArtifactStore(Protocol):
    """Where handlers keep files they produce, e.g. extracted images."""

    async def save_artifact(
        self, *, tenant: str, job_id: str, name: str, data: bytes, content_type: str, page: int
    ) -> documents_pb2.ArtifactRef: ...


class InputOpener(Protocol):
    """Gives handlers a local path for a job's input, confined to what they may read."""

    def open_input(
        self, *, tenant: str, file_path: str, file_id: str
    ) -> AbstractAsyncContextManager[Path]: ...


@dataclass
class ResourceMeter:
    """What one attempt cost besides wall time, which the engine measures itself."""

    cpu_seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, amount: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + amount


@dataclass(frozen=True)
class AttemptInfo:
    """Identity of the job and attempt a context serves."""

    job_id: str
    job_type: str
    tenant: str
    batch_id: str
    attempt: int
    max_attempts: int
    deadline: float
    """`loop.time()` by which the attempt must end."""


class JobLoggerAdapter(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every record with the job id and attempt."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        extra = self.extra or {}
        return f"job {extra['job_id']} attempt {extra['attempt']}: {msg}", kwargs


class JobContext(Generic[P]):
    """Everything a handler may use while it runs one attempt of a job.

    The engine owns the job's status: a handler reports progress, writes log lines,
    returns its result or raises `JobFailed`, and checks for cancellation.
    """

    def __init__(
        self,
        info: AttemptInfo,
        params: P,
        *,
        reporter: AttemptReporter,
        pools: WorkPools,
        settings: Settings,
        cancellation: asyncio.Event | None = None,
        artifacts: ArtifactStore | None = None,
        inputs: InputOpener | None = None,
    ) -> None:
        self.info = info
        self.params = params
        self.settings = settings
        self.usage = ResourceMeter()
        self.cancellation = cancellation or asyncio.Event()
        self.logger = JobLoggerAdapter(
            logging.getLogger(f"jobwire.handlers.{info.job_type}"),
            {"job_id": info.job_id, "attempt": info.attempt},
        )
        self._reporter = reporter
        self._pools = pools
        self._artifacts = artifacts
        self._inputs = inputs

    @property
    def job_id(self) -> str:
        return self.info.job_id

    @property
    def attempt(self) -> int:
        return self.info.attempt

    @property
    def cancelled(self) -> bool:
        """True once the job's cancellation was requested."""
        return self.cancellation.is_set()

    async def sleep(self, seconds: float) -> None:
        """Waits `seconds`, or raises `JobCancelled` as soon as cancellation is requested."""
        try:
            async with asyncio.timeout(seconds):
                await self.cancellation.wait()
        except TimeoutError:
            return
        self.raise_if_cancelled()

    def raise_if_cancelled(self) -> None:
        """Stops the handler with `JobCancelled` when cancellation was requested."""
        if self.cancelled:
            raise JobCancelled(f"job {self.info.job_id} was cancelled")

    async def progress(
        self,
        percent: float | None = None,
        *,
        stage: str = "",
        message: str = "",
        current: int = 0,
        total: int = 0,
    ) -> None:
        """Reports progress; `percent` defaults to `current / total`."""
        await self._reporter.progress(percent, stage, message, current, total)

    async def log(self, message: str, level: str = "INFO") -> None:
        """Appends a line to the job's bounded log, and to the server's log at debug level."""
        self.logger.debug("%s", message)
        await self._reporter.log(level.upper(), message)

    def count(self, name: str, amount: int = 1) -> None:
        """Adds to a resource counter of this attempt, e.g. `count("pages", 20)`."""
        self.usage.count(name, amount)

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs blocking I/O-bound code in the server's thread pool."""
        result, cpu_seconds = await self._pools.run_blocking(fn, *args)
        self.usage.cpu_seconds += cpu_seconds
        return result

    async def run_cpu(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs CPU-bound code in the process pool, killed if the attempt's time runs out.

        `fn` and its arguments must be picklable: a module-level function and plain data.
        """
        remaining = self.info.deadline - asyncio.get_running_loop().time()
        result, cpu_seconds = await self._pools.run_cpu(fn, *args, time_limit=max(remaining, 0.001))
        self.usage.cpu_seconds += cpu_seconds
        return result

    async def save_artifact(
        self, name: str, data: bytes, content_type: str, *, page: int = 0
    ) -> documents_pb2.ArtifactRef:
        """Stores a file the job produced; clients fetch it with DownloadArtifact."""
        if self._artifacts is None:
            raise RuntimeError("this server has no artifact store configured")
        return await self._artifacts.save_artifact(
            tenant=self.info.tenant,
            job_id=self.info.job_id,
            name=name,
            data=data,
            content_type=content_type,
            page=page,
        )

    def open_input(
        self, *, file_path: str = "", file_id: str = ""
    ) -> AbstractAsyncContextManager[Path]:
        """Opens the job's input as a local path: a confined `file_path` or an upload."""
        if self._inputs is None:
            raise RuntimeError("this server has no input opener configured")
        return self._inputs.open_input(
            tenant=self.info.tenant, file_path=file_path, file_id=file_id
        )
