"""The three job types run as the engine runs them: a JobContext with real parts.

The CPU work goes through the engine's process pool (pebble, forkserver: every function
and argument must pickle), files through FileStore on the test database, inputs through
InputResolver. Only the progress and log reporter is this module's own: it records what
the handler reports. End-to-end tests over gRPC live with the engine.
"""

import asyncio
import hashlib
import io
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pymongo.asynchronous.database import AsyncDatabase

from jobwire.handlers.limits import Limits
from jobwire.handlers.ocr import ocr
from jobwire.handlers.pdf import pdf
from jobwire.handlers.pdf_extract import PdfSource, extract_pages
from jobwire.handlers.session import session
from jobwire.server.config import DocumentSettings, Settings, StorageSettings, WorkerSettings
from jobwire.server.context import AttemptInfo, JobContext
from jobwire.server.engine.pools import WorkerPools
from jobwire.server.errors import INPUT_CORRUPT, INPUT_ENCRYPTED, INPUT_TOO_LARGE, JobFailed
from jobwire.server.inputs import InputResolver
from jobwire.server.storage.files import FileStore
from jobwire.v1 import documents_pb2

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract is not installed"
)


@dataclass
class Recorder:
    """The engine's AttemptReporter, reduced to remembering what it was told."""

    progress_events: list[tuple[float | None, str, str, int, int]] = field(default_factory=list)
    log_lines: list[tuple[str, str]] = field(default_factory=list)

    async def progress(
        self, percent: float | None, stage: str, message: str, current: int, total: int
    ) -> None:
        self.progress_events.append((percent, stage, message, current, total))

    async def log(self, level: str, message: str) -> None:
        self.log_lines.append((level, message))


@pytest.fixture(scope="module")
def pools() -> Iterator[WorkerPools]:
    """The engine's pools: pebble processes with the default address-space limit."""
    worker = WorkerSettings()
    pools = WorkerPools(2, worker.process_workers, worker.process_memory_limit_mb)
    yield pools
    pools.close()


@dataclass
class Harness:
    root: Path
    store: FileStore
    make: Callable[[str, Any], tuple[JobContext[Any], Recorder]]


@pytest.fixture
def harness(tmp_path: Path, mongo_db: AsyncDatabase[Any], pools: WorkerPools) -> Harness:
    root = tmp_path / "inputs"
    root.mkdir()
    documents = DocumentSettings(input_roots=(str(root),))
    store = FileStore(mongo_db, StorageSettings())

    def make(job_type: str, params: Any) -> tuple[JobContext[Any], Recorder]:
        recorder = Recorder()
        info = AttemptInfo(
            job_id=f"job-{job_type}",
            job_type=job_type,
            tenant="acme",
            batch_id="",
            attempt=1,
            max_attempts=3,
            deadline=asyncio.get_running_loop().time() + 120,
        )
        ctx: JobContext[Any] = JobContext(
            info,
            params,
            reporter=recorder,
            pools=pools,
            settings=Settings(documents=documents),
            artifacts=store,
            inputs=InputResolver(documents, store),
        )
        return ctx, recorder

    return Harness(root, store, make)


def place(harness: Harness, source: Path, name: str) -> str:
    shutil.copy(source, harness.root / name)
    return name


async def upload(harness: Harness, source: Path) -> str:
    async def chunks() -> AsyncIterator[bytes]:
        yield await asyncio.to_thread(source.read_bytes)

    stored = await harness.store.save_upload(
        "acme", source.name, "", chunks(), max_bytes=100 * 1024 * 1024
    )
    return stored.id


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


async def test_pdf_extracts_every_page_and_renders_markdown(
    harness: Harness, text_pdf_20: tuple[Path, list[str]]
) -> None:
    params = documents_pb2.PdfParams(
        file_path=place(harness, text_pdf_20[0], "known.pdf"),
        extraction_method=documents_pb2.EXTRACTION_METHOD_NATIVE,
        template="default",
    )
    ctx, recorder = harness.make("pdf", params)

    result = await pdf.handler(ctx)

    assert isinstance(result, documents_pb2.PdfResult)
    assert result.page_count == 20
    assert [page.text for page in result.pages] == text_pdf_20[1]
    assert not any(page.ocr for page in result.pages)
    assert result.metadata.title == "Known text"
    assert result.document.startswith("# Known text\n\n*Jobwire Tests*\n\n## Page 1\n\nPage 1\n")
    extract_events = [event for event in recorder.progress_events if event[1] == "extract"]
    assert extract_events[-1][2:] == ("page 20 of 20", 20, 20)
    assert [event[3] for event in extract_events] == sorted(event[3] for event in extract_events)
    assert ctx.usage.counters["pages"] == 20


