"""Her sense of time: gaps and moments said the way a person says them."""

from __future__ import annotations

from datetime import datetime

import pytest

from os1.when.gaps import DAY, HOUR, MINUTE, describe_gap, describe_moment


@pytest.mark.parametrize(("seconds", "expected"), [
    (-30, "just a moment"),
    (0, "just a moment"),
    (90, "just a moment"),
    (2 * MINUTE, "a few minutes"),
    (14 * MINUTE, "a few minutes"),
    (15 * MINUTE, "about 15 minutes"),
    (22 * MINUTE, "about 20 minutes"),
    (33 * MINUTE, "about 35 minutes"),
    (49 * MINUTE, "about 50 minutes"),
    (50 * MINUTE, "about an hour"),
    (80 * MINUTE, "about an hour"),
    (1.5 * HOUR, "about 2 hours"),
    (3.4 * HOUR, "about 3 hours"),
    (23 * HOUR, "about 23 hours"),
    (DAY, "a day"),
    (1.9 * DAY, "a day"),
    (2 * DAY, "2 days"),
    (3 * DAY, "3 days"),
    (13 * DAY, "13 days"),
    (14 * DAY, "about 2 weeks"),
    (40 * DAY, "about 6 weeks"),
    (60 * DAY, "about 2 months"),
    (200 * DAY, "about 7 months"),
    (365 * DAY, "about a year"),
    (500 * DAY, "about a year"),
    (3 * 365 * DAY, "about 3 years"),
])
def test_describe_gap(seconds: float, expected: str) -> None:
    assert describe_gap(seconds) == expected


def at(day: int, hour: int, minute: int = 0) -> float:
    """A local time in May 2024 (no DST change that month); 6 May 2024 is a Monday."""
    return datetime(2024, 5, day, hour, minute).timestamp()


@pytest.mark.parametrize(("then", "now", "expected"), [
    (at(8, 9), at(8, 18), "earlier today, in the morning"),
    (at(8, 13), at(8, 18), "earlier today, in the afternoon"),
    (at(8, 0, 30), at(8, 1), "earlier today, in the night"),
    (at(7, 19), at(8, 8), "yesterday, in the evening"),
    (at(7, 23, 30), at(8, 0, 10), "yesterday, in the night"),
    (at(6, 10), at(9, 10), "on Monday, in the morning"),
    (at(6, 15), at(12, 9), "on Monday, in the afternoon"),
    (at(6, 10), at(13, 10), "on Monday 6 May 2024"),
    (at(1, 21), at(30, 10), "on Wednesday 1 May 2024"),
])
def test_describe_moment(then: float, now: float, expected: str) -> None:
    assert describe_moment(then, now) == expected


@pytest.mark.parametrize(("hour", "part"), [
    (4, "night"), (5, "morning"), (11, "morning"), (12, "afternoon"), (16, "afternoon"),
    (17, "evening"), (21, "evening"), (22, "night"),
])
def test_parts_of_the_day(hour: int, part: str) -> None:
    assert describe_moment(at(20, hour), at(20, 23, 59)) == f"earlier today, in the {part}"
