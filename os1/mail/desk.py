"""Her secretary's desk: requests about mail that she answers from the store, not from
the model. "Do I have any emails?" gets a summary put together from ``data/mail.toml``
and the new mail's senders and subjects, what matters first; the mail is then marked as
told.

Why not let the model write the summary: mail is written by strangers, and a small model
told "ignore previous instructions" in a subject line may obey. Here a mail's words are
only ever quoted, whole subjects at most 80 characters long, on one line.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

from os1.data import read_toml
from os1.mail.errands import MailErrands
from os1.mail.mailboxes import MailStore, StoredMail
from os1.mail.quote import one_line
from os1.skills.contract import SkillAnswer
from os1.skills.intents import builtin_intents, first_answer
from os1.when.windows import find_time_window, without_phrase

MAX_NAMED = 4
SUBJECT_CHARS = 80

READ_CHARS = 1200
_SMALL_WORDS = ("the", "a", "an", "my", "our", "his", "her", "mail", "email", "e-mail", "from",
                "about", "in", "on", "of", "sent", "that")


class MailDesk:
    def __init__(self, store: MailStore, errands: MailErrands | None = None,
                 who_is: Callable[[str], str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``errands``: replies, clean-up and undo (without it she only reads);
        ``who_is``: "sister" -> the name she knows for the user's sister, if any."""
        self.store = store
        self.errands = errands
        self.who_is = who_is
        self.clock = clock
        self.lines = read_toml("mail.toml")
        self._spoke = False  # her answer this turn was about mail
        self._after_mail = False  # ... and in the turn just before

    def answer(self, text: str) -> SkillAnswer | None:
        """Her answer if ``text`` is a request the desk handles, else None (the desk asked
        by itself; the router asks ``reply`` and ``act``). What the conversation keeps of
        it names no sender, subject or word of any mail. It must see every turn (or be
        told it ``passed``): "read me the last one" is about mail only right after she
        spoke of mail."""
        return first_answer(self, builtin_intents("mail"), text)

    def reply(self, text: str) -> SkillAnswer | None:
        """A turn begins: her answer if it settles her proposed errand, else None."""
        self._after_mail, self._spoke = self._spoke, False
        done = self.errands.reply(text) if self.errands is not None else None
        return self._kept(done)

    def act(self, intent: str, text: str, slots: Mapping[str, str]) -> SkillAnswer | None:
        """Her answer to ``intent`` (mail.toml's), or None when it is not hers after all
        (nobody by that name wrote; "the last one" was not about mail)."""
        return self._kept(self._acted(intent, slots))

    def passed(self) -> None:
        """Another desk answered this turn: a proposed errand lapses."""
        self._spoke = False
        if self.errands is not None:
            self.errands.drop()

    def said(self, text: str, after_mail: bool = False) -> str | None:
        """What she says to ``text`` (``after_mail``: her last answer was about mail, so
        "the newest one" is a mail), leaving what the desk knows of the turn before as
        it was."""
        spoke, self._spoke = self._spoke, after_mail
        try:
            answer = self.answer(text)
        finally:
            self._spoke = spoke
        return answer.said if answer is not None else None

    def _kept(self, said: str | None) -> SkillAnswer | None:
        if said is None:
            return None
        self._spoke = True
        return SkillAnswer(said, str(self.lines["kept"]))

    def _acted(self, intent: str, slots: Mapping[str, str]) -> str | None:
        accounts = bool(self.store.accounts())
        if intent in ("undo", "reply", "cleanup"):
            return self.errands.act(intent, slots, self._who) \
                if self.errands is not None and accounts else None
        if intent == "newest" and not self._after_mail and \
                slots.get("noun", "").lower() in ("one", "message", "letter"):
            return None  # "the last one" after a story is the story's
        # "what did Amy say about the trip?" may be about a talk, not a mail: unless it
        # speaks of mail (or writing), it is hers to answer only from mail she finds
        quiet = intent == "said" and "loud" not in slots and \
            slots.get("verb", "").lower() in ("say", "tell me")
        if not accounts:
            return None if quiet else str(self.lines["no_accounts"])
        if intent == "read" and "who" in slots:
            return self.read_from(self._who(slots["who"]))
        if intent == "newest":
            return self.read_newest()
        if intent == "said" and "who" in slots:
            return self.said_about(slots["who"], slots.get("what", ""), quiet=quiet)
        if intent == "find" and "what" in slots:
            return self.find(slots["what"])
        if intent == "summary":
            said = self.summary(self.store.untold(limit=MAX_NAMED), self.store.untold_counts())
            self.store.mark_all_told()
            return said
        return None

    def summary(self, top: list[StoredMail], counts: dict[str, int]) -> str:
        """``top``: the untold mail that matters most, first; ``counts``: all untold
        mail by category."""
        lines = self.lines
        total = sum(counts.values())
        if not total:
            return str(lines["nothing_new"])
        parts = [lines["intro_one"] if total == 1 else
                 lines["intro_many"].format(count=f"{total:,}")]
        important = [m for m in top if m.category in ("personal", "work")]
        if important:
            named = "; ".join(self._item(m) for m in important[:MAX_NAMED])
            shown = len(important[:MAX_NAMED])
            rest = counts.get("personal", 0) + counts.get("work", 0) - shown
            tail = f"; {lines['more_important'].format(count=f'{rest:,}')}" if rest > 0 else ""
            parts.append(f"{lines['important_lead']} {named}{tail}.")
        for category, one, many in (("newsletter", "newsletters_one", "newsletters_many"),
                                    ("spam", "spam_one", "spam_many")):
            count = counts.get(category, 0)
            if count:
                parts.append(lines[one] if count == 1 else lines[many].format(count=count))
        parts.append(lines["read_more"])
        return " ".join(str(p) for p in parts)

    def read_from(self, who: str) -> str:
        """The newest mail from ``who``, read out: its words are quoted, never obeyed."""
        found = self.store.search([], limit=1, sender=who)
        if not found:
            return str(self.lines["none_from"]).format(who=one_line(who, 60))
        return self._read(found[0])

    def read_newest(self) -> str:
        """The newest mail in the inbox, read out (spam, set aside, is not read)."""
        found = self.store.in_categories(("personal", "work", "newsletter"), limit=1)
        if not found:
            return str(self.lines["none_newest"])
        return self._read(found[0])

    def _read(self, item: StoredMail) -> str:
        self.store.mark_told([item.id])
        text = item.mail.text.strip()
        if len(text) > READ_CHARS:
            text = text[:READ_CHARS].rstrip() + " " + str(self.lines["read_cut"])
        return str(self.lines["reading"]).format(item=self._item(item), text=text or "…")

    def said_about(self, who: str, what: str, quiet: bool = False) -> str | None:
        """"What did my landlord say about the lease?": the newest mail from them (or,
        if nobody by that name wrote, mentioning them) about it, read out. ``quiet``:
        None rather than "I can't find any mail" when there is none."""
        window = find_time_window(what, self.clock(), ahead=False)
        words = _words(without_phrase(what, window))
        sender = self._who(who)
        span = (window.start, window.end) if window is not None else None
        found = self.store.search(words, limit=1, sender=sender, between=span) or \
            self.store.search([*words, _without_my(who).lower()], limit=1, between=span)
        if not found and quiet:
            return None
        if not found:
            about = f"{one_line(who, 60)} about {one_line(what, 60)}" if what else \
                one_line(who, 60)
            return str(self.lines["found_none_from"]).format(what=about)
        return self._read(found[0])

    def find(self, what: str) -> str:
        window = find_time_window(what, self.clock(), ahead=False)
        words = _words(without_phrase(what, window))
        span = (window.start, window.end) if window is not None else None
        found = self.store.search(words, limit=MAX_NAMED + 1, between=span)
        if not found:
            return str(self.lines["found_none"]).format(what=one_line(what, 60))
        named = "; ".join(self._item(m) for m in found[:MAX_NAMED])
        more = str(self.lines["found_more"]) if len(found) > MAX_NAMED else ""
        return f"{self.lines['found']} {named}.{more}".strip()

    def _who(self, said: str) -> str:
        """The sender to look for: "my sister" is who she knows as the user's sister."""
        who = _without_my(said)
        return (self.who_is(who) if self.who_is is not None else None) or who

    def _item(self, item: StoredMail) -> str:
        mail = item.mail
        who = one_line(mail.from_name or mail.from_addr or "someone", 60)
        subject = one_line(mail.subject, SUBJECT_CHARS)
        if not subject:
            return str(self.lines["item_no_subject"]).format(who=who)
        return str(self.lines["item"]).format(who=who, subject=subject)


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w'@.-]+", text.lower()) if w not in _SMALL_WORDS][:6]


def _without_my(who: str) -> str:
    return re.sub(r"^(?:my|our|the)\s+", "", who.strip(), flags=re.IGNORECASE)
