"""Conversion between stored documents and the protobuf messages of the contract.

Statuses are stored as the lower-case words the replaced system used; parameters and
errors as the protobuf JSON mapping with proto field names, so that a document reads the
same from any language. Results, which hold whole documents' text, are stored as the
serialized JobResult, as they are when too large to be inline and stored as an artifact:
the JSON mapping of a 60-page text took 10 ms to read back, the serialized one 0.02 ms.
"""

from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from jobwire.v1 import documents_pb2, job_pb2

Document = dict[str, Any]

PENDING = "pending"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
TERMINAL = (COMPLETED, FAILED, CANCELLED)
STATUSES = (PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED)

# Stands in for secrets, such as a PDF's password, in what the API returns. The job
# document itself keeps the password in plain text: there is no secret store yet.
REDACTED = "<redacted>"

_TO_PROTO_STATUS = {
    PENDING: job_pb2.JOB_STATUS_PENDING,
    PROCESSING: job_pb2.JOB_STATUS_PROCESSING,
    COMPLETED: job_pb2.JOB_STATUS_COMPLETED,
    FAILED: job_pb2.JOB_STATUS_FAILED,
    CANCELLED: job_pb2.JOB_STATUS_CANCELLED,
}
_FROM_PROTO_STATUS = {value: key for key, value in _TO_PROTO_STATUS.items()}


def utcnow() -> datetime:
    """Now, at the millisecond precision MongoDB keeps."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def status_to_proto(status: str) -> job_pb2.JobStatus.ValueType:
    return _TO_PROTO_STATUS[status]


def status_from_proto(status: job_pb2.JobStatus.ValueType) -> str | None:
    """The stored word for a status filter; None for UNSPECIFIED (no filter)."""
    return _FROM_PROTO_STATUS.get(status)


def message_to_document(message: Message) -> Document:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def error_document(
    code: str,
    message: str,
    *,
    retryable: bool = False,
    attempt: int = 0,
    details: dict[str, str] | None = None,
) -> Document:
    return {
        "code": code,
        "message": message,
        "retryable": retryable,
        "attempt": attempt,
        "details": details or {},
        "occurred_at": utcnow(),
    }


def job_to_proto(document: Document) -> job_pb2.Job:
    """Builds the Job message from a stored job document."""
    job = job_pb2.Job(
        id=document["_id"],
        job_type=document["job_type"],
        tenant=document["tenant"],
        status=status_to_proto(document["status"]),
        batch_id=document.get("batch_id") or "",
        priority=document.get("priority", 0),
        attempt=document.get("attempt", 0),
        max_attempts=document.get("max_attempts", 0),
        lease_owner=document.get("lease_owner") or "",
        idempotency_key=document.get("idempotency_key") or "",
        version=document.get("version", 0),
        cancel_requested=bool(document.get("cancel_requested")),
    )
    json_format.ParseDict(document.get("params") or {}, job.params)
    if job.params.pdf.password:
        job.params.pdf.password = REDACTED
    if document.get("result") is not None:
        job.result.ParseFromString(document["result"])
    if document.get("error"):
        _fill_error(job.error, document["error"])
    for attempt_error in document.get("attempt_errors") or []:
        _fill_error(job.attempt_errors.add(), attempt_error)
    if document.get("progress"):
        _fill_progress(job.progress, document["progress"])
    _fill_usage(job.usage, document.get("usage") or {})
    for entry in document.get("logs") or []:
        _fill_log(job.logs.add(), entry)
    if document.get("result_artifact"):
        json_format.ParseDict(document["result_artifact"], job.result_artifact)
    _fill_times(job, document, _JOB_TIMES)
    return job


_JOB_TIMES = (
    "run_at",
    "lease_expires_at",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
)
_BATCH_TIMES = ("created_at", "updated_at", "finished_at")


def batch_to_proto(document: Document) -> job_pb2.Batch:
    """Builds the Batch message; its progress is derived from the counts."""
    counts = document.get("counts") or {}
    batch = job_pb2.Batch(
        id=document["_id"],
        tenant=document["tenant"],
        name=document.get("name") or "",
        status=status_to_proto(document["status"]),
        version=document.get("version", 0),
        idempotency_key=document.get("idempotency_key") or "",
        counts=job_pb2.BatchCounts(
            total=document.get("total", 0), **{status: counts.get(status, 0) for status in STATUSES}
        ),
    )
    finished = sum(counts.get(status, 0) for status in TERMINAL)
    batch.progress.current = finished
    batch.progress.total = batch.counts.total
    batch.progress.percent = 100.0 * finished / batch.counts.total if batch.counts.total else 0.0
    batch.progress.message = f"{finished} of {batch.counts.total} jobs finished"
    if document.get("updated_at"):
        batch.progress.updated_at.FromDatetime(document["updated_at"])
    _fill_usage(batch.usage, document.get("usage") or {})
    _fill_times(batch, document, _BATCH_TIMES)
    return batch


def _fill_error(target: job_pb2.JobError, source: Document) -> None:
    target.code = source.get("code", "")
    target.message = source.get("message", "")
    target.retryable = bool(source.get("retryable"))
    target.attempt = source.get("attempt", 0)
    target.details.update(source.get("details") or {})
    if source.get("occurred_at"):
        target.occurred_at.FromDatetime(source["occurred_at"])


def _fill_progress(target: job_pb2.Progress, source: Document) -> None:
    target.percent = source.get("percent", 0.0)
    target.stage = source.get("stage", "")
    target.message = source.get("message", "")
    target.current = source.get("current", 0)
    target.total = source.get("total", 0)
    if source.get("updated_at"):
        target.updated_at.FromDatetime(source["updated_at"])


def _fill_usage(target: job_pb2.ResourceUsage, source: Document) -> None:
    target.wall_seconds = source.get("wall_seconds", 0.0)
    target.cpu_seconds = source.get("cpu_seconds", 0.0)
    target.counters.update({name: int(value) for name, value in source.get("counters", {}).items()})


def _fill_log(target: job_pb2.LogEntry, source: Document) -> None:
    target.level = source.get("level", "INFO")
    target.message = source.get("message", "")
    target.attempt = source.get("attempt", 0)
    if source.get("logged_at"):
        target.logged_at.FromDatetime(source["logged_at"])


def _fill_times(target: Any, document: Document, names: tuple[str, ...]) -> None:
    for name in names:
        if document.get(name):
            getattr(target, name).FromDatetime(document[name])


def artifact_document(artifact: documents_pb2.ArtifactRef) -> Document:
    return message_to_document(artifact)
