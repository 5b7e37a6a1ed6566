"""``os1 letters submit`` and ``os1 letters submissions``: his chosen letters sent to a
publisher through his own mail, shown whole first and sent only on his yes (or --yes),
each in the action log (``os1 actions``); and whether each publisher has answered.
Added to ``os1 letters`` by commands.py."""

from __future__ import annotations

from typing import TextIO

import click
from rich.table import Table
from rich.text import Text

from os1.config import Settings
from os1.errors import InputError
from os1.letters.bio import HisBio
from os1.letters.library import LetterLibrary
from os1.letters.submission import (
    Package,
    SubmissionPlan,
    book_title,
    build_package,
    contact_block,
)
from os1.letters.submission_replies import sent_submissions
from os1.letters.submission_send import (
    SubmissionSender,
    mail_outbox,
    sending_account,
    size_text,
)
from os1.mail.errand_commands import CA_FILE, YES
from os1.mail.mailboxes import MailStore
from os1.mail.quote import one_line
from os1.storage.actions import Action, ActionLog
from os1.storage.artefacts import ArtefactStore
from os1.storage.db import Database
from os1.storage.setups import user_name
from os1.ui.commands import date_text, err, out

NO_NAME = "the user"  # user_name's answer before setup


@click.command(name="submit")
@click.option("--to", "to", required=True, metavar="ADDRESS",
              help="The publisher's (or agent's) submissions address.")
@click.option("--editor", default="", metavar="NAME", help="The editor to address it to.")
@click.option("--publisher", default="", metavar="NAME", help="The publisher's name.")
@click.option("--bio", default=None, metavar="TEXT",
              help="A few sentences about you, in your words (kept for next time).")
@click.option("--bio-file", type=click.File("r", encoding="utf-8"), default=None,
              help="Your bio from a file ('-' for standard input).")
@click.option("--sample", type=click.IntRange(min=1), default=None, metavar="N",
              help="Send the first N letters as sample pages, not the whole manuscript.")
@click.option("--title", default=None, help="The book's title (default: your last book's).")
@click.option("--author", default=None, help="Your name as on the book (default: yours).")
@click.option("--contact", multiple=True, metavar="LINE",
              help="A contact line for the letter and first page (postal address, phone); "
                   "again for more.")
@click.option("--anonymise", is_flag=True,
              help="Replace the names of the people the letters were for.")
@click.option("--from", "mail_account", default=None, metavar="MAIL_ACCOUNT",
              help="Send from this mail account (default: your first).")
@CA_FILE
@YES
@click.pass_obj
def submit(settings: Settings, to: str, editor: str, publisher: str, bio: str | None,
           bio_file: TextIO | None, sample: int | None, title: str | None,
           author: str | None, contact: tuple[str, ...], anonymise: bool,
           mail_account: str | None, ca_file: str | None, yes: bool) -> None:
    """Send your chosen letters to a publisher: a query letter, a one-page synopsis and the
    manuscript, shown whole first, sent from your mail on yes."""
    if bio is not None and bio_file is not None:
        raise click.UsageError("give either --bio or --bio-file, not both.")
    db = Database.open(settings.storage)
    try:
        outbox = mail_outbox(db, settings.user, settings.home, ca_file)
        things = ArtefactStore(db, settings.user, settings.home)
        account = sending_account(outbox.store, mail_account)
        name = author or user_name(db, settings.user)
        if name == NO_NAME:
            raise InputError("Whose name goes on it?", "Give it with --author NAME.")
        plan = SubmissionPlan(
            to=to, title=title or book_title(things), author=name,
            bio=_bio(HisBio(things), bio if bio_file is None else bio_file.read()),
            contact=contact_block(name, account.address, contact), editor=editor.strip(),
            publisher=publisher.strip(), sample=sample or 0, anonymise=anonymise)
        package = build_package(plan, LetterLibrary(db, settings.user).chosen())
        sender = SubmissionSender(outbox, things)
        action = sender.propose(package, account)
        _show(package, account.address)
        if not (yes or _agreed(sender, action)):
            sender.decline(action.id)
            err.print("Not sent.", markup=False)
            return
        done = sender.confirm(action.id)
    finally:
        db.close()
    _report(done)


@click.command(name="submissions")
@click.pass_obj
def submissions(settings: Settings) -> None:
    """The submissions you sent, and whether each publisher has answered (in your mail as
    last synced: os1 mail sync)."""
    db = Database.open(settings.storage)
    try:
        sent = sent_submissions(ActionLog(db, settings.user), MailStore(db, settings.user))
    finally:
        db.close()
    if not sent:
        err.print("You haven't sent your letters to a publisher yet (os1 letters submit).",
                  markup=False)
        return
    table = Table("#", "sent", "to", "title", "answer", box=None)
    for s in sent:
        answer = "not yet"
        if s.reply is not None:
            mail = s.reply.mail
            answer = (f"{date_text(mail.date)}: {one_line(mail.from_name or mail.from_addr, 60)}"
                      f", “{one_line(mail.subject, 80)}” (mail {s.reply.id})")
        # a reply's sender and subject are a stranger's words: Text, never markup
        table.add_row(str(s.action_id), date_text(s.sent_at), s.to, Text(s.title),
                      Text(answer))
    out.print(table)
    err.print("Answers are looked for in your mail as last synced (os1 mail sync); read one "
              "with: os1 mail show N", markup=False)


def _agreed(sender: SubmissionSender, action: Action) -> bool:
    try:
        return click.confirm("\nSend exactly this?", default=False, err=True)
    except click.Abort:  # Ctrl-C or the end of input: no answer is no
        sender.decline(action.id, "not confirmed")
        raise


def _bio(bios: HisBio, given: str | None) -> str:
    if given is not None:
        return bios.keep(given)
    kept = bios.kept()
    if kept is None:
        raise InputError("The query letter needs a short bio in your own words, and you "
                         "haven't given one yet.",
                         "Give it with --bio TEXT or --bio-file FILE; it is kept for next "
                         "time.")
    return kept


def _show(package: Package, sender: str) -> None:
    files = "; ".join(f"{f.name} ({size_text(len(f.content))})" for f in package.files)
    click.echo(f"From: {sender}\nTo: {package.plan.to}\nSubject: {package.subject}\n"
               f"Attached: {files}\n")  # not wrapped: the lines as they will go
    click.echo(package.query)
    click.echo(f"\n--- {package.files[0].name} ---\n")
    click.echo(package.synopsis)


def _report(action: Action) -> None:
    if action.status == "failed":
        raise click.ClickException(f"Not sent: {action.error}")
    names = ", ".join(f["name"] for f in action.detail["files"])
    said = f"Sent to {', '.join(action.detail['to'])} with {names} attached."
    if action.detail.get("filed_in"):
        said += f" A copy is in {action.detail['filed_in']}."
    err.print(f"{said} {action.error}".strip(), markup=False)


SUBMISSION_COMMANDS = (submit, submissions)
