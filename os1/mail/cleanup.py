""""Go through my mail and keep only what matters": she proposes moving what she sorted
as newsletters and spam out of the inbox, the user confirms, and the messages go to the
server's Trash (moved whole; she never deletes or empties anything). The action log
keeps where each message went, so undo puts exactly those back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from os1.errors import InputError, MailError
from os1.mail.imap import MailMover
from os1.mail.mailboxes import MailAccount, MailStore, StoredMail
from os1.storage.actions import Action, ActionLog

NOT_KEPT = ("newsletter", "spam")
INBOX = "INBOX"


MoverFor = Callable[[MailAccount], MailMover]


class Cleanup:
    def __init__(self, store: MailStore, actions: ActionLog, mover_for: MoverFor) -> None:
        self.store = store
        self.actions = actions
        self._mover_for = mover_for

    def candidates(self) -> list[StoredMail]:
        return self.store.in_categories(NOT_KEPT, INBOX)

    def propose(self, items: list[StoredMail]) -> Action:
        if not items:
            raise InputError("There is nothing to clean up: no newsletters or spam in "
                             "your inbox.")
        kinds = Counter(item.category for item in items)
        summary = f"Move {len(items):,} messages to Trash (" + ", ".join(
            f"{n:,} {k}" for k, n in sorted(kinds.items())) + ")"
        return self.actions.propose("trash", summary, {
            "ids": [item.id for item in items], "by_category": dict(kinds)})

    def confirm(self, action_id: int) -> Action:
        """Move the proposed messages (those still in the inbox) to Trash, account by
        account. If a server fails part-way, what did move is logged (and can be undone)
        and the action says what failed."""
        action = self._expect(action_id, "trash", "proposed")
        wanted = [self.store.get(i) for i in action.detail["ids"] if self._exists(i)]
        moved: dict[str, dict[str, object]] = {}
        error = ""
        for account_name, items in _by_account(wanted).items():
            account = self.store.account(account_name)
            try:
                moved[account_name] = self._move(account, items)
            except MailError as exc:
                error = f"{account_name}: {exc}"
                break
        detail = {**action.detail, "moved": moved}
        if not moved:
            return self.actions.settle(action_id, "failed", error=error or "nothing to move",
                                       detail=detail)
        return self.actions.settle(action_id, "done", error=error, detail=detail)

    def undo(self, action_id: int) -> Action:
        """Put back in the inbox what this clean-up moved to Trash."""
        action = self._expect(action_id, "trash", "done")
        for account_name, where in action.detail["moved"].items():
            account = self.store.account(account_name)
            pairs = {int(mail_id): int(uid) for mail_id, uid in where["pairs"]}
            items = [self.store.get(i) for i in pairs if self._exists(i)]
            mover = self._mover_for(account)
            try:
                back = mover.move([pairs[i.id] for i in items], str(where["folder"]), INBOX)
            finally:
                mover.close()
            by_uid = {pairs[i.id]: i.id for i in items}
            self.store.moved(account, {by_uid[old]: new for old, new in back.uids.items()
                                       if old in by_uid}, INBOX, back.uidvalidity)
        return self.actions.settle(action_id, "undone")

    def last_undoable(self) -> Action | None:
        done = [a for a in self.actions.recent(limit=20, kind="trash") if a.status == "done"]
        return done[0] if done else None

    def _move(self, account: MailAccount, items: list[StoredMail]) -> dict[str, object]:
        mover = self._mover_for(account)
        try:
            trash = mover.trash_folder()
            moved = mover.move([i.uid for i in items], INBOX, trash)
        finally:
            mover.close()
        by_uid = {i.uid: i.id for i in items}
        where = {by_uid[old]: new for old, new in moved.uids.items() if old in by_uid}
        self.store.moved(account, where, trash, moved.uidvalidity)
        return {"folder": trash, "pairs": sorted(where.items())}

    def _exists(self, mail_id: int) -> bool:
        try:
            self.store.get(mail_id)
        except InputError:
            return False
        return True

    def _expect(self, action_id: int, kind: str, status: str) -> Action:
        action = self.actions.get(action_id)
        if action.kind != kind:
            raise InputError(f"Action {action_id} is not a clean-up.")
        if action.status != status:
            raise InputError(f"That clean-up is {action.status}; only a "
                             f"{'proposed' if status == 'proposed' else 'done'} one can be "
                             f"{'confirmed' if status == 'proposed' else 'undone'}.")
        return action


def _by_account(items: list[StoredMail]) -> dict[str, list[StoredMail]]:
    grouped: dict[str, list[StoredMail]] = defaultdict(list)
    for item in items:
        grouped[item.account].append(item)
    return dict(grouped)
