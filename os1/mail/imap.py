"""The IMAP edge: ``MailServer`` is what sync needs from a server; ``ImapServer`` speaks
IMAP4rev1 with the standard library's imaplib over TLS, STARTTLS or (loopback tests,
old servers) plain TCP. Every failure becomes a ``MailError`` that says what went wrong
and what to check; the password is never in one.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import select
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from os1.errors import MailError
from os1.mail.mailboxes import MailAccount

TIMEOUT_S = 60.0
# A message bigger than this is fetched as its header and the start of its body: its
# text is what she reads, and a 50 MB attachment is not worth moving to say it exists.
FULL_FETCH_BYTES = 5_000_000
PARTIAL_BODY_BYTES = 200_000
POLL_S = 60.0  # how often a server without IDLE is asked instead
_ARRIVED = re.compile(rb"^\* \d+ (EXISTS|RECENT)\b", re.IGNORECASE)
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class FolderInfo:
    uidvalidity: int
    exists: int


@dataclass(frozen=True)
class RawMessage:
    uid: int
    size: int
    data: bytes


class MailServer(Protocol):
    def select(self, folder: str) -> FolderInfo: ...
    def uids_after(self, last_uid: int) -> list[int]: ...
    def fetch(self, uids: Sequence[int]) -> list[RawMessage]: ...
    def close(self) -> None: ...


class MailMover(Protocol):
    """What clean-up and its undo need: where Trash is, and moving messages there and
    back. Nothing here deletes: a message is moved whole, and Trash is never emptied."""

    def trash_folder(self) -> str: ...
    def move(self, uids: Sequence[int], source: str, target: str) -> Moved: ...
    def close(self) -> None: ...


class MailFiler(Protocol):
    """Keeping a copy of what she sent in the user's Sent folder, as any mail program
    does (and so her drafts can learn the user's style from it)."""

    def sent_folder(self) -> str | None: ...
    def append(self, folder: str, raw: bytes) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Moved:
    """Where moved messages are now: their UIDs in ``target`` (a message the server
    didn't report is missing from ``uids``), under the target's UIDVALIDITY."""

    target: str
    uidvalidity: int
    uids: dict[int, int]  # old UID -> new UID


class ImapServer:
    def __init__(self, account: MailAccount, password: str,
                 ca_file: str | None = None) -> None:
        self.account = account
        self._imap = _connect(account, ca_file)
        try:
            self._imap.login(account.login, password)
        except imaplib.IMAP4.error as exc:
            self._imap.shutdown()
            raise MailError(
                f"{account.imap_host} refused the login for {account.login}: {_said(exc)}.",
                "Check the login and password (os1 mail password "
                f"{account.name}); some providers want an app password.") from exc

    def select(self, folder: str) -> FolderInfo:
        status, data = self._call(self._imap.select, _quoted(folder), True)
        if status != "OK":
            raise MailError(f"{self.account.imap_host} has no folder {folder!r}: "
                            f"{_said(data)}.")
        uidvalidity = self._imap.untagged_responses.get("UIDVALIDITY", [b"0"])[-1]
        return FolderInfo(_number(uidvalidity), _number(data[0]))

    def uids_after(self, last_uid: int) -> list[int]:
        # "N:*" always matches the newest message, even when its UID is below N.
        _, data = self._call(self._imap.uid, "SEARCH", f"UID {last_uid + 1}:*")
        return sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last_uid)

    def fetch(self, uids: Sequence[int]) -> list[RawMessage]:
        if not uids:
            return []
        sizes = self._sizes(uids)
        small = [u for u in uids if sizes.get(u, 0) <= FULL_FETCH_BYTES]
        found = {m.uid: m for m in self._fetch(small, "BODY.PEEK[]", sizes)}
        for uid in uids:
            if uid not in found and uid in sizes:
                found[uid] = self._fetch_partial(uid, sizes[uid])
        return [found[u] for u in uids if u in found]

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self._imap.logout()

    def trash_folder(self) -> str:
        """The folder the server marks as Trash (RFC 6154), else one named like it,
        else a new "Trash"."""
        found = self._special("\\trash", _TRASH_NAMES)
        if found is None:
            self._call(self._imap.create, _quoted("Trash"))
        return found or "Trash"

    def sent_folder(self) -> str | None:
        """The folder the server marks as Sent, else one named like it, else None."""
        return self._special("\\sent", _SENT_NAMES)

    def append(self, folder: str, raw: bytes) -> None:
        status, data = self._call(self._imap.append, _quoted(folder), "(\\Seen)",
                                  imaplib.Time2Internaldate(time.time()), raw)
        if status != "OK":
            raise MailError(f"{self.account.imap_host} would not file it in {folder!r}: "
                            f"{_said(data)}.")

    def _special(self, flag: str, names: tuple[str, ...]) -> str | None:
        _, data = self._call(self._imap.list)
        folders = [f for f in (_listed(x) for x in data) if f is not None]
        for flags, name in folders:
            if flag in flags:
                return name
        return next((name for _, name in folders if name.lower() in names), None)

    def move(self, uids: Sequence[int], source: str, target: str) -> Moved:
        """UID MOVE (RFC 6851) where the server has it; else COPY, flag \\Deleted and
        expunge only those UIDs (UIDPLUS). New UIDs come from COPYUID, or are found by
        Message-ID where the server doesn't say."""
        status, data = self._call(self._imap.select, _quoted(source))
        if status != "OK":
            raise MailError(f"{self.account.imap_host} has no folder {source!r}: "
                            f"{_said(data)}.")
        ids = self._message_ids(uids)
        self._imap.response("COPYUID")  # forget any earlier one
        capabilities = self._capabilities()
        if "MOVE" in capabilities:
            self._checked("move", self._imap.uid, "MOVE", _set(uids), _quoted(target))
        else:
            self._checked("copy", self._imap.uid, "COPY", _set(uids), _quoted(target))
            self._checked("flag", self._imap.uid, "STORE", _set(uids), "+FLAGS.SILENT",
                          "(\\Deleted)")
            if "UIDPLUS" in capabilities:
                self._checked("expunge", self._imap.uid, "EXPUNGE", _set(uids))
        pairs = _copyuid(self._imap.response("COPYUID")[1])
        info = self.select(target)
        for old, message_id in ids.items():
            if old not in pairs and message_id:
                _, found = self._call(self._imap.uid, "SEARCH", "HEADER", "Message-ID",
                                      _quoted(message_id))
                numbers = [int(x) for x in (found[0] or b"").split()]
                if numbers:
                    pairs[old] = max(numbers)
        return Moved(target, info.uidvalidity, pairs)

    def wait_for_mail(self, folder: str, timeout_s: float) -> bool:
        """Wait, with IMAP IDLE (RFC 2177), until the server says mail arrived in
        ``folder`` (True) or ``timeout_s`` passed (False). A server without IDLE is
        simply asked again after a while (True: sync to see)."""
        self.select(folder)
        if "IDLE" not in self._capabilities():
            time.sleep(min(timeout_s, POLL_S))
            return True
        imap = self._imap
        tag = imap._new_tag()
        try:
            imap.send(tag + b" IDLE\r\n")
            if not imap.readline().startswith(b"+"):
                raise MailError(f"{self.account.imap_host} would not IDLE.")
            arrived = self._idle_until(time.monotonic() + timeout_s)
            imap.send(b"DONE\r\n")
            while not (line := imap.readline()).startswith(tag):
                if not line:
                    raise OSError("the server closed the connection")
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise MailError(f"The connection to {self.account.imap_host} broke while "
                            f"waiting for mail: {exc}.",
                            "Run it again: nothing was lost.") from exc
        return arrived

    def _idle_until(self, deadline: float) -> bool:
        imap = self._imap
        while (left := deadline - time.monotonic()) > 0:
            pending = getattr(imap.sock, "pending", lambda: 0)()
            if not pending and not select.select([imap.sock], [], [], left)[0]:
                return False
            line = imap.readline()
            if not line:
                raise OSError("the server closed the connection")
            if _ARRIVED.match(line):
                return True
        return False

    def _capabilities(self) -> set[str]:
        """Asked again after login: servers announce MOVE and UIDPLUS only then."""
        _, data = self._call(self._imap.capability)
        return set((data[0] or b"").decode("ascii", "replace").upper().split())

    def _message_ids(self, uids: Sequence[int]) -> dict[int, str]:
        _, data = self._call(self._imap.uid, "FETCH", _set(uids),
                             "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        out: dict[int, str] = {}
        for item in data:
            if isinstance(item, tuple) and (uid := _UID.search(item[0])):
                header = item[1].decode("utf-8", "replace").partition(":")[2]
                out[int(uid.group(1))] = " ".join(header.split())
        return out

    def _checked(self, what: str, method: object, *args: object) -> None:
        status, data = self._call(method, *args)
        if status != "OK":
            raise MailError(f"{self.account.imap_host} would not {what} the messages: "
                            f"{_said(data)}. Nothing was lost: they are where they were.")

    def _sizes(self, uids: Sequence[int]) -> dict[int, int]:
        _, data = self._call(self._imap.uid, "FETCH", _set(uids), "(RFC822.SIZE)")
        sizes: dict[int, int] = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            uid, size = _UID.search(line or b""), _SIZE.search(line or b"")
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def _fetch(self, uids: Sequence[int], part: str, sizes: dict[int, int]) -> list[RawMessage]:
        if not uids:
            return []
        _, data = self._call(self._imap.uid, "FETCH", _set(uids), f"(UID {part})")
        out: list[RawMessage] = []
        for item in data:
            if isinstance(item, tuple) and (uid := _UID.search(item[0])):
                number = int(uid.group(1))
                out.append(RawMessage(number, sizes.get(number, len(item[1])), item[1]))
        return out

    def _fetch_partial(self, uid: int, size: int) -> RawMessage:
        _, data = self._call(self._imap.uid, "FETCH", str(uid),
                             f"(BODY.PEEK[HEADER] BODY.PEEK[TEXT]<0.{PARTIAL_BODY_BYTES}>)")
        parts = [item[1] for item in data if isinstance(item, tuple)]
        return RawMessage(uid, size, b"".join(parts))

    def _call(self, method: object, *args: object) -> tuple[str, list[Any]]:
        try:
            status, data = method(*args)  # type: ignore[operator]
        except (imaplib.IMAP4.abort, OSError) as exc:
            raise MailError(f"The connection to {self.account.imap_host} broke: {exc}.",
                            "Run the sync again: it goes on from where it stopped.") from exc
        except imaplib.IMAP4.error as exc:
            raise MailError(f"{self.account.imap_host} refused a command: {_said(exc)}.") \
                from exc
        return str(status), list(data)


def _connect(account: MailAccount, ca_file: str | None) -> imaplib.IMAP4:
    host, port = account.imap_host, account.imap_port
    context = ssl.create_default_context(cafile=ca_file)
    try:
        if account.imap_security == "tls":
            return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT_S)
        imap = imaplib.IMAP4(host, port, timeout=TIMEOUT_S)
        if account.imap_security == "starttls":
            imap.starttls(context)
        return imap
    except ssl.SSLCertVerificationError as exc:
        raise MailError(
            f"{host}:{port}'s certificate can't be trusted: {exc.verify_message}.",
            "If this is your own server with its own certificate, give its CA file with "
            "--ca-file; otherwise someone may be in between.") from exc
    except ssl.SSLError as exc:
        raise MailError(f"TLS with {host}:{port} failed: {exc.reason or exc}.",
                        "Check the port and the security setting (tls for 993, starttls "
                        "for 143).") from exc
    except TimeoutError as exc:
        raise MailError(f"{host}:{port} did not answer within {TIMEOUT_S:.0f} s.") from exc
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailError(f"Can't connect to the mail server {host}:{port}: {_said(exc)}.",
                        "Check the host name, the port and your network.") from exc


