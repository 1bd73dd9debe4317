"""Page selections such as "1-3,7,10-": parsed at submission, applied to a page count later."""

import re
from dataclasses import dataclass

from jobwire.server.errors import INVALID_PARAMETERS, InvalidParameters, JobFailed

_PART = re.compile(r"^(?P<first>\d+)(?:(?P<dash>-)(?P<last>\d*))?$")
_MAX_PARTS = 1_000


@dataclass(frozen=True, slots=True)
class PageRange:
    """Pages `first` to `last`, 1-based and inclusive; `last` None runs to the end."""

    first: int
    last: int | None


def parse_page_ranges(spec: str, *, field: str = "pages") -> tuple[PageRange, ...]:
    """Parses "1-3,7,10-"; an empty `spec` means every page (an empty tuple).

    Raises `InvalidParameters(field, ...)` naming the part that is wrong.
    """
    if not spec.strip():
        return ()

    parts = spec.split(",")
    if len(parts) > _MAX_PARTS:
        raise InvalidParameters(field, f"at most {_MAX_PARTS} comma-separated parts")
    return tuple(_parse_part(part.strip(), spec, field) for part in parts)


def _parse_part(part: str, spec: str, field: str) -> PageRange:
    match = _PART.match(part)
    if match is None:
        raise InvalidParameters(
            field, f"{part!r} in {spec!r} is not a page or range like 3, 1-3 or 10-"
        )

    first = int(match["first"])
    last = None if match["dash"] and not match["last"] else int(match["last"] or first)
    if first < 1:
        raise InvalidParameters(field, f"{part!r} in {spec!r}: pages are numbered from 1")
    if last is not None and last < first:
        raise InvalidParameters(field, f"{part!r} in {spec!r}: the range ends before it starts")
    return PageRange(first, last)


def select_pages(
    ranges: tuple[PageRange, ...], page_count: int, *, field: str = "pages"
) -> list[int]:
    """The sorted, distinct page numbers `ranges` names in a document of `page_count` pages.

    A page past the end fails the job with INVALID_PARAMETERS rather than being dropped.
    """
    if not ranges:
        return list(range(1, page_count + 1))

    selected: set[int] = set()
    for page_range in ranges:
        last = page_count if page_range.last is None else page_range.last
        if page_range.first > page_count or last > page_count:
            shown = page_range.last if page_range.last is not None else "end"
            raise JobFailed(
                f"{field}: {page_range.first}-{shown} is beyond the document's "
                f"{page_count} page(s)",
                code=INVALID_PARAMETERS,
                details={"field": field, "page_count": str(page_count)},
            )
        selected.update(range(page_range.first, last + 1))
    return sorted(selected)
