"""Building JobSpec messages from Python values."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf.message import Message

from jobwire.v1 import job_pb2, job_service_pb2

Params = Mapping[str, Any] | Message | None
Kind = TypeVar("Kind", job_pb2.JobParams, job_pb2.JobResult)


def job_params(params: Params) -> job_pb2.JobParams:
    """`JobParams` from a dict (custom types) or a typed message such as `PdfParams`."""
    return wrap_kind(job_pb2.JobParams, params)


def wrap_kind(container: type[Kind], value: Params) -> Kind:
    """`value` in the `kind` oneof of JobParams or JobResult: a typed member, or a dict
    for `custom`."""
    wrapped = container()
    if value is None:
        return wrapped
    if isinstance(value, container):
        wrapped.CopyFrom(value)
        return wrapped
    if isinstance(value, Message):
        for field in container.DESCRIPTOR.oneofs_by_name["kind"].fields:
            if field.message_type is value.DESCRIPTOR:
                getattr(wrapped, field.name).CopyFrom(value)
                return wrapped
        kinds = container.DESCRIPTOR.full_name
        raise TypeError(f"{value.DESCRIPTOR.full_name} is not a kind of {kinds}")
    wrapped.custom.update(dict(value))
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
