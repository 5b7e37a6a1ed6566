"""Sending mail, only ever what the user confirmed. A reply is drafted (its recipients
and subject fixed by code from the mail it answers, its body written by the model in the
user's style or by the user), proposed in the action log with every word and address
that will go, and sent only from that logged proposal, unchanged, when the user says
yes. So nothing a stranger writes into a mail can add a recipient, change the text
after it was shown, or send anything by itself; and what the model writes is checked by
code for words copied from other mail (mail/copied.py) before it is shown at all.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from email.message import EmailMessage

from os1.data import fill, read_text
from os1.errors import InputError, MailError
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.mail.copied import without_copied
from os1.mail.imap import MailFiler
from os1.mail.mailboxes import MailAccount, MailStore, StoredMail
from os1.mail.quote import one_line
from os1.mail.smtp import MailSender
from os1.storage.actions import Action, ActionLog

MAX_BODY_CHARS = 20_000
STYLE_EXAMPLES = 3
STYLE_EXAMPLE_CHARS = 600
ANSWERED_CHARS = 2_000
_RE = re.compile(r"^\s*(re|aw|sv)\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    account: str
    to: tuple[str, ...]
    subject: str
    body: str
    in_reply_to: str = ""
    references: str = ""
    # written by the model (True) or by the user: a drafted mail is not the user's own
    # writing, and its copy in Sent never shows the model how the user writes
    drafted: bool = True

    def recipients_line(self) -> str:
        return ", ".join(self.to)


def reply_to(item: StoredMail, body: str, drafted: bool = True) -> Draft:
    """A reply to ``item``'s sender only (never to addresses named inside the mail).
    ``drafted``: ``body`` was written by the model, not by the user."""
    if not item.mail.from_addr or "@" not in item.mail.from_addr:
        raise InputError("That mail has no sender address to reply to.")
    subject = item.mail.subject.strip()
    subject = subject if _RE.match(subject) else f"Re: {subject}".strip()
    return Draft(item.account, (item.mail.from_addr,), one_line(subject, 200), _checked(body),
                 item.mail.message_id, item.mail.message_id, drafted)


def draft_body(model: Model, item: StoredMail, wish: str, user_name: str,
               examples: Sequence[str], others: Iterable[str] = ()) -> str:
    """The model's body for a reply saying ``wish``, in the style of ``examples`` (the
    user's own sent mail, mail/style.py). The answered mail is shown as quoted data;
    whatever the model writes is then checked against ``examples``, the answered mail
    and ``others`` (the rest of the user's mail), and a sentence copied from them that
    ``wish`` did not ask for is left out (mail/copied.py). A draft that was mostly
    copy is refused. Even then it is only a proposal the user reads before anything is
    sent."""
    shown = "\n---\n".join(e[:STYLE_EXAMPLE_CHARS] for e in examples[:STYLE_EXAMPLES])
    prompt = fill(read_text("prompts/draft_reply.txt"), user_name=user_name,
                  wish=one_line(wish, 500), examples=shown or "(none yet: write plainly)",
                  sender=one_line(item.mail.from_name or item.mail.from_addr, 120),
                  subject=one_line(item.mail.subject, 200),
                  text=item.mail.text[:ANSWERED_CHARS])
    raw = complete(model, [Message("user", prompt)],
                   GenerateOptions(max_tokens=220, temperature=0.3, seed=7))
    checked = without_copied(_checked(_without_fences(raw)), wish, item.mail.text,
                             examples, others)
    if checked.dropped and checked.kept_words * 2 < checked.words:
        raise InputError(
            "The draft repeated words from another mail that you didn't ask to say (\""
            f"{one_line(checked.dropped[0], 80)}\"), so it was not kept. Nothing was sent.",
            "Ask again in other words, or write the reply yourself: "
            "os1 mail reply ID --body-file FILE.")
    return _checked(checked.text)


def to_message(draft: Draft, account: MailAccount) -> EmailMessage:
    message = EmailMessage()
    message["From"] = account.address
    message["To"] = ", ".join(draft.to)
    message["Subject"] = draft.subject
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain=account.address.split("@")[-1])
    if draft.in_reply_to:
        message["In-Reply-To"] = draft.in_reply_to
        message["References"] = draft.references or draft.in_reply_to
    message.set_content(draft.body)
    return message


class Outbox:
    def __init__(self, store: MailStore, actions: ActionLog,
                 sender_for: Callable[[MailAccount], MailSender],
                 filer_for: Callable[[MailAccount], MailFiler] | None = None) -> None:
        """``filer_for``: where a copy of each sent mail is kept (the Sent folder)."""
        self.store = store
        self.actions = actions
        self._sender_for = sender_for
        self._filer_for = filer_for

    def propose(self, draft: Draft) -> Action:
        self.store.account(draft.account)
        return self.actions.propose("send", f"Send \"{draft.subject}\" to "
                                    f"{draft.recipients_line()}", asdict(draft))

    def confirm(self, action_id: int) -> Action:
        """Send exactly what was proposed; the log says done (with the Message-ID) or
        failed (with why). A proposal is sent at most once."""
        action = self.actions.get(action_id)
        if action.kind != "send":
            raise InputError(f"Action {action_id} is not a mail to send.")
        if action.status != "proposed":
            raise InputError(f"That mail is {action.status} already; nothing was sent.")
        draft = Draft(**{**action.detail, "to": tuple(action.detail["to"])})
        account = self.store.account(draft.account)
        message = to_message(draft, account)
        try:
            filed, problem = self.deliver(account, message, draft.to)
        except MailError as exc:
            return self.actions.settle(action_id, "failed", error=str(exc))
        return self.actions.settle(action_id, "done", error=problem, detail={
            **action.detail, "message_id": str(message["Message-ID"]), "filed_in": filed})

    def deliver(self, account: MailAccount, message: EmailMessage,
                recipients: Sequence[str]) -> tuple[str, str]:
        """Sends ``message`` (MailError if it wasn't) and keeps a copy in Sent: (where, '')
        or ('', why no copy). Only for a message built from a proposal the user just
        confirmed: ``confirm`` here, or another skill's own (letters/submission_send.py,
        whose mail carries attachments a Draft can't)."""
        self._sender_for(account).send(message, list(recipients))
        return self._file(account, message)

    def _file(self, account: MailAccount, message: EmailMessage) -> tuple[str, str]:
        """A copy in the Sent folder: (where, '') or ('', why not). The mail is sent
        either way; a copy that can't be kept is said, not fatal."""
        if self._filer_for is None:
            return "", ""
        try:
            filer = self._filer_for(account)
            try:
                folder = filer.sent_folder()
                if folder is None:
                    return "", "Your server has no Sent folder, so no copy was kept."
                filer.append(folder, bytes(message))
            finally:
                filer.close()
        except MailError as exc:
            return "", f"It was sent, but no copy could be kept in Sent: {exc}"
        return folder, ""

    def decline(self, action_id: int) -> Action:
        return self.actions.settle(action_id, "declined")


def _checked(body: str) -> str:
    body = body.strip()
    if not body:
        raise InputError("The reply is empty: say what it should say.")
    if len(body) > MAX_BODY_CHARS:
        raise InputError(f"The reply is {len(body):,} characters; the most is "
                         f"{MAX_BODY_CHARS:,}.")
    return body


def _without_fences(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if not ln.strip().startswith("```")]
    cut = [i for i, ln in enumerate(lines) if re.match(r"^\s*(subject|from|to)\s*:", ln, re.I)]
    return "\n".join(ln for i, ln in enumerate(lines) if i not in cut).strip()
