"""The job types a server can run, and how handlers are declared and registered.

A handler is an `async def` taking a `JobContext`; `@job_type(...)` turns it into
a `JobType`. Distributions publish job types under the `jobwire.handlers` entry-point
group, and the server registers every one it finds at start-up::

    @job_type("thumbnail", params=ThumbnailParams, timeout=60)
    async def thumbnail(ctx: JobContext[ThumbnailParams]) -> dict[str, Any]:
        ...
"""

import inspect
import logging
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message

from jobwire.server.config import WorkerSettings
from jobwire.server.errors import RegistrationError
from jobwire.server.params import ParamsCodec, codec_for
from jobwire.v1 import job_service_pb2

if TYPE_CHECKING:
    from jobwire.server.context import JobContext

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "jobwire.handlers"

HandlerResult = Message | Mapping[str, Any] | None
Handler = Callable[["JobContext[Any]"], Coroutine[Any, Any, HandlerResult]]


@dataclass(frozen=True)
class JobType:
    """A registered kind of job: its handler and how the engine treats its jobs."""

    name: str
    """The `job_type` clients submit, e.g. "pdf"."""
    handler: Handler
    """Coroutine function that runs one attempt and returns the result."""
    codec: ParamsCodec
    """Validates submitted parameters and decodes them for the handler."""
    description: str = ""
    """One line shown by ListJobTypes."""
    max_attempts: int = 3
    """Attempts a job gets unless its submission says otherwise."""
    timeout: float = 300.0
    """Seconds one attempt may run before it fails with TIMEOUT."""
    max_concurrency: int | None = None
    """Jobs of this type one server runs at once; None uses the server's setting."""
    retry_backoff: tuple[float, float] | None = field(default=None)
    """(initial, maximum) retry delay in seconds; None uses the server's setting."""

    def concurrency(self, worker: WorkerSettings) -> int:
        """Jobs of this type one server runs at once: the settings' `per_type` decide first."""
        declared = self.max_concurrency or worker.max_concurrent_per_type
        return worker.per_type.get(self.name, declared)

    def describe(self, worker: WorkerSettings) -> job_service_pb2.JobTypeInfo:
        """The type as ListJobTypes reports it."""
        info = job_service_pb2.JobTypeInfo(
            job_type=self.name,
            description=self.description,
            params_message=self.codec.params_message,
            parameters=self.codec.describe(),
            max_attempts=self.max_attempts,
            max_concurrency=self.concurrency(worker),
        )
        info.timeout.FromTimedelta(timedelta(seconds=self.timeout))
        return info


def job_type(
    name: str,
    *,
    params: type | None = None,
    validate: Callable[[Any], None] | None = None,
    description: str | None = None,
    max_attempts: int = 3,
    timeout: float = 300.0,
    max_concurrency: int | None = None,
    retry_backoff: tuple[float, float] | None = None,
) -> Callable[[Handler], JobType]:
    """Declares a handler as the job type `name`.

    `params` is a protobuf message of `JobParams.kind`, a dataclass, or None for a
    free-form dict. `validate` runs on the decoded parameters at submission and
    raises `InvalidParameters` naming the field. The handler's docstring's first
    line is the default description.
    """

    def declare(handler: Handler) -> JobType:
        _check_handler(name, handler)
        return JobType(
            name=name,
            handler=handler,
            codec=codec_for(params, validate),
            description=description or _first_line(handler.__doc__),
            max_attempts=max_attempts,
            timeout=timeout,
            max_concurrency=max_concurrency,
            retry_backoff=retry_backoff,
        )

    return declare


class HandlerRegistry:
    """The job types one server runs, by name."""

    def __init__(self) -> None:
        self._types: dict[str, JobType] = {}

    def add(self, declared: JobType) -> None:
        """Registers a job type; a second type of the same name is refused."""
        if not isinstance(declared, JobType):
            raise RegistrationError(f"{declared!r} is not a JobType: declare it with @job_type")
        _check_handler(declared.name, declared.handler)

        existing = self._types.get(declared.name)
        if existing is not None:
            raise RegistrationError(
                f"job type {declared.name!r} is registered twice: by "
                f"{_qualified_name(existing.handler)} and {_qualified_name(declared.handler)}"
            )

        self._types[declared.name] = declared
        logger.debug(
            "registered job type %s (%s)", declared.name, _qualified_name(declared.handler)
        )

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Registers every job type published under the entry-point group."""
        for entry_point in entry_points(group=group):
            try:
                declared = entry_point.load()
            except Exception as error:
                raise RegistrationError(
                    f"entry point {entry_point.name} = {entry_point.value} failed to load: {error}"
                ) from error
            self.add(declared)

    def get(self, name: str) -> JobType | None:
        return self._types.get(name)

    def require(self, name: str) -> JobType:
        """The job type `name`; KeyError when none is registered."""
        return self._types[name]

    def names(self) -> list[str]:
        return sorted(self._types)

    def __iter__(self) -> Iterator[JobType]:
        return iter(self._types[name] for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._types


def _check_handler(name: str, handler: object) -> None:
    if not name or not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise RegistrationError(f"job type name {name!r} must be letters, digits, '-', '_', '.'")
    if not inspect.iscoroutinefunction(handler):
        raise RegistrationError(
            f"handler {_qualified_name(handler)} of job type {name!r} must be an async def"
        )


def _qualified_name(handler: object) -> str:
    module = getattr(handler, "__module__", "?")
    return f"{module}.{getattr(handler, '__qualname__', repr(handler))}"


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc and doc.strip() else ""
