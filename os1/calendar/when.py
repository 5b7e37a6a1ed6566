"""Future time expressions for the calendar: which days "tomorrow", "on Friday", "this
week" or "December 3" mean, and which moment "tomorrow at 3pm" or "in 20 minutes" means.

Why not os1/memory/timeexpr.py: it reads what the user says about the past ("on Friday"
is the Friday gone by) and returns fuzzy windows for recall; a calendar needs the coming
Friday and an exact minute. Only English is understood; no expression gives None.

A date named with its weekday ("Thursday 10 December") is that date. Read first-come, the
weekday made it the Thursday after the mail was sent (issue 25). The weekday only keeps a
date gone by in its own year ("Thursday 10 December" written on the 12th) when it fits
that one and not next year's. When they disagree (10 December 2025 was a Wednesday), the
date still wins, and ``wrong_weekday`` says so, for her to tell him.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?" \
         r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DAY_OF_MONTH = r"(?P<dom>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>20\d\d))?"
# "Thursday", "Thu", "next Thursday," "Wed," before a date ("I sat 10 December" is no
# Saturday: the short names that are words need their point or comma)
_NAMED = r"(?:(?:(?:this|next|coming)\s+)?(?P<named>(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri" \
         r"|satur|sun)day|mon|tues?|thu(?:rs?)?|fri|(?:wed|sat|sun)(?=[.,]))\.?,?\s+)?"
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10,
            "fifteen": 15, "twenty": 20, "thirty": 30, "forty-five": 45, "half an": 30}


@dataclass(frozen=True)
class Days:
    """``[start, end)``: whole days in ``now``'s time zone, and the words that named them."""

    start: datetime
    end: datetime
    phrase: str
    span: tuple[int, int]
    wrong_weekday: str = ""  # "Thursday", named with a date that is no Thursday


@dataclass(frozen=True)
class When:
    """A moment (``all_day``: only a day was named) and the span of text that named it."""

    start: datetime
    all_day: bool
    spans: tuple[tuple[int, int], ...]
    wrong_weekday: str = ""  # as in Days

    def without(self, text: str) -> str:
        """``text`` with the time expression cut out (what is left names the event)."""
        for a, b in sorted(self.spans, reverse=True):
            text = text[:a] + " " + text[b:]
        return " ".join(text.split())


def _rule(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b{pattern}\b", re.IGNORECASE)


_DAY_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("after_tomorrow", _rule(r"(?:the\s+)?day\s+after\s+tomorrow")),
    ("tomorrow", _rule(r"tomorrow(?:\s+(?:morning|afternoon|evening|night))?")),
    ("today", _rule(r"today|tonight|this\s+(?:morning|afternoon|evening)")),
    ("this_week", _rule(r"(?:this|the\s+rest\s+of\s+the)\s+week")),
    ("next_week", _rule(r"next\s+week")),
    ("weekend", _rule(r"(?:this|the|next)\s+weekend")),
    ("iso", _rule(rf"(?:on\s+)?{_NAMED}(?P<y>20\d\d)-(?P<m>[01]\d)-(?P<d>[0-3]\d)")),
    ("month_day", _rule(rf"(?:on\s+)?{_NAMED}(?:the\s+)?{_MONTH}\.?\s+{_DAY_OF_MONTH}{_YEAR}")),
    ("day_month", _rule(rf"(?:on\s+)?{_NAMED}(?:the\s+)?{_DAY_OF_MONTH}(?:\s+of)?\s+{_MONTH}"
                        rf"{_YEAR}")),
    ("weekday", _rule(r"(?:(?:on|this|next|coming)\s+)?(?P<weekday>" + "|".join(WEEKDAYS)
                      + r")")),
]
_CLOCK = _rule(r"(?:at\s+)?(?:(?P<h>[01]?\d|2[0-3])(?::(?P<min>[0-5]\d))?\s*(?P<ampm>[ap]\.?m\.?)"
               r"|(?P<h24>[01]?\d|2[0-3]):(?P<min24>[0-5]\d)|(?P<noon>noon|midday|midnight))")
_IN = _rule(r"in\s+(?P<n>\d{1,3}|an|a|one|two|three|four|five|ten|fifteen|twenty|thirty"
            r"|forty-five|half an)\s+(?P<unit>minute|min|hour)s?")


