"""Submission-time checks of the three job types (their `validate=` hooks)."""

import shutil
from importlib.metadata import entry_points

import pytest

from jobwire.handlers.ocr import ocr, validate_ocr
from jobwire.handlers.pdf import pdf, validate_pdf
from jobwire.handlers.session import session, validate_session
from jobwire.server.errors import InvalidParameters
from jobwire.server.registry import ENTRY_POINT_GROUP, HandlerRegistry
from jobwire.v1 import documents_pb2, job_pb2

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract is not installed"
)


def refused_field(check: object, params: object) -> str:
    with pytest.raises(InvalidParameters) as raised:
        check(params)  # type: ignore[operator]
    return raised.value.field


def test_the_entry_points_publish_the_three_job_types() -> None:
    published = {
        entry_point.name: entry_point.load()
        for entry_point in entry_points(group=ENTRY_POINT_GROUP)
        if entry_point.value.startswith("jobwire.handlers.")
    }
    registry = HandlerRegistry()
    for declared in published.values():
        registry.add(declared)

    assert published == {"pdf": pdf, "ocr": ocr, "session": session}
    assert registry.names() == ["ocr", "pdf", "session"]
    assert pdf.codec.params_message == "jobwire.v1.PdfParams"


def test_a_valid_pdf_job_passes() -> None:
    validate_pdf(
        documents_pb2.PdfParams(
            file_path="in/a.pdf",
            pages="1-3,7",
            template="default",
            extraction_method=documents_pb2.EXTRACTION_METHOD_LAYOUT,
            engine=documents_pb2.PDF_ENGINE_PDFIUM,
        )
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (documents_pb2.PdfParams(), "source"),
        (documents_pb2.PdfParams(file_path=""), "source"),
        (documents_pb2.PdfParams(file_id="x", pages="3-1"), "pages"),
        (documents_pb2.PdfParams(file_id="x", template="../../etc/passwd"), "template"),
        (documents_pb2.PdfParams(file_id="x", ocr_language="english!"), "ocr_language"),
        (documents_pb2.PdfParams(file_id="x", extraction_method=99), "extraction_method"),  # type: ignore[arg-type]
        (documents_pb2.PdfParams(file_id="x", engine=7), "engine"),  # type: ignore[arg-type]
        (documents_pb2.PdfParams(file_path="a\x00b"), "file_path"),
    ],
)
def test_invalid_pdf_jobs_are_refused_naming_the_field(
    params: documents_pb2.PdfParams, field: str
) -> None:
    assert refused_field(validate_pdf, params) == field


@needs_tesseract
def test_a_pdf_job_asking_for_missing_language_data_is_refused() -> None:
    params = documents_pb2.PdfParams(file_id="x", ocr_language="eng+qqq")

    assert refused_field(validate_pdf, params) == "ocr_language"


def test_submission_goes_through_the_codec() -> None:
    submitted = job_pb2.JobParams(pdf=documents_pb2.PdfParams(file_id="x", pages="0"))

    with pytest.raises(InvalidParameters, match="numbered from 1"):
        pdf.codec.decode(submitted)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (documents_pb2.OcrParams(), "source"),
        (documents_pb2.OcrParams(file_id="x", dpi=50), "dpi"),
        (documents_pb2.OcrParams(file_id="x", dpi=1200), "dpi"),
        (documents_pb2.OcrParams(file_id="x", pages="x"), "pages"),
        (documents_pb2.OcrParams(file_id="x", language="de de"), "language"),
    ],
)
def test_invalid_ocr_jobs_are_refused(params: documents_pb2.OcrParams, field: str) -> None:
    assert refused_field(validate_ocr, params) == field


def test_a_valid_ocr_job_passes() -> None:
    validate_ocr(documents_pb2.OcrParams(file_path="scan.tiff", dpi=72, pages="2-"))
    validate_ocr(documents_pb2.OcrParams(file_id="x", dpi=600))


def valid_session() -> documents_pb2.SessionParams:
    return documents_pb2.SessionParams(
        title="Jobs that run once",
        day="2026-04-23",
        start_time="09:30",
        end_time="10:15",
        source_language="de",
        speakers=[documents_pb2.Speaker(name="Ada")],
        attachments=[
            documents_pb2.Attachment(file_path="slides.pdf"),
            documents_pb2.Attachment(file_id="abc", title="Paper"),
        ],
    )


def test_a_valid_session_job_passes() -> None:
    validate_session(valid_session())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": " "}, "title"),
        ({"day": "23.04.2026"}, "day"),
        ({"start_time": "9:30"}, "start_time"),
        ({"end_time": "25:00"}, "end_time"),
        ({"start_time": "11:00", "end_time": "10:00"}, "end_time"),
        ({"source_language": "German"}, "source_language"),
        ({"template": "a/b"}, "template"),
    ],
)
def test_invalid_session_jobs_are_refused(change: dict[str, str], field: str) -> None:
    params = valid_session()
    for key, value in change.items():
        setattr(params, key, value)

    assert refused_field(validate_session, params) == field


def test_an_attachment_without_source_is_refused_by_its_index() -> None:
    params = valid_session()
    params.attachments.add(title="nothing")

    assert refused_field(validate_session, params) == "attachments[2]"


def test_a_speaker_without_name_is_refused() -> None:
    params = valid_session()
    params.speakers.add(affiliation="somewhere")

    assert refused_field(validate_session, params) == "speakers[1].name"
