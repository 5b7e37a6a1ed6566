"""The user's mail accounts and the messages synced from them, scoped by user like
everything else: one person's mail never reaches another's queries."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from os1.errors import InputError
from os1.mail.known import Known
from os1.mail.parse import Attachment, ParsedMail
from os1.mail.triage import CATEGORIES, PRIORITY, Triage
from os1.storage.db import Connection, Database, Row

Security = Literal["tls", "starttls", "none"]
SECURITIES: tuple[Security, ...] = ("tls", "starttls", "none")
FOLDER_ROLES = ("", "sent")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True)
class MailAccount:
    name: str
    address: str
    login: str
    imap_host: str
    imap_port: int
    imap_security: Security
    smtp_host: str
    smtp_port: int
    smtp_security: Security
    id: int = 0


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class StoredMail:
    id: int
    account: str
    folder: str
    uid: int
    mail: ParsedMail
    size: int
    category: str = "personal"
    sorted_by: str = "rules"
    priority: float = 0.5
    told: bool = False


@dataclass(frozen=True)
class Fetched:
    """One message as the server gave it, and how it was sorted."""

    uid: int
    size: int
    mail: ParsedMail
    category: str = "personal"
    sorted_by: str = "rules"
    priority: float = 0.5


class MailAccountNotFound(InputError):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no mail account called {name!r}.",
                         "See yours with: os1 mail accounts")


class MailStore:
    def __init__(self, db: Database, user_id: str) -> None:
        self._db = db
        self.user_id = user_id

    # -- accounts ------------------------------------------------------------------------

    def add_account(self, account: MailAccount) -> MailAccount:
        _check_account(account)
        with self._db.transaction() as tx:
            if tx.execute("SELECT 1 FROM mail_accounts WHERE user_id = ? AND name = ?",
                          (self.user_id, account.name)).fetchone() is not None:
                raise InputError(f"You already have a mail account called {account.name!r}.",
                                 "Choose another name, or remove it first.")
            tx.execute(
                "INSERT INTO mail_accounts(user_id, name, address, login, imap_host,"
                " imap_port, imap_security, smtp_host, smtp_port, smtp_security, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (self.user_id, account.name, account.address, account.login,
                 account.imap_host, account.imap_port, account.imap_security,
                 account.smtp_host, account.smtp_port, account.smtp_security,
                 time.time()))
        return self.account(account.name)

    def accounts(self) -> list[MailAccount]:
        rows = self._db.execute("SELECT * FROM mail_accounts WHERE user_id = ? ORDER BY id",
                                (self.user_id,)).fetchall()
        return [_to_account(r) for r in rows]

    def account(self, name: str) -> MailAccount:
        row = self._db.execute("SELECT * FROM mail_accounts WHERE user_id = ? AND name = ?",
                               (self.user_id, name)).fetchone()
        if row is None:
            raise MailAccountNotFound(name)
        return _to_account(row)

    def remove_account(self, name: str) -> int:
        """Forget an account and every message synced from it (the server keeps them)."""
        account = self.account(name)
        with self._db.transaction() as tx:
            gone = tx.execute("DELETE FROM mail_messages WHERE user_id = ? AND account_id = ?",
                              (self.user_id, account.id)).rowcount
            tx.execute("DELETE FROM mail_folders WHERE user_id = ? AND account_id = ?",
                       (self.user_id, account.id))
            tx.execute("DELETE FROM mail_accounts WHERE user_id = ? AND id = ?",
                       (self.user_id, account.id))
        return gone

    # -- sync state ----------------------------------------------------------------------

    def folder_state(self, account: MailAccount, folder: str) -> FolderState | None:
        row = self._db.execute(
            "SELECT uidvalidity, last_uid FROM mail_folders WHERE user_id = ?"
            " AND account_id = ? AND folder = ?", (self.user_id, account.id, folder)).fetchone()
        return None if row is None else FolderState(int(row[0]), int(row[1]))

    def restart_folder(self, account: MailAccount, folder: str, uidvalidity: int) -> int:
        """The server renumbered the folder (a new UIDVALIDITY): the old copies are
        dropped, to be synced again under their new numbers. Returns how many."""
        with self._db.transaction() as tx:
            gone = tx.execute("DELETE FROM mail_messages WHERE user_id = ? AND account_id = ?"
                              " AND folder = ?", (self.user_id, account.id, folder)).rowcount
            self._mark(tx, account, folder, uidvalidity, 0)
        return gone

    def save_batch(self, account: MailAccount, folder: str, uidvalidity: int,
                   batch: Sequence[Fetched], up_to: int) -> int:
        """Store a batch and move the folder's mark to ``up_to`` in one transaction, so
        a sync cut off anywhere resumes exactly after the last batch stored. Returns how
        many were new (a message already here is left as it is)."""
        now = time.time()
        with self._db.transaction() as tx:
            new = 0
            for item in batch:
                mail = item.mail
                new += tx.execute(
                    "INSERT INTO mail_messages(user_id, account_id, folder, uidvalidity, uid,"
                    " message_id, from_name, from_addr, to_addrs, cc_addrs, subject, sent_at,"
                    " body, attachments, size, stored_at, signals, category, sorted_by,"
                    " priority) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT DO NOTHING",
                    (self.user_id, account.id, folder, uidvalidity, item.uid, mail.message_id,
                     mail.from_name, mail.from_addr, json.dumps(list(mail.to)),
                     json.dumps(list(mail.cc)), mail.subject, mail.date, mail.text,
                     json.dumps([a.__dict__ for a in mail.attachments]), item.size, now,
                     json.dumps(list(mail.signals)), item.category, item.sorted_by,
                     item.priority),
                ).rowcount
            self._mark(tx, account, folder, uidvalidity, up_to)
        return new

    def _mark(self, tx: Connection, account: MailAccount, folder: str, uidvalidity: int,
              last_uid: int) -> None:
        tx.execute(
            "INSERT INTO mail_folders(user_id, account_id, folder, uidvalidity, last_uid,"
            " synced_at) VALUES (?,?,?,?,?,?) ON CONFLICT(account_id, folder) DO UPDATE SET"
            " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
            " synced_at = excluded.synced_at",
            (self.user_id, account.id, folder, uidvalidity, last_uid, time.time()))

    def set_folder_role(self, account: MailAccount, folder: str, role: str) -> None:
        """``role``: 'sent' for the folder the server keeps as Sent (only mail there, from
        the user's own address, is taken for the user's own writing), '' for any other.
        The inbox is never 'sent': anyone can write into it."""
        if role not in FOLDER_ROLES:
            raise InputError(f"{role!r} is not a folder role here.",
                             f"Use one of: {', '.join(map(repr, FOLDER_ROLES))}.")
        if role == "sent" and folder.upper() == "INBOX":
            raise InputError("The inbox can't be kept as your Sent folder: anyone can "
                             "write into it.")
        with self._db.transaction() as tx:
            tx.execute("UPDATE mail_folders SET role = ? WHERE user_id = ? AND account_id = ?"
                       " AND folder = ?", (role, self.user_id, account.id, folder))

    # -- reading -------------------------------------------------------------------------

    def sent_mail(self, account: MailAccount, limit: int = 50) -> list[StoredMail]:
        """Newest first: mail in ``account``'s Sent folder whose sender is the account's
        own address (and so, unlike a From line in the inbox, written by the user or by
        a program of the user's)."""
        rows = self._db.execute(
            f"{_SELECT} JOIN mail_folders AS f ON f.account_id = m.account_id"
            " AND f.folder = m.folder AND f.user_id = m.user_id"
            " WHERE m.user_id = ? AND m.account_id = ? AND f.role = 'sent'"
            " AND m.from_addr = ?"
            " ORDER BY COALESCE(m.sent_at, m.stored_at) DESC, m.id DESC LIMIT ?",
            (self.user_id, account.id, account.address.strip().lower(),
             max(0, limit))).fetchall()
        return [_to_mail(r) for r in rows]

    def messages(self, limit: int = 50, folder: str = "INBOX") -> list[StoredMail]:
        """Newest first."""
        rows = self._db.execute(
            f"{_SELECT} WHERE m.user_id = ? AND m.folder = ?"
            " ORDER BY COALESCE(m.sent_at, m.stored_at) DESC, m.id DESC LIMIT ?",
            (self.user_id, folder, max(0, limit))).fetchall()
        return [_to_mail(r) for r in rows]

    def get(self, mail_id: int) -> StoredMail:
        row = self._db.execute(f"{_SELECT} WHERE m.user_id = ? AND m.id = ?",
                               (self.user_id, mail_id)).fetchone()
        if row is None:
            raise InputError(f"There is no mail {mail_id}.",
                             "See your mail with: os1 mail list")
        return _to_mail(row)

    def search(self, words: Sequence[str], limit: int = 20, sender: str = "",
               between: tuple[float, float] | None = None) -> list[StoredMail]:
        """Newest first: mail holding every word (in its subject, sender or text, any
        case), from ``sender`` (a name or address, in part) if given, sent within
        ``between`` ([start, end) in Unix time) if given."""
        sql = f"{_SELECT} WHERE m.user_id = ?"
        args: list[object] = [self.user_id]
        for word in words:
            sql += (" AND (lower(m.subject) LIKE ? ESCAPE '!' OR lower(m.body) LIKE ? ESCAPE '!'"
                    " OR lower(m.from_name) LIKE ? ESCAPE '!')")
            args += [_like(word)] * 3
        if sender:
            sql += " AND (lower(m.from_name) LIKE ? ESCAPE '!' OR m.from_addr LIKE ? ESCAPE '!')"
            args += [_like(sender)] * 2
        if between is not None:
            sql += " AND COALESCE(m.sent_at, m.stored_at) >= ? AND COALESCE(m.sent_at," \
                   " m.stored_at) < ?"
            args += list(between)
        sql += " ORDER BY COALESCE(m.sent_at, m.stored_at) DESC, m.id DESC LIMIT ?"
        rows = self._db.execute(sql, (*args, max(0, limit))).fetchall()
        return [_to_mail(r) for r in rows]

    def untold(self, limit: int = 50) -> list[StoredMail]:
        """Inbox mail she hasn't told the user about, what matters most first."""
        rows = self._db.execute(
            f"{_SELECT} WHERE m.user_id = ? AND m.folder = 'INBOX' AND m.told = 0"
            " ORDER BY m.priority DESC, COALESCE(m.sent_at, m.stored_at) DESC, m.id DESC"
            " LIMIT ?", (self.user_id, max(0, limit))).fetchall()
        return [_to_mail(r) for r in rows]

    def untold_counts(self) -> dict[str, int]:
        """How many inbox messages of each category she hasn't told the user about."""
        rows = self._db.execute(
            "SELECT category, COUNT(*) FROM mail_messages WHERE user_id = ?"
            " AND folder = 'INBOX' AND told = 0 GROUP BY category", (self.user_id,)).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def mark_all_told(self) -> None:
        with self._db.transaction() as tx:
            tx.execute("UPDATE mail_messages SET told = 1 WHERE user_id = ? AND told = 0",
                       (self.user_id,))

    def mark_told(self, mail_ids: Sequence[int]) -> None:
        with self._db.transaction() as tx:
            for mail_id in mail_ids:
                tx.execute("UPDATE mail_messages SET told = 1 WHERE user_id = ? AND id = ?",
                           (self.user_id, mail_id))

    def correct(self, mail_id: int, category: str) -> StoredMail:
        """The user says what a message is; kept, and learned from."""
        if category not in CATEGORIES:
            raise InputError(f"{category!r} is not a kind of mail here.",
                             f"Use one of: {', '.join(CATEGORIES)}.")
        self.get(mail_id)
        with self._db.transaction() as tx:
            tx.execute("UPDATE mail_messages SET category = ?, sorted_by = 'you',"
                       " priority = ? WHERE user_id = ? AND id = ?",
                       (category, PRIORITY[category], self.user_id, mail_id))
        return self.get(mail_id)

    def corrections(self) -> list[tuple[ParsedMail, str]]:
        rows = self._db.execute(f"{_SELECT} WHERE m.user_id = ? AND m.sorted_by = 'you'"
                                " ORDER BY m.id", (self.user_id,)).fetchall()
        return [(item.mail, item.category) for item in map(_to_mail, rows)]

    def known(self) -> Known:
        """Who he knows, from his own mail (mail/known.py): the addresses his Sent mail
        went to (mail in a folder the server keeps as Sent, from his own address) and the
        senders he sorted himself."""
        own = [a.address.strip().lower() for a in self.accounts()]
        rows = self._db.execute(
            "SELECT m.to_addrs, m.cc_addrs FROM mail_messages AS m JOIN mail_folders AS f"
            " ON f.account_id = m.account_id AND f.folder = m.folder AND f.user_id = m.user_id"
            " JOIN mail_accounts AS a ON a.id = m.account_id AND a.user_id = m.user_id"
            " WHERE m.user_id = ? AND f.role = 'sent'"
            " AND m.from_addr = lower(trim(a.address))",
            (self.user_id,)).fetchall()
        written_to = [address for row in rows for column in (row[0], row[1])
                      for address in json.loads(column)]
        return Known.of(own, written_to, self.corrections())

    def resort(self, triage: Triage) -> int:
        """Sort again every message the user hasn't sorted (after they corrected some);
        returns how many changed category."""
        rows = self._db.execute(f"{_SELECT} WHERE m.user_id = ? AND m.sorted_by != 'you'"
                                " ORDER BY m.id", (self.user_id,)).fetchall()
        items = [_to_mail(r) for r in rows]
        changed = 0
        with self._db.transaction() as tx:
            for item, now in zip(items, triage.sort([i.mail for i in items]), strict=True):
                changed += now.category != item.category
                tx.execute("UPDATE mail_messages SET category = ?, sorted_by = ?, priority = ?"
                           " WHERE user_id = ? AND id = ?",
                           (now.category, now.by, now.priority, self.user_id, item.id))
        return changed

    def moved(self, account: MailAccount, where: dict[int, int], folder: str,
              uidvalidity: int) -> None:
        """Messages (by local id) now live in ``folder`` under new UIDs (``where``:
        local id -> UID); one that a sync of that folder stored already is kept once."""
        with self._db.transaction() as tx:
            for mail_id, uid in where.items():
                there = tx.execute(
                    "SELECT id FROM mail_messages WHERE account_id = ? AND folder = ?"
                    " AND uidvalidity = ? AND uid = ?",
                    (account.id, folder, uidvalidity, uid)).fetchone()
                if there is not None and int(there[0]) != mail_id:
                    tx.execute("DELETE FROM mail_messages WHERE user_id = ? AND id = ?",
                               (self.user_id, mail_id))
                    continue
                tx.execute("UPDATE mail_messages SET folder = ?, uidvalidity = ?, uid = ?"
                           " WHERE user_id = ? AND id = ? AND account_id = ?",
                           (folder, uidvalidity, uid, self.user_id, mail_id, account.id))

    def in_categories(self, categories: Sequence[str], folder: str = "INBOX",
                      limit: int = 10_000) -> list[StoredMail]:
        """The folder's mail sorted into ``categories``, newest first."""
        marks = ",".join("?" * len(categories))
        rows = self._db.execute(
            f"{_SELECT} WHERE m.user_id = ? AND m.folder = ? AND m.category IN ({marks})"
            " ORDER BY COALESCE(m.sent_at, m.stored_at) DESC, m.id DESC LIMIT ?",
            (self.user_id, folder, *categories, max(0, limit))).fetchall()
        return [_to_mail(r) for r in rows]

    def count(self, folder: str | None = None, account: MailAccount | None = None) -> int:
        sql = "SELECT COUNT(*) FROM mail_messages WHERE user_id = ?"
        args: list[object] = [self.user_id]
        if folder is not None:
            sql, args = sql + " AND folder = ?", [*args, folder]
        if account is not None:
            sql, args = sql + " AND account_id = ?", [*args, account.id]
        return int(self._db.execute(sql, args).fetchone()[0])


_SELECT = ("SELECT m.*, a.name AS account_name FROM mail_messages AS m"
           " JOIN mail_accounts AS a ON a.id = m.account_id")


def _like(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _check_account(account: MailAccount) -> None:
    if not _NAME.match(account.name):
        raise InputError(f"{account.name!r} can't name a mail account.",
                         "Use letters, digits, '.', '_' or '-' (up to 40).")
    if "@" not in account.address:
        raise InputError(f"{account.address!r} is not a mail address.")
    for what, port, security in (("IMAP", account.imap_port, account.imap_security),
                                 ("SMTP", account.smtp_port, account.smtp_security)):
        if not 0 < port < 65536:
            raise InputError(f"The {what} port {port} is not a port (1-65535).")
        if security not in SECURITIES:
            raise InputError(f"{what} security {security!r} is not one of "
                             f"{', '.join(SECURITIES)}.")


def _to_account(row: Row) -> MailAccount:
    return MailAccount(
        id=int(row["id"]), name=row["name"], address=row["address"], login=row["login"],
        imap_host=row["imap_host"], imap_port=int(row["imap_port"]),
        imap_security=row["imap_security"], smtp_host=row["smtp_host"],
        smtp_port=int(row["smtp_port"]), smtp_security=row["smtp_security"])


def _to_mail(row: Row) -> StoredMail:
    mail = ParsedMail(
        message_id=row["message_id"], from_name=row["from_name"], from_addr=row["from_addr"],
        to=tuple(json.loads(row["to_addrs"])), cc=tuple(json.loads(row["cc_addrs"])),
        subject=row["subject"], date=row["sent_at"], text=row["body"],
        attachments=tuple(Attachment(**a) for a in json.loads(row["attachments"])),
        signals=tuple(json.loads(row["signals"])))
    return StoredMail(int(row["id"]), row["account_name"], row["folder"], int(row["uid"]),
                      mail, int(row["size"]), row["category"], row["sorted_by"],
                      float(row["priority"]), bool(row["told"]))
