"""The extraction functions the `pdf` job runs in the process pool, on generated PDFs."""

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from jobwire.handlers.limits import Limits
from jobwire.handlers.page_ranges import PageRange
from jobwire.handlers.pdf_extract import (
    Engine,
    PageExtract,
    PdfSource,
    TextMode,
    extract_pages,
    open_and_extract,
    probe_pdf,
    render_page,
)
from jobwire.server.errors import (
    INPUT_CORRUPT,
    INPUT_ENCRYPTED,
    INPUT_NOT_FOUND,
    INPUT_TOO_LARGE,
    INVALID_PARAMETERS,
    JobFailed,
)

ENGINES: list[Engine] = ["pypdf", "pdfium"]


def extract_all(
    source: PdfSource, text_mode: TextMode = "plain", include_images: bool = False
) -> list[PageExtract]:
    """Every page, chunk by chunk, as the handler asks for them."""
    _, numbers, pages = open_and_extract(source, (), text_mode, include_images, 0.05)
    remaining = numbers[len(pages) :]
    while remaining:
        chunk = extract_pages(source, remaining, text_mode, include_images, 0.05)
        assert chunk, "every call returns at least one page"
        pages.extend(chunk)
        remaining = remaining[len(chunk) :]
    return pages


@pytest.mark.parametrize("engine", ENGINES)
def test_text_of_every_page_is_extracted_exactly(
    text_pdf_20: tuple[Path, list[str]], engine: Engine
) -> None:
    source = PdfSource(str(text_pdf_20[0]), engine=engine)

    pages = extract_all(source)

    assert [page.number for page in pages] == list(range(1, 21))
    assert [page.text for page in pages] == text_pdf_20[1]
    assert all(not page.warnings for page in pages)


@pytest.mark.parametrize("engine", ENGINES)
def test_metadata_and_page_count(text_pdf_20: tuple[Path, list[str]], engine: Engine) -> None:
    probe = probe_pdf(PdfSource(str(text_pdf_20[0]), engine=engine))

    assert probe.page_count == 20
    assert probe.metadata.title == "Known text"
    assert probe.metadata.author == "Jobwire Tests"
    assert probe.metadata.subject == "Extraction"
    assert probe.metadata.created_at is not None
    assert probe.metadata.created_at.isoformat() == "2026-04-23T09:30:00+00:00"


@pytest.mark.parametrize("engine", ENGINES)
def test_opening_reads_the_selected_pages_first_chunk(
    text_pdf_20: tuple[Path, list[str]], engine: Engine
) -> None:
    source = PdfSource(str(text_pdf_20[0]), engine=engine)
    selection = (PageRange(3, 4), PageRange(18, None))

    probe, numbers, first = open_and_extract(source, selection, "plain", False, 10.0)

    assert probe == probe_pdf(source)
    assert numbers == (3, 4, 18, 19, 20)
    assert [page.number for page in first] == [3, 4, 18, 19, 20]
    assert [page.text for page in first] == [text_pdf_20[1][n - 1] for n in numbers]


def test_opening_stops_the_first_chunk_at_its_time_budget(
    text_pdf_20: tuple[Path, list[str]],
) -> None:
    _, numbers, first = open_and_extract(PdfSource(str(text_pdf_20[0])), (), "plain", False, 0.0)

    assert numbers == tuple(range(1, 21))
    assert [page.number for page in first] == [1]


def test_opening_for_ocr_only_reads_no_page(text_pdf_20: tuple[Path, list[str]]) -> None:
    _, numbers, first = open_and_extract(PdfSource(str(text_pdf_20[0])), (), "none", False, 10.0)

    assert numbers == tuple(range(1, 21))
    assert first == []


def test_opening_with_pages_beyond_the_end_fails(text_pdf_20: tuple[Path, list[str]]) -> None:
    source = PdfSource(str(text_pdf_20[0]))

    with pytest.raises(JobFailed, match="beyond") as raised:
        open_and_extract(source, (PageRange(19, 21),), "plain", False, 10.0)

    assert raised.value.code == INVALID_PARAMETERS
    assert raised.value.details == {"field": "pages", "page_count": "20"}