async def test_pdf_selected_pages_with_pdfium(
    harness: Harness, text_pdf_20: tuple[Path, list[str]]
) -> None:
    params = documents_pb2.PdfParams(
        file_id=await upload(harness, text_pdf_20[0]),
        pages="2,19-",
        engine=documents_pb2.PDF_ENGINE_PDFIUM,
    )
    ctx, _ = harness.make("pdf", params)

    result = await pdf.handler(ctx)

    assert isinstance(result, documents_pb2.PdfResult)
    assert [page.number for page in result.pages] == [2, 19, 20]
    assert [page.text for page in result.pages] == [text_pdf_20[1][i - 1] for i in (2, 19, 20)]


async def test_pdf_images_become_artifacts_with_jpeg_bytes_unchanged(
    harness: Harness, images_pdf: tuple[Path, bytes, Image.Image]
) -> None:
    params = documents_pb2.PdfParams(
        file_id=await upload(harness, images_pdf[0]), include_images=True
    )
    ctx, _ = harness.make("pdf", params)

    result = await pdf.handler(ctx)

    assert isinstance(result, documents_pb2.PdfResult)
    assert [(image.page, image.content_type) for image in result.images] == [
        (1, "image/jpeg"),
        (2, "image/png"),
    ]
    jpeg = result.images[0]
    info, pieces = await harness.store.open_download("acme", jpeg.id)
    stored = b"".join([piece async for piece in pieces])
    assert stored == images_pdf[1]
    assert jpeg.sha256 == hashlib.sha256(images_pdf[1]).hexdigest() == info.sha256
    png_info, png_pieces = await harness.store.open_download("acme", result.images[1].id)
    png = Image.open(io.BytesIO(b"".join([piece async for piece in png_pieces])))
    assert png.convert("RGB").tobytes() == images_pdf[2].convert("RGB").tobytes()
    assert png_info.page == 2
    assert ctx.usage.counters["images"] == 2


@needs_tesseract
async def test_pdf_auto_reads_scanned_pages_with_ocr(
    harness: Harness, scanned_pdf_2: Path, ocr_words: list[str]
) -> None:
    name = place(harness, scanned_pdf_2, "scan.pdf")
    ctx, recorder = harness.make("pdf", documents_pb2.PdfParams(file_path=name))

    result = await pdf.handler(ctx)

    assert isinstance(result, documents_pb2.PdfResult)
    for page in result.pages:
        assert page.ocr
        assert page.confidence > 80
        found = words(page.text)
        hits = sum(1 for word in words(" ".join(ocr_words)) if word in found)
        assert hits / len(words(" ".join(ocr_words))) >= 0.95
    assert [event[3] for event in recorder.progress_events if event[1] == "extract"] == [1, 2]
    assert ctx.usage.counters["ocr_pages"] == 2


async def test_pdf_native_leaves_scanned_pages_empty(harness: Harness, scanned_pdf_2: Path) -> None:
    params = documents_pb2.PdfParams(
        file_path=place(harness, scanned_pdf_2, "scan.pdf"),
        extraction_method=documents_pb2.EXTRACTION_METHOD_NATIVE,
    )
    ctx, _ = harness.make("pdf", params)

    result = await pdf.handler(ctx)

    assert isinstance(result, documents_pb2.PdfResult)
    assert [(page.text, page.ocr) for page in result.pages] == [("", False), ("", False)]


async def test_pdf_failures_cross_the_process_pool_with_their_code(
    harness: Harness, encrypted_pdf_file: tuple[Path, str], bomb_pdf_file: Path
) -> None:
    cases = [
        (
            documents_pb2.PdfParams(file_path=place(harness, encrypted_pdf_file[0], "s.pdf")),
            INPUT_ENCRYPTED,
        ),
        (
            documents_pb2.PdfParams(file_path=place(harness, bomb_pdf_file, "b.pdf")),
            INPUT_TOO_LARGE,
        ),
    ]
    (harness.root / "c.pdf").write_bytes(b"%PDF-1.7\ngarbage")
    cases.append((documents_pb2.PdfParams(file_path="c.pdf"), INPUT_CORRUPT))

    for params, code in cases:
        ctx, _ = harness.make("pdf", params)
        with pytest.raises(JobFailed) as raised:
            await pdf.handler(ctx)
        assert raised.value.code == code
        assert not raised.value.retryable


