import datetime as dt

import pytest

from transforms.event_dates import resolve_event_dates

BASE = dt.datetime(2024, 6, 17, 9, 0, tzinfo=dt.timezone.utc)  # a Monday
D = dt.date


@pytest.mark.parametrize(
    "sentence, tense, start, end",
    [
        ("Putin's visit is scheduled for June 18–19.", "future", D(2024, 6, 18), D(2024, 6, 19)),
        ("The talks run from 18 to 19 June.", "future", D(2024, 6, 18), D(2024, 6, 19)),
        ("The summit runs Dec 30-Jan 2.", "future", D(2024, 12, 30), D(2025, 1, 2)),
        ("It could happen as early as next week.", "future", D(2024, 6, 24), D(2024, 6, 30)),
        ("He will visit this summer.", "future", D(2024, 6, 17), D(2024, 8, 31)),
        ("Putin is expected in the coming weeks.", "future", D(2024, 6, 18), D(2024, 7, 29)),
        ("Kim first met Putin in July 2000.", "past", D(2000, 7, 1), D(2000, 7, 31)),
        ("Presidential elections are due by April 2026.", "any", D(2026, 4, 1), D(2026, 4, 30)),
        ("The vote is set for November, 2025.", "future", D(2025, 11, 1), D(2025, 11, 30)),
        ("An election is expected in the autumn.", "any", D(2024, 9, 1), D(2024, 11, 30)),
        ("The missile was fired on Wednesday.", "past", D(2024, 6, 12), D(2024, 6, 12)),
        ("They will meet on Wednesday.", "future", D(2024, 6, 19), D(2024, 6, 19)),
        ("Earlier this year, Putin gifted Kim a car.", "any", D(2024, 1, 1), D(2024, 6, 17)),
        ("The election will be held on March 3.", "future", D(2025, 3, 3), D(2025, 3, 3)),
        ("Campaigning began for an expected October election.", "future", D(2024, 10, 1), D(2024, 10, 31)),
        ("A June summit is planned in Rome.", "any", D(2024, 6, 1), D(2024, 6, 30)),
    ],
)
def test_resolves_ranges_and_relative_dates(sentence, tense, start, end):
    assert resolve_event_dates(sentence, BASE, tense)[:2] == (start, end)


def test_the_date_that_dates_the_report_is_passed_over():
    sentence = "North Korean state media announced Monday that Putin's visit is scheduled for June 18–19."
    assert resolve_event_dates(sentence, BASE, "future", anchor=sentence.index("visit")) == (
        D(2024, 6, 18),
        D(2024, 6, 19),
        "June 18–19",
    )


def test_no_date_and_may_the_verb():
    assert resolve_event_dates("Putin may visit soon.", BASE, "future") == (None, None, None)


def test_a_name_before_may_is_no_month():
    assert resolve_event_dates("As the minister May said, a vote is near.", BASE, "any") == (None, None, None)


def test_the_may_government_is_no_month_but_a_may_election_is():
    assert resolve_event_dates("The May government said it would act.", BASE, "any") == (None, None, None)
    assert resolve_event_dates("Labour expects a May election.", BASE, "future")[2] == "a May"


def test_a_season_with_its_year_is_not_this_years_and_a_future_one_is_the_next():
    assert resolve_event_dates("Protests broke out in the spring of 1989.", BASE, "past") == (None, None, None)
    december = dt.datetime(2024, 12, 10, tzinfo=dt.timezone.utc)
    assert resolve_event_dates("Leaders will meet in the spring.", december, "future")[:2] == (
        D(2025, 3, 1),
        D(2025, 5, 31),
    )
    july = dt.datetime(2024, 7, 15, tzinfo=dt.timezone.utc)
    assert resolve_event_dates("An anticipated June summit was announced.", july, "future")[:2] == (
        D(2025, 6, 1),
        D(2025, 6, 30),
    )
