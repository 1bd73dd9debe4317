"""The `pdf` job type: text, images and metadata of one PDF, optionally rendered to Markdown.

`extract_pdf` is the extraction itself; the `session` job type runs it for each attachment.
The CPU work runs in the server's process pool in calls of about `CHUNK_SECONDS` each, so
progress is reported as pages finish and other jobs get their turn in the pool between
calls.
"""

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobwire.handlers import pdf_extract, tesseract
from jobwire.handlers.concurrency import in_order
from jobwire.handlers.limits import Limits, document_settings
from jobwire.handlers.ocr_extract import OcrText, ocr_pdf_page
from jobwire.handlers.page_ranges import PageRange, parse_page_ranges
from jobwire.handlers.pdf_extract import Engine, PageExtract, PdfProbe, PdfSource, TextMode
from jobwire.handlers.pdf_images import EmbeddedImage
from jobwire.handlers.pdf_metadata import Metadata
from jobwire.handlers.rendering import check_template_name, render_markdown
from jobwire.handlers.variables import pdf_variables
from jobwire.server.context import JobContext
from jobwire.server.errors import INPUT_CORRUPT, InvalidParameters, JobFailed
from jobwire.server.params import struct_to_dict
from jobwire.server.registry import job_type
from jobwire.v1 import documents_pb2

# Seconds of work one call into the process pool aims at before it returns its pages.
CHUNK_SECONDS = 0.5
DEFAULT_DPI = 300

PageProgress = Callable[[int, int], Awaitable[None]]
"""Called with (pages done, pages to do) as extraction goes on."""

_TEXT_MODES: dict[int, TextMode] = {
    documents_pb2.EXTRACTION_METHOD_NATIVE: "plain",
    documents_pb2.EXTRACTION_METHOD_LAYOUT: "layout",
    documents_pb2.EXTRACTION_METHOD_OCR: "none",
    documents_pb2.EXTRACTION_METHOD_AUTO: "plain",
}
_ENGINES: dict[int, Engine] = {
    documents_pb2.PDF_ENGINE_UNSPECIFIED: "pypdf",
    documents_pb2.PDF_ENGINE_PYPDF: "pypdf",
    documents_pb2.PDF_ENGINE_PDFIUM: "pdfium",
}


@dataclass(frozen=True, slots=True)
class PdfOptions:
    """How to extract one PDF: the parts of PdfParams (or SessionParams) that matter here."""

    method: int = documents_pb2.EXTRACTION_METHOD_AUTO
    engine: Engine = "pypdf"
    include_images: bool = False
    pages: tuple[PageRange, ...] = ()
    password: str = ""
    ocr_language: str = tesseract.DEFAULT_LANGUAGE
    dpi: int = DEFAULT_DPI

    @classmethod
    def from_params(cls, params: documents_pb2.PdfParams) -> "PdfOptions":
        return cls(
            method=method_of(params.extraction_method),
            engine=_ENGINES[params.engine],
            include_images=params.include_images,
            pages=parse_page_ranges(params.pages),
            password=params.password,
            ocr_language=params.ocr_language or tesseract.DEFAULT_LANGUAGE,
        )


def validate_pdf(params: documents_pb2.PdfParams) -> None:
    """Checks PdfParams at submission."""
    check_source(params.WhichOneof("source"), params.file_path or params.file_id)
    check_method(params.extraction_method, "extraction_method")
    if params.engine not in _ENGINES:
        raise InvalidParameters("engine", f"unknown engine {params.engine}")
    parse_page_ranges(params.pages)
    if params.template:
        check_template_name(params.template)
    if params.ocr_language:
        tesseract.check_language(params.ocr_language, field="ocr_language")


