"""The calendar under every reading of time: the names of days and months, and where a
weekday or a date named without its week or year falls.

Why one module: the calendar (what is coming) and her memory (what was, or is planned)
each placed "Thursday 10 December" on their own, and the same bug had to be fixed twice
(issue 25: the weekday moved the date). Both now place a day here, and differ only in
which way they look (``ahead``).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")


def weekday_number(word: str) -> int:
    """0 for Monday: a weekday's name, whole or cut short ("Thu", "Tues")."""
    return next(i for i, name in enumerate(WEEKDAYS) if name.startswith(word.lower()[:3]))


def month_number(word: str) -> int:
    """1 for January: a month's name, whole or cut short ("Dec", "Sept")."""
    return next(i for i, name in enumerate(MONTHS, start=1)
                if name.startswith(word.lower()[:3]))


def clamped(year: int, month: int, day: int) -> date:
    """The date, or the month's nearest day it has ("30 February" is its last)."""
    return date(year, month, max(1, min(day, calendar.monthrange(year, month)[1])))


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later (Jan 31 + 1 month = Feb 28/29)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return clamped(year, month0 + 1, day.day)


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def coming_weekday(today: date, weekday: int, *, after_today: bool = False) -> date:
    """The first such weekday from today on ("on Friday" in a plan), or after today
    ("next Friday": what most people mean by it)."""
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=7 if after_today and ahead == 0 else ahead)


def latest_weekday(today: date, weekday: int, *, before_today: bool = False) -> date:
    """The latest such weekday up to today ("I saw her on Friday"), or before today
    ("last Friday")."""
    back = (today.weekday() - weekday) % 7
    return today - timedelta(days=7 if before_today and back == 0 else back)


def placed_date(today: date, month: int, day: int, *, ahead: bool, year: int | None = None,
                weekday: int | None = None) -> date:
    """A date named by its day and month ("10 December"): in ``year`` when one is named;
    else this year's, unless it is gone and the text looks ahead (then next year's) or
    it is to come and the text looks back (last year's). A ``weekday`` named with it
    never moves the day: it only keeps this year's when it fits this year's date and not
    the other's ("Thursday 10 December" written on the 12th, of the Thursday gone by)."""
    if year is not None:
        return clamped(year, month, day)
    this = clamped(today.year, month, day)
    if this >= today if ahead else this <= today:
        return this
    other = clamped(today.year + (1 if ahead else -1), month, day)
    return this if weekday == this.weekday() != other.weekday() else other
