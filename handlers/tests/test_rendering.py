"""Markdown rendering: built-in templates, a configured directory before them, strictness."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobwire.handlers.rendering import builtin_names, check_template_name, render_markdown
from jobwire.handlers.variables import attachment_variables, pdf_variables, session_variables
from jobwire.server.errors import HANDLER_ERROR, INVALID_PARAMETERS, InvalidParameters, JobFailed
from jobwire.v1 import documents_pb2


def pdf_result() -> documents_pb2.PdfResult:
    result = documents_pb2.PdfResult(
        page_count=3,
        metadata=documents_pb2.DocumentMetadata(title="Leases", author="Ada Lovelace"),
        pages=[
            documents_pb2.PageText(number=1, text="First page.\n"),
            documents_pb2.PageText(number=3, text="Third page.", ocr=True, confidence=91.5),
        ],
    )
    result.metadata.created_at.FromDatetime(datetime(2026, 4, 23, 9, 30, tzinfo=UTC))
    return result


def session_params() -> documents_pb2.SessionParams:
    params = documents_pb2.SessionParams(
        event="PyCon DE 2026",
        title="Jobs that run once",
        track="Room 1",
        day="2026-04-23",
        start_time="09:30",
        end_time="10:15",
        source_language="en",
        speakers=[
            documents_pb2.Speaker(name="Ada Lovelace", affiliation="Analytical Engines"),
            documents_pb2.Speaker(name="Grace Hopper"),
        ],
    )
    params.context.update({"room_capacity": 120})
    return params


def test_the_builtin_templates_are_there() -> None:
    assert builtin_names() == ("default", "session")


def test_the_default_template_renders_a_pdf() -> None:
    variables = pdf_variables(pdf_result(), title="Leases", source="in/leases.pdf", context={})

    document = render_markdown("", "default", variables)

    assert document == (
        "# Leases\n\n*Ada Lovelace*\n\n## Page 1\n\nFirst page.\n\n## Page 3\n\nThird page.\n\n"
    )


def test_the_session_template_renders_facts_speakers_and_attachments() -> None:
    failed = documents_pb2.AttachmentResult(
        title="Broken slides",
        source="in/broken.pdf",
        error=documents_pb2.AttachmentError(code="INPUT_CORRUPT", message="cannot be read"),
    )
    slides = documents_pb2.AttachmentResult(title="Slides", source="id1", pdf=pdf_result())
    attachments = [attachment_variables(slides), attachment_variables(failed)]

    document = render_markdown("", "session", session_variables(session_params(), attachments))

    assert document.startswith("# Jobs that run once\n\n**PyCon DE 2026** · Room 1\n\n")
    assert "2026-04-23, 09:30\u201310:15" in document
    assert "- Ada Lovelace (Analytical Engines)\n- Grace Hopper\n" in document
    assert "### Slides\n\nFirst page.\n\nThird page.\n" in document
    assert "### Broken slides\n\n> Not extracted: INPUT_CORRUPT: cannot be read\n" in document


def test_the_session_template_serves_a_pdf_job_from_its_context() -> None:
    context = {"event": "PyCon DE 2026", "speakers": [{"name": "Ada"}, "Grace"]}
    variables = pdf_variables(pdf_result(), title="Leases", source="x.pdf", context=context)

    document = render_markdown("", "session", variables)

    assert document.startswith("# Leases\n\n**PyCon DE 2026**\n\n")
    assert "- Ada\n- Grace\n" in document
    assert "### Leases\n\nFirst page.\n" in document


def test_template_variables_carry_metadata_and_context() -> None:
    variables = pdf_variables(pdf_result(), title="Leases", source="x.pdf", context={"k": 1})

    assert variables["document"]["metadata"]["created_at"] == "2026-04-23T09:30:00+00:00"
    assert variables["document"]["metadata"]["modified_at"] == ""
    assert variables["document"]["text"] == "First page.\n\n\nThird page."
    assert variables["context"] == {"k": 1}


def test_the_configured_directory_comes_before_the_builtins(tmp_path: Path) -> None:
    (tmp_path / "default.md.j2").write_text("Custom {{ document.title }} for {{ context.who }}")
    (tmp_path / "brief.md.j2").write_text("{{ documents | length }} document(s)")
    variables = pdf_variables(pdf_result(), title="T", source="x.pdf", context={"who": "you"})

    assert render_markdown(str(tmp_path), "default", variables) == "Custom T for you"
    assert render_markdown(str(tmp_path), "brief", variables) == "1 document(s)"
    assert render_markdown(str(tmp_path), "session", variables).startswith("# T\n")


def test_an_unknown_template_fails_as_invalid_parameters() -> None:
    with pytest.raises(JobFailed, match="no template 'missing'") as raised:
        render_markdown("", "missing", {})

    assert raised.value.code == INVALID_PARAMETERS


def test_a_value_the_template_needs_but_the_job_lacks_fails_as_invalid_parameters(
    tmp_path: Path,
) -> None:
    (tmp_path / "needs.md.j2").write_text("Room {{ context.room }}")
    variables = pdf_variables(pdf_result(), title="T", source="x.pdf", context={})

    with pytest.raises(JobFailed, match="room") as raised:
        render_markdown(str(tmp_path), "needs", variables)

    assert raised.value.code == INVALID_PARAMETERS
    assert raised.value.details == {"field": "context"}


def test_a_broken_template_file_is_a_handler_error(tmp_path: Path) -> None:
    (tmp_path / "broken.md.j2").write_text("{% for %}")

    with pytest.raises(JobFailed, match="broken") as raised:
        render_markdown(str(tmp_path), "broken", {})

    assert raised.value.code == HANDLER_ERROR


def test_templates_cannot_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "escape.md.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")

    with pytest.raises(JobFailed):
        render_markdown(str(tmp_path), "escape", {})


@pytest.mark.parametrize("name", ["../secret", "a/b", "/etc/passwd", ".hidden", "", "x" * 101])
def test_template_names_cannot_leave_the_template_directories(name: str) -> None:
    with pytest.raises(InvalidParameters) as raised:
        check_template_name(name)

    assert raised.value.field == "template"


def test_template_names_are_checked_against_the_configured_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.md.j2").write_text("")

    check_template_name("default", templates_dir=str(tmp_path))
    check_template_name("mine", templates_dir=str(tmp_path))
    check_template_name("later", templates_dir="")
    with pytest.raises(InvalidParameters, match="no template 'later'"):
        check_template_name("later", templates_dir=str(tmp_path))
