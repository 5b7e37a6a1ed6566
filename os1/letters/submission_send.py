"""A submission package sent through his own mail, only as he confirmed it: proposed in
the action log with the address, the subject, the query letter and every file's name,
size and SHA-256 (the files themselves kept among his things), and sent from that
proposal on his yes: the mail's body and attachments are read back from what was logged
and kept, so what goes is exactly what he was shown. The mail goes out through the mail
skill's SMTP path, with a copy in his Sent folder (``Outbox.deliver``).

Why the files are checked against their digests: the package is shown in one turn and
sent in the next (or, on the command line, after he has read it); a file changed or
gone in between sends nothing, and the log says why.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from os1.errors import InputError, MailError
from os1.letters.submission import Package, PackageFile
from os1.mail.imap import ImapServer
from os1.mail.mailboxes import MailAccount, MailStore
from os1.mail.outbox import Outbox
from os1.mail.quote import one_line
from os1.mail.secretary import mail_password
from os1.mail.smtp import SmtpSender
from os1.skills.proposals import Proposals
from os1.storage.actions import Action, ActionLog
from os1.storage.artefacts import ArtefactNotFound, ArtefactStore
from os1.storage.db import Database
from os1.storage.secrets import Secrets

KIND = "letters-submission"


def mail_outbox(db: Database, user_id: str, home: Path, ca_file: str | None = None) -> Outbox:
    """His mail's outbox, with the real SMTP and IMAP edges (passwords from the keyring,
    fetched only when something is sent)."""
    secrets = Secrets(home)

    def password(account: MailAccount) -> str:
        return mail_password(secrets, user_id, account.name)

    return Outbox(MailStore(db, user_id), ActionLog(db, user_id),
                  lambda a: SmtpSender(a, password(a), ca_file),
                  lambda a: ImapServer(a, password(a), ca_file))


def sending_account(store: MailStore, name: str | None = None) -> MailAccount:
    """The account named, else his first one; InputError when he has none."""
    if name is not None:
        return store.account(name)
    accounts = store.accounts()
    if not accounts:
        raise InputError("You have no mail account to send it from.",
                         "Add yours first: os1 mail add NAME --address ... --imap-host ...")
    return accounts[0]


def size_text(size: int) -> str:
    return f"{size:,} bytes" if size < 1000 else \
        f"{size / 1000:,.1f} KB" if size < 1_000_000 else f"{size / 1e6:,.1f} MB"


class SubmissionSender:
    def __init__(self, outbox: Outbox, things: ArtefactStore) -> None:
        """``outbox``: his mail's (store, action log, SMTP and Sent folder); ``things``:
        his own, where the package's files wait for his answer."""
        self.outbox = outbox
        self.things = things

    def propose(self, package: Package, account: MailAccount,
                proposals: Proposals | None = None) -> Action:
        """Logs the package as proposed (through ``proposals`` in a conversation, so it
        holds for the very next turn only). Nothing is sent."""
        detail = self._detail(package, account)
        files = ", ".join(f["name"] for f in detail["files"])
        summary = f"Send the submission \"{one_line(package.plan.title, 80)}\" to " \
                  f"{package.plan.to} (query letter; {files})"
        if proposals is not None:
            return proposals.propose(KIND, summary, detail)
        return self.outbox.actions.propose(KIND, summary, detail)

    def confirm(self, action_id: int) -> Action:
        """Sends exactly what was proposed, once; the log says done (with the Message-ID
        and where the copy was kept) or failed (with why)."""
        actions = self.outbox.actions
        action = actions.get(action_id)
        if action.kind != KIND:
            raise InputError(f"Action {action_id} is not a submission to send.")
        if action.status != "proposed":
            raise InputError(f"That submission is {action.status} already; nothing was sent.")
        detail = action.detail
        try:
            account = self.outbox.store.account(detail["account"])
            files = [self._kept(f) for f in detail["files"]]
        except InputError as exc:
            return actions.settle(action_id, "failed", error=f"{exc} Nothing was sent.")
        message = submission_message(detail, account, files)
        try:
            filed, problem = self.outbox.deliver(account, message, detail["to"])
        except MailError as exc:
            return actions.settle(action_id, "failed", error=str(exc))
        return actions.settle(action_id, "done", error=problem, detail={
            **detail, "message_id": str(message["Message-ID"]), "filed_in": filed,
            "sent_at": time.time()})

    def decline(self, action_id: int, error: str = "declined") -> Action:
        done = self.outbox.actions.settle(action_id, "declined", error=error)
        self.discard(done)
        return done

    def discard(self, action: Action) -> None:
        """The files of a proposal he did not confirm are removed from his things."""
        if action.kind != KIND or self.outbox.actions.get(action.id).status != "declined":
            return
        for file in action.detail.get("files", []):
            try:
                self.things.remove(int(file["thing"]))
            except ArtefactNotFound:
                continue

    def _detail(self, package: Package, account: MailAccount) -> dict[str, Any]:
        plan = package.plan
        kept = []
        for file in package.files:
            stem = re.sub(r"[^A-Za-z0-9._-]+", "-", file.name).strip("-.") or "file"
            thing = self.things.add("letters", "submission",
                                    one_line(f"For {plan.to}: {file.name}", 200),
                                    file.content, stem)
            kept.append({"name": file.name, "mime": file.mime, "size": len(file.content),
                         "sha256": hashlib.sha256(file.content).hexdigest(),
                         "thing": thing.id})
        return {"account": account.name, "from": account.address, "to": [plan.to],
                "subject": package.subject, "body": package.query,
                "title": plan.title, "editor": plan.editor, "publisher": plan.publisher,
                "letters": list(package.letters), "words": package.words,
                "sample": plan.sample, "anonymise": plan.anonymise, "files": kept}

    def _kept(self, file: dict[str, Any]) -> PackageFile:
        gone = InputError(f"The file “{file['name']}” you were shown is gone or changed.",
                          "Prepare the submission again.")
        try:
            path = self.things.get(int(file["thing"])).path
            content = path.read_bytes() if path is not None else b""
        except (ArtefactNotFound, OSError) as exc:
            raise gone from exc
        if hashlib.sha256(content).hexdigest() != file["sha256"]:
            raise gone
        return PackageFile(str(file["name"]), str(file["mime"]), content)


def submission_message(detail: dict[str, Any], account: MailAccount,
                       files: list[PackageFile]) -> EmailMessage:
    """The mail: the query letter as its body, the synopsis and manuscript attached."""
    message = EmailMessage()
    message["From"] = account.address
    message["To"] = ", ".join(detail["to"])
    message["Subject"] = detail["subject"]
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain=account.address.split("@")[-1])
    message.set_content(detail["body"])
    for file in files:
        maintype, _, subtype = file.mime.partition("/")
        if maintype == "text":
            message.add_attachment(file.content.decode("utf-8"), subtype=subtype,
                                   filename=file.name)
        else:
            message.add_attachment(file.content, maintype=maintype, subtype=subtype,
                                   filename=file.name)
    return message
