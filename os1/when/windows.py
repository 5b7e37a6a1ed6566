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
whichever Thursday was nearest).

The words are read by the one parser the calendar reads with too (reading.py); this
module adds the tense that points them, and turns days into Unix time. Only English is
understood; a text without a time expression gives None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from os1.when.reading import MEMORY, read

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
    today = datetime.fromtimestamp(now, tz).date()
    found = read(text, today, reader=MEMORY,
                 ahead=(lambda: looks_ahead(text)) if ahead is None else ahead)
    if found is None:
        return None
    # DST-correct when ``tz`` is None: a naive datetime's ``timestamp()`` uses local rules
    first, end, start_hour, end_hour = found.span
    return TimeWindow(datetime.combine(first, time(start_hour), tzinfo=tz).timestamp(),
                      datetime.combine(end, time(end_hour), tzinfo=tz).timestamp(),
                      found.phrase, found.at)


def without_phrase(text: str, window: TimeWindow | None) -> str:
    """``text`` with the time expression cut out (what the question is about)."""
    if window is None:
        return text
    a, b = window.span
    return " ".join((text[:a] + " " + text[b:]).split())
