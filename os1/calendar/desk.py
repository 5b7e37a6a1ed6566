"""Her calendar desk: requests about the calendar that she answers from the store, not
from the model. "What do I have tomorrow?" is answered from the stored events; "add
dentist Friday at 3pm" is *proposed* (logged in the action log as proposed) and done only
when the very next thing the user says is yes; a mail's meeting is offered the same way.

Why not the model: event titles and invitations are written by other people, and a small
model told "ignore previous instructions" in a title may obey. Here an event's words are
only ever quoted, on one line, and a confirmation acts only on the proposal this desk
made in the turn just before, never on anything an event or mail says.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo

from os1.calendar.events import CalendarSource, CalendarStore, StoredEvent
from os1.calendar.from_mail import MailProposal, proposal_from_mail
from os1.calendar.ics import Event, new_uid
from os1.calendar.server import CalendarServer
from os1.data import read_toml
from os1.errors import CalendarError, OS1Error
from os1.mail.mailboxes import MailStore
from os1.mail.quote import one_line
from os1.skills.contract import SkillAnswer
from os1.skills.intents import builtin_intents, first_answer
from os1.skills.replies import understood
from os1.storage.actions import Action, ActionLog
from os1.storage.db import Database
from os1.when.dates import MONTHS, WEEKDAYS
from os1.when.plans import Days, find_days, find_when

MAX_NAMED = 6
TITLE_CHARS = 80
EVENT_MINUTES = 60
REMINDER_MINUTES = 15  # how long a "remind me to" event lasts in the calendar
MAIL_LOOKBACK = 30
PENDING_S = 600.0  # a proposal not answered within ten minutes lapses
Connect = Callable[[CalendarSource], CalendarServer]

_REMIND_WHAT = re.compile(r"^(?P<link>to|about|of|that)\s+(?P<task>.+)$", re.IGNORECASE | re.DOTALL)
_YOURS = {"my": "your", "me": "you", "myself": "yourself", "mine": "yours", "i": "you",
          "i'm": "you're", "am": "are"}
_CALENDAR_WORDS = re.compile(r"\s*\b(?:to|on|in|into)\s+(?:my|the)\s+(?:calendar|diary|"
                             r"schedule|agenda)\b\s*", re.IGNORECASE)
_LEAD_IN = re.compile(r"^(?:(?:an?|the|new)\s+)?(?:(?:event|meeting|appointment)\s+"
                      r"(?:called|named|for)\s+)?", re.IGNORECASE)
_DANGLING = re.compile(r"(?:\s+(?:on|at|for|from|by|this|next))+$", re.IGNORECASE)


class CalendarDesk:
    def __init__(self, db: Database, user_id: str, *, connect: Connect | None = None,
                 mail: MailStore | None = None, clock: Callable[[], float] = time.time,
                 tz: tzinfo | None = None) -> None:
        """``connect`` opens the CalDAV server of a source (None: events are only kept
        here); ``mail`` lets her offer meetings found in the user's mail; ``clock`` is now
        (tests simulate it); ``tz`` the user's zone (the machine's when None)."""
        self.store = CalendarStore(db, user_id, tz, clock=clock)
        self.actions = ActionLog(db, user_id)
        self.connect = connect
        self.mail = mail
        self.clock = clock
        self.tz = tz
        self.lines = read_toml("calendar.toml")
        self._pending: tuple[int, float] | None = None

    def answer(self, text: str) -> SkillAnswer | None:
        """Her answer if ``text`` is a request the desk handles, else None (the desk asked
        by itself; the router asks ``reply`` and ``act``). It must see every turn the
        user takes: a proposal it made is open for exactly one turn, and lapses (logged
        as declined) on anything but yes or no."""
        return first_answer(self, builtin_intents("calendar"), text)

    def reply(self, text: str) -> SkillAnswer | None:
        """A turn begins: her answer if it says yes or no to her proposal, else None (a
        proposal lapses on anything else, or after ten minutes)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return None
        action_id, made_at = pending
        reply = understood(text)
        if self.clock() - made_at <= PENDING_S and reply is not None:
            done = self.settle(action_id, reply == "yes")
            return SkillAnswer(done, str(self.lines["kept_settled"]))
        self.actions.settle(action_id, "declined", error="not confirmed")
        return None

    def act(self, intent: str, text: str, slots: Mapping[str, str]) -> SkillAnswer | None:
        """Her answer to ``intent`` (calendar.toml's), or None when it is not hers after
        all ("add salt to the soup": no time, no calendar)."""
        said = self.said(intent, text, slots)
        if said is None:
            return None
        kept = self.lines["kept_proposed"] if self._pending is not None else self.lines["kept"]
        return SkillAnswer(said, str(kept))

    def passed(self) -> None:
        """Another desk answered this turn: a proposal of mine lapses, as on any reply
        but yes or no."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self.actions.settle(pending[0], "declined", error="not confirmed")

    def said(self, intent: str, text: str, slots: Mapping[str, str]) -> str | None:
        now = self._now()
        if intent == "remind" and "rest" in slots:
            return self.propose_reminder(slots["rest"], now)
        if intent == "add" and "rest" in slots:
            return self.propose_from_words(slots["rest"], now)
        if intent == "from_mail" and self.mail is not None:
            return self.offer_from_mail(now)
        if intent != "agenda":
            return None
        named = "calendar" in slots  # "what's on my calendar?": today, if no day is named
        days = find_days(text, now)
        if days is None and not named:
            return None
        if not self.store.sources():
            # with no calendar, "what's on Thursday?" may be for her memory (he told her)
            return str(self.lines["no_calendars"]) if named else None
        days = days or find_days("today", now)
        assert days is not None
        return self.agenda(days)

    # -- what is on ----------------------------------------------------------------------

    def agenda(self, days: Days) -> str:
        found = self.store.between(days.start, days.end, limit=MAX_NAMED + 500)
        label = _label(days)
        lines = self.lines
        if not found:
            return str(lines["nothing_on"]).format(days=label)
        one_day = days.end - days.start <= timedelta(days=1)
        named = "; ".join(self._item(s, one_day) for s in found[:MAX_NAMED])
        if len(found) > MAX_NAMED:
            named += "; " + str(lines["more_on"]).format(count=len(found) - MAX_NAMED)
        if len(found) == 1:
            return str(lines["one_on"]).format(days=label, items=named)
        return str(lines["many_on"]).format(count=len(found), days=label, items=named)

    def _item(self, stored: StoredEvent, one_day: bool) -> str:
        event = stored.event
        at = self._when(event, with_day=not one_day)
        title = one_line(event.title, TITLE_CHARS) or str(self.lines["untitled"])
        place = one_line(event.location, 60)
        key = "item_place" if place else "item"
        return str(self.lines[key]).format(title=title, at=at, place=place)

    def _when(self, event: Event, with_day: bool) -> str:
        start = event.start.astimezone(self._zone())
        day = str(self.lines["on_day"]).format(day=f"{start:%A} {start.day} {start:%B}")
        if event.all_day:
            return f"{day}, {self.lines['all_day']}" if with_day else str(self.lines["all_day"])
        at = str(self.lines["at_time"]).format(time=f"{start:%H:%M}")
        return f"{day} {at}" if with_day else at

    # -- proposing and creating ----------------------------------------------------------

    def propose_from_words(self, rest: str, now: datetime) -> str | None:
        """"add dentist Friday at 3pm": proposes the event. None when ``rest`` is not
        about the calendar at all (no time, no mention of a calendar)."""
        mentions_calendar = _CALENDAR_WORDS.search(rest) is not None
        rest = _CALENDAR_WORDS.sub(" ", rest)
        when = find_when(rest, now)
        if when is None:
            if not mentions_calendar:
                return None
            title = one_line(_title(rest), TITLE_CHARS)
            if not title:
                return str(self.lines["propose_no_title"])
            return str(self.lines["propose_no_time"]).format(title=title)
        title = one_line(_title(when.without(rest)), TITLE_CHARS)
        if not title:
            return str(self.lines["propose_no_title"])
        length = timedelta(days=1) if when.all_day else timedelta(minutes=EVENT_MINUTES)
        event = Event(new_uid(), title, when.start, when.start + length, when.all_day)
        self.propose(event, "you")
        note = weekday_note("yours", when.wrong_weekday, when.start.astimezone(self._zone()))
        return str(self.lines["propose"]).format(title=title, when=self._when(event, True),
                                                 note=note)

    def propose_reminder(self, rest: str, now: datetime) -> str | None:
        """"remind me to call Ana tomorrow at 6pm": proposes an event "Call Ana" at that
        time whose reminder is said at the time itself. Without a time of day she asks for
        one, unless it was no errand at all ("remind me what she said"): None."""
        when = find_when(rest, now)
        timed = when is not None and not when.all_day
        task = _title(when.without(rest) if when is not None else rest)
        parts = _REMIND_WHAT.match(task)
        link = parts.group("link").lower() if parts else "to"
        if not timed and task and (parts is None or link != "to"):
            return None  # "remind me what she said", "remind me about her birthday": talk
        task = one_line(parts.group("task") if parts else task, TITLE_CHARS)
        if not task:
            return str(self.lines["remind_no_task"])
        what = f"{link} {_yours(task)}"
        if when is None or not timed:
            return str(self.lines["remind_no_time"]).format(what=what)
        event = Event(new_uid(), task[0].upper() + task[1:], when.start,
                      when.start + timedelta(minutes=REMINDER_MINUTES))
        self.propose(event, "you", reminder=what)
        note = weekday_note("yours", when.wrong_weekday, when.start.astimezone(self._zone()))
        return str(self.lines["propose_reminder"]).format(what=what, when=self._when(event, True),
                                                          note=note)

    def offer_from_mail(self, now: datetime) -> str:
        """The first meeting still to come in recent mail, proposed like any other."""
        assert self.mail is not None
        for item in self.mail.messages(limit=MAIL_LOOKBACK):
            if item.category == "spam":
                continue
            found: MailProposal | None = proposal_from_mail(item, now, self._zone())
            if found is None:
                continue
            event = found.event
            self.propose(event, f"mail {found.mail_id}")
            note = weekday_note("mail", found.wrong_weekday, event.start.astimezone(self._zone()))
            return str(self.lines["from_mail"]).format(
                who=one_line(found.who, 60), title=one_line(event.title, TITLE_CHARS),
                when=self._when(event, True), note=note)
        return str(self.lines["no_mail_dates"])

    def propose(self, event: Event, origin: str, reminder: str = "") -> Action:
        """Log the proposal; it is open for the next turn only. ``reminder``: what to
        remind the user of at the event's start ("to call Ana"), for "remind me to"."""
        source = self.store.writable()
        detail = {"uid": event.uid, "title": event.title, "start": event.start.isoformat(),
                  "end": event.end.isoformat(), "all_day": event.all_day,
                  "description": event.description, "source": source.name, "origin": origin,
                  "reminder": reminder}
        summary = f'Create "{one_line(event.title, TITLE_CHARS)}" {self._when(event, True)}'
        action = self.actions.propose("create_event", summary, detail)
        self._pending = (action.id, self.clock())
        return action

    def settle(self, action_id: int, yes: bool) -> str:
        """Do (or decline) the proposal ``action_id``, exactly as it was proposed."""
        action = self.actions.get(action_id)
        detail = action.detail
        event = Event(detail["uid"], detail["title"], datetime.fromisoformat(detail["start"]),
                      datetime.fromisoformat(detail["end"]), bool(detail["all_day"]),
                      description=str(detail.get("description", "")))
        title = one_line(event.title, TITLE_CHARS)
        if not yes:
            self.actions.settle(action_id, "declined")
            return str(self.lines["declined"])
        try:
            source = self.store.source(detail["source"])
            create_on_server(source, event, self.connect)
            reminder = str(detail.get("reminder", ""))
            self.store.add_event(source, event, 0 if reminder else None)
        except OS1Error as error:
            self.actions.settle(action_id, "failed", error=str(error))
            return str(self.lines["create_failed"]).format(title=title, error=str(error))
        self.actions.settle(action_id, "done")
        when = self._when(event, True)
        if reminder:
            return str(self.lines["created_reminder"]).format(what=reminder, when=when)
        return str(self.lines["created"]).format(title=title, when=when)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), self._zone())

    def _zone(self) -> tzinfo:
        return self.tz or datetime.now().astimezone().tzinfo or UTC