_TRASH_NAMES = ("trash", "deleted items", "deleted messages", "bin", "[gmail]/trash")
_SENT_NAMES = ("sent", "sent items", "sent messages", "sent mail", "[gmail]/sent mail")
_LISTED = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


def _listed(item: object) -> tuple[str, str] | None:
    """(lower-cased flags, folder name) from one LIST line."""
    if not isinstance(item, bytes) or not (match := _LISTED.match(item)):
        return None
    name = match.group("name").decode("utf-8", "replace")
    if name.startswith('"') and name.endswith('"'):
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return match.group("flags").decode("ascii", "replace").lower(), name


def _copyuid(data: list[Any]) -> dict[int, int]:
    """Old UID -> new UID from "COPYUID <validity> <old set> <new set>" responses."""
    pairs: dict[int, int] = {}
    for item in data or []:
        parts = (item.decode() if isinstance(item, bytes) else str(item or "")).split()
        if len(parts) == 3:
            pairs.update(zip(_expand(parts[1]), _expand(parts[2]), strict=False))
    return pairs


def _expand(uid_set: str) -> list[int]:
    out: list[int] = []
    for piece in uid_set.split(","):
        low, _, high = piece.partition(":")
        if low.isdigit() and (not high or high.isdigit()):
            out.extend(range(int(low), int(high or low) + 1))
    return out


def _said(thing: object) -> str:
    if isinstance(thing, list):
        thing = b" ".join(x for x in thing if isinstance(x, bytes))
    if isinstance(thing, BaseException) and thing.args:
        thing = thing.args[0]
    text = thing.decode("utf-8", "replace") if isinstance(thing, bytes) else str(thing)
    return " ".join(text.split()) or "no reason given"


def _number(value: object) -> int:
    return int(value) if isinstance(value, bytes | str) and str(value).strip("b'").isdigit() \
        else 0


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _set(uids: Sequence[int]) -> str:
    return ",".join(str(u) for u in uids)
