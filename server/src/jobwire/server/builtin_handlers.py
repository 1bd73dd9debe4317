"""Job types every server offers: `noop` and `sleep`, for tests, benchmarks and smoke checks."""

from dataclasses import dataclass, field
from typing import Any, Literal

from jobwire.server.context import JobContext
from jobwire.server.errors import InvalidParameters, JobFailed, RetryLater
from jobwire.server.registry import job_type


@job_type("noop", description="Completes at once, returning its parameters.")
async def noop(ctx: JobContext[dict[str, Any]]) -> dict[str, Any]:
    return ctx.params


@dataclass(frozen=True)
class SleepParams:
    seconds: float = field(default=0.1, metadata={"description": "How long to sleep."})
    steps: int = field(default=10, metadata={"description": "Progress reports while sleeping."})
    fail: Literal["", "retryable", "permanent"] = field(
        default="", metadata={"description": "Fail each attempt after sleeping, this way."}
    )
    fail_times: int = field(
        default=0,
        metadata={"description": "With `fail`: fail only the first this many attempts."},
    )

    def __post_init__(self) -> None:
        if not 0 <= self.seconds <= 3600:
            raise InvalidParameters("seconds", "must be from 0 to 3600")
        if not 1 <= self.steps <= 10_000:
            raise InvalidParameters("steps", "must be from 1 to 10000")


@job_type(
    "sleep",
    params=SleepParams,
    description="Sleeps, reporting progress; fails on request. Honours cancellation.",
)
async def sleep(ctx: JobContext[SleepParams]) -> dict[str, Any]:
    params = ctx.params
    for step in range(1, params.steps + 1):
        await ctx.sleep(params.seconds / params.steps)
        await ctx.progress(current=step, total=params.steps, stage="sleep")

    failing_now = params.fail_times == 0 or ctx.attempt <= params.fail_times
    failing = params.fail if failing_now else ""
    if failing == "retryable":
        raise RetryLater(f"failing attempt {ctx.attempt} on request")
    if failing == "permanent":
        raise JobFailed(f"failing attempt {ctx.attempt} on request")
    return {"slept_seconds": params.seconds, "attempt": ctx.attempt}
