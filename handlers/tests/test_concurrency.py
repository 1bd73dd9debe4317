import asyncio
import functools

import pytest

from jobwire.handlers.concurrency import in_order


async def test_results_come_in_order_with_at_most_limit_running() -> None:
    running = 0
    most = 0

    async def call(number: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01 * (5 - number % 5))
        running -= 1
        return number

    calls = [functools.partial(call, number) for number in range(12)]
    results = [result async for result in in_order(calls, 3)]

    assert results == list(range(12))
    assert most == 3


async def test_a_failure_is_raised_in_turn_and_the_rest_are_cancelled() -> None:
    cancelled: list[int] = []

    async def call(number: int) -> int:
        if number == 1:
            raise ValueError("page 1 failed")
        try:
            await asyncio.sleep(1 if number > 1 else 0)
        except asyncio.CancelledError:
            cancelled.append(number)
            raise
        return number

    seen: list[int] = []

    async def consume() -> None:
        async for result in in_order([functools.partial(call, n) for n in range(5)], 3):
            seen.append(result)

    with pytest.raises(ValueError, match="page 1 failed"):
        await consume()

    assert seen == [0]
    # Call 2 was running and is cancelled; call 3 was queued behind it and never starts.
    assert cancelled == [2]


async def test_stopping_early_cancels_what_still_runs() -> None:
    cancelled: list[int] = []

    async def call(number: int) -> int:
        try:
            await asyncio.sleep(0 if number == 0 else 1)
        except asyncio.CancelledError:
            cancelled.append(number)
            raise
        return number

    results = in_order([functools.partial(call, n) for n in range(4)], 2)
    assert await anext(results) == 0
    await results.aclose()

    assert cancelled == [1]
