"""The `ocr` job type: text of images (PNG, JPEG, TIFF frames) or PDF pages by Tesseract."""

import asyncio
import functools
from typing import Any

from jobwire.handlers import pdf_extract, tesseract
from jobwire.handlers.concurrency import in_order
from jobwire.handlers.limits import Limits, document_settings
from jobwire.handlers.ocr_extract import OcrText, ocr_image_frame, ocr_pdf_page, probe_input
from jobwire.handlers.page_ranges import parse_page_ranges, select_pages
from jobwire.handlers.pdf import DEFAULT_DPI, check_source
from jobwire.handlers.pdf_extract import PdfSource
from jobwire.server.context import JobContext
from jobwire.server.errors import InvalidParameters
from jobwire.server.registry import job_type
from jobwire.v1 import documents_pb2

MIN_DPI = 72
MAX_DPI = 600


def validate_ocr(params: documents_pb2.OcrParams) -> None:
    """Checks OcrParams at submission."""
    check_source(params.WhichOneof("source"), params.file_path or params.file_id)
    parse_page_ranges(params.pages)
    if params.dpi and not MIN_DPI <= params.dpi <= MAX_DPI:
        raise InvalidParameters("dpi", f"must be from {MIN_DPI} to {MAX_DPI}, not {params.dpi}")
    if params.language:
        tesseract.check_language(params.language, field="language")


@job_type("ocr", params=documents_pb2.OcrParams, validate=validate_ocr, timeout=900.0)
async def ocr(ctx: JobContext[documents_pb2.OcrParams]) -> documents_pb2.OcrResult:
    """Reads the text of an image or of PDF pages with Tesseract."""
    params = ctx.params
    language = params.language or tesseract.DEFAULT_LANGUAGE
    dpi = params.dpi or DEFAULT_DPI
    limits = Limits.from_settings(document_settings(ctx))
    await ctx.run_blocking(tesseract.require_language, language)

    async with ctx.open_input(file_path=params.file_path, file_id=params.file_id) as path:
        # Tell a PDF from an image, and count its pages or frames within the limits.
        probe = await ctx.run_cpu(probe_input, str(path), limits)
        if probe.kind == "pdf":
            source = PdfSource(path=str(path), engine="pdfium", limits=limits)
            page_count = (await ctx.run_cpu(pdf_extract.probe_pdf, source)).page_count
        else:
            page_count = probe.frames
        numbers = select_pages(parse_page_ranges(params.pages), page_count)

        # Read the pages, as many at once as the pool has processes, one call per page.
        if probe.kind == "pdf":
            calls = [
                functools.partial(_read, ctx, ocr_pdf_page, source, number, dpi, language)
                for number in numbers
            ]
        else:
            calls = [
                functools.partial(_read, ctx, ocr_image_frame, str(path), number, language, limits)
                for number in numbers
            ]
        result = documents_pb2.OcrResult(language=language)
        parallel = ctx.settings.generic_worker.process_workers
        async for recognized in in_order(calls, parallel):
            result.pages.append(
                documents_pb2.OcrPage(
                    number=recognized.number,
                    text=recognized.text,
                    confidence=recognized.confidence,
                )
            )
            done = len(result.pages)
            await ctx.progress(
                current=done,
                total=len(numbers),
                stage="ocr",
                message=f"page {done} of {len(numbers)}",
            )

    ctx.count("pages", len(numbers))
    ctx.count("ocr_pages", len(numbers))
    return result


async def _read(ctx: JobContext[Any], function: Any, *args: Any) -> OcrText:
    """Runs one OCR call in the pool, with Tesseract bounded by the attempt's deadline."""
    ctx.raise_if_cancelled()
    remaining = max(ctx.info.deadline - asyncio.get_running_loop().time(), 0.001)
    recognized: OcrText = await ctx.run_cpu(function, *args, remaining)
    ctx.usage.cpu_seconds += recognized.cpu_seconds
    return recognized
