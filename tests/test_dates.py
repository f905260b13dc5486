import datetime as dt

import pytest

from transforms.dates import date_from_path, is_date_line, parse_timestamp

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-06-12", dt.datetime(2024, 6, 12, tzinfo=UTC)),
        ("2024-06-25T13:30:00+02:00", dt.datetime(2024, 6, 25, 11, 30, tzinfo=UTC)),
        ("2024-06-12T08:00:00Z", dt.datetime(2024, 6, 12, 8, tzinfo=UTC)),
        ("2024-06-26 08:30:00", dt.datetime(2024, 6, 26, 8, 30, tzinfo=UTC)),
        ("26-FEB-1987 15:01:01.79", dt.datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=UTC)),
        ("June 12, 2024", dt.datetime(2024, 6, 12, tzinfo=UTC)),
        ("Wed, 12 Jun 2024 10:00:00 +0000", dt.datetime(2024, 6, 12, 10, tzinfo=UTC)),
        (1718150400, dt.datetime(2024, 6, 12, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize(
    "value", ["June 12", "next week", "yesterday", "", None, ["2024"], "not a date 2024 at all really"]
)
def test_dates_without_a_year_or_sense_are_refused(value):
    assert parse_timestamp(value) is None


def test_date_lines_and_paths():
    assert is_date_line("June 12, 2024") and is_date_line("12 June 2024 10:30 GMT")
    assert not is_date_line("June 12, 2024 was the day Kim wrote to Putin.")
    assert date_from_path("/feeds/2024/06/12/story.txt") == dt.datetime(2024, 6, 12, tzinfo=UTC)
    assert date_from_path("/out/dt=2024-06-17/a.json") == dt.datetime(2024, 6, 17, tzinfo=UTC)
    assert date_from_path("/x/2024-13-45_story.txt") is None
    assert date_from_path("/x/story.txt") is None
