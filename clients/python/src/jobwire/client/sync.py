"""The blocking client of jobwire: the asyncio client driven from a private event loop."""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from jobwire.client.aio import AsyncJobwireClient

P = ParamSpec("P")
T = TypeVar("T")


def _blocking(
    method: Callable[Concatenate[AsyncJobwireClient, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate["JobwireClient", P], T]:
    def call(self: "JobwireClient", /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(method(self._client, *args, **kwargs))

    call.__doc__ = method.__doc__
    return call


def _blocking_stream(
    method: Callable[Concatenate[AsyncJobwireClient, P], AsyncIterator[T]],
) -> Callable[Concatenate["JobwireClient", P], Iterator[T]]:
    def call(self: "JobwireClient", /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        stream = method(self._client, *args, **kwargs)
        try:
            while True:
                try:
                    yield self._run(_next(stream))
                except StopAsyncIteration:
                    return
        finally:
            self._run(_close_stream(stream))

    call.__doc__ = method.__doc__
    return call


async def _next(stream: AsyncIterator[T]) -> T:
    return await anext(stream)


async def _close_stream(stream: AsyncIterator[Any]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()


class JobwireClient:
    """The same calls as `AsyncJobwireClient`, blocking; use as `with JobwireClient(...)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="jobwire-client", daemon=True
        )
        self._thread.start()
        self._client = self._run(_create(*args, **kwargs))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._run(self._client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()

    submit_job = _blocking(AsyncJobwireClient.submit_job)
    submit_batch = _blocking(AsyncJobwireClient.submit_batch)
    get_job = _blocking(AsyncJobwireClient.get_job)
    get_batch = _blocking(AsyncJobwireClient.get_batch)
    list_jobs = _blocking(AsyncJobwireClient.list_jobs)
    list_batches = _blocking(AsyncJobwireClient.list_batches)
    cancel_job = _blocking(AsyncJobwireClient.cancel_job)
    cancel_batch = _blocking(AsyncJobwireClient.cancel_batch)
    retry_job = _blocking(AsyncJobwireClient.retry_job)
    list_job_types = _blocking(AsyncJobwireClient.list_job_types)
    upload_file = _blocking(AsyncJobwireClient.upload_file)
    download_artifact = _blocking(AsyncJobwireClient.download_artifact)
    watch_job = _blocking_stream(AsyncJobwireClient.watch_job)
    watch_batch = _blocking_stream(AsyncJobwireClient.watch_batch)


async def _create(*args: Any, **kwargs: Any) -> AsyncJobwireClient:
    # grpc.aio channels belong to the loop they are created on: create it on ours.
    return AsyncJobwireClient(*args, **kwargs)
