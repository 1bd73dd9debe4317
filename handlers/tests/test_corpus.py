"""Every PDF of the shared real-world corpus through the extraction functions, both engines.

The corpus is /work/shared/corpus/pdf-samples (files from py-pdf/sample-files, described
by its files.json). Its `images` counts were written by hand upstream and are wrong for a
few files; those are listed in IMAGE_COUNT_ERRATA with what the files really hold, and
every count is also checked against PDFium's own count of image objects.
"""

import json
import os
import time
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest

from jobwire.handlers.pdf_extract import Engine, PageExtract, PdfSource, extract_pages, probe_pdf
from jobwire.server.errors import INPUT_CORRUPT, INPUT_ENCRYPTED, JobFailed

CORPUS = Path(
    os.environ.get("JOBWIRE_PDF_CORPUS")
    or Path(__file__).resolve().parents[3] / "shared" / "corpus" / "pdf-samples"
)
ENGINES: list[Engine] = ["pypdf", "pdfium"]
# Seconds one file may take through one engine, far above what any takes (GeoTopo, 117
# pages, the slowest: about 7 s with pypdf); a hang would blow it.
SECONDS_PER_FILE = 120

# files.json's `images` where it disagrees with the file: path -> (files.json, actual, why).
IMAGE_COUNT_ERRATA: dict[str, tuple[int, int, str]] = {
    "007-imagemagick-images/imagemagick-ASCII85Decode.pdf": (0, 1, "a page-size image XObject"),
    "007-imagemagick-images/imagemagick-images.pdf": (0, 6, "one image XObject per page"),
    "007-imagemagick-images/imagemagick-CCITTFaxDecode.pdf": (0, 1, "a page-size image"),
    "007-imagemagick-images/imagemagick-lzw.pdf": (0, 1, "a page-size image XObject"),
    "008-reportlab-inline-image/inline-image.pdf": (0, 1, "an inline image (BI ... EI)"),
    "020-xmp/output_with_metadata_pymupdf.pdf": (1, 0, "no image object in the file"),
    "021-pdfa/crazyones-pdfa.pdf": (1, 0, "no image object in the file"),
    "022-pdfkit/pdfkit.pdf": (1, 0, "no image object in the file"),
    "024-annotations/annotated_pdf.pdf": (1, 0, "no image object in the file"),
    "025-attachment/with-attachment.pdf": (1, 0, "the PNG is an attached file, not drawn"),
}
# Files whose reference image beside them is the embedded image, byte for byte.
REFERENCE_IMAGES = {
    # pdfTeX embedded image.jpg as it is (page-0-Im1.jpg is a re-encoded copy).
    "003-pdflatex-image/pdflatex-image.pdf": "003-pdflatex-image/image.jpg",
    "018-base64-image/base64image.pdf": "018-base64-image/page-0-QuickPDFImd32aa1ab.png",
    "019-grayscale-image/grayscale-image.pdf": "019-grayscale-image/page-0-X0.png",
}
ENCRYPTED = "005-libreoffice-writer-password/libreoffice-writer-password.pdf"
UNREADABLE_METADATA = "017-unreadable-meta-data/unreadablemetadata.pdf"


def corpus_missing() -> str | None:
    """Why the corpus cannot be used, or None; in CI a missing corpus is a failure."""
    if (CORPUS / "files.json").is_file():
        return None
    reason = f"the PDF corpus is not there: {CORPUS} (set JOBWIRE_PDF_CORPUS)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    return reason


def corpus_entries() -> list[Any]:
    missing = corpus_missing()
    if missing is not None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=missing), id="corpus-missing")]
    files_json = CORPUS / "files.json"
    entries = json.loads(files_json.read_text())["data"]
    return [
        pytest.param(entry, id=entry["path"])
        for entry in entries
        if (CORPUS / entry["path"]).is_file()
    ]


def extract_all(source: PdfSource) -> list[PageExtract]:
    remaining = tuple(range(1, probe_pdf(source).page_count + 1))
    pages: list[PageExtract] = []
    while remaining:
        chunk = extract_pages(source, remaining, "plain", True, 0.5)
        pages.extend(chunk)
        remaining = remaining[len(chunk) :]
    return pages


def pdfium_image_count(path: Path) -> int:
    document = pdfium.PdfDocument(path)
    try:
        return sum(
            len(list(page.get_objects(filter=[pdfium_raw.FPDF_PAGEOBJ_IMAGE], max_depth=15)))
            for page in document
        )
    finally:
        document.close()


def test_the_corpus_lists_files_that_are_there() -> None:
    missing = corpus_missing()
    if missing is not None:
        pytest.skip(missing)
    entries = json.loads((CORPUS / "files.json").read_text())["data"]
    present = [entry for entry in entries if (CORPUS / entry["path"]).is_file()]
    # Only GeoTopo.pdf is left out (too large); its compressed copy stands in.
    assert len(present) == len(entries) - 1


@pytest.mark.timeout(SECONDS_PER_FILE * 2)
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("entry", corpus_entries())
def test_corpus_file(entry: dict[str, Any], engine: Engine) -> None:
    path = CORPUS / entry["path"]
    source = PdfSource(str(path), engine=engine)
    started = time.monotonic()

    if entry["path"] == ENCRYPTED:
        with pytest.raises(JobFailed) as raised:
            extract_all(source)
        assert raised.value.code == INPUT_ENCRYPTED
        return

    if entry["path"] == UNREADABLE_METADATA:
        # Its page tree points to objects that are not there: both libraries give up.
        with pytest.raises(JobFailed, match="cannot be read") as raised:
            extract_all(source)
        assert raised.value.code == INPUT_CORRUPT
        return

    pages = extract_all(source)

    assert len(pages) == entry["pages"]
    assert [page.number for page in pages] == list(range(1, entry["pages"] + 1))
    images = sum(len(page.images) for page in pages)
    assert images == pdfium_image_count(path)
    if entry["images"] is not None:
        listed, actual, _ = IMAGE_COUNT_ERRATA.get(entry["path"], (entry["images"],) * 2 + ("",))
        assert listed == entry["images"], "files.json changed: review IMAGE_COUNT_ERRATA"
        assert images == actual
    if entry["path"] in REFERENCE_IMAGES:
        reference = (CORPUS / REFERENCE_IMAGES[entry["path"]]).read_bytes()
        assert [image.data for image in pages[0].images] == [reference]
    assert time.monotonic() - started < SECONDS_PER_FILE


@pytest.mark.parametrize("engine", ENGINES)
def test_text_and_dates_of_corpus_files(engine: Engine) -> None:
    missing = corpus_missing()
    if missing is not None:
        pytest.skip(missing)
    path = CORPUS / "004-pdflatex-4-pages" / "pdflatex-4-pages.pdf"
    source = PdfSource(str(path), engine=engine)

    probe = probe_pdf(source)
    pages = extract_all(source)

    assert probe.metadata.producer == "pdfTeX-1.40.23"
    assert probe.metadata.created_at is not None
    assert probe.metadata.created_at.isoformat() == "2022-04-03T19:59:45+02:00"
    assert all(page.text.strip() for page in pages)
