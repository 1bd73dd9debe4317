"""The thread pool for blocking handler code and the process pool for CPU-bound code.

CPU-bound work runs in pebble's process pool so that it never holds the server's
event loop or the GIL its threads share, a task past its time is killed with its
process, and each process has an address-space limit: a hostile input exhausts its
worker, not the server.
"""

import asyncio
import logging
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pebble

from jobwire.server.errors import JobFailed

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Worker processes are replaced after this many tasks, bounding slow leaks in parsers.
TASKS_PER_PROCESS = 2000
WORKER_NICENESS = 10


class WorkerPools:
    """Both pools of one server; implements `context.WorkPools`."""

    def __init__(self, thread_workers: int, process_workers: int, memory_limit_mb: int) -> None:
        self.threads = ThreadPoolExecutor(thread_workers, thread_name_prefix="jobwire-blocking")
        self.processes = pebble.ProcessPool(
            max_workers=process_workers,
            max_tasks=TASKS_PER_PROCESS,
            initializer=_prepare_worker,
            initargs=(memory_limit_mb,),
            context=multiprocessing.get_context("forkserver"),
        )

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> tuple[T, float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.threads, _timed_in_thread, fn, args)

    async def run_cpu(self, fn: Callable[..., T], *args: Any, time_limit: float) -> tuple[T, float]:
        future = self.processes.schedule(_timed_in_process, args=(fn, args), timeout=time_limit)
        try:
            result: tuple[T, float] = await asyncio.wrap_future(future)
        except pebble.ProcessExpired as error:
            raise JobFailed(
                f"the worker process running {fn.__name__} died (exit code {error.exitcode})"
            ) from error
        return result

    def close(self) -> None:
        """Stops both pools without waiting for work still queued."""
        self.threads.shutdown(wait=False, cancel_futures=True)
        self.processes.stop()  # type: ignore[no-untyped-call]
        self.processes.join(timeout=5)


def _prepare_worker(memory_limit_mb: int) -> None:
    limit = memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Below the server's priority: a busy pool must not slow the answers to API calls.
    os.nice(WORKER_NICENESS)


def _timed_in_thread(fn: Callable[..., T], args: tuple[Any, ...]) -> tuple[T, float]:
    started = time.thread_time()
    result = fn(*args)
    return result, time.thread_time() - started


def _timed_in_process(fn: Callable[..., T], args: tuple[Any, ...]) -> tuple[T, float]:
    started = time.process_time()
    result = fn(*args)
    return result, time.process_time() - started