def test_layout_mode_keeps_the_words(text_pdf_20: tuple[Path, list[str]]) -> None:
    source = PdfSource(str(text_pdf_20[0]))

    pages = extract_pages(source, (1, 2), "layout", False, 10.0)

    for page in pages:
        expected_words = text_pdf_20[1][page.number - 1].split()
        assert page.text.split() == expected_words


def test_a_chunk_stops_at_its_time_budget(text_pdf_20: tuple[Path, list[str]]) -> None:
    source = PdfSource(str(text_pdf_20[0]))

    first = extract_pages(source, tuple(range(1, 21)), "plain", False, 0.0)

    assert [page.number for page in first] == [1]


def test_jpeg_images_are_stored_byte_for_byte(images_pdf: tuple[Path, bytes, Image.Image]) -> None:
    pages = extract_all(PdfSource(str(images_pdf[0])), include_images=True)

    jpeg = pages[0].images[0]
    assert jpeg.page == 1
    assert jpeg.content_type == "image/jpeg"
    assert jpeg.name.startswith("page-1-")
    assert jpeg.name.endswith(".jpg")
    assert jpeg.data == images_pdf[1]


def test_png_images_keep_their_pixels(images_pdf: tuple[Path, bytes, Image.Image]) -> None:
    pages = extract_all(PdfSource(str(images_pdf[0])), include_images=True)

    png = pages[1].images[0]
    assert png.page == 2
    assert png.content_type == "image/png"
    decoded = Image.open(io.BytesIO(png.data)).convert("RGB")
    assert decoded.size == images_pdf[2].size
    assert decoded.tobytes() == images_pdf[2].convert("RGB").tobytes()


def test_images_are_not_read_unless_asked_for(images_pdf: tuple[Path, bytes, Image.Image]) -> None:
    pages = extract_all(PdfSource(str(images_pdf[0])))

    assert all(page.images == () for page in pages)
    assert [page.text for page in pages] == ["A photograph", "A drawing"]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_encrypted_pdf_without_password_fails_as_encrypted(
    encrypted_pdf_file: tuple[Path, str], engine: Engine
) -> None:
    path, _ = encrypted_pdf_file

    with pytest.raises(JobFailed, match="encrypted") as raised:
        probe_pdf(PdfSource(str(path), engine=engine))

    assert raised.value.code == INPUT_ENCRYPTED
    assert not raised.value.retryable


@pytest.mark.parametrize("engine", ENGINES)
def test_a_wrong_password_fails_as_encrypted(
    encrypted_pdf_file: tuple[Path, str], engine: Engine
) -> None:
    path, _ = encrypted_pdf_file

    with pytest.raises(JobFailed) as raised:
        probe_pdf(PdfSource(str(path), password="guess", engine=engine))

    assert raised.value.code == INPUT_ENCRYPTED


@pytest.mark.parametrize("engine", ENGINES)
def test_the_password_opens_an_encrypted_pdf(
    encrypted_pdf_file: tuple[Path, str], engine: Engine
) -> None:
    path, password = encrypted_pdf_file
    source = PdfSource(str(path), password=password, engine=engine)

    pages = extract_all(source)

    assert [page.text for page in pages] == ["Secret text"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"%PDF-1.7\n",
        b"not a pdf at all, just some text\n" * 100,
        bytes(range(256)) * 64,
    ],
    ids=["empty", "header-only", "text", "binary"],
)
def test_bytes_that_are_no_pdf_fail_as_corrupt(
    tmp_path: Path, engine: Engine, content: bytes
) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)

    with pytest.raises(JobFailed) as raised:
        probe_pdf(PdfSource(str(path), engine=engine))

    assert raised.value.code == INPUT_CORRUPT
    assert not raised.value.retryable


