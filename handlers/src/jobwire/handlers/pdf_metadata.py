"""A PDF's document information and XMP facts, read tolerantly: garbage becomes "absent"."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

_DATE = re.compile(
    r"^(?:D:)?(?P<year>\d{4})(?P<month>\d{2})?(?P<day>\d{2})?"
    r"(?P<hour>\d{2})?(?P<minute>\d{2})?(?P<second>\d{2})?"
    r"(?:(?P<zone>[Zz+-])(?:(?P<tzh>\d{2})'?(?P<tzm>\d{2})?'?)?)?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_MAX_TEXT = 2_000


@dataclass(frozen=True, slots=True)
class Metadata:
    """DocumentMetadata of the contract as plain data; empty strings and None mean absent."""

    title: str = ""
    author: str = ""
    subject: str = ""
    creator: str = ""
    producer: str = ""
    created_at: datetime | None = None
    modified_at: datetime | None = None


def parse_pdf_date(value: object) -> datetime | None:
    """Reads a PDF date string such as "D:20220403180542+02'00'"; None when unreadable.

    Missing parts default as the PDF specification says (month and day 1, time 0, UTC);
    out-of-range fields and trailing garbage after a readable prefix are tolerated.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None

    match = _DATE.match(value.strip())
    if match is None:
        return None
    try:
        return datetime(
            int(match["year"]),
            int(match["month"] or 1),
            int(match["day"] or 1),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            tzinfo=_zone(match["zone"], match["tzh"], match["tzm"]),
        )
    except ValueError:
        return None


def _zone(sign: str | None, hours: str | None, minutes: str | None) -> timezone:
    if sign in (None, "Z", "z") or hours is None:
        return UTC
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if offset >= timedelta(hours=24):
        return UTC
    return timezone(-offset if sign == "-" else offset)


def clean_text(value: object) -> str:
    """A metadata value as printable text: control characters dropped, length bounded."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = _CONTROL.sub("", str(value)).strip()
    return text[:_MAX_TEXT]


def from_info(info: Mapping[str, Any]) -> Metadata:
    """Metadata from a document information dictionary keyed "/Title" (pypdf) or "Title"."""

    def get(key: str) -> Any:
        return info.get(f"/{key}", info.get(key))

    return Metadata(
        title=clean_text(get("Title")),
        author=clean_text(get("Author")),
        subject=clean_text(get("Subject")),
        creator=clean_text(get("Creator")),
        producer=clean_text(get("Producer")),
        created_at=parse_pdf_date(get("CreationDate")),
        modified_at=parse_pdf_date(get("ModDate")),
    )


def merge(primary: Metadata, fallback: Metadata) -> Metadata:
    """`primary`, with each absent fact taken from `fallback`."""
    return Metadata(
        title=primary.title or fallback.title,
        author=primary.author or fallback.author,
        subject=primary.subject or fallback.subject,
        creator=primary.creator or fallback.creator,
        producer=primary.producer or fallback.producer,
        created_at=primary.created_at or fallback.created_at,
        modified_at=primary.modified_at or fallback.modified_at,
    )


def from_xmp(xmp: Any) -> Metadata:
    """Metadata from pypdf's XmpInformation; every property that fails to parse is absent."""
    if xmp is None:
        return Metadata()

    def read(name: str) -> Any:
        try:
            return getattr(xmp, name)
        except Exception:  # XMP is free-form XML: a broken property must not fail the job.
            return None

    return Metadata(
        title=_first_text(read("dc_title")),
        author=", ".join(clean_text(name) for name in read("dc_creator") or []),
        subject=_first_text(read("dc_description")),
        creator=clean_text(read("xmp_creator_tool")),
        producer=clean_text(read("pdf_producer")),
        created_at=parse_pdf_date(read("xmp_create_date")),
        modified_at=parse_pdf_date(read("xmp_modify_date")),
    )


def _first_text(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("x-default") or next(iter(value.values()), "")
    return clean_text(value)


def read_safely(read: Callable[[], Metadata]) -> Metadata:
    """Calls `read`, treating any failure as "no metadata" (metadata never fails a job)."""
    try:
        return read()
    except MemoryError:
        raise
    except Exception:
        return Metadata()
