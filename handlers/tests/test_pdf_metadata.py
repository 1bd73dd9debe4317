from datetime import UTC, datetime, timedelta, timezone

import pytest

from jobwire.handlers.pdf_metadata import Metadata, clean_text, from_info, merge, parse_pdf_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "D:20220403180542+02'00'",
            datetime(2022, 4, 3, 18, 5, 42, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("D:20220403180542Z", datetime(2022, 4, 3, 18, 5, 42, tzinfo=UTC)),
        ("D:20230410074654Z07'46'", datetime(2023, 4, 10, 7, 46, 54, tzinfo=UTC)),
        (
            "D:20220415133024-01'00",
            datetime(2022, 4, 15, 13, 30, 24, tzinfo=timezone(timedelta(hours=-1))),
        ),
        ("D:2022", datetime(2022, 1, 1, tzinfo=UTC)),
        ("20220403", datetime(2022, 4, 3, tzinfo=UTC)),
        (
            "D:20220403180542+02'00' and trailing garbage",
            datetime(2022, 4, 3, 16, 5, 42, tzinfo=UTC),
        ),
    ],
)
def test_pdf_dates_are_read(raw: str, expected: datetime) -> None:
    assert parse_pdf_date(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "yesterday", "D:", "D:20221345", "D:20220230120000", "D:2022040325", None, 42]
)
def test_unreadable_dates_are_absent(raw: object) -> None:
    assert parse_pdf_date(raw) is None


def test_metadata_text_is_cleaned_and_bounded() -> None:
    assert clean_text("  Title\x00 with\x07 controls  ") == "Title with controls"
    assert clean_text(b"caf\xe9") == "café"
    assert len(clean_text("x" * 10_000)) == 2_000


def test_information_dictionary_keys_with_and_without_slash() -> None:
    pypdf_style = from_info({"/Title": "A", "/CreationDate": "D:20200101000000Z"})
    pdfium_style = from_info({"Title": "A", "CreationDate": "D:20200101000000Z"})

    assert pypdf_style == pdfium_style
    assert pypdf_style.created_at == datetime(2020, 1, 1, tzinfo=UTC)


def test_merge_fills_only_absent_facts() -> None:
    merged = merge(Metadata(title="Info"), Metadata(title="XMP", author="Ada"))

    assert (merged.title, merged.author) == ("Info", "Ada")
