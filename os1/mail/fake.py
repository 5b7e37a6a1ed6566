"""In-process mail edges for unit tests: ``FakeMailServer`` (folders of raw messages with
UIDs, a UIDVALIDITY that can be changed, a connection that can be made to drop, moves
that can be refused) and ``FakeMailSender`` (keeps what it is asked to send)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from os1.errors import MailError
from os1.mail.imap import FolderInfo, Moved, RawMessage


@dataclass
class FakeMailServer:
    folders: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    uidvalidity: int = 1
    drop_after_fetches: int | None = None  # the connection breaks on the next fetch after N
    fetches: int = 0
    fail_moves: bool = False  # the server refuses to move anything
    _selected: str = "INBOX"
    _next_uid: dict[str, int] = field(default_factory=dict)

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        """Like IMAP, a UID is never given out twice in a folder."""
        box = self.folders.setdefault(folder, [])
        uid = max(self._next_uid.get(folder, 1), (box[-1][0] + 1) if box else 1)
        self._next_uid[folder] = uid + 1
        box.append((uid, raw))
        return uid

    def trash_folder(self) -> str:
        self.folders.setdefault("Trash", [])
        return "Trash"

    def sent_folder(self) -> str | None:
        return "Sent" if "Sent" in self.folders else None

    def append(self, folder: str, raw: bytes) -> None:
        if folder not in self.folders:
            raise MailError(f"The fake server has no folder {folder!r}.")
        self.deliver(raw, folder)

    def move(self, uids: Sequence[int], source: str, target: str) -> Moved:
        if self.fail_moves:
            raise MailError("The fake server refused to move the messages.")
        wanted = set(uids)
        moving = [(uid, raw) for uid, raw in self.folders[source] if uid in wanted]
        self.folders[source] = [(u, r) for u, r in self.folders[source] if u not in wanted]
        pairs = {uid: self.deliver(raw, target) for uid, raw in moving}
        return Moved(target, self.uidvalidity, pairs)

    def renumber(self) -> None:
        """What a server does after a rebuild: new UIDVALIDITY, UIDs from 1 again."""
        self.uidvalidity += 1
        for name, box in self.folders.items():
            self.folders[name] = [(n, raw) for n, (_, raw) in enumerate(box, start=1)]

    def select(self, folder: str) -> FolderInfo:
        if folder not in self.folders:
            raise MailError(f"The server has no folder {folder!r}.")
        self._selected = folder
        return FolderInfo(self.uidvalidity, len(self.folders[folder]))

    def uids_after(self, last_uid: int) -> list[int]:
        return [uid for uid, _ in self.folders[self._selected] if uid > last_uid]

    def fetch(self, uids: Sequence[int]) -> list[RawMessage]:
        if self.drop_after_fetches is not None and self.fetches >= self.drop_after_fetches:
            raise MailError("The connection to the fake server broke.")
        self.fetches += 1
        wanted = set(uids)
        return [RawMessage(uid, len(raw), raw) for uid, raw in self.folders[self._selected]
                if uid in wanted]

    def close(self) -> None:
        pass


@dataclass
class FakeMailSender:
    """Keeps what it is asked to send, or refuses with ``fail_with``."""

    sent: list[tuple[EmailMessage, list[str]]] = field(default_factory=list)
    fail_with: MailError | None = None

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((message, list(recipients)))
