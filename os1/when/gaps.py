"""Her sense of time: how long since you last talked, and when that was, said the way a
person says it (not "3 days, 4 hours"). Here with the other readings of time because her
memory's notes say it too, and memory sits below the mind."""

from __future__ import annotations

from datetime import datetime

MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def describe_gap(seconds: float) -> str:
    """'a few minutes', 'about three hours', '5 days', 'about 2 months'..."""
    seconds = max(0.0, seconds)
    if seconds < 2 * MINUTE:
        return "just a moment"
    if seconds < 15 * MINUTE:
        return "a few minutes"
    if seconds < 50 * MINUTE:
        return f"about {round(seconds / MINUTE / 5) * 5} minutes"
    if seconds < 1.5 * HOUR:
        return "about an hour"
    if seconds < DAY:
        return f"about {round(seconds / HOUR)} hours"
    if seconds < 2 * DAY:
        return "a day"
    if seconds < 14 * DAY:
        return f"{round(seconds / DAY)} days"
    if seconds < 60 * DAY:
        return f"about {round(seconds / (7 * DAY))} weeks"
    if seconds < 365 * DAY:
        return f"about {round(seconds / (30 * DAY))} months"
    years = seconds / (365 * DAY)
    return "about a year" if years < 1.5 else f"about {round(years)} years"


def describe_moment(then: float, now: float) -> str:
    """When ``then`` was, relative to ``now``: 'earlier today, in the morning', ..."""
    then_dt, now_dt = datetime.fromtimestamp(then), datetime.fromtimestamp(now)
    part = _part_of_day(then_dt.hour)
    days = (now_dt.date() - then_dt.date()).days
    if days == 0:
        return f"earlier today, in the {part}"
    if days == 1:
        return f"yesterday, in the {part}"
    if days < 7:
        return f"on {then_dt:%A}, in the {part}"
    return f"on {then_dt:%A %-d %B %Y}"


def _part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"
