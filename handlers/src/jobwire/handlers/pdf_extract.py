"""Reading PDFs in the process pool: page count and metadata, page text, images, rasters.

Every public function here runs in a pool process: it is module-level and takes and
returns plain picklable data. A pool process keeps the last few documents it opened
(keyed by path, inode, mtime, size and password), so a job that reads its document in
several calls parses it once per process rather than once per call.
"""

import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Literal, TypeVar

import pypdfium2 as pdfium
from pypdf import PdfReader
from pypdf.errors import LimitReachedError

from jobwire.handlers import flate_scan, pdf_metadata
from jobwire.handlers.failures import corrupt, encrypted, too_large, translate_failures
from jobwire.handlers.limits import Limits, pypdf_limits
from jobwire.handlers.page_ranges import PageRange, select_pages
from jobwire.handlers.pdf_images import EmbeddedImage, SkippedImage, page_images
from jobwire.handlers.pdf_metadata import Metadata
from jobwire.handlers.stream_audit import audit_page
from jobwire.server.errors import JobFailed

Engine = Literal["pypdf", "pdfium"]
TextMode = Literal["plain", "layout", "none"]

# Documents of each library a pool process keeps open between calls.
_CACHED_DOCUMENTS = 2
# Distinct library warnings kept per page.
_MAX_WARNINGS_PER_PAGE = 10
# Image bytes one extract_pages call gathers before it returns what it has.
_CHUNK_IMAGE_BYTES = 64 * 1024 * 1024

D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class PdfSource:
    """Which PDF to read and how; the argument of every call into the pool."""

    path: str
    password: str = ""
    engine: Engine = "pypdf"
    limits: Limits = field(default_factory=Limits)

    @property
    def what(self) -> str:
        return f"PDF {os.path.basename(self.path)}"


@dataclass(frozen=True, slots=True)
class PdfProbe:
    """What is known about a PDF once it is open."""

    page_count: int
    metadata: Metadata


@dataclass(frozen=True, slots=True)
class PageExtract:
    """One page's text layer and images."""

    number: int
    text: str
    images: tuple[EmbeddedImage, ...] = ()
    warnings: tuple[str, ...] = ()


def probe_pdf(source: PdfSource) -> PdfProbe:
    """Opens the PDF and checks it against the limits; fails with a stable code otherwise."""
    with translate_failures(source.what), pypdf_limits(source.limits):
        if source.engine == "pdfium":
            document = _pdfium_document(source)
            page_count = len(document)
            metadata = pdf_metadata.read_safely(
                lambda: pdf_metadata.from_info(document.get_metadata_dict())
            )
        else:
            reader = _pypdf_reader(source)
            page_count = _pypdf_page_count(reader, source)
            metadata = pdf_metadata.read_safely(lambda: _pypdf_metadata(reader))

    if page_count > source.limits.max_pages:
        raise _too_many_pages(page_count, source.limits)
    return PdfProbe(page_count=page_count, metadata=metadata)


def open_and_extract(
    source: PdfSource,
    pages: tuple[PageRange, ...],
    text_mode: TextMode,
    include_images: bool,
    budget_seconds: float,
) -> tuple[PdfProbe, tuple[int, ...], list[PageExtract]]:
    """`probe_pdf`, the numbers of the pages `pages` selects, and their first `extract_pages`.

    One call where a short document would otherwise need two. The first chunk is empty
    when there is nothing to read from the pages themselves (text mode "none" without
    images: OCR only). A selection beyond the last page fails with INVALID_PARAMETERS.
    """
    probe = probe_pdf(source)
    numbers = tuple(select_pages(pages, probe.page_count))
    if text_mode == "none" and not include_images:
        return probe, numbers, []
    return probe, numbers, extract_pages(source, numbers, text_mode, include_images, budget_seconds)


def extract_pages(
    source: PdfSource,
    numbers: tuple[int, ...],
    text_mode: TextMode,
    include_images: bool,
    budget_seconds: float,
) -> list[PageExtract]:
    """Extracts pages `numbers` in order until `budget_seconds` or the image budget is spent.

    Always returns at least the first page; the caller asks again for the rest. Pages whose
    text cannot be read come back empty with a warning (AUTO then reads them with OCR);
    limits and memory exhaustion fail the job.
    """
    started = time.monotonic()
    pages: list[PageExtract] = []
    image_bytes = 0
    with translate_failures(source.what), pypdf_limits(source.limits):
        for number in numbers:
            page = _extract_page(source, number, text_mode, include_images)
            pages.append(page)
            image_bytes += sum(len(image.data) for image in page.images)
            if time.monotonic() - started >= budget_seconds or image_bytes >= _CHUNK_IMAGE_BYTES:
                break
    return pages


