"""The one English time-expression parser: which days "tomorrow", "last Tuesday", "on
Thursday", "Thu 10 Dec", "the weekend" or "a year ago" name, seen from a given day.

Why one table for the calendar and her memory alike: the two read the same words
("tomorrow", "on Friday", "next week", "Thursday 10 December"), and read apart they
drifted (issue 25 was fixed twice). A rule says once what it names; ``ahead`` says which
way a day named without saying which falls (the calendar always looks ahead; her memory
asks the tense, windows.py). A few rules are one reader's only (``PLAN``, ``MEMORY``): a
bare "Friday" is a plan's day in "call Friday at 10", but "Tuesday's child" is no day of
his past; "yesterday", "a year ago" or "in March" are for recall, not (yet) for the
calendar's questions.

The earliest expression in the text wins, the longest where several start at one place.
Only English is understood; a text without an expression gives None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from os1.when.dates import (
    MONTHS,
    WEEKDAYS,
    add_months,
    clamped,
    coming_weekday,
    latest_weekday,
    month_number,
    placed_date,
    week_start,
    weekday_number,
)

PLAN, MEMORY = "plan", "memory"
_BOTH = frozenset((PLAN, MEMORY))
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "a couple of": 2, "couple of": 2, "a few": 3, "few": 3,
}
# "N units ago" is approximate: the day it points at, widened by the slack a person means
SLACK_DAYS = {"day": 0, "week": 3, "month": 15, "year": 30}

_NUM = r"(?P<num>\d{1,3}|a couple of|couple of|a few|few|an|a|one|two|three|four|five|six" \
       r"|seven|eight|nine|ten|eleven|twelve)"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_WEEKDAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")"
_MONTH_NAME = r"(?P<month>" + "|".join(MONTHS) + r")"
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?" \
         r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DOM = r"(?P<dom>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
# "on Thursday, the 10th of December", "next Thursday December 10, 2026", "Thu 10 Dec",
# "Wed, 10 Dec" ("I sat 10 December" is no Saturday: short names that are words need
# their point or comma)
_LEAD = r"(?:on\s+)?(?:(?:(?:this|next|coming|last|this\s+past)\s+)?(?P<named>(?:mon|tues?" \
        r"|wed(?:nes)?|thu(?:rs?)?|fri|satur|sun)day|mon|tues?|thu(?:rs?)?|fri" \
        r"|(?:wed|sat|sun)(?=[.,]))\.?,?\s+)?"


class Span(NamedTuple):
    """Whole days ``[first, end)``; "last night" runs from ``start_hour`` on the first
    day to ``end_hour`` on the end day."""

    first: date
    end: date
    start_hour: int = 0
    end_hour: int = 0


@dataclass(frozen=True)
class Reading:
    """A time expression found: the days it names, its words and where they stand in
    the text, and the weekday named with a date (0 is Monday), if one was."""

    span: Span
    phrase: str
    at: tuple[int, int]
    named_weekday: int | None = None

    @property
    def wrong_weekday(self) -> str:
        """The weekday named with a date, as a full name, when the date is another."""
        named, first = self.named_weekday, self.span.first
        return "" if named is None or named == first.weekday() else WEEKDAYS[named].capitalize()


def read(text: str, today: date, *, ahead: bool | Callable[[], bool],
         reader: str) -> Reading | None:
    """The first time expression in ``text`` that ``reader`` (``PLAN`` or ``MEMORY``)
    understands, seen from ``today``; ``ahead``: whether a day named without saying which
    is the coming one (asked only when there is an expression: the tense costs a read of
    the whole text)."""
    best: tuple[re.Match[str], _Resolver] | None = None
    for pattern, resolver, readers in _RULES:
        match = pattern.search(text) if reader in readers else None
        if match is not None and (best is None or (match.start(), -len(match.group()))
                                  < (best[0].start(), -len(best[0].group()))):
            best = (match, resolver)
    if best is None:
        return None
    match, resolver = best
    named = match.groupdict().get("named")
    looking = ahead() if callable(ahead) else ahead
    return Reading(resolver(match, today, looking), match.group(), match.span(),
                   weekday_number(named) if named else None)


_Resolver = Callable[[re.Match[str], date, bool], Span]


def _count(match: re.Match[str]) -> int:
    raw = " ".join(match.group("num").lower().split())
    return int(raw) if raw.isdigit() else NUMBER_WORDS[raw]


def _one(day: date) -> Span:
    return Span(day, day + timedelta(days=1))


def _relative_day(offset: int) -> _Resolver:
    return lambda match, today, ahead: _one(today + timedelta(days=offset))


def _last_night(match: re.Match[str], today: date, ahead: bool) -> Span:
    return Span(today - timedelta(days=1), today, 18, 6)


def _this_week(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'this week': looking ahead, what is left of it (today on); else all of it."""
    monday = week_start(today)
    rest = ahead or match.group().lower().startswith("the")
    return Span(today if rest else monday, monday + timedelta(weeks=1))


