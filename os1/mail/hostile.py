"""Marks of a mail that tries to trick him or her: it asks for a password, orders his
mail forwarded or deleted, speaks to an assistant instead of to him, poses as a system
message, or claims to come from his own address.

Why: such mail is written to look urgent, and "what matters first" must not put it
above the mail of people he knows. Nothing here blocks or deletes a mail; it only ranks
it after the real mail (os1/mail/triage.py), and the desk only ever quotes it.
"""

from __future__ import annotations

import re

from os1.mail.parse import ParsedMail

TEXT_CHARS = 2000  # what is read of the body: a trick comes first, not in the footer
_ASKS_SECRET = re.compile(
    r"\b(?:reply|send|confirm|verify|provide|enter|tell|update|give|type|share)\b"
    r"[^.!?\n]{0,40}\b(?:password|passcode|pin|credentials|login details|security code"
    r"|verification code|card number|cvv)\b")
_MAIL_ORDER = re.compile(
    r"\b(?:forward|delete|remove|move|empty|mark|auto-?forward)\b[^.!?\n]{0,40}"
    r"\b(?:all|every|everything|whole)\b[^.!?\n]{0,30}"
    r"\b(?:mail|e-?mails?|inbox|messages?|trash|contacts|address book)\b"
    r"|\bauto-?forward\b|\bempty the trash\b")
_TO_ASSISTANT = re.compile(
    r"\bignore (?:all |any )?(?:previous|prior|earlier|above) instructions\b"
    r"|\bforget everything\b|\bdeveloper mode\b|\bnew instructions?:"
    r"|\breveal your (?:system )?prompt\b|\[/?inst\]|<\|im_(?:start|end)\|>"
    r"|\b(?:tell|insult|remind|warn) (?:the|your) user\b|^assistant\s*:")
_FAKE_TURN = re.compile(r"^(?:system|assistant|user)\s*:")  # a subject that is a "turn"
_SYSTEM_SENDER = re.compile(
    r"^(?:admin|administrator|postmaster|mailer-daemon|root|it|helpdesk|help-desk|support"
    r"|security|system|sysadmin|webmaster|account|accounts)$")
_SYSTEM_CLAIM = re.compile(
    r"\b(?:mailbox|inbox|account|password)\b[^.!?\n]{0,40}\b(?:full|suspended|closed|locked"
    r"|deactivated|expire[sd]?|expiring|verify|verification|disabled|quota)\b"
    r"|\bunusual (?:sign-?in|login) activity\b")


def hostile_marks(mail: ParsedMail, own_address: str = "") -> list[str]:
    """Why ``mail`` looks like a trick (empty: it doesn't). ``own_address``: his, which
    mail in his inbox only claims to come from."""
    text = f"{mail.subject}\n{mail.text[:TEXT_CHARS]}".lower()
    sender = mail.from_addr.strip().lower()
    marks = []
    if _ASKS_SECRET.search(text):
        marks.append("asks-for-secret")
    if _MAIL_ORDER.search(text):
        marks.append("orders-mail")
    if _FAKE_TURN.match(mail.subject.strip().lower()) or \
            any(_TO_ASSISTANT.search(line.strip()) for line in text.splitlines()):
        marks.append("speaks-to-assistant")
    if _SYSTEM_SENDER.match(sender.partition("@")[0]) and _SYSTEM_CLAIM.search(text):
        marks.append("poses-as-system")
    if own_address and sender == own_address.strip().lower():
        marks.append("from-own-address")
    return marks
