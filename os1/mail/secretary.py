"""Her secretary's desk, put together for one user: the store, the action log, the real
IMAP and SMTP edges (with the password from the keyring, fetched only when an errand
needs a server), the model for drafting, and her memory for "my sister"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from os1.llm.base import Model
from os1.mail.cleanup import Cleanup
from os1.mail.desk import MailDesk
from os1.mail.errands import MailErrands
from os1.mail.imap import ImapServer
from os1.mail.mailboxes import MailAccount, MailStore, StoredMail
from os1.mail.outbox import Outbox, draft_body
from os1.mail.people import People, Search
from os1.mail.smtp import SmtpSender
from os1.mail.style import other_mail, style_examples
from os1.storage.actions import ActionLog
from os1.storage.db import Database
from os1.storage.secrets import Secrets


def account_key(user: str, account: str) -> str:
    """Where an account's password is kept (keyring entry or file name)."""
    return f"{user}/{account}"


def mail_password(secrets: Secrets, user: str, account: str) -> str:
    """The password kept for ``account`` (``SecretMissing``, a MailError, if none is)."""
    return secrets.get(account_key(user, account),
                       hint=f"Set it with: os1 mail password {account}")


def forget_passwords(db: Database, user: str, home: Path) -> int:
    """Removes the passwords kept for ``user``'s mail accounts; returns how many were."""
    secrets = Secrets(home)
    return sum(secrets.delete(account_key(user, a.name)) for a in MailStore(db, user).accounts())


def mail_desk(db: Database, user: str, home: Path, model: Callable[[], Model] | None = None,
              user_name: str = "the user", memories: Search | None = None) -> MailDesk:
    """``model``: asked for the model when a reply is to be drafted (a server lends each
    turn a worker of its own)."""
    store = MailStore(db, user)
    actions = ActionLog(db, user)
    secrets = Secrets(home)

    def password(account: MailAccount) -> str:
        return mail_password(secrets, user, account.name)

    outbox = Outbox(store, actions, lambda a: SmtpSender(a, password(a)),
                    lambda a: ImapServer(a, password(a)))
    cleanup = Cleanup(store, actions, lambda a: ImapServer(a, password(a)))

    def drafter(item: StoredMail, wish: str) -> str:
        assert model is not None
        examples = style_examples(store, store.account(item.account), actions)
        return draft_body(model(), item, wish, user_name, examples, other_mail(store, item))

    errands = MailErrands(store, outbox, cleanup, drafter if model is not None else None)
    return MailDesk(store, errands, People(memories) if memories is not None else None)