@job_type(
    "pdf",
    params=documents_pb2.PdfParams,
    validate=validate_pdf,
    timeout=900.0,
)
async def pdf(ctx: JobContext[documents_pb2.PdfParams]) -> documents_pb2.PdfResult:
    """Extracts the text, images and metadata of one PDF, optionally rendered to Markdown."""
    params = ctx.params
    options = PdfOptions.from_params(params)

    async def report(done: int, total: int) -> None:
        await ctx.progress(
            current=done, total=total, stage="extract", message=f"page {done} of {total}"
        )

    async with ctx.open_input(file_path=params.file_path, file_id=params.file_id) as path:
        result = await extract_pdf(ctx, path, options, report)
        title = result.metadata.title or path.name

    if params.template:
        await ctx.progress(stage="render", message=f"rendering template {params.template}")
        variables = pdf_variables(
            result,
            title=title,
            source=params.file_path or params.file_id,
            context=struct_to_dict(params.context),
        )
        templates_dir = document_settings(ctx).templates_dir
        result.document = await ctx.run_cpu(
            render_markdown, templates_dir, params.template, variables
        )
    return result


async def extract_pdf(
    ctx: JobContext[Any], path: Path, options: PdfOptions, report: PageProgress
) -> documents_pb2.PdfResult:
    """Extracts the PDF at `path` as `options` say, reporting progress per page."""
    settings = document_settings(ctx)
    source = PdfSource(
        path=str(path),
        password=options.password,
        engine=options.engine,
        limits=Limits.from_settings(settings),
    )

    # Open the document and check it against the limits; a short one is read in that call.
    reader = _PageReader(ctx, source, options)
    probe, numbers, first = await reader.open()
    result = documents_pb2.PdfResult(
        page_count=probe.page_count, metadata=metadata_message(probe.metadata)
    )
    if options.method == documents_pb2.EXTRACTION_METHOD_OCR:
        await ctx.run_blocking(tesseract.require_language, options.ocr_language)

    # Read the rest in chunks; OCR the pages that need it, store images as they come.
    async for page in reader.pages(numbers, first):
        result.pages.append(page)
        await report(len(result.pages), len(numbers))
    result.images.extend(reader.images)

    ctx.count("pages", len(numbers))
    ctx.count("ocr_pages", reader.ocr_pages)
    ctx.count("images", len(reader.stored))
    return result