def find_days(text: str, now: datetime) -> Days | None:
    """The days ``text`` asks about, the earliest expression in it first."""
    found = _day_match(text)
    if found is None:
        return None
    kind, match = found
    first, count = _resolve_days(kind, match, now.date())
    return Days(_midnight(first, now), _midnight(first + timedelta(days=count), now),
                match.group(), match.span(), _wrong_weekday(match, first))


def find_when(text: str, now: datetime) -> When | None:
    """The moment ``text`` names: a day and a clock time, a day alone (all day), a clock
    time alone (today, or tomorrow once it has passed), or "in 20 minutes"."""
    relative = _IN.search(text)
    if relative is not None:
        raw = relative.group("n").lower()
        count = int(raw) if raw.isdigit() else _NUMBERS[raw]
        minutes = count * (60 if relative.group("unit").lower() == "hour" else 1)
        return When(now + timedelta(minutes=minutes), False, (relative.span(),))
    day = _day_match(text)
    clock = _CLOCK.search(text)
    if day is None and clock is None:
        return None
    first = _resolve_days(day[0], day[1], now.date())[0] if day is not None else now.date()
    spans = tuple(m.span() for m in (day[1] if day else None, clock) if m is not None)
    wrong = _wrong_weekday(day[1], first) if day is not None else ""
    if clock is None:
        return When(_midnight(first, now), True, spans, wrong)
    moment = datetime.combine(first, _clock_time(clock), tzinfo=now.tzinfo)
    if day is None and moment <= now:
        moment += timedelta(days=1)
    return When(moment, False, spans, wrong)


def _day_match(text: str) -> tuple[str, re.Match[str]] | None:
    best: tuple[str, re.Match[str]] | None = None
    for kind, pattern in _DAY_RULES:
        match = pattern.search(text)
        if match is not None and (best is None or match.start() < best[1].start()):
            best = (kind, match)
    return best


def _resolve_days(kind: str, match: re.Match[str], today: date) -> tuple[date, int]:
    """The first day and how many days."""
    if kind in ("today", "tomorrow", "after_tomorrow"):
        return today + timedelta(days=("today", "tomorrow", "after_tomorrow").index(kind)), 1
    if kind == "this_week":
        return today, 7 - today.weekday()
    if kind == "next_week":
        return today + timedelta(days=7 - today.weekday()), 7
    if kind == "weekend":
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:
            saturday = today - timedelta(days=1)
        start = max(saturday, today)
        return start, (saturday + timedelta(days=2) - start).days
    if kind == "weekday":
        wanted = WEEKDAYS.index(match.group("weekday").lower())
        ahead = (wanted - today.weekday()) % 7
        if match.group().lower().startswith("next") and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead), 1
    if kind == "iso":
        return _date(int(match.group("y")), int(match.group("m")), int(match.group("d"))), 1
    month = next(i for i, name in enumerate(MONTHS, start=1)
                 if name.startswith(match.group("month").lower()[:3]))
    if match.group("year"):
        return _date(int(match.group("year")), month, int(match.group("dom"))), 1
    day = _date(today.year, month, int(match.group("dom")))
    if day < today:
        later = _date(today.year + 1, month, day.day)
        named = _named_weekday(match)
        # "Thursday 10 December" written on the 12th, of a Thursday gone by: that one
        if named is None or day.weekday() != named or later.weekday() == named:
            day = later
    return day, 1


def _named_weekday(match: re.Match[str]) -> int | None:
    """The weekday named before a date (0 is Monday), if one was."""
    named = match.groupdict().get("named")
    if not named:
        return None
    return next(i for i, name in enumerate(WEEKDAYS) if name.startswith(named.lower()[:3]))


def _wrong_weekday(match: re.Match[str], day: date) -> str:
    """The weekday named with a date, as a full name, when ``day`` falls on another."""
    named = _named_weekday(match)
    return "" if named is None or named == day.weekday() else WEEKDAYS[named].capitalize()


def _date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, 28)


def _clock_time(match: re.Match[str]) -> time:
    if match.group("noon"):
        return time(0) if match.group("noon").lower() == "midnight" else time(12)
    if match.group("h24") is not None:
        return time(int(match.group("h24")), int(match.group("min24")))
    hour = int(match.group("h")) % 12
    if match.group("ampm").lower().startswith("p"):
        hour += 12
    return time(hour, int(match.group("min") or 0))


def _midnight(day: date, now: datetime) -> datetime:
    return datetime.combine(day, time(0), tzinfo=now.tzinfo)
