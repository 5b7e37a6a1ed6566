"""What she does with the user's mail, rather than says about it: reply, clean up, undo.
Each errand is proposed first and logged (os1 actions); only a plain yes to the very
next question carries it out, and anything else the user says drops the proposal, so a
"yes" later, or one written inside a mail, never acts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from os1.data import read_toml
from os1.errors import InputError, MailError
from os1.mail.cleanup import Cleanup
from os1.mail.mailboxes import MailStore, StoredMail
from os1.mail.outbox import Outbox, reply_to
from os1.mail.quote import one_line
from os1.skills.replies import understood
from os1.storage.actions import Action

EXAMPLES = 3

Drafter = Callable[[StoredMail, str], str]


class MailErrands:
    def __init__(self, store: MailStore, outbox: Outbox, cleanup: Cleanup,
                 drafter: Drafter | None = None) -> None:
        self.store = store
        self.outbox = outbox
        self.cleanup = cleanup
        self.drafter = drafter
        self.lines = read_toml("mail.toml")
        self.pending: Action | None = None

    def reply(self, text: str) -> str | None:
        """Her answer if ``text`` answers her last proposal (yes or no), else None: any
        other turn drops the proposal (declined)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return None
        reply = understood(text)
        if reply == "yes":
            return self._carry_out(pending)
        self._decline(pending)
        if reply == "no":
            key = "send_declined" if pending.kind == "send" else "clean_declined"
            return str(self.lines[key])
        return None

    def act(self, intent: str, slots: Mapping[str, str],
            who_is: Callable[[str], str] = str) -> str | None:
        """Her answer to the errand ``intent`` (undo, reply, cleanup; the router or the
        desk found it, ``slots`` from its pattern), or None when she can't do it here.
        ``who_is`` turns "my sister" into a name she knows, where she knows it."""
        if intent == "undo":
            last = self.cleanup.last_undoable()
            return self._undo(last) if last is not None else None
        if intent == "reply" and self.drafter is not None and "who" in slots and "wish" in slots:
            return self._draft(who_is(slots["who"]), slots["wish"])
        if intent == "cleanup":
            return self._propose_cleanup()
        return None

    def drop(self) -> None:
        """The turn went elsewhere: a proposal waiting for yes lapses (declined)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            self._decline(pending)

    def _draft(self, who: str, wish: str) -> str:
        found = self.store.search([], limit=1, sender=who)
        if not found or self.drafter is None:
            return str(self.lines["no_reply_target"]).format(who=_flat(who))
        draft = reply_to(found[0], self.drafter(found[0], wish))
        self.pending = self.outbox.propose(draft)
        return str(self.lines["draft_shown"]).format(
            to=draft.recipients_line(), subject=_flat(draft.subject), body=draft.body)

    def _propose_cleanup(self) -> str:
        items = self.cleanup.candidates()
        if not items:
            return str(self.lines["cleanup_nothing"])
        self.pending = self.cleanup.propose(items)
        kinds = ", ".join(f"{n:,} {'spam' if k == 'spam' else k + 's'}"
                          for k, n in sorted(self.pending.detail["by_category"].items()))
        examples = "; ".join(_named(item) for item in items[:EXAMPLES])
        return str(self.lines["cleanup_proposed"]).format(count=f"{len(items):,}",
                                                          kinds=kinds, examples=examples)

    def _carry_out(self, action: Action) -> str:
        if action.kind == "send":
            done = self.outbox.confirm(action.id)
            if done.status == "done":
                sent = str(self.lines["sent"]).format(to=", ".join(done.detail["to"]))
                return f"{sent} {done.error}".strip()
            return str(self.lines["send_failed"]).format(error=done.error)
        done = self.cleanup.confirm(action.id)
        count = sum(len(w["pairs"]) for w in done.detail.get("moved", {}).values())
        if done.status == "failed":
            return str(self.lines["clean_failed"]).format(error=done.error)
        key = "clean_partly" if done.error else "cleaned"
        return str(self.lines[key]).format(count=f"{count:,}", error=done.error)

    def _undo(self, action: Action) -> str:
        count = sum(len(w["pairs"]) for w in action.detail["moved"].values())
        try:
            self.cleanup.undo(action.id)
        except (MailError, InputError) as exc:
            return str(self.lines["undo_failed"]).format(error=str(exc))
        return str(self.lines["undone"]).format(count=f"{count:,}")

    def _decline(self, action: Action) -> None:
        if self.outbox.actions.get(action.id).status == "proposed":
            self.outbox.actions.settle(action.id, "declined")


def _named(item: StoredMail) -> str:
    who = item.mail.from_name or item.mail.from_addr or "someone"
    return f"{_flat(who)}, \"{_flat(item.mail.subject)}\""


def _flat(text: str, limit: int = 80) -> str:
    return one_line(text, limit)
