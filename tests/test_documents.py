"""The document processors end to end: files in, jobs over gRPC, results and artifacts out.

Every test starts a real `jobwire serve` (the `servers` fixture) whose input root is a
directory of the test's own, writes documents there with the generators of
handlers/tests/documents.py, and checks what comes back through the API or the CLI. The
extraction itself is tested function by function in handlers/tests.
"""

import asyncio
import hashlib
import importlib.util
import io
import json
import os
import pty
import random
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from jobwire.client import AsyncJobwireClient, job_spec
from jobwire.server.errors import INPUT_CORRUPT, INPUT_ENCRYPTED, INPUT_REJECTED, INPUT_TOO_LARGE
from jobwire.server.server_process import ServerGroup, ServerProcess
from jobwire.v1 import documents_pb2, job_pb2

from .test_cli import CLI, run_cli
from .test_engine import all_jobs

HANDLER_TESTS = Path(__file__).resolve().parents[1] / "handlers" / "tests"


def handler_test_module(name: str) -> ModuleType:
    """A module of handlers/tests, by the name pytest gives it there.

    That directory is no package on sys.path (pytest imports it with importlib): a module
    pytest already imported is reused, any other is loaded from its file.
    """
    qualified = f"handlers.tests.{name}"
    module = sys.modules.get(qualified)
    if module is None:
        spec = importlib.util.spec_from_file_location(qualified, HANDLER_TESTS / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from handlers.tests import documents
    from handlers.tests import test_corpus as corpus_tests
else:
    documents = handler_test_module("documents")
    corpus_tests = handler_test_module("test_corpus")

COMPLETED = job_pb2.JOB_STATUS_COMPLETED
FAILED = job_pb2.JOB_STATUS_FAILED
NATIVE = documents_pb2.EXTRACTION_METHOD_NATIVE
AUTO = documents_pb2.EXTRACTION_METHOD_AUTO
ENGINES = {"pypdf": documents_pb2.PDF_ENGINE_PYPDF, "pdfium": documents_pb2.PDF_ENGINE_PDFIUM}

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None and not os.environ.get("CI"),
    reason="tesseract is not installed (`make install` installs it; required in CI)",
)


@dataclass
class DocumentServer:
    """A running server that reads `file_path` inputs from `root`, and a client of it."""

    root: Path
    server: ServerProcess
    client: AsyncJobwireClient


@pytest.fixture
async def served(servers: ServerGroup, tmp_path: Path) -> AsyncIterator[DocumentServer]:
    root = tmp_path / "inputs"
    root.mkdir()
    # Every progress report is written, so that watchers see each one.
    server = servers.start(
        JOBWIRE_DOCUMENTS_INPUT_ROOTS=json.dumps([str(root)]),
        JOBWIRE_GENERIC_WORKER_PROGRESS_INTERVAL="0",
    )
    async with AsyncJobwireClient(server.address) as client:
        yield DocumentServer(root, server, client)


async def run_job(
    client: AsyncJobwireClient, job_type: str, params: Any
) -> tuple[job_pb2.Job, list[job_pb2.JobEvent]]:
    """Submits one job and follows it to its end: the final job and every event seen."""
    job = await client.submit_job(job_type, params)
    events = [event async for event in client.watch_job(job.id)]
    return events[-1].job, events


async def batch_jobs(client: AsyncJobwireClient, batch_id: str) -> list[job_pb2.Job]:
    """Every job of a batch once the batch is finished."""
    async for _ in client.watch_batch(batch_id):
        pass
    return await all_jobs(client, batch_id)


async def result_of(
    client: AsyncJobwireClient, job: job_pb2.Job, scratch: Path
) -> job_pb2.JobResult:
    """The job's JobResult, fetched from its artifact when it was too large to be inline."""
    if not job.HasField("result_artifact"):
        return job.result
    path = scratch / f"{job.id}.binpb"
    await client.download_artifact(job.result_artifact.id, path)
    return job_pb2.JobResult.FromString(path.read_bytes())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def failure(job: job_pb2.Job) -> tuple[job_pb2.JobStatus.ValueType, str, bool, int]:
    return job.status, job.error.code, job.error.retryable, job.attempt


