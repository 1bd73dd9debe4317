"""Errors the jobwire client raises, one class per gRPC status a caller may handle."""

import grpc


class JobwireClientError(Exception):
    """Base of every error of the client; `code` is the gRPC status."""

    code = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFoundError(JobwireClientError):
    """No job, batch or artifact with that id exists for this caller."""

    code = grpc.StatusCode.NOT_FOUND


class InvalidArgumentError(JobwireClientError):
    """The request was refused as malformed; the message names the field."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class FailedPreconditionError(JobwireClientError):
    """The request does not fit the current state, e.g. cancelling a finished job."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhaustedError(JobwireClientError):
    """The request is larger than the server accepts."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnavailableError(JobwireClientError):
    """The server or its database could not be reached; retrying later is safe."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceededError(JobwireClientError):
    """The call did not finish within its deadline."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class AccessDeniedError(JobwireClientError):
    """The caller is not authenticated, or may not act on this resource."""

    code = grpc.StatusCode.PERMISSION_DENIED


_BY_CODE: dict[grpc.StatusCode, type[JobwireClientError]] = {
    error.code: error
    for error in (
        NotFoundError,
        InvalidArgumentError,
        FailedPreconditionError,
        ResourceExhaustedError,
        UnavailableError,
        DeadlineExceededError,
        AccessDeniedError,
    )
}
_BY_CODE[grpc.StatusCode.UNAUTHENTICATED] = AccessDeniedError


def status_of(error: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    """The status code and details of a failed call, blocking or asyncio."""
    # grpc.aio's AioRpcError has code() and details() without being a grpc.Call.
    code = getattr(error, "code", None)
    details = getattr(error, "details", None)
    if code is None or details is None:
        return grpc.StatusCode.UNKNOWN, str(error)
    return code(), details() or ""


def from_rpc_error(error: grpc.RpcError) -> JobwireClientError:
    """The client error for a failed call."""
    code, details = status_of(error)
    error_class = _BY_CODE.get(code, JobwireClientError)
    return error_class(details or code.name, code)
