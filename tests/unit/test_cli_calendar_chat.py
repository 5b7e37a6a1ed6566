"""The calendar inside the conversation: ``os1 chat`` answers "what do I have tomorrow?"
from an imported calendar without the model, and says a reminder that is due while the
chat is open. (The desk and the bell in detail: test_calendar.py.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from os1.storage.setups import SetupRecord
from tests.unit.test_cli import flat, run


def ics(*events: tuple[str, datetime]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//os1 tests//EN"]
    for n, (title, start) in enumerate(events):
        stamp = start.strftime("%Y%m%dT%H%M%S")
        end = (start + timedelta(hours=1)).strftime("%Y%m%dT%H%M%S")
        lines += ["BEGIN:VEVENT", f"UID:event-{n}@os1.test", f"DTSTAMP:{stamp}Z",
                  f"DTSTART:{stamp}", f"DTEND:{end}", f"SUMMARY:{title}", "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def test_chat_answers_from_the_calendar_and_says_a_reminder_that_is_due(
        setup_record: SetupRecord, os1_home: Path, tmp_path: Path) -> None:
    now = datetime.now().replace(second=0, microsecond=0)
    tomorrow = (now + timedelta(days=1)).replace(hour=10, minute=30)
    soon = now + timedelta(minutes=8)
    calendar = tmp_path / "home.ics"
    calendar.write_text(ics(("Dentist", tomorrow), ("Standup", soon)), encoding="utf-8")
    imported = run("calendar", "import", str(calendar))
    assert imported.returncode == 0, imported.stderr
    chat = run("chat", "--model", "fake", stdin=b"What do I have tomorrow?\n")
    assert chat.returncode == 0, chat.stderr
    assert "Dentist" in chat.stdout and "You said" not in chat.stdout, "the desk answered"
    assert 'You have "Standup" in' in flat(chat.stderr), chat.stderr
    again = run("chat", "--model", "fake", stdin=b"hello\n")
    assert "Standup" not in again.stderr, "a reminder is said once"


def test_remind_me_in_chat_is_confirmed_then_kept_as_a_reminder(
        setup_record: SetupRecord, os1_home: Path) -> None:
    chat = run("chat", "--model", "fake",
               stdin=b"Remind me to call Ana tomorrow at 6pm.\nyes\n")
    assert chat.returncode == 0, chat.stderr
    out = flat(chat.stdout)
    assert "Shall I remind you to call Ana, on" in out and "at 18:00? Say yes or no." in out
    assert "Done: I'll remind you to call Ana" in out and "You said" not in out
    upcoming = run("calendar", "remind")
    assert "Call Ana" in flat(upcoming.stdout + upcoming.stderr)
    assert "done" in run("actions").stdout
