"""Time expressions in what the user says ("yesterday", "last Tuesday", "a year ago",
"in March") resolved against a moment to a ``[start, end)`` window of Unix time.

Why: "what did I tell you yesterday?" shares no words and little meaning with the memory
it asks for; only its time does. Recall boosts memories inside the window, and extraction
can date an event ("my interview is tomorrow" said on Monday).

Calendar words use calendar units in the given time zone (local when ``tz`` is None):
"yesterday" is yesterday's whole day, "last week" the Monday-to-Monday week before this
one. "N units ago" is approximate, so its window is the day it points at widened by the
slack a person means: a day exactly, weeks ±3 days, months ±15 days, years ±30 days.
Future expressions ("tomorrow", "next Friday", "in two weeks") date the events people
announce. Words that name a day or month without saying which ("on Thursday", "in March",
"the weekend") are read by the tense around them: "we're meeting for lunch on Thursday"
is the coming Thursday, "I saw her on Thursday" the one gone by (``looks_ahead``); with
no tense to go on, what is asked of her memory looks back and a note of what he said
(extraction) tells a plan. A date ("10 December", "Thursday 10 December") is that day, in
the year its tense points to; a weekday named with it only picks the year when it fits
that one alone, and never moves the day (issue 25: "on Thursday 10 December" was read as
whichever Thursday was nearest). Only English is understood; a text without a time
expression gives None.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "a couple of": 2, "couple of": 2, "a few": 3, "few": 3,
}
SLACK_DAYS = {"day": 0, "week": 3, "month": 15, "year": 30}

_NUM = r"(?P<num>\d{1,3}|a couple of|couple of|a few|few|an|a|one|two|three|four|five|six" \
       r"|seven|eight|nine|ten|eleven|twelve)"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_WEEKDAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")"
_MONTH = r"(?P<month>" + "|".join(MONTHS) + r")"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DOM = r"(?P<dom>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
# "on Thursday, the 10th of December", "next Thursday December 10, 2026"
_DATED_LEAD = rf"(?:on\s+)?(?:(?:(?:this|next|last|this\s+past)\s+)?{_WEEKDAY},?\s+)?"

_ING_NOUN = r"(?!(?:no|some|any|every)?thing\b|morning\b|evening\b|ceiling\b|spring\b" \
            r"|string\b|wedding\b|building\b|ring\b|king\b)"
_AHEAD = re.compile(
    r"\b(?:will|shall|won't|going\s+to|gonna|about\s+to|plan(?:s|ning|ned)?\s+to"
    r"|hop(?:e|es|ing)\s+to|wants?\s+to|needs?\s+to|ha(?:ve|s)\s+to|should|next"
    r"|upcoming|coming|soon|tomorrow)\b|'ll\b"
    rf"|(?:\b(?:am|is|are)|'m|'s|'re)\s+(?:\w+\s+)?{_ING_NOUN}\w+ing\b",
    re.IGNORECASE)
_BEHIND = re.compile(
    r"\b(?:did|didn't|was|wasn't|were|weren't|had|went|saw|met|told|said|came|got|made"
    r"|took|felt|left|ran|ate|drank|bought|brought|thought|found|gave|lost|spent|sent|wrote"
    r"|heard|slept|woke|broke|fell|sat|won|began|spoke|drove|flew|forgot|knew|paid|sold"
    r"|taught|caught|kept|built|ago|yesterday|last)\b"
    r"|\b(?!(?:need|bed|red|feed|speed|seed|indeed|wed|embed|shed)\b)\w{2,}ed\b",
    re.IGNORECASE)
_PLANNED = re.compile(r"\b(?:plans?|appointment|meeting|reservation|due)\b",
                      re.IGNORECASE)


@dataclass(frozen=True)
class TimeWindow:
    """``[start, end)`` in Unix seconds, and the words (``text[span[0]:span[1]]``) that
    named it, so a caller can search the rest of the text without them."""

    start: float
    end: float
    phrase: str
    span: tuple[int, int]

    def contains(self, moment: float) -> bool:
        return self.start <= moment < self.end


def looks_ahead(text: str, otherwise: bool = False) -> bool:
    """Whether ``text`` speaks of what is to come: a future word ("will", "going to",
    "we're meeting", "plans to") says so; else a past one ("did", "met", "walked") says
    it is behind; else a plan's word ("appointment") looks ahead; else ``otherwise``
    (asked of her memory, "tell me about the trip in March" looks back; a note of what he
    said, "lunch with Catherine on Thursday", ahead)."""
    if _AHEAD.search(text):
        return True
    if _BEHIND.search(text):
        return False
    return bool(_PLANNED.search(text)) or otherwise


def find_time_window(text: str, now: float, tz: tzinfo | None = None,
                     ahead: bool | None = None) -> TimeWindow | None:
    """The first time expression in ``text`` (the longest one where several start at the
    same place), resolved against ``now``; None if there is none. ``ahead``: whether a
    day or month named without saying which is the coming one (None: ``text``'s tense
    says, looking back if it says nothing; see ``looks_ahead``)."""
    best: tuple[re.Match[str], _Resolver] | None = None
    for pattern, resolver in _RULES:
        match = pattern.search(text)
        if match is None:
            continue
        if best is None or (match.start(), -len(match.group())) < (
                best[0].start(), -len(best[0].group())):
            best = (match, resolver)
    if best is None:
        return None
    match, resolver = best
    clock = _Clock(now, tz, looks_ahead(text) if ahead is None else ahead)
    start, end = resolver(match, clock)
    return TimeWindow(start, end, match.group(), match.span())


def without_phrase(text: str, window: TimeWindow | None) -> str:
    """``text`` with the time expression cut out (what the question is about)."""
    if window is None:
        return text
    a, b = window.span
    return " ".join((text[:a] + " " + text[b:]).split())


class _Clock:
    """``now`` as a calendar: local dates, and day boundaries as Unix time (DST-correct
    when ``tz`` is None, because a naive datetime's ``timestamp()`` uses local rules)."""

    def __init__(self, now: float, tz: tzinfo | None, ahead: bool = False) -> None:
        self.now = now
        self.tz = tz
        self.ahead = ahead
        self.today = datetime.fromtimestamp(now, tz).date()

    def at(self, day: date, hour: int = 0) -> float:
        return datetime.combine(day, time(hour), tzinfo=self.tz).timestamp()

    def days(self, first: date, last_exclusive: date) -> tuple[float, float]:
        return self.at(first), self.at(last_exclusive)

    def day(self, day: date) -> tuple[float, float]:
        return self.days(day, day + timedelta(days=1))


_Resolver = Callable[[re.Match[str], _Clock], tuple[float, float]]


def _count(match: re.Match[str]) -> int:
    raw = " ".join(match.group("num").lower().split())
    return int(raw) if raw.isdigit() else NUMBER_WORDS[raw]


def _add_months(day: date, months: int) -> date:
    """The same day-of-month ``months`` later (clamped: Jan 31 + 1 month = Feb 28/29)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last_day))


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _ago(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    count, unit = _count(match), match.group("unit").lower()
    if unit in ("day", "week"):
        target = clock.today - timedelta(days=count * (7 if unit == "week" else 1))
    else:
        target = _add_months(clock.today, -count * (12 if unit == "year" else 1))
    slack = timedelta(days=SLACK_DAYS[unit])
    return clock.days(target - slack, target + slack + timedelta(days=1))


def _past_n(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'the past three days', 'the last 2 weeks': rolling, up to the end of today."""
    count, unit = _count(match), match.group("unit").lower()
    tomorrow = clock.today + timedelta(days=1)
    if unit in ("day", "week"):
        first = clock.today - timedelta(days=count * (7 if unit == "week" else 1))
    else:
        first = _add_months(clock.today, -count * (12 if unit == "year" else 1))
    return clock.days(first, tomorrow)


def _calendar(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'last week', 'this month', 'last year'... whole calendar units."""
    which, unit = match.group("which").lower(), match.group("unit").lower()
    back = 1 if which == "last" else 0
    today = clock.today
    if unit == "week":
        first = _week_start(today) - timedelta(weeks=back)
        return clock.days(first, first + timedelta(weeks=1))
    if unit == "month":
        first = _add_months(_month_start(today), -back)
        return clock.days(first, _add_months(first, 1))
    first = date(today.year - back, 1, 1)
    return clock.days(first, date(first.year + 1, 1, 1))


def _last_weekday(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'last Tuesday': the most recent Tuesday before today."""
    wanted = WEEKDAYS.index(match.group("weekday").lower())
    back = (clock.today.weekday() - wanted - 1) % 7 + 1
    return clock.day(clock.today - timedelta(days=back))


def _on_weekday(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'on Tuesday': looking ahead, the coming Tuesday (today included); else the most
    recent one, today included."""
    wanted = WEEKDAYS.index(match.group("weekday").lower())
    if clock.ahead:
        return clock.day(clock.today + timedelta(days=(wanted - clock.today.weekday()) % 7))
    back = (clock.today.weekday() - wanted) % 7
    return clock.day(clock.today - timedelta(days=back))


def _month(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'in March' (the most recent March, this one included, or looking ahead the coming
    one), 'last March' (the most recent one before this month), 'March 2023' / 'in March
    2023' (that one)."""
    month = MONTHS.index(match.group("month").lower()) + 1
    today = clock.today
    which = " ".join((match.groupdict().get("which") or "").lower().split())
    strictly_past = which in ("last", "this past")
    if match.group("year"):
        year = int(match.group("year"))
    elif clock.ahead and not strictly_past:
        year = today.year if month >= today.month else today.year + 1
    else:
        year = today.year if (month < today.month or (
            month == today.month and not strictly_past)) else today.year - 1
    first = date(year, month, 1)
    return clock.days(first, _add_months(first, 1))


def _dated(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'10 December', 'on Thursday 10 December 2026': that day. Without a year, this
    year's, unless it is to come and the text looks back (then last year's) or it is
    gone and the text looks ahead (next year's); but this year's all the same when a
    weekday named with it fits this year's and not the other."""
    month, day = MONTHS.index(match.group("month").lower()) + 1, int(match.group("dom"))
    today = clock.today
    if match.group("year"):
        return clock.day(_clamped(int(match.group("year")), month, day))
    this = _clamped(today.year, month, day)
    if this >= today if clock.ahead else this <= today:
        return clock.day(this)
    other = _clamped(today.year + (1 if clock.ahead else -1), month, day)
    named = match.group("weekday")
    wanted = WEEKDAYS.index(named.lower()) if named is not None else None
    fits_this = wanted == this.weekday() != other.weekday()
    return clock.day(this if fits_this else other)


def _clamped(year: int, month: int, day: int) -> date:
    """The date, or the month's last day for one it doesn't have (30 February)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _year(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    year = int(match.group("year"))
    return clock.days(date(year, 1, 1), date(year + 1, 1, 1))


def _relative_day(offset: int) -> _Resolver:
    def resolve(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
        return clock.day(clock.today + timedelta(days=offset))
    return resolve


def _last_night(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    return clock.at(clock.today - timedelta(days=1), 18), clock.at(clock.today, 6)


def _weekend(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'last weekend': the latest Saturday-Sunday that has begun; 'this weekend' / 'the
    weekend' the same, or looking ahead the coming one (this one, on a weekend)."""
    saturday = clock.today - timedelta(days=(clock.today.weekday() - 5) % 7)
    if clock.ahead and not match.group().lower().startswith("last") \
            and clock.today.weekday() < 5:
        saturday += timedelta(days=7)
    return clock.days(saturday, saturday + timedelta(days=2))


def _recently(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    return clock.days(clock.today - timedelta(days=14), clock.today + timedelta(days=1))


def _other_day(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    return clock.days(clock.today - timedelta(days=7), clock.today)


def _next_weekday(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'next Friday': the first Friday after today (what most people mean by it)."""
    wanted = WEEKDAYS.index(match.group("weekday").lower())
    ahead = (wanted - clock.today.weekday() - 1) % 7 + 1
    return clock.day(clock.today + timedelta(days=ahead))


def _next_unit(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'next week', 'next month', 'next year': the whole calendar unit after this one."""
    unit, today = match.group("unit").lower(), clock.today
    if unit == "week":
        first = _week_start(today) + timedelta(weeks=1)
        return clock.days(first, first + timedelta(weeks=1))
    if unit == "month":
        first = _add_months(_month_start(today), 1)
        return clock.days(first, _add_months(first, 1))
    return clock.days(date(today.year + 1, 1, 1), date(today.year + 2, 1, 1))


def _in_n(match: re.Match[str], clock: _Clock) -> tuple[float, float]:
    """'in three days', 'in a couple of weeks': the day it points at, with a person's slack."""
    count, unit = _count(match), match.group("unit").lower()
    if unit in ("day", "week"):
        target = clock.today + timedelta(days=count * (7 if unit == "week" else 1))
    else:
        target = _add_months(clock.today, count * (12 if unit == "year" else 1))
    slack = timedelta(days=SLACK_DAYS[unit])
    return clock.days(target - slack, target + slack + timedelta(days=1))


def _rule(pattern: str, resolver: _Resolver) -> tuple[re.Pattern[str], _Resolver]:
    return re.compile(rf"\b{pattern}\b", re.IGNORECASE), resolver


_RULES: list[tuple[re.Pattern[str], _Resolver]] = [
    _rule(r"(?:the\s+)?day\s+before\s+yesterday", _relative_day(-2)),
    _rule(r"yesterday", _relative_day(-1)),
    _rule(r"(?:the\s+)?day\s+after\s+tomorrow", _relative_day(2)),
    _rule(r"tomorrow", _relative_day(1)),
    _rule(rf"next\s+{_WEEKDAY}", _next_weekday),
    _rule(r"next\s+(?P<unit>week|month|year)", _next_unit),
    _rule(rf"in\s+{_NUM}\s+{_UNIT}", _in_n),
    _rule(r"(?:earlier\s+)?today|this\s+(?:morning|afternoon|evening)|tonight",
          _relative_day(0)),
    _rule(r"last\s+night", _last_night),
    _rule(rf"{_NUM}\s+{_UNIT}\s+ago", _ago),
    _rule(rf"(?:the\s+)?(?:past|last)\s+{_NUM}\s+{_UNIT}", _past_n),
    _rule(r"(?P<which>last|this)\s+(?P<unit>week|month|year)", _calendar),
    _rule(rf"(?:last|this\s+past)\s+{_WEEKDAY}", _last_weekday),
    _rule(rf"on\s+{_WEEKDAY}", _on_weekday),
    _rule(rf"{_DATED_LEAD}(?:the\s+)?{_DOM}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?", _dated),
    _rule(rf"{_DATED_LEAD}{_MONTH}\s+{_DOM}(?:,?\s+{_YEAR})?", _dated),
    _rule(rf"(?:(?P<which>in|during|last|this\s+past)\s+){_MONTH}(?:\s+(?:of\s+)?{_YEAR})?",
          _month),
    _rule(rf"{_MONTH}\s+{_YEAR}", _month),
    _rule(rf"(?:in|during)\s+{_YEAR}", _year),
    _rule(r"(?:last|this(?:\s+past)?|the|over\s+the)\s+weekend", _weekend),
    _rule(r"recently|lately", _recently),
    _rule(r"the\s+other\s+day", _other_day),
]