class _PageReader:
    """Opens the PDF and yields each page's PageText, calling into the pool chunk by chunk."""

    def __init__(self, ctx: JobContext[Any], source: PdfSource, options: PdfOptions) -> None:
        self.ctx = ctx
        self.source = source
        self.options = options
        self.text_mode = _TEXT_MODES[options.method]
        self.images: list[documents_pb2.ArtifactRef] = []
        self.stored: dict[str, documents_pb2.ArtifactRef] = {}
        self.ocr_pages = 0
        self._language_checked = options.method == documents_pb2.EXTRACTION_METHOD_OCR

    async def open(self) -> tuple[PdfProbe, tuple[int, ...], list[PageExtract]]:
        """The probe, the numbers of the selected pages and the first chunk, in one pool call.

        The OCR method checks its language before any page is read, so its first chunk is
        always empty.
        """
        reads_images = (
            self.options.include_images
            and self.options.method != documents_pb2.EXTRACTION_METHOD_OCR
        )
        opened: tuple[PdfProbe, tuple[int, ...], list[PageExtract]] = await self.ctx.run_cpu(
            pdf_extract.open_and_extract,
            self.source,
            self.options.pages,
            self.text_mode,
            reads_images,
            CHUNK_SECONDS,
        )
        return opened

    async def pages(
        self, numbers: tuple[int, ...], first: list[PageExtract]
    ) -> AsyncIterator[documents_pb2.PageText]:
        """Each page's text, in page order, starting with the chunk `open` read.

        The pages of a chunk that need OCR are read several at a time (as many as the pool
        has processes), and yielded in page order.
        """
        remaining = numbers
        parallel = self.ctx.settings.generic_worker.process_workers
        while remaining:
            self.ctx.raise_if_cancelled()
            chunk = first or await self._next_chunk(remaining, parallel)
            first = []
            remaining = remaining[len(chunk) :]
            for extract in chunk:
                for warning in extract.warnings:
                    await self.ctx.log(warning, level="WARNING")
                for image in extract.images:
                    self.images.append(await self._store(image))
            if any(self._needs_ocr(extract) for extract in chunk):
                await self._check_language()

            calls = [functools.partial(self._page_text, extract) for extract in chunk]
            async for page in in_order(calls, parallel):
                yield page

    async def _next_chunk(self, remaining: tuple[int, ...], parallel: int) -> list[PageExtract]:
        if self.text_mode == "none" and not self.options.include_images:
            # OCR only: nothing to read from the PDF itself; enough pages to keep the pool busy.
            return [PageExtract(number=number, text="") for number in remaining[: 2 * parallel]]
        chunk: list[PageExtract] = await self.ctx.run_cpu(
            pdf_extract.extract_pages,
            self.source,
            remaining,
            self.text_mode,
            self.options.include_images,
            CHUNK_SECONDS,
        )
        return chunk

    def _needs_ocr(self, extract: PageExtract) -> bool:
        method = self.options.method
        return method == documents_pb2.EXTRACTION_METHOD_OCR or (
            method == documents_pb2.EXTRACTION_METHOD_AUTO and not extract.text.strip()
        )

    async def _page_text(self, extract: PageExtract) -> documents_pb2.PageText:
        method = self.options.method
        if not self._needs_ocr(extract):
            return documents_pb2.PageText(number=extract.number, text=extract.text)

        try:
            recognized = await self._ocr(extract.number)
        except JobFailed as failure:
            if method == documents_pb2.EXTRACTION_METHOD_OCR or failure.code != INPUT_CORRUPT:
                raise
            # AUTO keeps the (empty) text layer of a page PDFium cannot render.
            await self.ctx.log(f"page {extract.number}: OCR skipped: {failure}", level="WARNING")
            return documents_pb2.PageText(number=extract.number, text=extract.text)
        return documents_pb2.PageText(
            number=extract.number,
            text=recognized.text,
            ocr=True,
            confidence=recognized.confidence,
        )

    async def _check_language(self) -> None:
        if not self._language_checked:
            await self.ctx.run_blocking(tesseract.require_language, self.options.ocr_language)
            self._language_checked = True

    async def _ocr(self, number: int) -> OcrText:
        recognized: OcrText = await self.ctx.run_cpu(
            ocr_pdf_page,
            self.source,
            number,
            self.options.dpi,
            self.options.ocr_language,
            _remaining_seconds(self.ctx),
        )
        self.ctx.usage.cpu_seconds += recognized.cpu_seconds
        self.ocr_pages += 1
        return recognized

    async def _store(self, image: EmbeddedImage) -> documents_pb2.ArtifactRef:
        """Stores an image once per document; a repeated one points to the first copy."""
        stored = self.stored.get(image.sha256)
        if stored is None:
            stored = await self.ctx.save_artifact(
                image.name, image.data, image.content_type, page=image.page
            )
            self.stored[image.sha256] = stored
        ref = documents_pb2.ArtifactRef()
        ref.CopyFrom(stored)
        ref.page = image.page
        return ref


def metadata_message(metadata: Metadata) -> documents_pb2.DocumentMetadata:
    message = documents_pb2.DocumentMetadata(
        title=metadata.title,
        author=metadata.author,
        subject=metadata.subject,
        creator=metadata.creator,
        producer=metadata.producer,
    )
    if metadata.created_at is not None:
        message.created_at.FromDatetime(metadata.created_at)
    if metadata.modified_at is not None:
        message.modified_at.FromDatetime(metadata.modified_at)
    return message


def check_source(which: str | None, value: str, *, field: str = "source") -> None:
    """Refuses a `source` oneof that names no file."""
    if which is None or not value:
        raise InvalidParameters(field, "give file_path or file_id")
    if which == "file_path" and "\x00" in value:
        raise InvalidParameters("file_path", "contains a NUL character")


def check_method(method: int, field: str) -> None:
    if method != documents_pb2.EXTRACTION_METHOD_UNSPECIFIED and method not in _TEXT_MODES:
        raise InvalidParameters(field, f"unknown extraction method {method}")


def method_of(method: int) -> int:
    """The extraction method to use for a submitted one (UNSPECIFIED means AUTO)."""
    return documents_pb2.EXTRACTION_METHOD_AUTO if method not in _TEXT_MODES else method


def _remaining_seconds(ctx: JobContext[Any]) -> float:
    return max(ctx.info.deadline - asyncio.get_running_loop().time(), 0.001)
