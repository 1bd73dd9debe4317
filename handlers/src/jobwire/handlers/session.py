"""The `session` job type: every attachment of an event session extracted, and its page.

Each attachment goes through the `pdf` extraction (`extract_pdf`); one that cannot be read
is recorded with its error code while the others are kept, and the session page is
rendered from all of them.
"""

import os
import re
from datetime import date
from typing import Any

from jobwire.handlers import tesseract
from jobwire.handlers.limits import document_settings
from jobwire.handlers.pdf import PdfOptions, check_method, check_source, extract_pdf, method_of
from jobwire.handlers.rendering import check_template_name, render_markdown
from jobwire.handlers.variables import attachment_variables, session_variables
from jobwire.server.context import JobContext
from jobwire.server.errors import InvalidParameters, JobFailed
from jobwire.server.registry import job_type
from jobwire.v1 import documents_pb2

DEFAULT_TEMPLATE = "session"
MAX_ATTACHMENTS = 100
# Tesseract's language for a session's ISO 639-1 language, where it differs from "eng".
OCR_LANGUAGES = {"de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld", "pt": "por"}
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


def validate_session(params: documents_pb2.SessionParams) -> None:
    """Checks SessionParams at submission."""
    if not params.title.strip():
        raise InvalidParameters("title", "required")
    if len(params.attachments) > MAX_ATTACHMENTS:
        raise InvalidParameters("attachments", f"at most {MAX_ATTACHMENTS}")
    for index, attachment in enumerate(params.attachments):
        check_source(
            attachment.WhichOneof("source"),
            attachment.file_path or attachment.file_id,
            field=f"attachments[{index}]",
        )
    for index, speaker in enumerate(params.speakers):
        if not speaker.name.strip():
            raise InvalidParameters(f"speakers[{index}].name", "required")
    if params.day:
        try:
            date.fromisoformat(params.day)
        except ValueError as error:
            raise InvalidParameters(
                "day", f"{params.day!r} is not a date like 2026-04-23"
            ) from error
    for field in ("start_time", "end_time"):
        value = getattr(params, field)
        if value and not _TIME.match(value):
            raise InvalidParameters(field, f"{value!r} is not a time like 09:30")
    if params.start_time and params.end_time and params.end_time < params.start_time:
        raise InvalidParameters("end_time", "the session ends before it starts")
    if params.source_language and not _LANGUAGE_CODE.match(params.source_language):
        raise InvalidParameters("source_language", "an ISO 639-1 code such as 'en' or 'de'")
    check_method(params.extraction_method, "extraction_method")
    if params.template:
        check_template_name(params.template)


@job_type("session", params=documents_pb2.SessionParams, validate=validate_session, timeout=1800.0)
async def session(ctx: JobContext[documents_pb2.SessionParams]) -> documents_pb2.SessionResult:
    """Extracts every attachment of an event session and renders the session page."""
    params = ctx.params
    options = PdfOptions(
        method=method_of(params.extraction_method),
        ocr_language=await ctx.run_blocking(ocr_language_for, params.source_language),
    )

    # Extract the attachments one after the other; a failure stays with its attachment.
    result = documents_pb2.SessionResult()
    for index, attachment in enumerate(params.attachments):
        ctx.raise_if_cancelled()
        outcome = await _extract_attachment(
            ctx, index, len(params.attachments), attachment, options
        )
        result.attachments.append(outcome)
    ctx.count("attachments", len(params.attachments))

    # Render the session page from the session's facts and every attachment.
    template = params.template or DEFAULT_TEMPLATE
    await ctx.progress(stage="render", message=f"rendering template {template}")
    variables = session_variables(
        params, [attachment_variables(outcome) for outcome in result.attachments]
    )
    result.document = await ctx.run_cpu(
        render_markdown, document_settings(ctx).templates_dir, template, variables
    )
    return result


async def _extract_attachment(
    ctx: JobContext[Any],
    index: int,
    count: int,
    attachment: documents_pb2.Attachment,
    options: PdfOptions,
) -> documents_pb2.AttachmentResult:
    source = attachment.file_path or attachment.file_id
    outcome = documents_pb2.AttachmentResult(
        title=attachment.title or os.path.basename(attachment.file_path) or attachment.file_id,
        source=source,
    )

    async def report(done: int, total: int) -> None:
        await ctx.progress(
            (index + done / max(total, 1)) / count * 100,
            current=index + 1,
            total=count,
            stage="extract",
            message=f"attachment {index + 1} of {count}: page {done} of {total}",
        )

    try:
        async with ctx.open_input(
            file_path=attachment.file_path, file_id=attachment.file_id
        ) as path:
            outcome.title = attachment.title or path.name
            outcome.pdf.CopyFrom(await extract_pdf(ctx, path, options, report))
    except JobFailed as failure:
        if failure.retryable:
            raise
        await ctx.log(f"attachment {outcome.title!r} not extracted: {failure.message}", "WARNING")
        outcome.error.CopyFrom(
            documents_pb2.AttachmentError(code=failure.code, message=failure.message)
        )
    return outcome


def ocr_language_for(source_language: str) -> str:
    """Tesseract's language for a session language, when its data is installed; else "eng"."""
    language = OCR_LANGUAGES.get(source_language, tesseract.DEFAULT_LANGUAGE)
    installed = tesseract.installed_languages() or frozenset()
    return language if language in installed else tesseract.DEFAULT_LANGUAGE