@pytest.mark.parametrize("engine", ENGINES)
def test_a_truncated_pdf_fails_as_corrupt(
    tmp_path: Path, text_pdf_20: tuple[Path, list[str]], engine: Engine
) -> None:
    whole, _ = text_pdf_20
    path = tmp_path / "truncated.pdf"
    # fpdf2 writes the page tree and catalog last: a cut loses them.
    path.write_bytes(whole.read_bytes()[: os.path.getsize(whole) // 2])

    with pytest.raises(JobFailed, match="cannot be read") as raised:
        extract_all(PdfSource(str(path), engine=engine))

    assert raised.value.code == INPUT_CORRUPT


def test_a_missing_file_fails_as_not_found(tmp_path: Path) -> None:
    with pytest.raises(JobFailed) as raised:
        probe_pdf(PdfSource(str(tmp_path / "gone.pdf")))

    assert raised.value.code == INPUT_NOT_FOUND


@pytest.mark.parametrize("engine", ENGINES)
def test_a_decompression_bomb_fails_as_too_large(bomb_pdf_file: Path, engine: Engine) -> None:
    with pytest.raises(JobFailed, match="safety limit") as raised:
        extract_all(PdfSource(str(bomb_pdf_file), engine=engine))

    assert raised.value.code == INPUT_TOO_LARGE
    assert not raised.value.retryable


def test_rendering_a_decompression_bomb_fails_as_too_large(bomb_pdf_file: Path) -> None:
    with pytest.raises(JobFailed) as raised:
        render_page(PdfSource(str(bomb_pdf_file), engine="pdfium"), 1, 150)

    assert raised.value.code == INPUT_TOO_LARGE


def test_an_oversized_image_fails_as_too_large_before_decoding(
    giant_image_pdf_file: Path,
) -> None:
    source = PdfSource(str(giant_image_pdf_file))

    with pytest.raises(JobFailed, match="100000 x 100000 pixels") as raised:
        extract_pages(source, (1,), "plain", True, 10.0)

    assert raised.value.code == INPUT_TOO_LARGE
    # Without images the page's text is still readable.
    assert extract_pages(source, (1,), "plain", False, 10.0)[0].text == ""


def test_rendering_a_page_with_an_oversized_image_fails_as_too_large(
    giant_image_pdf_file: Path,
) -> None:
    with pytest.raises(JobFailed) as raised:
        render_page(PdfSource(str(giant_image_pdf_file), engine="pdfium"), 1, 150)

    assert raised.value.code == INPUT_TOO_LARGE


@pytest.mark.parametrize("engine", ENGINES)
def test_more_pages_than_the_limit_fail_as_too_large(
    text_pdf_20: tuple[Path, list[str]], engine: Engine
) -> None:
    source = PdfSource(str(text_pdf_20[0]), engine=engine, limits=Limits(max_pages=10))

    with pytest.raises(JobFailed, match="20 pages") as raised:
        probe_pdf(source)

    assert raised.value.code == INPUT_TOO_LARGE


def test_a_page_tree_claiming_millions_of_pages_fails_before_it_is_walked(
    lying_page_tree_pdf_file: Path,
) -> None:
    with pytest.raises(JobFailed, match="10000000 pages") as raised:
        probe_pdf(PdfSource(str(lying_page_tree_pdf_file)))

    assert raised.value.code == INPUT_TOO_LARGE


def test_pages_are_rendered_within_the_pixel_limit(text_pdf_20: tuple[Path, list[str]]) -> None:
    limits = Limits(max_image_pixels=1_000_000)
    source = PdfSource(str(text_pdf_20[0]), engine="pdfium", limits=limits)

    raster, dpi = render_page(source, 1, 300)

    image = Image.open(io.BytesIO(raster))
    assert image.mode == "L"
    assert image.width * image.height <= 1_000_000
    assert dpi < 300


def test_what_pypdf_warns_about_a_page_goes_with_the_page(missing_contents_pdf_file: Path) -> None:
    page = extract_pages(PdfSource(str(missing_contents_pdf_file)), (1,), "plain", True, 10.0)[0]

    assert page.text == ""
    assert page.warnings == ("pypdf: Object 9 0 not defined.",)
