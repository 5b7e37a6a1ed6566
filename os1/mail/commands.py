"""``os1 mail``: the user's mailboxes, synced over IMAP into her store. The group the
mail skill adds to the ``os1`` command (``MailSkill.commands``); its errands (reply,
clean, undo) are in errand_commands.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.table import Table
from rich.text import Text

from os1.config import Settings
from os1.errors import MailError
from os1.mail.desk import MailDesk
from os1.mail.errand_commands import ERRANDS
from os1.mail.imap import ImapServer
from os1.mail.mailboxes import SECURITIES, MailAccount, MailStore, StoredMail
from os1.mail.secretary import account_key
from os1.mail.sync import sync_folder
from os1.mail.triage import CATEGORIES, MIN_CORRECTIONS, Triage
from os1.storage.db import Database
from os1.storage.secrets import Secrets
from os1.ui.commands import (
    account_option,
    date_text,
    err,
    out,
    read_password,
    task_progress,
)
from os1.visible_text import visible

PORTS = {("imap", "tls"): 993, ("imap", "starttls"): 143, ("imap", "none"): 143,
         ("smtp", "tls"): 465, ("smtp", "starttls"): 587, ("smtp", "none"): 25}


@contextmanager
def mail_store(settings: Settings) -> Iterator[MailStore]:
    db = Database.open(settings.storage)
    try:
        yield MailStore(db, settings.user)
    finally:
        db.close()


def secret_key(settings: Settings, account: str) -> str:
    return account_key(settings.user, account)


@click.group(name="mail")
@account_option
def mail_group() -> None:
    """Your mail: add accounts, sync, what's new, list, read and sort."""


@mail_group.command(name="add")
@click.argument("name")
@click.option("--address", required=True, help="Your mail address.")
@click.option("--imap-host", required=True)
@click.option("--imap-port", type=int, default=None, help="Default: 993 (tls) or 143.")
@click.option("--imap-security", type=click.Choice(SECURITIES), default="tls",
              show_default=True)
@click.option("--smtp-host", default=None, help="Default: the IMAP host.")
@click.option("--smtp-port", type=int, default=None, help="Default: 465 (tls) or 587.")
@click.option("--smtp-security", type=click.Choice(SECURITIES), default="tls",
              show_default=True)
@click.option("--login", default=None, help="Default: the address.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def add(settings: Settings, name: str, address: str, imap_host: str, imap_port: int | None,
        imap_security: str, smtp_host: str | None, smtp_port: int | None,
        smtp_security: str, login: str | None, password_stdin: bool) -> None:
    """Add a mail account NAME (its password goes to the keyring or a private file,
    never the database)."""
    account = MailAccount(
        name=name, address=address.strip(), login=login or address.strip(),
        imap_host=imap_host, imap_port=imap_port or PORTS[("imap", imap_security)],
        imap_security=imap_security,  # type: ignore[arg-type]
        smtp_host=smtp_host or imap_host,
        smtp_port=smtp_port or PORTS[("smtp", smtp_security)],
        smtp_security=smtp_security)  # type: ignore[arg-type]
    password = read_password(password_stdin)
    with mail_store(settings) as store:
        saved = store.add_account(account)
    secrets = Secrets(settings.home)
    secrets.set(secret_key(settings, name), password)
    err.print(f"Added {saved.name} ({saved.address}); the password is in {secrets.where}. "
              f"Fetch its mail with: os1 mail sync {saved.name}")


