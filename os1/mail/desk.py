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
from collections.abc import Callable

from os1.data import read_toml
from os1.mail.errands import MailErrands
from os1.mail.mailboxes import MailStore, StoredMail
from os1.mail.quote import one_line
from os1.memory.timeexpr import find_time_window, without_phrase
from os1.skills.contract import SkillAnswer

MAX_NAMED = 4
SUBJECT_CHARS = 80
_MAIL_QUESTION = re.compile(
    r"\b(any|new|check|got|what'?s in|anything in)\b[^.!?]{0,40}\b(e-?mails?|mail|inbox)\b"
    r"|\b(e-?mails?|mail|inbox)\b[^.!?]{0,20}\b(today|for me|new)\b", re.IGNORECASE)


_READ = re.compile(r"\bread (?:me )?(?:the |that )?(?:last |latest |newest )?"
                   r"(?:one|e-?mail|mail|message|letter) from (?P<who>[^?.!,]{1,60})",
                   re.IGNORECASE)
# "read me the newest one", "what's the latest mail?": the newest mail in the inbox.
# Only "mail" or "email" says so by itself; "the last one" (or message, letter) is mail
# when it follows her answer about mail, and may be a poem or a chat message otherwise.
_NEWEST = re.compile(r"\b(?:(?:read|open|show|tell)(?: (?:me|us))?(?: out)?|what(?:'s|s| is|"
                     r" was| does| did| says?)(?: in)?) (?:the |my |that )?(?:very )?"
                     r"(?:newest|latest|last|most recent|new) (?P<noun>one|e-?mail|mail|"
                     r"message|letter)\b(?! address)", re.IGNORECASE)
_FIND = re.compile(r"\b(?:find|search(?: for)?|look for|any) (?:the |my )?(?:e-?mails?|mail|"
                   r"messages?|letters?) (?:about|on|mentioning|regarding|that mentions?) "
                   r"(?P<what>[^?.!]{1,80})", re.IGNORECASE)
_SAID = re.compile(r"\bwhat did (?P<who>[^?.!,]{1,60}?) (?P<verb>say|write|send|tell me)"
                   r"(?: (?:about|on|regarding) (?P<what>[^?.!]{1,80}))?", re.IGNORECASE)
READ_CHARS = 1200
_SMALL_WORDS = ("the", "a", "an", "my", "our", "his", "her", "mail", "email", "e-mail", "from",
                "about", "in", "on", "of", "sent", "that")


def is_mail_question(text: str) -> bool:
    return len(text) < 200 and _MAIL_QUESTION.search(text) is not None


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
        self._spoke = False  # the turn just before was hers about mail

    def answer(self, text: str) -> SkillAnswer | None:
        """Her answer if ``text`` is a request the desk handles, else None. What the
        conversation keeps of it names no sender, subject or word of any mail. It must
        see every turn (or be told it ``passed``): "read me the last one" is about mail
        only right after she spoke of mail."""
        after_mail, self._spoke = self._spoke, False
        said = self.said(text, after_mail)
        if said is None:
            return None
        self._spoke = True
        return SkillAnswer(said, str(self.lines["kept"]))

    def passed(self) -> None:
        """Another desk answered this turn: a proposed errand lapses."""
        self._spoke = False
        if self.errands is not None:
            self.errands.drop()

    def said(self, text: str, after_mail: bool = False) -> str | None:
        """``after_mail``: her last answer was about mail, so "the newest one" is a mail."""
        if self.errands is not None and self.store.accounts():
            done = self.errands.said(text, self._who)
            if done is not None:
                return done
        if len(text) > 200:
            return None
        read, find, asked = _READ.search(text), _FIND.search(text), _SAID.search(text)
        newest = _NEWEST.search(text)
        if newest is not None and not after_mail and \
                newest.group("noun").lower() in ("one", "message", "letter"):
            newest = None
        # "what did Amy say about the trip?" may be about a talk, not a mail: unless it
        # speaks of mail (or writing), it is hers to answer only from mail she finds
        about_mail = read is not None or find is not None or newest is not None or \
            is_mail_question(text) or \
            (asked is not None and asked.group("verb").lower() in ("write", "send"))
        if not about_mail and asked is None:
            return None
        if not self.store.accounts():
            return str(self.lines["no_accounts"]) if about_mail else None
        if read is not None:
            return self.read_from(self._who(read.group("who")))
        if newest is not None:
            return self.read_newest()
        if asked is not None:
            return self.said_about(asked.group("who"), asked.group("what") or "",
                                   quiet=not about_mail)
        if find is not None:
            return self.find(find.group("what"))
        said = self.summary(self.store.untold(limit=MAX_NAMED), self.store.untold_counts())
        self.store.mark_all_told()
        return said

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
