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
import unicodedata

from os1.data import read_toml
from os1.mail.store import MailStore, StoredMail

MAX_NAMED = 4
SUBJECT_CHARS = 80
_MAIL_QUESTION = re.compile(
    r"\b(any|new|check|got|what'?s in|anything in)\b[^.!?]{0,40}\b(e-?mails?|mail|inbox)\b"
    r"|\b(e-?mails?|mail|inbox)\b[^.!?]{0,20}\b(today|for me|new)\b", re.IGNORECASE)


def is_mail_question(text: str) -> bool:
    return len(text) < 200 and _MAIL_QUESTION.search(text) is not None


class MailDesk:
    def __init__(self, store: MailStore) -> None:
        self.store = store
        self.lines = read_toml("mail.toml")

    def answer(self, text: str) -> str | None:
        """Her answer if ``text`` is a request the desk handles, else None."""
        if not is_mail_question(text):
            return None
        if not self.store.accounts():
            return str(self.lines["no_accounts"])
        new = self.store.untold(limit=500)
        said = self.summary(new)
        self.store.mark_told([item.id for item in new])
        return said

    def summary(self, new: list[StoredMail]) -> str:
        lines = self.lines
        if not new:
            return str(lines["nothing_new"])
        parts = [lines["intro_one"] if len(new) == 1 else
                 lines["intro_many"].format(count=len(new))]
        important = [m for m in new if m.category in ("personal", "work")]
        if important:
            named = "; ".join(self._item(m) for m in important[:MAX_NAMED])
            rest = len(important) - MAX_NAMED
            tail = f"; {lines['more_important'].format(count=rest)}" if rest > 0 else ""
            parts.append(f"{lines['important_lead']} {named}{tail}.")
        for category, one, many in (("newsletter", "newsletters_one", "newsletters_many"),
                                    ("spam", "spam_one", "spam_many")):
            count = sum(m.category == category for m in new)
            if count:
                parts.append(lines[one] if count == 1 else lines[many].format(count=count))
        parts.append(lines["read_more"])
        return " ".join(str(p) for p in parts)

    def _item(self, item: StoredMail) -> str:
        mail = item.mail
        who = _one_line(mail.from_name or mail.from_addr or "someone", 60)
        subject = _one_line(mail.subject, SUBJECT_CHARS)
        if not subject:
            return str(self.lines["item_no_subject"]).format(who=who)
        return str(self.lines["item"]).format(who=who, subject=subject)


def _one_line(text: str, limit: int) -> str:
    """On one line, without quotes that would end the quoting or characters that hide
    or reorder text (controls, bidi overrides, zero-width)."""
    visible = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    flat = " ".join(visible.replace('"', "'").split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"
