"""Marks of a mail that tries to trick him or her: it asks for a password, orders his
mail forwarded or deleted, speaks to an assistant instead of to him, poses as a system
message, or claims to come from his own address.

Why: such mail is written to look urgent, and "what matters first" must not put it
above the mail of people he knows. Nothing here blocks or deletes a mail; it only ranks
it after the real mail (os1/mail/triage.py), and the desk only ever quotes it.
"""

from __future__ import annotations

import re
from functools import cache

from os1.data import read_toml
from os1.mail.parse import ParsedMail

TEXT_CHARS = 2000  # what is read of the body: a trick comes first, not in the footer
_MARKS = ("asks_secret", "mail_order", "to_assistant", "fake_turn", "system_sender",
          "system_claim")


@cache
def _tricks() -> dict[str, re.Pattern[str]]:
    """The marks' patterns, words as data (``data/mail_tricks.toml``)."""
    data = read_toml("mail_tricks.toml")
    return {mark: re.compile(str(data[mark])) for mark in _MARKS}


def hostile_marks(mail: ParsedMail, own_address: str = "") -> list[str]:
    """Why ``mail`` looks like a trick (empty: it doesn't). ``own_address``: his, which
    mail in his inbox only claims to come from."""
    text = f"{mail.subject}\n{mail.text[:TEXT_CHARS]}".lower()
    sender = mail.from_addr.strip().lower()
    tricks = _tricks()
    marks = []
    if tricks["asks_secret"].search(text):
        marks.append("asks-for-secret")
    if tricks["mail_order"].search(text):
        marks.append("orders-mail")
    if tricks["fake_turn"].match(mail.subject.strip().lower()) or \
            any(tricks["to_assistant"].search(line.strip()) for line in text.splitlines()):
        marks.append("speaks-to-assistant")
    if tricks["system_sender"].match(sender.partition("@")[0]) and \
            tricks["system_claim"].search(text):
        marks.append("poses-as-system")
    if own_address and sender == own_address.strip().lower():
        marks.append("from-own-address")
    return marks
