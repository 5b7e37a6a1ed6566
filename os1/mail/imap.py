"""The IMAP edge: ``MailServer`` is what sync needs from a server; ``ImapServer`` speaks
IMAP4rev1 with the standard library's imaplib over TLS, STARTTLS or (loopback tests,
old servers) plain TCP. Every failure becomes a ``MailError`` that says what went wrong
and what to check; the password is never in one.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from os1.errors import MailError
from os1.mail.store import MailAccount

TIMEOUT_S = 60.0
# A message bigger than this is fetched as its header and the start of its body: its
# text is what she reads, and a 50 MB attachment is not worth moving to say it exists.
FULL_FETCH_BYTES = 5_000_000
PARTIAL_BODY_BYTES = 200_000
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
