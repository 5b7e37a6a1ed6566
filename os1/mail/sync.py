"""Incremental sync of one folder: only UIDs above the last one stored are fetched, in
batches, each stored with the new mark in one transaction. A new UIDVALIDITY (the server
renumbered the folder) starts the folder over; a connection that drops mid-sync loses
only the batch in flight, and the next sync goes on from the last one stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from os1.mail.imap import MailServer, RawMessage
from os1.mail.mailboxes import Fetched, MailAccount, MailStore
from os1.mail.parse import ParsedMail, parse_mail
from os1.mail.triage import Triage

BATCH = 100


@dataclass(frozen=True)
class SyncResult:
    folder: str
    new: int
    total: int
    restarted: bool = False


def sync_folder(store: MailStore, account: MailAccount, server: MailServer,
                folder: str = "INBOX",
                progress: Callable[[int, int], None] | None = None,
                role: str | None = None) -> SyncResult:
    """``progress(done, todo)`` after each batch. New mail is sorted as it comes in (by
    what the user's corrections taught, or by rules until there are enough). ``role``:
    'sent' when the server keeps ``folder`` as Sent (see ``MailStore.set_folder_role``);
    None leaves what is known."""
    triage = Triage(account.address, store.corrections(), store.known())
    info = server.select(folder)
    state = store.folder_state(account, folder)
    restarted = state is not None and state.uidvalidity != info.uidvalidity
    if restarted:
        store.restart_folder(account, folder, info.uidvalidity)
    last = 0 if state is None or restarted else state.last_uid
    uids = server.uids_after(last)
    new = 0
    for start in range(0, len(uids), BATCH):
        batch = uids[start:start + BATCH]
        mails = [(raw, _parsed(raw)) for raw in server.fetch(batch)]
        sorts = triage.sort([mail for _, mail in mails])
        fetched = [Fetched(raw.uid, raw.size, mail, s.category, s.by, s.priority)
                   for (raw, mail), s in zip(mails, sorts, strict=True)]
        new += store.save_batch(account, folder, info.uidvalidity, fetched, batch[-1])
        if progress is not None:
            progress(start + len(batch), len(uids))
    if not uids and state is None:
        store.save_batch(account, folder, info.uidvalidity, [], 0)
    if role is not None:
        store.set_folder_role(account, folder, role)
    return SyncResult(folder, new, store.count(folder, account), restarted)


def _parsed(raw: RawMessage) -> ParsedMail:
    """A message fetched only in part (too big) says so, and its attachments' sizes,
    which the part can't tell, are left unknown (0)."""
    mail = parse_mail(raw.data)
    if len(raw.data) >= raw.size:
        return mail
    note = (f"[This mail is {raw.size / 1e6:.1f} MB; only its start was fetched. "
            "Open it in your mail program for the rest.]")
    return replace(mail, text=f"{mail.text}\n\n{note}".strip(),
                   attachments=tuple(replace(a, size=0) for a in mail.attachments))