def weekday_note(whose: str, wrong: str, day: datetime) -> str:
    """" The mail says Thursday, but 10 December is a Wednesday; I went by the date."
    (``whose``: "mail" or "yours"), or nothing when no weekday was wrong."""
    if not wrong:
        return ""
    return str(read_toml("calendar.toml")[f"weekday_wrong_{whose}"]).format(
        said=wrong, date=f"{day.day} {day:%B}", weekday=f"{day:%A}")


def create_on_server(source: CalendarSource, event: Event, connect: Connect | None) -> None:
    """Put ``event`` on ``source``'s server; a local source has none."""
    if source.kind != "caldav":
        return
    if connect is None:
        raise CalendarError(f"I can't reach the calendar {source.name} from here.")
    server = connect(source)
    try:
        server.create(event)
    finally:
        server.close()


def _title(words: str) -> str:
    title = _LEAD_IN.sub("", words.strip().strip("\"'“”‘’ "))
    return _DANGLING.sub("", title).strip().strip("\"'“”‘’ ,;:-")


def _yours(words: str) -> str:
    """The user's words said back to them: "call my mum" -> "call your mum"."""
    return " ".join(_YOURS.get(w.lower(), w) for w in words.split())


def _label(days: Days) -> str:
    if days.wrong_weekday:  # "on Thursday 10 December", a Wednesday: the day it is
        return f"on {days.start:%A} {days.start.day} {days.start:%B}"
    words = [w.capitalize() if w in WEEKDAYS or w[:3] in _MONTHS else w
             for w in days.phrase.lower().split()]
    if words[0].lower() in WEEKDAYS:
        words.insert(0, "on")
    return one_line(" ".join(words), 40)


_MONTHS = {m[:3] for m in MONTHS}
