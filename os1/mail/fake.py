"""An in-process ``MailServer`` for unit tests: folders of raw messages with UIDs, a
UIDVALIDITY that can be changed, and a connection that can be made to drop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from os1.errors import MailError
from os1.mail.imap import FolderInfo, RawMessage


@dataclass
class FakeMailServer:
    folders: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    uidvalidity: int = 1
    drop_after_fetches: int | None = None  # the connection breaks on the next fetch after N
    fetches: int = 0
    _selected: str = "INBOX"

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        box = self.folders.setdefault(folder, [])
        uid = (box[-1][0] if box else 0) + 1
        box.append((uid, raw))
        return uid

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
