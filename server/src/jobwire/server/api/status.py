"""How jobwire's exceptions reach clients: standard gRPC status codes."""

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc

from jobwire.server import errors
from jobwire.server.engine.operations import InvalidRequest
from jobwire.server.storage.files import UploadTooLarge

logger = logging.getLogger(__name__)

S = TypeVar("S")
Req = TypeVar("Req")
Resp = TypeVar("Resp")

# Checked in order; the first matching class decides.
_CODES: list[tuple[type[errors.JobwireError], grpc.StatusCode]] = [
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.InvalidParameters, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.Conflict, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.DatabaseUnavailable, grpc.StatusCode.UNAVAILABLE),
    (UploadTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
]


def status_code_for(error: errors.JobwireError) -> grpc.StatusCode:
    for error_class, code in _CODES:
        if isinstance(error, error_class):
            return code
    return grpc.StatusCode.INTERNAL


UnaryMethod = Callable[[S, Req, grpc.aio.ServicerContext[Req, Resp]], Awaitable[Resp]]
StreamMethod = Callable[[S, Req, grpc.aio.ServicerContext[Req, Resp]], AsyncIterator[Resp]]


def unary_errors(method: UnaryMethod[S, Req, Resp]) -> UnaryMethod[S, Req, Resp]:
    """Turns jobwire exceptions raised by a unary method into gRPC statuses."""

    @functools.wraps(method)
    async def answering(
        self: S, request: Req, context: grpc.aio.ServicerContext[Req, Resp]
    ) -> Resp:
        try:
            return await method(self, request, context)
        except errors.JobwireError as error:
            await _abort(context, error)
            raise

    return answering


def stream_errors(method: StreamMethod[S, Req, Resp]) -> StreamMethod[S, Req, Resp]:
    """Turns jobwire exceptions raised by a server-streaming method into gRPC statuses."""

    @functools.wraps(method)
    async def streaming(
        self: S, request: Req, context: grpc.aio.ServicerContext[Req, Resp]
    ) -> AsyncIterator[Resp]:
        try:
            async for response in method(self, request, context):
                yield response
        except errors.JobwireError as error:
            await _abort(context, error)

    return streaming


async def _abort(context: grpc.aio.ServicerContext[Req, Resp], error: errors.JobwireError) -> None:
    code = status_code_for(error)
    if code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE):
        logger.warning("request failed with %s: %s", code.name, error)
    await context.abort(code, str(error))
