"""OCR in the pool functions: Tesseract on rendered PDF pages and on image files."""

import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from jobwire.handlers import tesseract
from jobwire.handlers.limits import Limits
from jobwire.handlers.ocr_extract import ocr_image_frame, ocr_pdf_page, probe_input
from jobwire.handlers.pdf_extract import PdfSource, extract_pages
from jobwire.server.errors import (
    INPUT_CORRUPT,
    INPUT_TOO_LARGE,
    INVALID_PARAMETERS,
    InvalidParameters,
    JobFailed,
)

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract is not installed (tools/install-system-packages.sh installs it)",
)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def recovered(expected: list[str], text: str) -> float:
    """Share of the expected words that OCR found, counting repeated words separately."""
    found = words(text)
    hits = 0
    for word in words(" ".join(expected)):
        if word in found:
            found.remove(word)
            hits += 1
    return hits / len(words(" ".join(expected)))


def test_tsv_becomes_lines_paragraphs_and_a_mean_confidence() -> None:
    header = "\t".join(
        [
            "level",
            "page_num",
            "block_num",
            "par_num",
            "line_num",
            "word_num",
            "left",
            "top",
            "width",
            "height",
            "conf",
            "text",
        ]
    )
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t",
        "5\t1\t1\t1\t1\t1\t0\t0\t10\t10\t90\tHello",
        "5\t1\t1\t1\t1\t2\t0\t0\t10\t10\t80\tworld",
        "5\t1\t1\t1\t2\t1\t0\t0\t10\t10\t70\tagain",
        "5\t1\t2\t1\t1\t1\t0\t0\t10\t10\t60\tNext",
        "5\t1\t2\t1\t1\t2\t0\t0\t10\t10\t-1\t ",
    ]

    text, confidence = tesseract.parse_tsv("\n".join([header, *rows]))

    assert text == "Hello world\nagain\n\nNext"
    assert confidence == 75.0


def test_no_words_means_no_text_and_zero_confidence() -> None:
    assert tesseract.parse_tsv("level\tpage_num\n") == ("", 0.0)


@pytest.mark.parametrize("language", ["", "en glish", "../eng", "eng+", "+deu", "eng;rm"])
def test_malformed_languages_are_refused(language: str) -> None:
    with pytest.raises(InvalidParameters) as raised:
        tesseract.check_language(language, field="language")

    assert raised.value.field == "language"


@needs_tesseract
def test_installed_languages_pass_and_missing_ones_are_named() -> None:
    tesseract.check_language("eng+deu", field="language")

    with pytest.raises(InvalidParameters, match="no Tesseract data for klingon"):
        tesseract.check_language("eng+klingon", field="ocr_language")


@needs_tesseract
def test_a_missing_language_fails_a_running_job_as_invalid_parameters() -> None:
    with pytest.raises(JobFailed) as raised:
        tesseract.require_language("xxx")

    assert raised.value.code == INVALID_PARAMETERS


@needs_tesseract
def test_scanned_pages_are_read(scanned_pdf_2: Path, ocr_words: list[str]) -> None:
    result = ocr_pdf_page(PdfSource(str(scanned_pdf_2), engine="pdfium"), 1, 300, "eng", 60)

    assert result.number == 1
    assert recovered(ocr_words, result.text) >= 0.95
    assert 80 <= result.confidence <= 100
    assert result.dpi == 300
    assert result.cpu_seconds > 0


@needs_tesseract
def test_a_scanned_page_has_no_text_layer(scanned_pdf_2: Path) -> None:
    pages = extract_pages(PdfSource(str(scanned_pdf_2)), (1, 2), "plain", False, 10.0)

    assert [page.text for page in pages] == ["", ""]
    assert all(not page.warnings for page in pages)


@needs_tesseract
def test_image_files_are_read(word_image_png: Path, ocr_words: list[str]) -> None:
    probe = probe_input(str(word_image_png), Limits())
    result = ocr_image_frame(str(word_image_png), 1, "eng", Limits(), 60)

    assert (probe.kind, probe.frames, probe.format) == ("image", 1, "PNG")
    assert recovered(ocr_words, result.text) >= 0.95


@needs_tesseract
def test_every_frame_of_a_tiff_is_a_page(
    tmp_path: Path, word_image_png: Path, ocr_words: list[str]
) -> None:
    page = Image.open(word_image_png)
    blank = Image.new("L", page.size, 255)
    path = tmp_path / "pages.tiff"
    page.save(path, save_all=True, append_images=[blank, page], compression="tiff_lzw")

    probe = probe_input(str(path), Limits())
    texts = [ocr_image_frame(str(path), number, "eng", Limits(), 60).text for number in (1, 2, 3)]

    assert (probe.kind, probe.frames) == ("image", 3)
    assert recovered(ocr_words, texts[0]) >= 0.95
    assert texts[1] == ""
    assert recovered(ocr_words, texts[2]) >= 0.95


def test_pdfs_are_told_from_images(scanned_pdf_2: Path) -> None:
    assert probe_input(str(scanned_pdf_2), Limits()).kind == "pdf"


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"GIF89a" + bytes(100), "image.gif"), (b"plain text", "notes.txt"), (b"", "empty.png")],
)
def test_other_files_fail_as_corrupt(tmp_path: Path, content: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(JobFailed, match="not a PNG, JPEG, TIFF or PDF") as raised:
        probe_input(str(path), Limits())

    assert raised.value.code == INPUT_CORRUPT


def test_an_image_above_the_pixel_limit_fails_before_it_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("L", (4000, 3000), 255).save(path)

    with pytest.raises(JobFailed, match="pixels") as raised:
        probe_input(str(path), Limits(max_image_pixels=1_000_000))

    assert raised.value.code == INPUT_TOO_LARGE


def test_more_frames_than_the_page_limit_fail_as_too_large(tmp_path: Path) -> None:
    path = tmp_path / "frames.tiff"
    frame = Image.new("L", (10, 10), 255)
    frame.save(path, save_all=True, append_images=[frame] * 5)

    with pytest.raises(JobFailed, match="6 frames") as raised:
        probe_input(str(path), Limits(max_pages=3))

    assert raised.value.code == INPUT_TOO_LARGE