async def test_pdf_with_the_password(
    harness: Harness, encrypted_pdf_file: tuple[Path, str]
) -> None:
    path, password = encrypted_pdf_file
    params = documents_pb2.PdfParams(file_path=place(harness, path, "s.pdf"), password=password)
    ctx, _ = harness.make("pdf", params)

    result = await pdf.handler(ctx)

    assert isinstance(result, documents_pb2.PdfResult)
    assert [page.text for page in result.pages] == ["Secret text"]


@needs_tesseract
async def test_ocr_reads_an_image_and_pdf_pages(
    harness: Harness, word_image_png: Path, scanned_pdf_2: Path, ocr_words: list[str]
) -> None:
    expected = words(" ".join(ocr_words))
    for params in (
        documents_pb2.OcrParams(file_id=await upload(harness, word_image_png)),
        documents_pb2.OcrParams(
            file_path=place(harness, scanned_pdf_2, "s.pdf"), pages="2", dpi=200
        ),
    ):
        ctx, recorder = harness.make("ocr", params)

        result = await ocr.handler(ctx)

        assert isinstance(result, documents_pb2.OcrResult)
        assert result.language == "eng"
        assert len(result.pages) == 1
        found = words(result.pages[0].text)
        assert sum(1 for word in expected if word in found) / len(expected) >= 0.95
        assert result.pages[0].confidence > 80
        assert recorder.progress_events[-1][1:] == ("ocr", "page 1 of 1", 1, 1)


async def test_session_keeps_good_attachments_and_records_failures(
    harness: Harness,
    text_pdf_20: tuple[Path, list[str]],
    encrypted_pdf_file: tuple[Path, str],
) -> None:
    (harness.root / "notes.pdf").write_bytes(b"not a pdf")
    params = documents_pb2.SessionParams(
        event="PyCon DE 2026",
        title="Jobs that run once",
        speakers=[documents_pb2.Speaker(name="Ada Lovelace", affiliation="Engines")],
        extraction_method=documents_pb2.EXTRACTION_METHOD_NATIVE,
        attachments=[
            documents_pb2.Attachment(file_id=await upload(harness, text_pdf_20[0]), title="Slides"),
            documents_pb2.Attachment(file_path="notes.pdf"),
            documents_pb2.Attachment(file_path=place(harness, encrypted_pdf_file[0], "s.pdf")),
            documents_pb2.Attachment(file_path="../outside.pdf"),
        ],
    )
    ctx, recorder = harness.make("session", params)

    result = await session.handler(ctx)

    assert isinstance(result, documents_pb2.SessionResult)
    outcomes = [
        (a.title, a.WhichOneof("outcome") if False else a.HasField("pdf"), a.error.code)
        for a in result.attachments
    ]
    assert outcomes == [
        ("Slides", True, ""),
        ("notes.pdf", False, "INPUT_CORRUPT"),
        ("s.pdf", False, "INPUT_ENCRYPTED"),
        ("outside.pdf", False, "INPUT_REJECTED"),
    ]
    assert result.attachments[0].pdf.page_count == 20
    assert result.document.startswith("# Jobs that run once\n\n**PyCon DE 2026**\n\n")
    assert "- Ada Lovelace (Engines)" in result.document
    assert "### notes.pdf\n\n> Not extracted: INPUT_CORRUPT" in result.document
    percents = [event[0] or 0.0 for event in recorder.progress_events if event[1] == "extract"]
    assert percents == sorted(percents)
    assert percents[-1] == pytest.approx(25.0)
    assert sum(1 for level, _ in recorder.log_lines if level == "WARNING") == 3


async def test_memory_exhaustion_in_the_pool_fails_as_too_large(
    gigabyte_bomb_pdf_file: Path,
) -> None:
    # pypdf's own limit lifted: the pool's address-space limit is what stops this one.
    # (PDFium reads only what the stream limit has bounded, so it is not tried here.)
    source = PdfSource(str(gigabyte_bomb_pdf_file), limits=Limits(max_stream_bytes=10**10))
    small = WorkerPools(1, 1, memory_limit_mb=640)
    try:
        with pytest.raises(JobFailed, match="more memory than a worker may use") as raised:
            await small.run_cpu(extract_pages, source, (1,), "plain", False, 10.0, time_limit=120)
    finally:
        small.close()

    assert raised.value.code == INPUT_TOO_LARGE
    assert not raised.value.retryable
