"""Building JobSpec messages from Python values."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.protobuf.message import Message

from jobwire.v1 import job_pb2, job_service_pb2

Params = Mapping[str, Any] | Message | None


def job_params(params: Params) -> job_pb2.JobParams:
    """`JobParams` from a dict (custom types) or a typed message such as `PdfParams`."""
    wrapped = job_pb2.JobParams()
    if params is None:
        return wrapped
    if isinstance(params, job_pb2.JobParams):
        wrapped.CopyFrom(params)
        return wrapped
    if isinstance(params, Message):
        for field in job_pb2.JobParams.DESCRIPTOR.oneofs_by_name["kind"].fields:
            if field.message_type is params.DESCRIPTOR:
                getattr(wrapped, field.name).CopyFrom(params)
                return wrapped
        raise TypeError(f"{params.DESCRIPTOR.full_name} is not a kind of JobParams")
    wrapped.custom.update(dict(params))
    return wrapped


def job_spec(
    job_type: str,
    params: Params = None,
    *,
    priority: int = 0,
    run_at: datetime | None = None,
    max_attempts: int = 0,
) -> job_service_pb2.JobSpec:
    """A `JobSpec` for SubmitJob or SubmitBatch."""
    spec = job_service_pb2.JobSpec(
        job_type=job_type,
        params=job_params(params),
        priority=priority,
        max_attempts=max_attempts,
    )
    if run_at is not None:
        spec.run_at.FromDatetime(run_at)
    return spec
