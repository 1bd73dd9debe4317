"""Several pool calls of one job at once, their results taken in order."""

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def in_order(
    calls: Iterable[Callable[[], Awaitable[T]]], limit: int
) -> AsyncGenerator[T, None]:
    """Runs up to `limit` of `calls` at a time and yields their results in the calls' order.

    The first failure is raised when its turn comes; calls still running when the caller
    stops iterating (or on that failure) are cancelled, which kills their pool task.
    """
    pending: deque[asyncio.Task[T]] = deque()
    remaining = iter(calls)

    def fill() -> None:
        while len(pending) < max(limit, 1):
            call = next(remaining, None)
            if call is None:
                return
            pending.append(asyncio.ensure_future(call()))

    try:
        fill()
        while pending:
            result = await pending.popleft()
            fill()
            yield result
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