def _next_unit(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'next week', 'next month', 'next year': the whole calendar unit after this one."""
    unit = match.group("unit").lower()
    if unit == "week":
        first = week_start(today) + timedelta(weeks=1)
        return Span(first, first + timedelta(weeks=1))
    if unit == "month":
        first = add_months(today.replace(day=1), 1)
        return Span(first, add_months(first, 1))
    return Span(date(today.year + 1, 1, 1), date(today.year + 2, 1, 1))


def _calendar_unit(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'last week', 'this month', 'last year'... whole calendar units."""
    back = 1 if match.group("which").lower() == "last" else 0
    unit = match.group("unit").lower()
    if unit == "week":
        first = week_start(today) - timedelta(weeks=back)
        return Span(first, first + timedelta(weeks=1))
    if unit == "month":
        first = add_months(today.replace(day=1), -back)
        return Span(first, add_months(first, 1))
    first = date(today.year - back, 1, 1)
    return Span(first, date(first.year + 1, 1, 1))


def _weekend(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'last weekend': the latest Saturday-Sunday that has begun; 'this weekend' / 'the
    weekend' the same, or looking ahead the coming one (this one, from today, on a
    weekend), as 'next weekend' always is."""
    saturday = today - timedelta(days=(today.weekday() - 5) % 7)
    which = match.group().lower()
    if not (ahead or which.startswith("next")) or which.startswith("last"):
        return Span(saturday, saturday + timedelta(days=2))
    if today.weekday() < 5:
        saturday += timedelta(weeks=1)
    return Span(max(saturday, today), saturday + timedelta(days=2))


def _on_weekday(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'on Tuesday': looking ahead, the coming Tuesday (today included); else the most
    recent one, today included."""
    wanted = weekday_number(match.group("weekday"))
    return _one(coming_weekday(today, wanted) if ahead else latest_weekday(today, wanted))


def _coming_weekday(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'Friday', 'this Friday' in a plan: the coming one, today included."""
    return _one(coming_weekday(today, weekday_number(match.group("weekday"))))


def _next_weekday(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'next Friday': the first Friday after today (what most people mean by it)."""
    wanted = weekday_number(match.group("weekday"))
    return _one(coming_weekday(today, wanted, after_today=True))


def _last_weekday(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'last Tuesday': the most recent Tuesday before today."""
    wanted = weekday_number(match.group("weekday"))
    return _one(latest_weekday(today, wanted, before_today=True))


def _dated(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'10 December', 'on Thursday 10 December 2026': that day, in the year the text's
    direction points to (see ``placed_date``)."""
    named, year = match.group("named"), match.group("year")
    return _one(placed_date(today, month_number(match.group("month")), int(match.group("dom")),
                            ahead=ahead, year=int(year) if year else None,
                            weekday=weekday_number(named) if named else None))


def _iso(match: re.Match[str], today: date, ahead: bool) -> Span:
    return _one(clamped(int(match.group("y")), int(match.group("m")), int(match.group("d"))))


def _month(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'in March' (the most recent March, this one included, or looking ahead the coming
    one), 'last March' (the most recent one before this month), 'March 2023' / 'in March
    2023' (that one)."""
    month = month_number(match.group("month"))
    which = " ".join((match.groupdict().get("which") or "").lower().split())
    strictly_past = which in ("last", "this past")
    if match.group("year"):
        year = int(match.group("year"))
    elif ahead and not strictly_past:
        year = today.year if month >= today.month else today.year + 1
    else:
        year = today.year if (month < today.month or (
            month == today.month and not strictly_past)) else today.year - 1
    first = date(year, month, 1)
    return Span(first, add_months(first, 1))


def _year(match: re.Match[str], today: date, ahead: bool) -> Span:
    year = int(match.group("year"))
    return Span(date(year, 1, 1), date(year + 1, 1, 1))


def _back_or_on(sign: int) -> _Resolver:
    """'three days ago' (``sign`` -1) or 'in three days' (+1): the day it points at,
    widened by a person's slack."""
    def resolve(match: re.Match[str], today: date, ahead: bool) -> Span:
        count, unit = sign * _count(match), match.group("unit").lower()
        if unit in ("day", "week"):
            target = today + timedelta(days=count * (7 if unit == "week" else 1))
        else:
            target = add_months(today, count * (12 if unit == "year" else 1))
        slack = timedelta(days=SLACK_DAYS[unit])
        return Span(target - slack, target + slack + timedelta(days=1))
    return resolve


def _past_n(match: re.Match[str], today: date, ahead: bool) -> Span:
    """'the past three days', 'the last 2 weeks': rolling, up to the end of today."""
    count, unit = _count(match), match.group("unit").lower()
    if unit in ("day", "week"):
        first = today - timedelta(days=count * (7 if unit == "week" else 1))
    else:
        first = add_months(today, -count * (12 if unit == "year" else 1))
    return Span(first, today + timedelta(days=1))


def _recently(match: re.Match[str], today: date, ahead: bool) -> Span:
    return Span(today - timedelta(days=14), today + timedelta(days=1))


def _other_day(match: re.Match[str], today: date, ahead: bool) -> Span:
    return Span(today - timedelta(days=7), today)


def _rule(pattern: str, resolver: _Resolver, readers: frozenset[str] = _BOTH
          ) -> tuple[re.Pattern[str], _Resolver, frozenset[str]]:
    return re.compile(rf"\b{pattern}\b", re.IGNORECASE), resolver, readers


_PLAN, _MEMORY = frozenset((PLAN,)), frozenset((MEMORY,))
_RULES: list[tuple[re.Pattern[str], _Resolver, frozenset[str]]] = [
    _rule(r"(?:the\s+)?day\s+after\s+tomorrow", _relative_day(2)),
    _rule(r"tomorrow(?:\s+(?:morning|afternoon|evening|night))?", _relative_day(1)),
    _rule(r"(?:earlier\s+)?today|tonight|this\s+(?:morning|afternoon|evening)",
          _relative_day(0)),
    _rule(r"(?:this|the\s+rest\s+of\s+the)\s+week", _this_week),
    _rule(r"next\s+(?P<unit>week)", _next_unit),
    _rule(r"(?:last|next|this(?:\s+past)?|the|over\s+the)\s+weekend", _weekend),
    _rule(rf"next\s+{_WEEKDAY}", _next_weekday),
    _rule(rf"on\s+{_WEEKDAY}", _on_weekday),
    _rule(rf"{_LEAD}(?P<y>(?:19|20)\d\d)-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12]\d|3[01])",
          _iso),
    _rule(rf"{_LEAD}(?:the\s+)?{_DOM}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?", _dated),
    _rule(rf"{_LEAD}(?:the\s+)?{_MONTH}\s+{_DOM}(?:,?\s+{_YEAR})?", _dated),
    # a plan's bare weekday: "call Friday at 10"
    _rule(rf"(?:(?:this|coming)\s+)?{_WEEKDAY}", _coming_weekday, _PLAN),
    # what recall is asked about
    _rule(r"(?:the\s+)?day\s+before\s+yesterday", _relative_day(-2), _MEMORY),
    _rule(r"yesterday", _relative_day(-1), _MEMORY),
    _rule(r"last\s+night", _last_night, _MEMORY),
    _rule(r"next\s+(?P<unit>month|year)", _next_unit, _MEMORY),
    _rule(rf"in\s+{_NUM}\s+{_UNIT}", _back_or_on(1), _MEMORY),
    _rule(rf"{_NUM}\s+{_UNIT}\s+ago", _back_or_on(-1), _MEMORY),
    _rule(rf"(?:the\s+)?(?:past|last)\s+{_NUM}\s+{_UNIT}", _past_n, _MEMORY),
    _rule(r"(?P<which>last)\s+(?P<unit>week|month|year)", _calendar_unit, _MEMORY),
    _rule(r"(?P<which>this)\s+(?P<unit>month|year)", _calendar_unit, _MEMORY),
    _rule(rf"(?:last|this\s+past)\s+{_WEEKDAY}", _last_weekday, _MEMORY),
    _rule(rf"(?:(?P<which>in|during|last|this\s+past)\s+){_MONTH_NAME}"
          rf"(?:\s+(?:of\s+)?{_YEAR})?", _month, _MEMORY),
    _rule(rf"{_MONTH_NAME}\s+{_YEAR}", _month, _MEMORY),
    _rule(rf"(?:in|during)\s+{_YEAR}", _year, _MEMORY),
    _rule(r"recently|lately", _recently, _MEMORY),
    _rule(r"the\s+other\s+day", _other_day, _MEMORY),
]
