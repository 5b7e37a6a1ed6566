""""Send it to a publisher" in a conversation: she prepares the package from his chosen
letters, his own bio and his mail account, shows it whole (the query letter, the
synopsis, each attachment's name and size) and sends it only on a plain yes in the very
next turn (skills/proposals.py); anything else drops it. "Did the publisher answer?" is
answered from his synced mail.

Why she asks for his bio rather than write one: it is his to say (bio.py). A request
made without one waits for the very next turn only: "my bio: ..." then keeps it and
prepares the package; anything else lets the request go, as a proposal would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from os1.data import fill, read_toml
from os1.errors import OS1Error
from os1.letters.bio import HisBio
from os1.letters.library import LetterLibrary
from os1.letters.submission import (
    Package,
    SubmissionPlan,
    book_title,
    build_package,
    contact_block,
)
from os1.letters.submission_replies import SentSubmission, sent_submissions
from os1.letters.submission_send import (
    SubmissionSender,
    mail_outbox,
    sending_account,
    size_text,
)
from os1.mail.mailboxes import MailStore
from os1.mail.outbox import Outbox
from os1.mail.quote import one_line
from os1.skills.contract import Person, SkillAnswer
from os1.skills.proposals import Proposals
from os1.storage.actions import Action
from os1.storage.artefacts import ArtefactStore

INTENTS = ("submit", "bio", "heard_back")
TOLD = 3  # submissions named in one answer


class SubmissionDesk:
    def __init__(self, person: Person, outbox: Callable[[], Outbox] | None = None) -> None:
        """``outbox``: his mail's, made when first needed (the real SMTP and IMAP edges
        unless given)."""
        user, home = person.settings.user, person.settings.home
        self.person = person
        self.library = LetterLibrary(person.db, user)
        self.things = ArtefactStore(person.db, user, home)
        self.bio = HisBio(self.things)
        self._outbox = outbox or (lambda: mail_outbox(person.db, user, home))
        self._sender: SubmissionSender | None = None
        self._proposals: Proposals | None = None
        self.lines: dict[str, str] = read_toml("letters_submission.toml")["lines"]
        self._asked: Mapping[str, str] | None = None  # a request waiting for his bio
        self._asking: Mapping[str, str] | None = None  # ... for this turn only

    @property
    def sender(self) -> SubmissionSender:
        if self._sender is None:
            self._sender = SubmissionSender(self._outbox(), self.things)
        return self._sender

    @property
    def proposals(self) -> Proposals:
        if self._proposals is None:
            self._proposals = Proposals(self.sender.outbox.actions)
        return self._proposals

    def reply(self, text: str) -> SkillAnswer | None:
        """A turn begins: the answer to her proposal (sent on yes; dropped otherwise)."""
        self._asking, self._asked = self._asked, None
        if self._proposals is None or self._proposals.pending is None:
            return None
        taken = self._proposals.take(text)
        assert taken is not None
        action, outcome = taken
        if outcome == "yes":
            return self._said(self._send(action))
        self.sender.discard(action)
        return self._said(self.lines["declined"]) if outcome == "no" else None

    def passed(self) -> None:
        """Another skill answered: her proposal lapses, and a request waiting for his bio
        goes."""
        self._asked = self._asking = None
        if self._proposals is not None and self._proposals.pending is not None:
            pending = self._proposals.pending
            self._proposals.lapse()
            self.sender.discard(pending)

    def act(self, intent: str, slots: Mapping[str, str]) -> SkillAnswer | None:
        if intent == "heard_back":
            return SkillAnswer(self._heard_back(), self.lines["kept_answered"])
        if intent == "bio":
            return self._bio_given(slots.get("bio") or "")
        if intent == "submit":
            return self._submit(slots)
        return None

    def _submit(self, slots: Mapping[str, str]) -> SkillAnswer:
        if not self.library.chosen():
            return self._said(self.lines["no_letters"])
        if not MailStore(self.person.db, self.person.settings.user).accounts():
            return self._said(self.lines["no_account"])
        if not (slots.get("address") or "").strip():
            return self._said(self.lines["ask_address"])
        bio = self.bio.kept()
        if bio is None:
            self._asked = dict(slots)
            return self._said(self.lines["ask_bio"])
        return self._propose(slots, bio)

    def _bio_given(self, text: str) -> SkillAnswer:
        try:
            bio = self.bio.keep(text)
        except OS1Error as exc:
            self._asked = self._asking  # he may try again in the next turn
            return self._said(str(exc))
        kept = fill(self.lines["bio_kept"], bio=bio)
        if self._asking is None:
            return self._said(kept)
        proposed = self._propose(self._asking, bio)
        return SkillAnswer(f"{kept}\n\n{proposed.said}", proposed.kept)

    def _propose(self, slots: Mapping[str, str], bio: str) -> SkillAnswer:
        store = self.sender.outbox.store
        try:
            account = sending_account(store)
            plan = SubmissionPlan(
                to=(slots.get("address") or "").strip(), title=book_title(self.things),
                author=self.person.name, bio=bio,
                contact=contact_block(self.person.name, account.address),
                editor=one_line(slots.get("editor") or "", 80),
                publisher=_publisher(slots.get("publisher") or ""))
            package = build_package(plan, self.library.chosen())
        except OS1Error as exc:
            return self._said(str(exc))
        self.sender.propose(package, account, self.proposals)
        shown = fill(self.lines["shown"], sender=account.address, to=plan.to,
                     subject=package.subject, files=_files(package), query=package.query,
                     synopsis=package.synopsis)
        return SkillAnswer(shown, fill(self.lines["kept_shown"], to=plan.to))

    def _send(self, action: Action) -> str:
        done = self.sender.confirm(action.id)
        if done.status != "done":
            return fill(self.lines["send_failed"], error=done.error)
        names = " and ".join(f"“{f['name']}”" for f in done.detail["files"])
        said = fill(self.lines["sent"], to=", ".join(done.detail["to"]), files=names)
        if done.detail.get("filed_in"):
            said += fill(self.lines["sent_copy"], folder=done.detail["filed_in"])
        return f"{said} {done.error}".strip()

    def _heard_back(self) -> str:
        store = MailStore(self.person.db, self.person.settings.user)
        sent = sent_submissions(self.sender.outbox.actions, store)
        if not sent:
            return self.lines["no_submissions"]
        said = [self._told(s) for s in sent[:TOLD]]
        store.mark_told([s.reply.id for s in sent[:TOLD] if s.reply is not None])
        return "\n".join(said)

    def _told(self, sent: SentSubmission) -> str:
        if sent.reply is None:
            return fill(self.lines["no_answer"], to=sent.to, title=one_line(sent.title, 80),
                        day=_day(sent.sent_at))
        mail = sent.reply.mail
        return fill(self.lines["answered"], to=sent.to,
                    day=_day(mail.date if mail.date is not None else sent.sent_at),
                    sender=one_line(mail.from_name or mail.from_addr, 60),
                    subject=one_line(mail.subject, 80) or "(no subject)")

    def _said(self, text: str) -> SkillAnswer:
        return SkillAnswer(text, text)


def _publisher(said: str) -> str:
    """The publisher's name, where he gave one ("the publisher" names none)."""
    name = one_line(said, 80)
    return "" if re.fullmatch(r"(?:(?:a|the|some|my)\s+)?publishers?", name, re.I) else name


def _files(package: Package) -> str:
    return "; ".join(f"{f.name} ({size_text(len(f.content))})" for f in package.files)


def _day(moment: float) -> str:
    when = datetime.fromtimestamp(moment if moment else time.time())
    return f"{when:%A} {when.day} {when:%B}"
