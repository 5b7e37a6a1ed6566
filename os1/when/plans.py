"""What the calendar is asked: which days "tomorrow", "on Friday", "this week" or
"December 3" mean, and which moment "tomorrow at 3pm" or "in 20 minutes" means.

Which days the words name is read by the one parser (reading.py), looking ahead (a
calendar's "on Friday" is the coming Friday); this adds what only a calendar wants: an
exact minute ("at 3pm", "in 20 minutes") and datetimes in ``now``'s time zone. Only
English is understood; no expression gives None.

A date named with its weekday ("Thursday 10 December") is that date. Read first-come, the
weekday made it the Thursday after the mail was sent (issue 25). When they disagree (10
December 2025 was a Wednesday), the date still wins, and ``wrong_weekday`` says so, for
her to tell him.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from os1.when.reading import PLAN, Reading, read

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


_CLOCK = _rule(r"(?:at\s+)?(?:(?P<h>[01]?\d|2[0-3])(?::(?P<min>[0-5]\d))?\s*(?P<ampm>[ap]\.?m\.?)"
               r"|(?P<h24>[01]?\d|2[0-3]):(?P<min24>[0-5]\d)|(?P<noon>noon|midday|midnight))")
_IN = _rule(r"in\s+(?P<n>\d{1,3}|an|a|one|two|three|four|five|ten|fifteen|twenty|thirty"
            r"|forty-five|half an)\s+(?P<unit>minute|min|hour)s?")


def find_days(text: str, now: datetime) -> Days | None:
    """The days ``text`` asks about, the earliest expression in it first."""
    found = _day(text, now)
    if found is None:
        return None
    return Days(_midnight(found.span.first, now), _midnight(found.span.end, now),
                found.phrase, found.at, found.wrong_weekday)


def find_when(text: str, now: datetime) -> When | None:
    """The moment ``text`` names: a day and a clock time, a day alone (all day), a clock
    time alone (today, or tomorrow once it has passed), or "in 20 minutes"."""
    relative = _IN.search(text)
    if relative is not None:
        raw = relative.group("n").lower()
        count = int(raw) if raw.isdigit() else _NUMBERS[raw]
        minutes = count * (60 if relative.group("unit").lower() == "hour" else 1)
        return When(now + timedelta(minutes=minutes), False, (relative.span(),))
    day = _day(text, now)
    clock = _CLOCK.search(text)
    if day is None and clock is None:
        return None
    first = day.span.first if day is not None else now.date()
    spans = tuple(at for at in (day.at if day else None, clock.span() if clock else None)
                  if at is not None)
    wrong = day.wrong_weekday if day is not None else ""
    if clock is None:
        return When(_midnight(first, now), True, spans, wrong)
    moment = datetime.combine(first, _clock_time(clock), tzinfo=now.tzinfo)
    if day is None and moment <= now:
        moment += timedelta(days=1)
    return When(moment, False, spans, wrong)


def _day(text: str, now: datetime) -> Reading | None:
    """A calendar always looks ahead: "on Friday" is the coming one."""
    return read(text, now.date(), ahead=True, reader=PLAN)


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
