"""A raw RFC 822 message, as any server sends it, into what she reads: who, to whom,
when, about what, the text, and the attachments by name only.

Mail is written by strangers and broken in every way, so nothing here raises: a
malformed MIME tree, a charset nobody knows, a date that is no date or HTML that is all
markup still give a ``ParsedMail`` (with what could be read). Attachments are listed,
never opened, decoded to disk or run.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.header
import email.policy
import email.utils
import html
import re
from dataclasses import dataclass
from email.message import Message

from os1.visible_text import visible

MAX_TEXT_CHARS = 100_000  # what is kept of a body; a novel-length mail is cut, and says so
_TAGS = re.compile(r"<[^>]*>")
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"<(br|/p|/div|/tr|/li|/h\d)\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    from_name: str
    from_addr: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: float | None  # seconds since the epoch; None when missing or unreadable
    text: str
    attachments: tuple[Attachment, ...]
    in_reply_to: str = ""
    # What the headers and structure say, as words for triage: "list" (a mailing list),
    # "bulk", "spam-flagged" (the server's filter), "reply", "html-only", "mailer-outlook",
    # "header-x-mailer" (each header present) ...
    signals: tuple[str, ...] = ()


def parse_mail(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    from_name, from_addr = email.utils.parseaddr(_header(message, "From"))
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    for part in _leaves(message):
        kind = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").lower()
        filename = visible(_decoded(part.get_filename() or ""))
        if filename or disposition.startswith("attachment") or \
                not (kind.startswith("text/") or kind == "message/rfc822"):
            payload = part.get_payload(decode=True)
            attachments.append(Attachment(filename or "(unnamed)", kind,
                                          len(payload) if isinstance(payload, bytes) else 0))
        elif kind == "text/html":
            htmls.append(_body(part))
        elif kind == "text/plain":
            texts.append(_body(part))
    text = visible("\n\n".join(t for t in texts if t.strip()) or
                   "\n\n".join(html_to_text(h) for h in htmls))
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + f"\n[... cut: the mail goes on for {len(text):,} characters]"
    return ParsedMail(
        message_id=_header(message, "Message-ID").strip(),
        from_name=visible(_decoded(from_name)).strip(), from_addr=from_addr.strip().lower(),
        to=_addresses(message, "To"), cc=_addresses(message, "Cc"),
        subject=" ".join(visible(_header(message, "Subject")).split()),
        date=_date(_header(message, "Date")), text=text.strip(),
        attachments=tuple(attachments),
        in_reply_to=_header(message, "In-Reply-To").strip(),
        signals=_signals(message, bool(texts), bool(htmls), bool(attachments)))


def _signals(message: Message, plain: bool, html: bool, attached: bool) -> tuple[str, ...]:
    found = {"header-" + _token(name) for name in message.keys()[:60]}
    if message.get("List-Unsubscribe") or message.get("List-Id"):
        found.add("list")
    if _header(message, "Precedence").strip().lower() in ("bulk", "list", "junk"):
        found.add("bulk")
    if _header(message, "X-Spam-Flag").strip().upper().startswith("YES"):
        found.add("spam-flagged")
    if message.get("In-Reply-To") or _header(message, "Subject").lower().startswith("re:"):
        found.add("reply")
    if html and not plain:
        found.add("html-only")
    if attached:
        found.add("attachments")
    mailer = _header(message, "X-Mailer").split()
    if mailer:
        found.add("mailer-" + _token(mailer[0]))
    found.add("content-" + _token(message.get_content_type()))
    return tuple(sorted(found))


def _token(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: scripts and styles dropped, line breaks kept,
    entities decoded. (She reads it; nothing is rendered or fetched.)"""
    text = _INVISIBLE.sub(" ", markup)
    text = _BREAKS.sub("\n", text)
    text = html.unescape(_TAGS.sub(" ", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _leaves(message: Message) -> list[Message]:
    """Every non-multipart part, depth first; a broken tree gives what it has."""
    try:
        return [part for part in message.walk() if not part.is_multipart()]
    except (TypeError, AttributeError, IndexError):
        return [message]


def _body(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    return _text_of(payload, part.get_content_charset())


def _text_of(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; an unknown or wrong one falls back to UTF-8, then to
    Latin-1 (which decodes anything), so no mail is unreadable."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            codecs.lookup(candidate)
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (TypeError, ValueError):
        return ""
    if isinstance(value, email.header.Header):  # raw 8-bit, as spam is sent: its bytes
        return _decoded(value)
    return _decoded(str(value)) if value is not None else ""


def _decoded(value: str | email.header.Header) -> str:
    """An RFC 2047 encoded header (=?utf-8?b?...?=) as text, whatever its charset; a
    raw 8-bit one (a ``Header`` of unknown charset) read as UTF-8 where it is."""
    try:
        parts = email.header.decode_header(value)
    except (email.errors.HeaderParseError, ValueError):
        return str(value)
    out = []
    for chunk, charset in parts:
        out.append(_text_of(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return "".join(out)


def _addresses(message: Message, name: str) -> tuple[str, ...]:
    found = email.utils.getaddresses([_header(message, name)])
    return tuple(addr.strip().lower() for _, addr in found if "@" in addr)


def _date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    try:
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None