def render_page(source: PdfSource, number: int, dpi: int) -> tuple[bytes, int]:
    """Page `number` rendered in grey by PDFium as PGM bytes, and the resolution used.

    A page that would exceed the pixel limit at `dpi` is rendered at the highest
    resolution that stays within it.
    """
    with translate_failures(source.what):
        document = _pdfium_document(source)
        if not 1 <= number <= len(document):
            raise corrupt(f"{source.what} has no page {number}")
        page = document[number - 1]
        try:
            audit_for_pdfium(source, number, rendering=True)
            width, height = page.get_size()
            scale = _render_scale(width, height, dpi, source.limits, number)
            bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=False)
            image = bitmap.to_pil()
            buffer = BytesIO()
            image.save(buffer, format="PPM")
            return buffer.getvalue(), round(scale * 72)
        finally:
            page.close()


def _render_scale(width: float, height: float, dpi: int, limits: Limits, number: int) -> float:
    if not (width > 0 and height > 0) or not math.isfinite(width * height):
        raise corrupt(f"page {number} has no usable size ({width} x {height} points)")
    scale = dpi / 72
    # PDFium rounds the bitmap's sides up: shrink until the rounded size fits.
    while math.ceil(width * scale) * math.ceil(height * scale) > limits.max_image_pixels:
        scale = min(scale * 0.99, math.sqrt(limits.max_image_pixels / (width * height)))
        if scale * 72 < 1:
            break
    if scale * 72 < 1:
        raise too_large(f"page {number} is too large to render within the pixel limit")
    return scale


def _extract_page(
    source: PdfSource, number: int, text_mode: TextMode, include_images: bool
) -> PageExtract:
    with _LibraryWarnings() as warnings:
        return _read_page(source, number, text_mode, include_images, warnings)


def _read_page(
    source: PdfSource, number: int, text_mode: TextMode, include_images: bool, warnings: list[str]
) -> PageExtract:
    text = ""
    if text_mode != "none":
        # Trailing blank lines say nothing and differ between engines.
        text = _guarded(
            warnings, f"text of page {number}", "", lambda: _page_text(source, number, text_mode)
        ).rstrip()

    images: list[EmbeddedImage] = []
    if include_images:
        nothing: list[EmbeddedImage | SkippedImage] = []
        found = _guarded(
            warnings, f"images of page {number}", nothing, lambda: _page_images(source, number)
        )
        for image in found:
            if isinstance(image, SkippedImage):
                warnings.append(f"image {image.image_id} on page {number} skipped: {image.reason}")
            else:
                images.append(image)
    return PageExtract(number=number, text=text, images=tuple(images), warnings=tuple(warnings))


class _LibraryWarnings(logging.Handler):
    """Collects what pypdf logs while one page is read, for the job's log (not the server's)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.logger = logging.getLogger("pypdf")

    def emit(self, record: logging.LogRecord) -> None:
        message = f"pypdf: {record.getMessage()}"
        if len(self.messages) < _MAX_WARNINGS_PER_PAGE and message not in self.messages:
            self.messages.append(message)

    def __enter__(self) -> list[str]:
        self.propagate = self.logger.propagate
        self.logger.addHandler(self)
        self.logger.propagate = False
        return self.messages

    def __exit__(self, *_: object) -> None:
        self.logger.removeHandler(self)
        self.logger.propagate = self.propagate


def _guarded(warnings: list[str], what: str, default: D, read: Callable[[], D]) -> D:
    """`read()`, or `default` and a warning when the page's content is broken."""
    try:
        return read()
    except (MemoryError, LimitReachedError, JobFailed, RecursionError):
        raise
    except Exception as error:  # pypdf raises many kinds on malformed content streams.
        warnings.append(f"{what} unreadable: {type(error).__name__}: {error}")
        return default


def _page_text(source: PdfSource, number: int, text_mode: TextMode) -> str:
    # PDFium has no layout mode: for "layout" its text comes in its usual reading order.
    if source.engine == "pdfium":
        audit_for_pdfium(source, number, rendering=False)
        page = _pdfium_document(source)[number - 1]
        try:
            text_page = page.get_textpage()
            try:
                text = text_page.get_text_range()
            finally:
                text_page.close()
        finally:
            page.close()
        return str(text).replace("\r\n", "\n").replace("\r", "\n")

    page_object = _pypdf_reader(source).pages[number - 1]
    if text_mode == "layout":
        return str(page_object.extract_text(extraction_mode="layout"))
    return str(page_object.extract_text())


