"""Where a weekday or a date falls, and the one parser the calendar and her memory read
time expressions with (os1/when)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from os1.when.dates import (
    add_months,
    clamped,
    coming_weekday,
    latest_weekday,
    month_number,
    placed_date,
    weekday_number,
)
from os1.when.plans import find_days
from os1.when.windows import find_time_window

WEDNESDAY = date(2024, 5, 15)
THURSDAY, FRIDAY, WED = 3, 4, 2


def test_names_whole_or_cut_short() -> None:
    assert [weekday_number(w) for w in ("Thu", "tues", "SUNDAY")] == [3, 1, 6]
    assert [month_number(m) for m in ("Dec", "sept", "March", "may", "jun", "jul")] \
        == [12, 9, 3, 5, 6, 7]


def test_a_day_the_month_lacks_is_its_nearest() -> None:
    assert clamped(2025, 2, 30) == date(2025, 2, 28)
    assert clamped(2024, 2, 30) == date(2024, 2, 29)
    assert clamped(2026, 4, 31) == date(2026, 4, 30)
    assert clamped(2026, 4, 0) == date(2026, 4, 1)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 3, 15), -3) == date(2023, 12, 15)


@pytest.mark.parametrize(("weekday", "after", "expected"), [
    (THURSDAY, False, date(2024, 5, 16)),
    (WED, False, WEDNESDAY),  # "on Wednesday", said on one: today
    (WED, True, date(2024, 5, 22)),  # "next Wednesday": a week on
    (FRIDAY, True, date(2024, 5, 17)),
])
def test_the_coming_weekday(weekday: int, after: bool, expected: date) -> None:
    assert coming_weekday(WEDNESDAY, weekday, after_today=after) == expected


@pytest.mark.parametrize(("weekday", "before", "expected"), [
    (THURSDAY, False, date(2024, 5, 9)),
    (WED, False, WEDNESDAY),
    (WED, True, date(2024, 5, 8)),  # "last Wednesday"
])
def test_the_latest_weekday(weekday: int, before: bool, expected: date) -> None:
    assert latest_weekday(WEDNESDAY, weekday, before_today=before) == expected


@pytest.mark.parametrize(("month", "day", "ahead", "weekday", "expected"), [
    (12, 10, True, None, date(2024, 12, 10)),
    (12, 10, False, None, date(2023, 12, 10)),
    (5, 3, True, None, date(2025, 5, 3)),  # gone this year: next year's
    (5, 3, False, None, date(2024, 5, 3)),
    (5, 16, False, THURSDAY, date(2024, 5, 16)),  # only this year's is a Thursday
    (5, 16, False, FRIDAY, date(2023, 5, 16)),  # the weekday never moves the day
])
def test_a_date_is_placed_by_the_way_the_text_looks(
        month: int, day: int, ahead: bool, weekday: int | None, expected: date) -> None:
    assert placed_date(WEDNESDAY, month, day, ahead=ahead, weekday=weekday) == expected
    assert placed_date(WEDNESDAY, month, day, ahead=ahead, year=2019) == date(2019, month, day)


@pytest.mark.parametrize("text", [
    "We're meeting on Thursday 23 May.", "Dinner on Friday, the 10th of January.",
    "I'm seeing him on December 10.", "tomorrow evening", "the day after tomorrow",
    "on Friday", "on Wednesday", "next Wednesday", "next week", "this weekend",
    "the rest of the week", "tonight", "Thu 23 May", "on 2024-06-01"])
@pytest.mark.parametrize("day", [15, 18, 19])  # a Wednesday, a Saturday, a Sunday
def test_calendar_and_memory_read_the_same_words_alike_looking_ahead(text: str,
                                                                     day: int) -> None:
    now = datetime(2024, 5, day, 14, tzinfo=UTC)
    days = find_days(text, now)
    window = find_time_window(text, now.timestamp(), UTC, ahead=True)
    assert days is not None and window is not None
    assert (days.start.timestamp(), days.end.timestamp(), days.phrase) \
        == (window.start, window.end, window.phrase)


def test_each_reader_keeps_the_words_that_are_only_its_own() -> None:
    """A bare weekday is a plan's ("call Friday at 10"), never a day of his past
    ("Tuesday's child"); "yesterday" is for recall, not the calendar's questions."""
    now = datetime(2024, 5, 15, 14, tzinfo=UTC)
    friday = find_days("call Friday at 10", now)
    assert friday is not None and friday.start == datetime(2024, 5, 17, tzinfo=UTC)
    assert find_time_window("call Friday at 10", now.timestamp(), UTC) is None
    assert find_days("what did I do yesterday", now) is None
    assert find_time_window("what did I do yesterday", now.timestamp(), UTC) is not None


@pytest.mark.parametrize(("text", "start"), [
    ("I saw her on 3 Dec.", "2023-12-03"),
    ("We met on Thu, 2 May", "2024-05-02"),
    ("That was 2024-05-03, I think", "2024-05-03"),
])
def test_memory_reads_what_the_calendar_always_read(text: str, start: str) -> None:
    found = find_time_window(text, datetime(2024, 5, 15, 14, tzinfo=UTC).timestamp(), UTC)
    assert found is not None
    assert datetime.fromtimestamp(found.start, UTC).strftime("%Y-%m-%d") == start


def test_next_weekend_is_to_come_even_read_looking_back() -> None:
    found = find_time_window("the mail about next weekend",
                             datetime(2024, 5, 15, 14, tzinfo=UTC).timestamp(), UTC, ahead=False)
    assert found is not None
    assert datetime.fromtimestamp(found.start, UTC).strftime("%Y-%m-%d") == "2024-05-18"


@pytest.mark.parametrize("text", ["on 0 December", "35 December", "the 2019 budget"])
def test_a_day_no_month_has_is_no_date(text: str) -> None:
    """The calendar read "35 December" as the 28th."""
    assert find_days(text, datetime(2024, 5, 15, tzinfo=UTC)) is None


def test_an_iso_date_with_no_such_month_is_no_date() -> None:
    """It crashed the calendar's reading ("month must be in 1..12")."""
    assert find_days("the code 2026-13-01", datetime(2024, 5, 15, tzinfo=UTC)) is None
