"""Meetings found in mail: a mail that speaks of a meeting, call or appointment with a
concrete day and time ("dinner on Friday at 7pm") becomes a *proposed* event, which she
offers and creates only if the user says yes (desk.py, os1 calendar from-mail).

Why only proposed: a mail is written by anyone, and an invitation that puts itself in
the user's calendar is an attack as much as a convenience. Relative days ("tomorrow")
count from when the mail was sent, not from when it is read; a date with its weekday
("Thursday 10 December") is that date, even when the weekday is wrong (which is kept, for
her to say).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from os1.calendar.ics import TITLE_CHARS, Event
from os1.mail.mailboxes import StoredMail
from os1.when.plans import find_when

SCAN_CHARS = 4_000
MEETING_MINUTES = 60
_MEETING = re.compile(
    r"\b(meet(?:ing|up)?|appointment|call|interview|dinner|lunch|breakfast|coffee|drinks"
    r"|dentist|doctor|party|reservation|session|visit|viewing|rehearsal|class)\b",
    re.IGNORECASE)
_REPLY = re.compile(r"^(?:(?:re|fwd?|aw|wg)\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class MailProposal:
    """An event a mail suggests, who sent the mail, and which stored mail it was."""

    event: Event
    who: str
    mail_id: int
    wrong_weekday: str = ""  # the mail's weekday for a date that falls on another


def proposal_from_mail(item: StoredMail, now: datetime,
                       tz: tzinfo | None = None) -> MailProposal | None:
    """The first meeting in ``item`` with a day and a clock time still to come, or None."""
    mail = item.mail
    zone = tz or now.tzinfo or UTC
    sent = datetime.fromtimestamp(mail.date, zone) if mail.date else now.astimezone(zone)
    for sentence in _sentences(f"{mail.subject}.\n{mail.text[:SCAN_CHARS]}"):
        meeting = _MEETING.search(sentence)
        if meeting is None:
            continue
        when = find_when(sentence, sent)
        if when is None or when.all_day or when.start <= now:
            continue
        title = _REPLY.sub("", mail.subject).strip() or meeting.group().capitalize()
        key = mail.message_id or f"{item.account}/{item.folder}/{item.uid}"
        uid = f"mail-{hashlib.sha256(key.encode()).hexdigest()[:24]}@os1"
        event = Event(uid=uid, title=title[:TITLE_CHARS], start=when.start,
                      end=when.start + timedelta(minutes=MEETING_MINUTES),
                      description=f"From a mail by {mail.from_name or mail.from_addr}.")
        return MailProposal(event, mail.from_name or mail.from_addr or "someone", item.id,
                            when.wrong_weekday)
    return None


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