def audit_for_pdfium(source: PdfSource, number: int, *, rendering: bool) -> None:
    """Checks what PDFium will inflate for page `number` within pypdf's limits.

    Reading text from a file the flate scan vouched for needs no more checks; rendering
    does, for the pixel limit of its images. A PDF pypdf cannot parse is left to PDFium
    unchecked: PDFium reads more broken files, and the pool's memory limit still bounds
    what such a file can cost.
    """
    if not rendering and _pdfium_file(source).vouched:
        return
    try:
        page = _pypdf_reader(source).pages[number - 1]
    except (MemoryError, LimitReachedError, JobFailed):
        raise
    except Exception:
        return
    with pypdf_limits(source.limits):
        audit_page(page, number, source.limits, images=rendering)


def _page_images(source: PdfSource, number: int) -> list[EmbeddedImage | SkippedImage]:
    # Images always come from pypdf: PDFium cannot hand out a stream's bytes as embedded.
    page_object = _pypdf_reader(source).pages[number - 1]
    return list(page_images(page_object, number, source.limits))


def _too_many_pages(page_count: int, limits: Limits) -> JobFailed:
    return too_large(
        f"the PDF has {page_count} pages, more than the limit of {limits.max_pages}",
        page_count=str(page_count),
    )


def _pypdf_page_count(reader: PdfReader, source: PdfSource) -> int:
    declared = _declared_page_count(reader)
    if declared is not None and declared > source.limits.max_pages:
        raise _too_many_pages(declared, source.limits)
    return len(reader.pages)


def _declared_page_count(reader: PdfReader) -> int | None:
    """The page tree's /Count, read before the tree is walked; None when unreadable."""
    try:
        root: Any = reader.trailer["/Root"].get_object()
        count = root["/Pages"].get_object()["/Count"]
    except Exception:  # A broken tree is found (and reported) when the pages are read.
        return None
    return count if isinstance(count, int) else None


def _pypdf_metadata(reader: PdfReader) -> Metadata:
    info = reader.metadata
    plain = {key: _resolved(info.get(key)) for key in info} if info is not None else {}
    from_info = pdf_metadata.from_info(plain)
    from_xmp = pdf_metadata.read_safely(lambda: pdf_metadata.from_xmp(reader.xmp_metadata))
    return pdf_metadata.merge(from_info, from_xmp)


def _resolved(value: Any) -> Any:
    return value.get_object() if hasattr(value, "get_object") else value


class _DocumentCache:
    """The last few documents one pool process opened, most recent last."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, source: PdfSource, open_document: Callable[[], Any]) -> Any:
        stat = os.stat(source.path)
        key = (source.path, stat.st_ino, stat.st_mtime_ns, stat.st_size, source.password)
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]

        document = open_document()
        self.entries[key] = document
        while len(self.entries) > self.size:
            _, evicted = self.entries.popitem(last=False)
            _close(evicted)
        return document

    def clear(self) -> None:
        while self.entries:
            _close(self.entries.popitem()[1])


def _close(document: Any) -> None:
    close = getattr(document, "close", None)
    if close is not None:
        close()


_pypdf_cache = _DocumentCache(_CACHED_DOCUMENTS)
_pdfium_cache = _DocumentCache(_CACHED_DOCUMENTS)


def forget_documents() -> None:
    """Closes the documents this process keeps open between calls."""
    _pypdf_cache.clear()
    _pdfium_cache.clear()


def _pypdf_reader(source: PdfSource) -> PdfReader:
    reader: PdfReader = _pypdf_cache.get(source, lambda: _open_pypdf(source))
    return reader


def _open_pypdf(source: PdfSource) -> PdfReader:
    reader = PdfReader(source.path)
    # An empty password opens PDFs that only restrict permissions with an owner password.
    if reader.is_encrypted and not reader.decrypt(source.password):
        problem = "the password is wrong" if source.password else "no password was given"
        raise encrypted(f"{source.what} is encrypted and {problem}")
    return reader


@dataclass(frozen=True, slots=True)
class _PdfiumFile:
    """A document PDFium opened, and whether the flate scan vouched for its streams."""

    document: pdfium.PdfDocument
    vouched: bool

    def close(self) -> None:
        self.document.close()


def _pdfium_file(source: PdfSource) -> _PdfiumFile:
    opened: _PdfiumFile = _pdfium_cache.get(source, lambda: _open_pdfium(source))
    return opened


def _open_pdfium(source: PdfSource) -> _PdfiumFile:
    # The scan comes first: PDFium inflates cross-reference and object streams on opening.
    vouched = flate_scan.vouch_for_streams(source.path, source.limits)
    document = pdfium.PdfDocument(source.path, password=source.password or None)
    return _PdfiumFile(document, vouched)


def _pdfium_document(source: PdfSource) -> pdfium.PdfDocument:
    return _pdfium_file(source).document
