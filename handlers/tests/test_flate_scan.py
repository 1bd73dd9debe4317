"""The whole-file bomb check that spares PDFium's text reading the page audit."""

import zlib
from pathlib import Path

import pytest

from jobwire.handlers import flate_scan, pdf_extract
from jobwire.handlers.flate_scan import vouch_for_streams
from jobwire.handlers.limits import Limits
from jobwire.handlers.pdf_extract import PdfSource, open_and_extract
from jobwire.server.errors import INPUT_TOO_LARGE, JobFailed

from .documents import deflate_bomb, encrypted_pdf, raw_pdf, stream, text_pdf

# Deflated spaces inflate about a thousandfold; more than a MiB of them takes zlib
# several calls.
LIMITS = Limits(max_stream_bytes=4 * 1024 * 1024)
BEYOND = 8 * 1024 * 1024
CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"


def one_page(path: Path, contents: bytes, *more: bytes) -> Path:
    """A PDF whose single page draws `contents` (a whole stream object)."""
    return raw_pdf(path, [CATALOG, PAGES, PAGE, contents, *more])


def flate(size: int) -> bytes:
    return stream(b"/Filter /FlateDecode", deflate_bomb(size))


def test_a_generated_text_pdf_is_vouched_for(tmp_path: Path) -> None:
    made = text_pdf(tmp_path / "text.pdf", 5)

    assert vouch_for_streams(str(made.path), Limits())


def test_flate_data_beyond_the_limit_fails_as_too_large(tmp_path: Path) -> None:
    path = one_page(tmp_path / "bomb.pdf", flate(BEYOND))

    with pytest.raises(JobFailed) as raised:
        vouch_for_streams(str(path), LIMITS)

    assert raised.value.code == INPUT_TOO_LARGE


def test_flate_data_within_the_limit_is_vouched_for(tmp_path: Path) -> None:
    path = one_page(tmp_path / "fine.pdf", flate(3 * 1024 * 1024))

    assert vouch_for_streams(str(path), LIMITS)


@pytest.mark.parametrize(
    "contents",
    [
        # Junk after the keyword: PDFium starts reading at the next line.
        b"<< /Filter /FlateDecode >>\nstream   junk\n" + deflate_bomb(BEYOND) + b"\nendstream",
        # A lone carriage return ends the keyword's line.
        b"<< /Filter /FlateDecode >>stream\r" + deflate_bomb(BEYOND) + b"\nendstream",
        # A stream without `endstream`, swallowing the one that follows in the file.
        b"<< >>\nstream\nq Q\n" + b"5 0 obj\n" + flate(BEYOND),
    ],
    ids=["junk-after-keyword", "carriage-return", "unterminated-stream"],
)
def test_hidden_flate_data_is_still_inflated(tmp_path: Path, contents: bytes) -> None:
    path = one_page(tmp_path / "hidden.pdf", contents)

    with pytest.raises(JobFailed) as raised:
        vouch_for_streams(str(path), LIMITS)

    assert raised.value.code == INPUT_TOO_LARGE


@pytest.mark.parametrize(
    "contents",
    [
        stream(b"/Filter /LZWDecode", b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01"),
        stream(b"/Filter [/ASCII85Decode /FlateDecode]", b"GapQh0E=F,0U\\H>~>"),
        stream(b"/Filter [/FlateDecode /FlateDecode]", zlib.compress(zlib.compress(b"q Q"))),
        stream(b"/Filter 5 0 R", zlib.compress(b"q Q")),
        stream(b"/Fil#74er /LZWDecode", b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01"),
        stream(
            b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode",
            zlib.compress(b"6 0 << /Length 3 >>\nstream\nq Q\nendstream"),
        ),
    ],
    ids=["lzw", "ascii85-then-flate", "flate-twice", "by-reference", "escaped-key", "nested"],
)
def test_what_zlib_cannot_account_for_is_left_to_the_page_audit(
    tmp_path: Path, contents: bytes
) -> None:
    path = one_page(tmp_path / "unsure.pdf", stream(b"", b"q Q"), contents)

    assert not vouch_for_streams(str(path), Limits())


def test_an_encrypted_pdf_is_left_to_the_page_audit(tmp_path: Path) -> None:
    path = encrypted_pdf(tmp_path / "secret.pdf", "open sesame")

    assert not vouch_for_streams(str(path), Limits())


def test_more_flate_data_than_the_scan_reads_is_left_to_the_page_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flate_scan, "MAX_SCANNED_BYTES", 1024)
    path = one_page(tmp_path / "big.pdf", flate(16 * 1024 * 1024))

    assert not vouch_for_streams(str(path), Limits())


def test_more_inflated_data_than_the_scan_produces_is_left_to_the_page_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flate_scan, "MAX_INFLATED_BYTES", 2 * 1024 * 1024)
    path = one_page(
        tmp_path / "many.pdf", flate(1024 * 1024), flate(1024 * 1024), flate(1024 * 1024)
    )

    assert not vouch_for_streams(str(path), Limits())


def test_more_streams_than_the_scan_tries_are_left_to_the_page_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flate_scan, "MAX_STREAMS", 3)
    made = text_pdf(tmp_path / "text.pdf", 5)

    assert not vouch_for_streams(str(made.path), Limits())


def test_text_through_pdfium_of_a_vouched_file_opens_no_pypdf_reader(tmp_path: Path) -> None:
    made = text_pdf(tmp_path / "text.pdf", 3)
    pdf_extract.forget_documents()

    _, _, pages = open_and_extract(
        PdfSource(str(made.path), engine="pdfium"), (), "plain", False, 10
    )

    assert [page.text for page in pages] == made.pages
    assert not pdf_extract._pypdf_cache.entries
