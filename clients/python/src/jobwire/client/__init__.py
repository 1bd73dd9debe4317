"""Python client of the jobwire job service.

from jobwire.client import JobwireClient, job_spec

with JobwireClient("127.0.0.1:50051") as client:
    job = client.submit_job("sleep", {"seconds": 1})
    for event in client.watch_job(job.id):
        print(event.job.status, event.job.progress.percent)
"""

from jobwire.client.aio import AsyncJobwireClient
from jobwire.client.errors import (
    AccessDeniedError,
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    JobwireClientError,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
)
from jobwire.client.specs import job_params, job_spec
from jobwire.client.sync import JobwireClient

__all__ = [
    "AccessDeniedError",
    "AsyncJobwireClient",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "JobwireClient",
    "JobwireClientError",
    "NotFoundError",
    "ResourceExhaustedError",
    "UnavailableError",
    "job_params",
    "job_spec",
]
