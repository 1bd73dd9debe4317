import pytest

from jobwire.handlers.page_ranges import PageRange, parse_page_ranges, select_pages
from jobwire.server.errors import INVALID_PARAMETERS, InvalidParameters, JobFailed


def test_empty_selection_means_every_page() -> None:
    assert parse_page_ranges("") == ()
    assert select_pages((), 4) == [1, 2, 3, 4]


def test_pages_ranges_and_open_ranges_are_merged_in_order() -> None:
    ranges = parse_page_ranges(" 7, 1-3 ,10-,2")

    assert ranges == (PageRange(7, 7), PageRange(1, 3), PageRange(10, None), PageRange(2, 2))
    assert select_pages(ranges, 12) == [1, 2, 3, 7, 10, 11, 12]


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("0", "numbered from 1"),
        ("3-1", "ends before it starts"),
        ("a", "not a page or range"),
        ("1,,2", "not a page or range"),
        ("-3", "not a page or range"),
        ("1-2-3", "not a page or range"),
        ("1.5", "not a page or range"),
    ],
)
def test_malformed_selections_name_the_part(spec: str, complaint: str) -> None:
    with pytest.raises(InvalidParameters, match=complaint) as raised:
        parse_page_ranges(spec)

    assert raised.value.field == "pages"


def test_a_page_past_the_end_fails_the_job_with_invalid_parameters() -> None:
    with pytest.raises(JobFailed, match="beyond the document's 5 page") as raised:
        select_pages(parse_page_ranges("2,9"), 5)

    assert raised.value.code == INVALID_PARAMETERS
    assert not raised.value.retryable


def test_an_open_range_starting_past_the_end_fails() -> None:
    with pytest.raises(JobFailed):
        select_pages(parse_page_ranges("6-"), 5)
