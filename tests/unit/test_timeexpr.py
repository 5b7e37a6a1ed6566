"""Time expressions resolved against a fixed moment: Wednesday 15 May 2024, 14:00 UTC."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from os1.when.windows import find_time_window, looks_ahead, without_phrase

NOW = datetime(2024, 5, 15, 14, 0, tzinfo=UTC).timestamp()


def window(text: str, now: float = NOW, ahead: bool | None = False) -> tuple[str, str] | None:
    """The window ``text`` names; read as looking back unless ``ahead`` says otherwise
    (None: as its tense says)."""
    found = find_time_window(text, now, UTC, ahead)
    if found is None:
        return None
    fmt = "%Y-%m-%d %H:%M"
    start = datetime.fromtimestamp(found.start, UTC).strftime(fmt)
    end = datetime.fromtimestamp(found.end, UTC).strftime(fmt)
    return start, end


@pytest.mark.parametrize(("text", "start", "end"), [
    ("What did we talk about yesterday?", "2024-05-14 00:00", "2024-05-15 00:00"),
    ("the day before yesterday", "2024-05-13 00:00", "2024-05-14 00:00"),
    ("earlier today", "2024-05-15 00:00", "2024-05-16 00:00"),
    ("How did you sleep last night?", "2024-05-14 18:00", "2024-05-15 06:00"),
    ("last Tuesday", "2024-05-14 00:00", "2024-05-15 00:00"),
    ("last Monday", "2024-05-13 00:00", "2024-05-14 00:00"),
    ("last Wednesday", "2024-05-08 00:00", "2024-05-09 00:00"),
    ("this past Sunday", "2024-05-12 00:00", "2024-05-13 00:00"),
    ("on Sunday", "2024-05-12 00:00", "2024-05-13 00:00"),
    ("last week", "2024-05-06 00:00", "2024-05-13 00:00"),
    ("this week", "2024-05-13 00:00", "2024-05-20 00:00"),
    ("last month", "2024-04-01 00:00", "2024-05-01 00:00"),
    ("last year", "2023-01-01 00:00", "2024-01-01 00:00"),
    ("two days ago", "2024-05-13 00:00", "2024-05-14 00:00"),
    ("a couple of days ago", "2024-05-13 00:00", "2024-05-14 00:00"),
    ("3 weeks ago", "2024-04-21 00:00", "2024-04-28 00:00"),
    ("a month ago", "2024-03-31 00:00", "2024-05-01 00:00"),
    ("a year ago", "2023-04-15 00:00", "2023-06-15 00:00"),
    ("in March", "2024-03-01 00:00", "2024-04-01 00:00"),
    ("in May", "2024-05-01 00:00", "2024-06-01 00:00"),
    ("last May", "2023-05-01 00:00", "2023-06-01 00:00"),
    ("in June", "2023-06-01 00:00", "2023-07-01 00:00"),
    ("in March 2022", "2022-03-01 00:00", "2022-04-01 00:00"),
    ("December 2021", "2021-12-01 00:00", "2022-01-01 00:00"),
    ("in 2019", "2019-01-01 00:00", "2020-01-01 00:00"),
    ("the past few days", "2024-05-12 00:00", "2024-05-16 00:00"),
    ("last weekend", "2024-05-11 00:00", "2024-05-13 00:00"),
    ("the other day", "2024-05-08 00:00", "2024-05-15 00:00"),
    ("lately", "2024-05-01 00:00", "2024-05-16 00:00"),
    ("YESTERDAY'S fight", "2024-05-14 00:00", "2024-05-15 00:00"),
])
def test_expressions_resolve_to_windows(text: str, start: str, end: str) -> None:
    assert window(text) == (start, end)


@pytest.mark.parametrize("text", ["I like apples", "May I ask you something?", "", "🙂",
                                  "ago", "last", "in a minute", "one of these days",
                                  "the 2019 budget", "Tuesday's child"])
def test_text_without_a_time_expression_gives_none(text: str) -> None:
    assert find_time_window(text, NOW, UTC) is None


def test_the_first_expression_wins_and_its_words_are_known() -> None:
    found = find_time_window("Did you see him last week or yesterday?", NOW, UTC)
    assert found is not None and found.phrase == "last week"
    assert without_phrase("Did you see him last week or yesterday?", found) \
        == "Did you see him or yesterday?"
    assert without_phrase("unchanged text", None) == "unchanged text"


def test_window_contains_its_start_but_not_its_end() -> None:
    found = find_time_window("yesterday", NOW, UTC)
    assert found is not None
    assert found.contains(found.start) and not found.contains(found.end)
    assert found.contains(NOW - 86400) and not found.contains(NOW)


def test_days_follow_the_given_time_zone() -> None:
    tokyo = timezone(timedelta(hours=9))  # 15 May 23:00 there
    found = find_time_window("yesterday", NOW, tokyo)
    assert found is not None
    assert datetime.fromtimestamp(found.start, tokyo) == datetime(2024, 5, 14, tzinfo=tokyo)


def test_local_time_is_the_default() -> None:
    now = time.time()
    found = find_time_window("yesterday", now)
    assert found is not None
    assert 23 * 3600 <= found.end - found.start <= 25 * 3600  # DST days are 23 or 25 h
    assert found.contains(now - 86400) or found.contains(now - 82800)
    assert datetime.fromtimestamp(found.start).hour == 0


@pytest.mark.parametrize(("text", "first", "last_exclusive"), [
    ("my interview is tomorrow", date(2024, 5, 7), date(2024, 5, 8)),
    ("the day after tomorrow", date(2024, 5, 8), date(2024, 5, 9)),
    ("next Friday", date(2024, 5, 10), date(2024, 5, 11)),
    ("next Monday", date(2024, 5, 13), date(2024, 5, 14)),
    ("next week", date(2024, 5, 13), date(2024, 5, 20)),
    ("next month", date(2024, 6, 1), date(2024, 7, 1)),
    ("in three days", date(2024, 5, 9), date(2024, 5, 10)),
])
def test_future_expressions_date_announced_events(text: str, first: date,
                                                  last_exclusive: date) -> None:
    monday = datetime(2024, 5, 6, 10, 0).timestamp()
    window = find_time_window(text, monday)
    assert window is not None
    assert (window.start, window.end) == (
        datetime.combine(first, datetime.min.time()).timestamp(),
        datetime.combine(last_exclusive, datetime.min.time()).timestamp())


@pytest.mark.parametrize(("text", "ahead"), [
    ("We're meeting for lunch on Thursday.", True),
    ("Theodore plans to meet with Catherine for lunch on Thursday.", True),
    ("I'll call her on Friday.", True),
    ("Do you remember what's happening on Thursday?", True),
    ("When is my appointment on Friday?", True),
    ("I saw her on Thursday.", False),
    ("We walked by the sea on Sunday.", False),
    ("What did we talk about on Thursday?", False),
    ("What happened on Thursday?", False),
    ("It's nothing, I was just tired on Monday.", False),
])
def test_the_tense_says_whether_a_day_is_ahead_or_behind(text: str, ahead: bool) -> None:
    assert looks_ahead(text) is ahead
    assert looks_ahead(text, otherwise=True) is ahead


def test_without_a_tense_a_note_looks_ahead_and_a_request_back() -> None:
    assert looks_ahead("Lunch with Catherine on Thursday.", otherwise=True)
    assert not looks_ahead("Tell me about the trip in March")


@pytest.mark.parametrize(("text", "start"), [
    # said on Wednesday 15 May 2024
    ("We're meeting for lunch on Thursday.", "2024-05-16 00:00"),
    ("I saw her on Thursday.", "2024-05-09 00:00"),
    ("My exam is on Wednesday, I'm nervous.", "2024-05-15 00:00"),
    ("I'm flying to Lisbon in June.", "2024-06-01 00:00"),
    ("I was in Lisbon in June.", "2023-06-01 00:00"),
    ("I'm going to Lisbon in March.", "2025-03-01 00:00"),
    ("We're driving to the coast this weekend.", "2024-05-18 00:00"),
    ("What did you do last weekend?", "2024-05-11 00:00"),
])
def test_a_day_or_month_named_without_which_is_read_by_its_tense(text: str, start: str) -> None:
    found = window(text, ahead=None)
    assert found is not None and found[0] == start


@pytest.mark.parametrize(("text", "now", "start"), [
    # said on Wednesday 15 May 2024
    ("We're meeting on Thursday 23 May.", NOW, "2024-05-23 00:00"),
    ("We're meeting on Thursday, the 23rd of May.", NOW, "2024-05-23 00:00"),
    ("We're meeting next Thursday, May 23.", NOW, "2024-05-23 00:00"),
    ("We're meeting on Friday 23 May.", NOW, "2024-05-23 00:00"),  # a Thursday: the date wins
    ("I saw her on Monday 13 May.", NOW, "2024-05-13 00:00"),
    ("I saw her on 3 May.", NOW, "2024-05-03 00:00"),
    ("I met him on December 10.", NOW, "2023-12-10 00:00"),
    ("I'm seeing him on December 10.", NOW, "2024-12-10 00:00"),
    ("We married on Wednesday 15 May 2019.", NOW, "2019-05-15 00:00"),
    ("I saw her on Thursday 16 May.", NOW, "2024-05-16 00:00"),  # only this year's fits
    # across the year's end: said on Friday 20 December 2024
    ("We're meeting on Tuesday 7 January.", datetime(2024, 12, 20, 9, tzinfo=UTC).timestamp(),
     "2025-01-07 00:00"),
    ("The party will be on Saturday, the 4th of January.",
     datetime(2024, 12, 20, 9, tzinfo=UTC).timestamp(), "2025-01-04 00:00"),
])
def test_a_date_is_that_day_and_a_weekday_named_with_it_never_moves_it(
        text: str, now: float, start: str) -> None:
    """Issue 25: "on Thursday 23 May" was whichever Thursday was nearest."""
    found = find_time_window(text, now, UTC)
    assert found is not None
    assert datetime.fromtimestamp(found.start, UTC).strftime("%Y-%m-%d %H:%M") == start
    assert found.end - found.start == 86_400
