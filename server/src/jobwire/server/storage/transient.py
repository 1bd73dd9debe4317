"""Retrying database calls that failed for a passing reason (tenacity)."""

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from pymongo.errors import ConnectionFailure
from tenacity import (
    AsyncRetrying,
    RetryError,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from jobwire.server.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# Bounded so that a caller (an RPC, the dispatcher) hears of an outage within seconds.
ATTEMPTS = 5
MAX_SECONDS = 10.0


def retry_transient(call: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Retries `call` on connection failures with jittered backoff.

    A write is retried only when the network failed, and every write of the store is
    conditioned on the state it expects, so a repeated write that already applied
    changes nothing; the exception is a batch's counter increments, which the sweeper's
    recount corrects.
    """

    @functools.wraps(call)
    async def retrying(*args: P.args, **kwargs: P.kwargs) -> T:
        retrying_calls = AsyncRetrying(
            retry=retry_if_exception_type(ConnectionFailure),
            stop=stop_after_attempt(ATTEMPTS) | stop_after_delay(MAX_SECONDS),
            wait=wait_exponential_jitter(multiplier=0.05, max=2.0, jitter=0.1),
            before_sleep=before_sleep_log(logger, logging.WARNING),
        )
        try:
            return await retrying_calls(call, *args, **kwargs)
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise DatabaseUnavailable(f"database unavailable: {cause}") from cause

    return retrying