async def test_a_20_page_pdf_comes_back_page_by_page(served: DocumentServer) -> None:
    made = documents.text_pdf(served.root / "known.pdf", 20)

    job, events = await run_job(
        served.client, "pdf", documents_pb2.PdfParams(file_path="known.pdf")
    )

    assert job.status == COMPLETED, job.error
    assert job.result.pdf.page_count == 20
    assert [page.number for page in job.result.pdf.pages] == list(range(1, 21))
    assert [page.text for page in job.result.pdf.pages] == made.pages
    assert not any(page.ocr for page in job.result.pdf.pages)
    seen = [
        (event.job.progress.current, event.job.progress.total)
        for event in events
        if event.kind == job_pb2.JOB_EVENT_KIND_PROGRESS and event.job.progress.stage == "extract"
    ]
    assert seen == [(page, 20) for page in range(1, 21)]
    assert job.progress.percent == 100.0
    assert job.usage.counters["pages"] == 20


@needs_tesseract
async def test_an_image_only_pdf_is_read_with_ocr_by_auto_and_left_empty_by_native(
    served: DocumentServer,
) -> None:
    documents.scanned_pdf(served.root / "scan.pdf", 2)
    expected = words(" ".join(documents.OCR_LINES))

    (auto, _), (native, _) = await asyncio.gather(
        run_job(
            served.client,
            "pdf",
            documents_pb2.PdfParams(file_path="scan.pdf", extraction_method=AUTO),
        ),
        run_job(
            served.client,
            "pdf",
            documents_pb2.PdfParams(file_path="scan.pdf", extraction_method=NATIVE),
        ),
    )

    assert auto.status == COMPLETED, auto.error
    assert len(auto.result.pdf.pages) == 2
    for page in auto.result.pdf.pages:
        assert page.ocr
        found = words(page.text)
        assert sum(1 for word in expected if word in found) / len(expected) >= 0.95, page.text
    assert auto.usage.counters["ocr_pages"] == 2
    assert native.status == COMPLETED, native.error
    assert [(page.text, page.ocr) for page in native.result.pdf.pages] == [("", False)] * 2


async def test_embedded_images_come_back_as_artifacts_unchanged(
    served: DocumentServer, tmp_path: Path
) -> None:
    made = documents.image_pdf(served.root / "images.pdf")

    job, _ = await run_job(
        served.client,
        "pdf",
        documents_pb2.PdfParams(file_path="images.pdf", include_images=True),
    )

    assert job.status == COMPLETED, job.error
    images = job.result.pdf.images
    assert [(image.page, image.content_type) for image in images] == [
        (1, "image/jpeg"),
        (2, "image/png"),
    ]
    downloaded = []
    for image in images:
        target = tmp_path / image.name
        info = await served.client.download_artifact(image.id, target)
        data = target.read_bytes()
        assert (info.sha256, info.size) == (image.sha256, image.size) == (sha256(data), len(data))
        downloaded.append(data)
    # The JPEG is embedded as it is (DCTDecode): the same bytes come back. A PDF has no PNG
    # filter: the PNG went in as its pixels, and comes back as a PNG of the same pixels.
    assert downloaded[0] == made.jpeg
    png = Image.open(io.BytesIO(downloaded[1]))
    assert png.size == made.png.size
    assert png.convert("RGB").tobytes() == made.png.convert("RGB").tobytes()


SPEAKERS = [
    documents_pb2.Speaker(name="Ada Lovelace", affiliation="Analytical Engines"),
    documents_pb2.Speaker(name="Grace Hopper", affiliation="US Navy"),
    documents_pb2.Speaker(name="Alan Turing"),
]
ATTACHMENT_PAGES = {
    "slides.pdf": ["Why every job runs once\nClaims are atomic", "Leases are renewed"],
    "paper.pdf": ["Retries with exponential backoff and jitter"],
    "notes.pdf": ["Questions from the hallway track\nWhat happens when a worker dies"],
}