@mail_group.command(name="password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True)
@click.pass_obj
def password(settings: Settings, name: str, password_stdin: bool) -> None:
    """Change the password kept for account NAME."""
    with mail_store(settings) as store:
        store.account(name)
    Secrets(settings.home).set(secret_key(settings, name), read_password(password_stdin))
    err.print(f"The password for {name} is changed.")


@mail_group.command(name="accounts")
@click.pass_obj
def accounts(settings: Settings) -> None:
    """Your mail accounts."""
    with mail_store(settings) as store:
        found = store.accounts()
        counts = {a.name: store.count(account=a) for a in found}
    if not found:
        err.print("No mail accounts yet. Add one with: os1 mail add NAME --address ... "
                  "--imap-host ...")
        return
    table = Table(title="Mail accounts", title_justify="left")
    for column in ("name", "address", "imap", "smtp", "stored"):
        table.add_column(column)
    for a in found:
        table.add_row(a.name, a.address, f"{a.imap_host}:{a.imap_port} ({a.imap_security})",
                      f"{a.smtp_host}:{a.smtp_port} ({a.smtp_security})",
                      f"{counts[a.name]:,}")
    out.print(table)


@mail_group.command(name="remove")
@click.argument("name")
@click.pass_obj
def remove(settings: Settings, name: str) -> None:
    """Remove account NAME, its stored copies and its password (the server keeps the mail)."""
    with mail_store(settings) as store:
        gone = store.remove_account(name)
    Secrets(settings.home).delete(secret_key(settings, name))
    err.print(f"Removed {name} and {gone:,} stored messages; the mail is still on the server.")


@mail_group.command(name="sync")
@click.argument("name", required=False)
@click.option("--folder", default=None,
              help="Only this folder. Default: the inbox and the Sent folder (your own "
                   "mail teaches her how you write).")
@click.option("--ca-file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Trust this CA for the server's certificate (your own mail server).")
@click.pass_obj
def sync(settings: Settings, name: str | None, folder: str | None,
         ca_file: str | None) -> None:
    """Fetch new mail (every account, or NAME); only what is new is fetched."""
    secrets = Secrets(settings.home)
    with mail_store(settings) as store:
        chosen = [store.account(name)] if name else store.accounts()
        if not chosen:
            err.print("No mail accounts yet. Add one with: os1 mail add NAME ...")
            return
        for account in chosen:
            server = ImapServer(account, secrets.get(secret_key(settings, account.name)),
                                ca_file)
            try:
                sent = server.sent_folder()
                sent = None if sent is None or sent.upper() == "INBOX" else sent
                folders = [folder] if folder else ["INBOX", *filter(None, [sent])]
                for each in folders:
                    _sync_one(store, account, server, each, "sent" if each == sent else "")
            finally:
                server.close()


def _sync_one(store: MailStore, account: MailAccount, server: ImapServer,
              folder: str, role: str) -> None:
    with task_progress() as bar:
        task = bar.add_task(f"{account.name}/{folder}", total=None)

        def advance(done: int, todo: int) -> None:
            bar.update(task, completed=done, total=todo)

        result = sync_folder(store, account, server, folder, advance, role)
    note = " (the server renumbered the folder: synced afresh)" if result.restarted else ""
    err.print(f"{account.name}/{folder}: {result.new:,} new, {result.total:,} "
              f"stored{note}.")


IDLE_S = 25 * 60  # RFC 2177: re-issue IDLE well within the server's 30-minute limit
RETRY_S = 30.0


@mail_group.command(name="watch")
@click.argument("name", required=False)
@click.option("--ca-file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Trust this CA for the server's certificate (your own mail server).")
@click.pass_obj
def watch(settings: Settings, name: str | None, ca_file: str | None) -> None:
    """Keep the inbox of NAME (or your first account) synced as mail arrives (IMAP IDLE),
    and say what is new. Ctrl-C stops."""
    with mail_store(settings) as store:
        accounts = [store.account(name)] if name else store.accounts()[:1]
        if not accounts:
            raise click.ClickException("No mail accounts yet. Add one with: os1 mail add")
        try:
            _watch(settings, store, accounts[0], ca_file)
        except KeyboardInterrupt:
            err.print("Stopped watching.")


def _watch(settings: Settings, store: MailStore, account: MailAccount,
           ca_file: str | None) -> None:
    password = Secrets(settings.home).get(secret_key(settings, account.name))
    first = True
    while True:
        try:
            server = ImapServer(account, password, ca_file)
            try:
                while True:
                    result = sync_folder(store, account, server)
                    if first:
                        err.print(f"{account.name}/INBOX: {result.new:,} new, "
                                  f"{result.total:,} stored. Watching for new mail "
                                  "(Ctrl-C stops).")
                        first = False
                    elif result.new:
                        click.echo(MailDesk(store).said("Do I have any new email?"))
                    server.wait_for_mail("INBOX", IDLE_S)
            finally:
                server.close()
        except MailError as exc:
            if first:
                raise
            err.print(f"{exc} Trying again in {RETRY_S:.0f} s.")
            time.sleep(RETRY_S)


@mail_group.command(name="list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--folder", default="INBOX", show_default=True)
@click.pass_obj
def list_mail(settings: Settings, limit: int, folder: str) -> None:
    """The newest messages."""
    with mail_store(settings) as store:
        found = store.messages(limit, folder)
        if not found:
            err.print(_no_mail_in(store, folder))
            return
    out.print(_mail_table(found, f"{folder}: newest {len(found)}"))


@mail_group.command(name="search")
@click.argument("words", nargs=-1)
@click.option("--from", "sender", default="", help="A sender's name or address, in part.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_obj
def search(settings: Settings, words: tuple[str, ...], sender: str, limit: int) -> None:
    """Mail holding every one of WORDS (subject, sender or text), newest first."""
    if not words and not sender:
        raise click.UsageError("give words to look for, or --from.")
    with mail_store(settings) as store:
        found = store.search(words, limit, sender)
    if not found:
        err.print("No mail holds all of that.")
        return
    out.print(_mail_table(found, f"{len(found)} found"))


def _mail_table(found: list[StoredMail], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "date", "kind", "from", "subject"):
        table.add_column(column, overflow="fold")
    for item in found:
        mail = item.mail
        kind = item.category + ("" if item.sorted_by != "you" else " (you)")
        # Text, not markup: a subject "[/INST]" stopped the listing, and "[link=...]"
        # would have printed a terminal hyperlink a stranger chose
        table.add_row(str(item.id), date_text(mail.date), kind,
                      Text(visible(mail.from_name or mail.from_addr)),
                      Text(visible(mail.subject or "(no subject)")))
    return table


@mail_group.command(name="show")
@click.argument("mail_id", type=int)
@click.pass_obj
def show(settings: Settings, mail_id: int) -> None:
    """One message: header, text and the attachments it lists (never opened)."""
    with mail_store(settings) as store:
        item = store.get(mail_id)
    mail = item.mail
    # stored before parse_mail cleaned it, a mail may still hold escape sequences
    out.print(visible(f"From: {mail.from_name} <{mail.from_addr}>"), markup=False)
    out.print(visible(f"To: {', '.join(mail.to)}"), markup=False)
    out.print(visible(f"Date: {date_text(mail.date)}\nSubject: {mail.subject}\n"), markup=False)
    click.echo(visible(mail.text))
    for attachment in mail.attachments:
        size = f"{attachment.size:,} bytes" if attachment.size else "size unknown"
        out.print(visible(f"[attachment: {attachment.filename}, {attachment.content_type}, "
                          f"{size}]"), markup=False)


@mail_group.command(name="new")
@click.pass_obj
def new(settings: Settings) -> None:
    """What is new, what matters first (as she says it when you ask her)."""
    with mail_store(settings) as store:
        said = MailDesk(store).said("Do I have any new email?")
    click.echo(said)


@mail_group.command(name="sort")
@click.argument("mail_id", type=int)
@click.argument("category", type=click.Choice(CATEGORIES))
@click.pass_obj
def sort(settings: Settings, mail_id: int, category: str) -> None:
    """Say what MAIL_ID is; she keeps it and learns from it for the rest of your mail."""
    with mail_store(settings) as store:
        item = store.correct(mail_id, category)
        triage = Triage(store.accounts()[0].address if store.accounts() else "",
                        store.corrections(), store.known())
        changed = store.resort(triage) if triage.learned else 0
    how = (f"I re-sorted the rest from what you've taught me: {changed} changed."
           if triage.learned else
           f"After {MIN_CORRECTIONS} corrections (of two kinds or more) I'll sort by them.")
    err.print(f"{item.id} is {category} now. {how}")


def _no_mail_in(store: MailStore, folder: str) -> str:
    if not store.accounts():
        return "No mail yet: add your account with os1 mail add, then os1 mail sync."
    return f"Nothing in {folder} yet: os1 mail sync fetches what is new."


for _errand in ERRANDS:  # reply, clean, undo: in a module of their own
    mail_group.add_command(_errand)
