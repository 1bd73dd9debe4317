"""OCR in the process pool: images and rendered PDF pages through Tesseract.

A page is rendered (or an image frame decoded) and read by Tesseract in one call, so the
raster never crosses between processes, and Tesseract runs within the pool's share of
the machine's cores.
"""

from dataclasses import dataclass
from io import BytesIO
from typing import Literal

from PIL import Image, UnidentifiedImageError

from jobwire.handlers import tesseract
from jobwire.handlers.failures import corrupt, too_large, translate_failures
from jobwire.handlers.limits import Limits
from jobwire.handlers.pdf_extract import PdfSource, render_page

InputKind = Literal["pdf", "image"]

# The image formats the ocr job type reads, as Pillow names them.
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF")
_PDF_MAGIC = b"%PDF-"
_MAGIC_WINDOW = 1024


@dataclass(frozen=True, slots=True)
class OcrText:
    """What Tesseract read on one page or frame."""

    number: int
    text: str
    confidence: float
    cpu_seconds: float
    """CPU time of the Tesseract process, which the pool does not see."""
    dpi: int = 0
    """Resolution a PDF page was rendered at; 0 for images."""


@dataclass(frozen=True, slots=True)
class InputProbe:
    """What an ocr input is: a PDF, or an image with `frames` pages."""

    kind: InputKind
    frames: int = 0
    format: str = ""


def probe_input(path: str, limits: Limits) -> InputProbe:
    """Tells PDFs from images, and checks an image against the limits before decoding it."""
    with open(path, "rb") as file:
        head = file.read(_MAGIC_WINDOW)
    if _PDF_MAGIC in head:
        return InputProbe(kind="pdf")

    with translate_failures("the image"), _open_image(path, limits) as image:
        frames = getattr(image, "n_frames", 1)
        if frames > limits.max_pages:
            raise too_large(
                f"the image has {frames} frames, more than the limit of {limits.max_pages}"
            )
        return InputProbe(kind="image", frames=frames, format=str(image.format))


def ocr_pdf_page(
    source: PdfSource, number: int, dpi: int, language: str, timeout: float
) -> OcrText:
    """Renders page `number` at `dpi` and reads it with Tesseract."""
    raster, used_dpi = render_page(source, number, dpi)
    recognized = tesseract.recognize(raster, language, timeout=timeout)
    return OcrText(
        number=number,
        text=recognized.text,
        confidence=recognized.confidence,
        cpu_seconds=recognized.cpu_seconds,
        dpi=used_dpi,
    )


def ocr_image_frame(
    path: str, number: int, language: str, limits: Limits, timeout: float
) -> OcrText:
    """Reads frame `number` (1-based) of an image with Tesseract."""
    with translate_failures("the image"), _open_image(path, limits) as image:
        image.seek(number - 1)
        _check_pixels(image, limits, number)
        buffer = BytesIO()
        # PNM is what Tesseract reads fastest; grey keeps it small (Tesseract works in grey).
        image.convert("L").save(buffer, format="PPM")

    recognized = tesseract.recognize(buffer.getvalue(), language, timeout=timeout)
    return OcrText(
        number=number,
        text=recognized.text,
        confidence=recognized.confidence,
        cpu_seconds=recognized.cpu_seconds,
    )


def _open_image(path: str, limits: Limits) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    try:
        image = Image.open(path, formats=IMAGE_FORMATS)
    except UnidentifiedImageError as error:
        raise corrupt("the input is not a PNG, JPEG, TIFF or PDF file") from error
    try:
        _check_pixels(image, limits, 1)
    except BaseException:
        image.close()
        raise
    return image


def _check_pixels(image: Image.Image, limits: Limits, number: int) -> None:
    width, height = image.size
    if width * height > limits.max_image_pixels:
        raise too_large(
            f"frame {number} of the image has {width} x {height} pixels, more than the limit "
            f"of {limits.max_image_pixels}",
        )
