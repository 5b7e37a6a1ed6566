"""``os1 mail reply | clean | undo``: what she does with your mail, each shown in full
and done only after you say yes (or pass --yes), each in the action log (``os1
actions``). Added to ``os1 mail`` by commands.py."""

from __future__ import annotations

from typing import TextIO

import click

from os1.config import Settings
from os1.mail.cleanup import Cleanup
from os1.mail.imap import ImapServer
from os1.mail.mailboxes import MailAccount, MailStore
from os1.mail.outbox import Outbox, draft_body, reply_to
from os1.mail.secretary import account_key
from os1.mail.smtp import SmtpSender
from os1.mail.style import other_mail, style_examples
from os1.storage.actions import Action, ActionLog
from os1.storage.db import Database
from os1.storage.secrets import Secrets
from os1.storage.setups import user_name
from os1.ui.commands import err, opened, out

SHOWN = 10


def _password(settings: Settings, account: MailAccount) -> str:
    return Secrets(settings.home).get(account_key(settings.user, account.name))


def _outbox(settings: Settings, store: MailStore, actions: ActionLog,
            ca_file: str | None) -> Outbox:
    return Outbox(store, actions,
                  lambda a: SmtpSender(a, _password(settings, a), ca_file),
                  lambda a: ImapServer(a, _password(settings, a), ca_file))


def _cleanup(settings: Settings, store: MailStore, actions: ActionLog,
             ca_file: str | None) -> Cleanup:
    return Cleanup(store, actions, lambda a: ImapServer(a, _password(settings, a), ca_file))


CA_FILE = click.option("--ca-file", default=None,
                       type=click.Path(exists=True, dir_okay=False),
                       help="Trust this CA for the server's certificate (your own server).")
YES = click.option("--yes", is_flag=True, help="Don't ask; I have read what it will do.")


@click.command(name="reply")
@click.argument("mail_id", type=int)
@click.option("--say", default=None, help="What to say; she writes it in your style.")
@click.option("--body-file", type=click.File("r", encoding="utf-8"), default=None,
              help="Send this text as it is ('-' for standard input).")
@CA_FILE
@YES
@click.pass_obj
def reply(settings: Settings, mail_id: int, say: str | None, body_file: TextIO | None,
          ca_file: str | None, yes: bool) -> None:
    """Reply to MAIL_ID: shows exactly what will be sent, to whom, and sends on yes."""
    if (say is None) == (body_file is None):
        raise click.UsageError("give either --say (she drafts it) or --body-file.")
    db = Database.open(settings.storage)
    try:
        store, actions = MailStore(db, settings.user), ActionLog(db, settings.user)
        item = store.get(mail_id)
        if body_file is not None:
            body = body_file.read()
        else:
            body = _drafted(settings, db, store, item.id, str(say))
        draft = reply_to(item, body, drafted=body_file is None)
        outbox = _outbox(settings, store, actions, ca_file)
        action = outbox.propose(draft)
        out.print(f"To: {draft.recipients_line()}\nSubject: {draft.subject}\n", markup=False)
        click.echo(draft.body)
        if not (yes or click.confirm("\nSend exactly this?", default=False, err=True)):
            outbox.decline(action.id)
            err.print("Not sent.")
            return
        done = outbox.confirm(action.id)
    finally:
        db.close()
    _report(done, f"Sent to {draft.recipients_line()}.", "Not sent")


def _drafted(settings: Settings, db: Database, store: MailStore, mail_id: int,
             wish: str) -> str:
    item = store.get(mail_id)
    examples = style_examples(store, store.account(item.account),
                              ActionLog(db, settings.user))
    with opened(settings) as (_, llm), err.status("Drafting your reply…"):
        return draft_body(llm, item, wish, user_name(db, settings.user), examples,
                          other_mail(store, item))


@click.command(name="clean")
@CA_FILE
@YES
@click.pass_obj
def clean(settings: Settings, ca_file: str | None, yes: bool) -> None:
    """Move the newsletters and spam out of your inbox, into Trash (undo: os1 mail undo)."""
    db = Database.open(settings.storage)
    try:
        store, actions = MailStore(db, settings.user), ActionLog(db, settings.user)
        cleanup = _cleanup(settings, store, actions, ca_file)
        items = cleanup.candidates()
        if not items:
            err.print("Nothing to clean up: no newsletters or spam in your inbox.")
            return
        action = cleanup.propose(items)
        out.print(action.summary + ", for instance:", markup=False)
        for item in items[:SHOWN]:
            out.print(f"  {item.id}  {item.mail.from_name or item.mail.from_addr}: "
                      f"{item.mail.subject}", markup=False)
        if not (yes or click.confirm("Move them to Trash?", default=False, err=True)):
            actions.settle(action.id, "declined")
            err.print("Nothing moved.")
            return
        done = cleanup.confirm(action.id)
    finally:
        db.close()
    moved = sum(len(w["pairs"]) for w in done.detail.get("moved", {}).values())
    _report(done, f"{moved:,} messages are in Trash. Undo with: os1 mail undo", "Moved nothing")


@click.command(name="undo")
@click.argument("action_id", type=int, required=False)
@CA_FILE
@click.pass_obj
def undo(settings: Settings, action_id: int | None, ca_file: str | None) -> None:
    """Put back what a clean-up (the last, or ACTION_ID) moved to Trash."""
    db = Database.open(settings.storage)
    try:
        store, actions = MailStore(db, settings.user), ActionLog(db, settings.user)
        cleanup = _cleanup(settings, store, actions, ca_file)
        if action_id is None:
            last = cleanup.last_undoable()
            if last is None:
                err.print("There is no clean-up to undo.")
                return
            action_id = last.id
        done = cleanup.undo(action_id)
    finally:
        db.close()
    back = sum(len(w["pairs"]) for w in done.detail["moved"].values())
    err.print(f"{back:,} messages are back in your inbox.")


def _report(action: Action, success: str, failure: str) -> None:
    if action.status == "failed":
        raise click.ClickException(f"{failure}: {action.error}")
    err.print(success if not action.error else f"{success} But: {action.error}",
              markup=False)


ERRANDS = (reply, clean, undo)