async def test_a_session_page_names_every_speaker_and_holds_every_attachment(
    served: DocumentServer, tmp_path: Path
) -> None:
    for name, pages in ATTACHMENT_PAGES.items():
        documents.pages_pdf(tmp_path / name, pages, title=name)
    shutil.copy(tmp_path / "slides.pdf", served.root)
    shutil.copy(tmp_path / "paper.pdf", served.root)
    (served.root / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is no PDF")
    notes = await served.client.upload_file(tmp_path / "notes.pdf")
    attachments = [
        documents_pb2.Attachment(file_path="slides.pdf", title="Slides"),
        documents_pb2.Attachment(file_path="paper.pdf", title="Paper"),
        documents_pb2.Attachment(file_id=notes.id, title="Notes"),
    ]
    with_broken = [*attachments[:2], documents_pb2.Attachment(file_path="broken.pdf")]

    def session(chosen: list[documents_pb2.Attachment]) -> documents_pb2.SessionParams:
        return documents_pb2.SessionParams(
            event="PyCon DE 2026",
            title="Jobs that run once",
            speakers=SPEAKERS,
            attachments=chosen,
            extraction_method=NATIVE,
        )

    (whole, _), (partial, _) = await asyncio.gather(
        run_job(served.client, "session", session(attachments)),
        run_job(served.client, "session", session(with_broken)),
    )

    assert whole.status == COMPLETED, whole.error
    document = whole.result.session.document
    assert document.startswith("# Jobs that run once\n")
    for speaker in SPEAKERS:
        assert speaker.name in document
    for pages in ATTACHMENT_PAGES.values():
        for text in pages:
            assert text in document
    outcomes = [
        (a.title, a.HasField("pdf"), a.error.code) for a in whole.result.session.attachments
    ]
    assert outcomes == [("Slides", True, ""), ("Paper", True, ""), ("Notes", True, "")]

    assert partial.status == COMPLETED, partial.error
    kept = partial.result.session
    outcomes = [(a.title, a.HasField("pdf"), a.error.code) for a in kept.attachments]
    assert outcomes == [
        ("Slides", True, ""),
        ("Paper", True, ""),
        ("broken.pdf", False, INPUT_CORRUPT),
    ]
    assert kept.attachments[2].error.message
    for name in ("slides.pdf", "paper.pdf"):
        for text in ATTACHMENT_PAGES[name]:
            assert text in kept.document
    assert f"### broken.pdf\n\n> Not extracted: {INPUT_CORRUPT}" in kept.document


async def test_paths_leading_out_of_the_input_root_are_rejected(
    served: DocumentServer, tmp_path: Path
) -> None:
    # A readable PDF outside the root: were the symlink followed, the job would complete.
    outside = documents.text_pdf(tmp_path / "outside.pdf", 1).path
    (served.root / "outside.pdf").symlink_to(outside)
    (served.root / "passwd").symlink_to("/etc/passwd")
    paths = ["/etc/passwd", "../../etc/passwd", "outside.pdf", "passwd"]

    submitted = await served.client.submit_batch(
        [job_spec("pdf", documents_pb2.PdfParams(file_path=path)) for path in paths]
    )
    jobs = await batch_jobs(served.client, submitted.batch.id)

    by_path = {job.params.pdf.file_path: job for job in jobs}
    assert {path: failure(by_path[path]) for path in paths} == {
        path: (FAILED, INPUT_REJECTED, False, 1) for path in paths
    }


@pytest.mark.parametrize("engine", ENGINES)
async def test_broken_and_hostile_pdfs_fail_with_their_code_and_work_goes_on(
    served: DocumentServer, engine: str
) -> None:
    (served.root / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog garbage")
    documents.encrypted_pdf(served.root / "secret.pdf", "open sesame")
    # Inflates to 128 MiB, beyond the 75 MB a stream may decompress to.
    documents.bomb_pdf(served.root / "bomb.pdf", 128 * 1024 * 1024)
    expected = {
        "corrupt.pdf": INPUT_CORRUPT,
        "secret.pdf": INPUT_ENCRYPTED,
        "bomb.pdf": INPUT_TOO_LARGE,
    }

    def params(path: str) -> documents_pb2.PdfParams:
        return documents_pb2.PdfParams(file_path=path, engine=ENGINES[engine])

    outcomes = await asyncio.gather(
        *(run_job(served.client, "pdf", params(path)) for path in expected)
    )
    made = documents.text_pdf(served.root / "after.pdf", 3)
    after, _ = await run_job(served.client, "pdf", params("after.pdf"))

    assert {path: failure(job) for path, (job, _) in zip(expected, outcomes, strict=True)} == {
        path: (FAILED, code, False, 1) for path, code in expected.items()
    }
    assert after.status == COMPLETED, after.error
    assert [page.text for page in after.result.pdf.pages] == made.pages


async def test_jobs_with_large_results_are_listed_in_pages_that_fit_a_message(
    served: DocumentServer,
) -> None:
    # About 420 kB of text per result: ten of them exceed the 4 MiB a client accepts.
    line = "jobs that run once at a time and leave nothing behind " * 4
    page = "\n".join(f"{row:02d} {line}" for row in range(48))
    documents.pages_pdf(served.root / "dense.pdf", [page] * 40)
    specs = [job_spec("pdf", documents_pb2.PdfParams(file_path="dense.pdf")) for _ in range(10)]
    submitted = await served.client.submit_batch(specs)
    listed = await batch_jobs(served.client, submitted.batch.id)
    first = await served.client.list_jobs(batch_id=submitted.batch.id, page_size=10)

    assert 1 <= len(first.jobs) < 10
    assert first.next_page_token
    assert sorted(job.id for job in listed) == sorted(submitted.job_ids)
    assert all(job.status == COMPLETED and len(job.result.pdf.pages) == 40 for job in listed)


async def test_a_10_mb_upload_round_trips_and_an_uploaded_pdf_is_extracted(
    served: DocumentServer, tmp_path: Path
) -> None:
    data = random.Random(10).randbytes(10 * 1024 * 1024)
    (tmp_path / "blob.bin").write_bytes(data)
    made = documents.text_pdf(tmp_path / "upload.pdf", 3)

    uploaded = await served.client.upload_file(tmp_path / "blob.bin")
    info = await served.client.download_artifact(uploaded.id, tmp_path / "back.bin")
    pdf_upload = await served.client.upload_file(made.path)
    job, _ = await run_job(served.client, "pdf", documents_pb2.PdfParams(file_id=pdf_upload.id))

    assert (uploaded.size, uploaded.sha256) == (len(data), sha256(data))
    assert sha256((tmp_path / "back.bin").read_bytes()) == sha256(data) == info.sha256
    assert job.status == COMPLETED, job.error
    assert [page.text for page in job.result.pdf.pages] == made.pages


def run_cli_on_a_terminal(server: ServerProcess, *arguments: str) -> tuple[int, str]:
    """Runs the CLI with a pseudo-terminal as stdout: its exit code and what it showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*CLI, *arguments],
        env={**os.environ, "JOBWIRE_ADDR": server.address},
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the CLI has exited and closed the terminal.
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=60), b"".join(chunks).decode()


def test_the_cli_uploads_watches_prints_and_downloads(
    served: DocumentServer, tmp_path: Path
) -> None:
    text = documents.text_pdf(tmp_path / "talk.pdf", 3)
    images = documents.image_pdf(tmp_path / "images.pdf")

    code, screen = run_cli_on_a_terminal(
        served.server,
        "submit", "pdf", "--file", str(text.path),
        "--param", "extraction_method=auto", "--param", "template=default", "--watch",
    )  # fmt: skip
    as_json = run_cli(
        served.server,
        "submit", "pdf", "--file", str(images.path),
        "--param", "include_images=true", "--watch", "--output", "json",
    )  # fmt: skip

    assert code == 0, screen
    assert re.search(r"uploaded .*talk\.pdf as \S+ \(\d+ bytes\)", screen)
    assert "\r\x1b[2K" in screen  # the live progress line, rewritten in place
    assert "100.0%" in screen
    printed = screen.replace("\r\n", "\n")
    assert "# Known text\n\n*Jobwire Tests*\n\n## Page 1\n" in printed
    for page in text.pages:
        assert page in printed

    assert as_json.returncode == 0, as_json.stderr
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    final = lines[-1]
    assert final["status"] == "JOB_STATUS_COMPLETED"
    assert [page["text"] for page in final["result"]["pdf"]["pages"]] == [
        "A photograph",
        "A drawing",
    ]
    photo = final["result"]["pdf"]["images"][0]

    saved = run_cli(served.server, "download", photo["id"], "-o", str(tmp_path / "photo.jpg"))

    assert saved.returncode == 0, saved.stderr
    assert f"to {tmp_path / 'photo.jpg'}" in saved.stdout
    assert (tmp_path / "photo.jpg").read_bytes() == images.jpeg


@pytest.mark.timeout(300)
async def test_the_real_world_corpus_through_the_server_with_both_engines(
    servers: ServerGroup, tmp_path: Path
) -> None:
    missing = corpus_tests.corpus_missing()
    if missing is not None:
        pytest.skip(missing)
    corpus = corpus_tests.CORPUS
    listed = json.loads((corpus / "files.json").read_text())["data"]
    entries = {entry["path"]: entry for entry in listed if (corpus / entry["path"]).is_file()}
    # Results over 64 KiB (GeoTopo's) are stored as an artifact instead of in the job.
    server = servers.start(
        JOBWIRE_DOCUMENTS_INPUT_ROOTS=json.dumps([str(corpus)]),
        JOBWIRE_DOCUMENTS_INLINE_RESULT_LIMIT_KB="64",
    )

    async with AsyncJobwireClient(server.address) as client:

        async def run_corpus(engine: str) -> list[job_pb2.Job]:
            specs = [
                job_spec(
                    "pdf",
                    documents_pb2.PdfParams(
                        file_path=path, engine=ENGINES[engine], extraction_method=NATIVE
                    ),
                )
                for path in entries
            ]
            submitted = await client.submit_batch(specs, name=f"corpus-{engine}")
            return await batch_jobs(client, submitted.batch.id)

        by_engine = dict(zip(ENGINES, await asyncio.gather(*map(run_corpus, ENGINES)), strict=True))
        outcomes = {
            (engine, job.params.pdf.file_path): (job, await result_of(client, job, tmp_path))
            for engine, jobs in by_engine.items()
            for job in jobs
        }

    assert len(outcomes) == len(ENGINES) * len(entries)
    assert any(job.HasField("result_artifact") for job, _ in outcomes.values())
    for (engine, path), (job, result) in outcomes.items():
        where = f"{path} with {engine}: {job.error.code} {job.error.message}"
        if path == corpus_tests.ENCRYPTED:
            assert failure(job) == (FAILED, INPUT_ENCRYPTED, False, 1), where
        elif path == corpus_tests.UNREADABLE_METADATA and job.status == FAILED:
            # Its page tree points to objects that are not there (see test_corpus.py).
            assert failure(job) == (FAILED, INPUT_CORRUPT, False, 1), where
        else:
            pages = entries[path]["pages"]
            assert job.status == COMPLETED, where
            assert result.pdf.page_count == pages, where
            assert [page.number for page in result.pdf.pages] == list(range(1, pages + 1)), where
