"""What templates see: plain dicts built from the results (see rendering.py for the list)."""

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from jobwire.server.params import struct_to_dict
from jobwire.v1 import documents_pb2

# Keys of a `pdf` job's `context` that describe a session, for the `session` template.
SESSION_KEYS = ("event", "title", "track", "day", "start_time", "end_time", "source_language")


def document_variables(
    result: documents_pb2.PdfResult | None,
    *,
    title: str,
    source: str,
    error: documents_pb2.AttachmentError | None = None,
) -> dict[str, Any]:
    """One extracted document (or the error that kept it from being extracted)."""
    pages = [
        {"number": page.number, "text": page.text, "ocr": page.ocr, "confidence": page.confidence}
        for page in (result.pages if result is not None else [])
    ]
    metadata = result.metadata if result is not None else documents_pb2.DocumentMetadata()
    return {
        "title": title,
        "source": source,
        "page_count": result.page_count if result is not None else 0,
        "metadata": {
            "title": metadata.title,
            "author": metadata.author,
            "subject": metadata.subject,
            "creator": metadata.creator,
            "producer": metadata.producer,
            "created_at": _iso(metadata.created_at, metadata.HasField("created_at")),
            "modified_at": _iso(metadata.modified_at, metadata.HasField("modified_at")),
        },
        "pages": pages,
        "images": [_artifact(image) for image in (result.images if result is not None else [])],
        "text": "\n\n".join(page.text for page in (result.pages if result is not None else [])),
        "error": {"code": error.code, "message": error.message} if error is not None else None,
    }


def pdf_variables(
    result: documents_pb2.PdfResult, *, title: str, source: str, context: Mapping[str, Any]
) -> dict[str, Any]:
    """Variables of a `pdf` job: its one document, and a session described by `context`."""
    document = document_variables(result, title=title, source=source)
    session = {key: str(context.get(key, "")) for key in SESSION_KEYS}
    session["title"] = session["title"] or title
    speakers = context.get("speakers")
    session_speakers = [
        _speaker(speaker)
        for speaker in (speakers if isinstance(speakers, list) else [])
        if isinstance(speaker, Mapping | str)
    ]
    return {
        "context": dict(context),
        "documents": [document],
        "document": document,
        "session": {**session, "speakers": session_speakers},
        "attachments": [{"title": title, "source": source, "document": document, "error": None}],
    }


def session_variables(
    params: documents_pb2.SessionParams, attachments: list[dict[str, Any]]
) -> dict[str, Any]:
    """Variables of a `session` job; `attachments` as `attachment_variables` makes them."""
    documents = [attachment["document"] for attachment in attachments]
    return {
        "context": struct_to_dict(params.context),
        "documents": documents,
        "document": documents[0] if documents else None,
        "session": {
            "event": params.event,
            "title": params.title,
            "track": params.track,
            "day": params.day,
            "start_time": params.start_time,
            "end_time": params.end_time,
            "source_language": params.source_language,
            "speakers": [
                {"name": speaker.name, "affiliation": speaker.affiliation}
                for speaker in params.speakers
            ],
        },
        "attachments": attachments,
    }


def attachment_variables(outcome: documents_pb2.AttachmentResult) -> dict[str, Any]:
    """One session attachment: its document, or its error."""
    error = outcome.error if outcome.HasField("error") else None
    result = outcome.pdf if outcome.HasField("pdf") else None
    document = document_variables(result, title=outcome.title, source=outcome.source, error=error)
    return {
        "title": outcome.title,
        "source": outcome.source,
        "document": document,
        "error": document["error"],
    }


def _speaker(value: Mapping[str, Any] | str) -> dict[str, str]:
    if isinstance(value, str):
        return {"name": value, "affiliation": ""}
    return {"name": str(value.get("name", "")), "affiliation": str(value.get("affiliation", ""))}


def _artifact(ref: documents_pb2.ArtifactRef) -> dict[str, Any]:
    return {
        "id": ref.id,
        "name": ref.name,
        "content_type": ref.content_type,
        "size": ref.size,
        "sha256": ref.sha256,
        "page": ref.page,
    }


def _iso(timestamp: Timestamp, present: bool) -> str:
    return timestamp.ToDatetime(tzinfo=UTC).isoformat() if present else ""
