"""PDFs and images made at run time, whose content each test knows exactly.

Plain functions, shared by the handler tests (through the fixtures of conftest.py) and by
the end-to-end tests in tests/test_documents.py. Everything is generated with fpdf2 and
Pillow (the `test` extra of jobwire-handlers).
"""

import io
import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from PIL import Image, ImageDraw, ImageFont

ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "Every job runs once at a time on one worker.",
    "Leases expire and the job returns to the queue.",
]
GERMAN = [
    "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.",
    "Falsches Üben von Xylophonmusik quält jeden größeren Zwerg.",
    "Die Straße führt über die Brücke zum Bahnhof.",
]
OCR_LINES = [
    "Jobs wait in the queue until a worker claims them",
    "Every claim holds a lease that the worker renews",
    "When a worker stops its lease expires and another",
    "worker runs the job again from the beginning",
    "Results and errors are written once per attempt",
]


@dataclass(frozen=True)
class TextPdf:
    path: Path
    pages: list[str]
    """The exact text of each page."""


def page_text(number: int) -> str:
    """The known text of page `number`: English on odd pages, German on even ones."""
    lines = ENGLISH if number % 2 else GERMAN
    heading = f"Page {number}" if number % 2 else f"Seite {number}"
    return "\n".join([heading, *lines])


def text_pdf(path: Path, page_count: int = 20) -> TextPdf:
    pages = [page_text(number) for number in range(1, page_count + 1)]
    return TextPdf(pages_pdf(path, pages), pages)


def pages_pdf(path: Path, pages: list[str], *, title: str = "Known text") -> Path:
    """One page per item of `pages`, each line of it a line of Helvetica (Latin-1 only)."""
    document = FPDF()
    document.set_title(title)
    document.set_author("Jobwire Tests")
    document.set_subject("Extraction")
    document.set_creation_date(datetime(2026, 4, 23, 9, 30, tzinfo=UTC))
    document.set_font("Helvetica", size=12)
    for text in pages:
        document.add_page()
        for line in text.split("\n"):
            document.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    document.output(str(path))
    return path


def word_image(lines: list[str], *, width: int = 1700, size: int = 44) -> Image.Image:
    """A white page with `lines` in black, as a scanner would deliver it."""
    font = ImageFont.load_default(size=size)
    image = Image.new("L", (width, 120 + len(lines) * size * 2), 255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((80, 80 + index * size * 2), line, fill=0, font=font)
    return image


def scanned_pdf(path: Path, page_count: int = 2) -> Path:
    """Pages that are images of text only: no text layer."""
    document = FPDF()
    for _ in range(page_count):
        document.add_page()
        buffer = io.BytesIO()
        word_image(OCR_LINES).save(buffer, format="PNG")
        document.image(buffer, x=10, y=10, w=190)
    document.output(str(path))
    return path


def photo(width: int = 320, height: int = 200, seed: int = 1) -> Image.Image:
    generator = random.Random(seed)
    image = Image.new("RGB", (width, height))
    image.putdata(
        [(x % 256, y % 256, generator.randrange(256)) for y in range(height) for x in range(width)]
    )
    return image


@dataclass(frozen=True)
class ImagePdf:
    path: Path
    jpeg: bytes
    png: Image.Image


def image_pdf(path: Path) -> ImagePdf:
    """Page 1 with a JPEG, page 2 with a PNG (and text on both)."""
    jpeg_buffer = io.BytesIO()
    photo(seed=1).save(jpeg_buffer, format="JPEG", quality=85)
    png = photo(160, 100, seed=2)
    png_buffer = io.BytesIO()
    png.save(png_buffer, format="PNG")

    document = FPDF()
    document.set_font("Helvetica", size=12)
    document.add_page()
    document.cell(text="A photograph")
    document.image(io.BytesIO(jpeg_buffer.getvalue()), x=10, y=30, w=100)
    document.add_page()
    document.cell(text="A drawing")
    document.image(io.BytesIO(png_buffer.getvalue()), x=10, y=30, w=100)
    document.output(str(path))
    return ImagePdf(path, jpeg_buffer.getvalue(), png)


def encrypted_pdf(path: Path, password: str) -> Path:
    document = FPDF()
    document.set_font("Helvetica", size=12)
    document.add_page()
    document.cell(text="Secret text")
    document.set_encryption(
        owner_password="owner-" + password,
        user_password=password,
        encryption_method=EncryptionMethod.AES_256,
    )
    document.output(str(path))
    return path


def raw_pdf(path: Path, objects: list[bytes]) -> Path:
    """A PDF of the given objects (object 1 the catalog), with a correct xref table."""
    output = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        output += b"%010d 00000 n \n" % offset
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(output))
    return path


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def deflate_bomb(size: int) -> bytes:
    """`size` bytes of spaces, deflated (about a thousandth of `size`)."""
    compressor = zlib.compressobj(9)
    block = b" " * (1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


def bomb_pdf(path: Path, size: int = 400 * 1024 * 1024) -> Path:
    """One page whose content stream inflates to `size` bytes."""
    return raw_pdf(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            stream(b"/Filter /FlateDecode", deflate_bomb(size)),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ],
    )


def giant_image_pdf(path: Path) -> Path:
    """One page drawing a 100,000 x 100,000 pixel image whose stream is tiny."""
    return raw_pdf(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /XObject << /Im1 5 0 R >> >> >>",
            stream(b"", b"q 612 0 0 792 0 0 cm /Im1 Do Q"),
            stream(
                b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000"
                b" /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                deflate_bomb(2 * 1024 * 1024),
            ),
        ],
    )


def lying_page_tree_pdf(path: Path, declared: int = 10_000_000) -> Path:
    """A page tree that claims `declared` pages."""
    return raw_pdf(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count %d >>" % declared,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        ],
    )
