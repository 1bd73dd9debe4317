"""Exceptions of the jobwire server, and the stable error codes jobs fail with."""

from collections.abc import Mapping

# Stable codes of JobError.code; clients branch on them (see proto/jobwire/v1/job.proto).
UNKNOWN_JOB_TYPE = "UNKNOWN_JOB_TYPE"
INVALID_PARAMETERS = "INVALID_PARAMETERS"
HANDLER_ERROR = "HANDLER_ERROR"
TIMEOUT = "TIMEOUT"
CANCELLED = "CANCELLED"
LEASE_EXPIRED = "LEASE_EXPIRED"
INPUT_NOT_FOUND = "INPUT_NOT_FOUND"
INPUT_REJECTED = "INPUT_REJECTED"
INPUT_CORRUPT = "INPUT_CORRUPT"
INPUT_ENCRYPTED = "INPUT_ENCRYPTED"
INPUT_TOO_LARGE = "INPUT_TOO_LARGE"


class JobwireError(Exception):
    """Base of every exception jobwire raises on purpose."""


class JobFailed(JobwireError):
    """Raised by a handler to fail its job's attempt with a stable code.

    A retryable failure sends the job back to the queue until its attempts are
    spent; `retry_after` overrides the backoff delay in seconds.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = HANDLER_ERROR,
        retryable: bool = False,
        retry_after: float | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        self.details = dict(details or {})


class RetryLater(JobFailed):
    """A passing failure: the attempt failed but the job should run again."""

    def __init__(
        self,
        message: str,
        *,
        code: str = HANDLER_ERROR,
        retry_after: float | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            message, code=code, retryable=True, retry_after=retry_after, details=details
        )


class InvalidParameters(JobwireError, ValueError):
    """A job's parameters do not match its type; `field` names the culprit.

    A ValueError too, so that a params dataclass can raise it from `__post_init__`.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class RegistrationError(JobwireError):
    """A handler cannot be registered: not a coroutine function, or a duplicate type."""


class NotFound(JobwireError):
    """No job, batch or file with that id exists for the caller's tenant."""


class Conflict(JobwireError):
    """The request does not fit the current state, e.g. cancelling a finished job."""


class DatabaseUnavailable(JobwireError):
    """The database did not answer, even after retries."""


class ConfigurationError(JobwireError):
    """The configuration file or environment holds an invalid setting."""
