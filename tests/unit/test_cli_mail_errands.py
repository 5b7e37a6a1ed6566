"""Her mail errands through the real commands (``os1 chat``, ``os1 mail reply|clean|
undo``, ``os1 actions``) with a real SMTP server (aiosmtpd, in this process) and the
scripted model; the mailbox is filled through the fake IMAP edge. Against Dovecot and
the real model: tests/integration/test_mail_real.py."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path

import pytest

from os1.config import Settings
from os1.mail.fake import FakeMailServer
from os1.mail.mailboxes import MailStore
from os1.mail.sync import sync_folder
from os1.storage.db import Database
from tests.mail_servers import SmtpServer
from tests.unit.test_cli import flat, replies_file, run
from tests.unit.test_mail import sent

DRAFT = "Hi Catherine,\n\nFriday works for me. I'll bring the wine.\n\nTheo"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(user="theo@example.org", password="smtp pw").start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(setup_record: object, smtp: SmtpServer, db: Database,
            settings: Settings) -> MailStore:
    added = run("mail", "add", "home", "--address", "theo@example.org", "--imap-host",
                "127.0.0.1", "--imap-security", "none", "--smtp-port", str(smtp.port),
                "--smtp-security", "none", "--password-stdin", stdin=b"smtp pw\n")
    assert added.returncode == 0, added.stderr
    store = MailStore(db, settings.user)
    server = FakeMailServer()
    server.deliver(sent("Catherine <cat@example.org>", "Dinner Friday?",
                        Message_ID="<dinner@example.org>"))
    sync_folder(store, store.account("home"), server)
    return store


def test_in_chat_she_drafts_a_reply_and_it_reaches_the_smtp_server_only_after_yes(
        mailbox: MailStore, smtp: SmtpServer, tmp_path: Path) -> None:
    model = replies_file(tmp_path, DRAFT)
    result = run("chat", "--model", model,
                 stdin=b"reply to Catherine: Friday works, I'll bring wine\nyes\n")
    assert result.returncode == 0, result.stderr
    assert "Here's my draft to cat@example.org" in result.stdout
    assert "Sent to cat@example.org." in result.stdout
    [received] = smtp.received
    assert received.recipients == ["cat@example.org"]
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message["In-Reply-To"] == "<dinner@example.org>"
    body = message.get_content()
    assert body.replace("\r\n", "\n").strip() == DRAFT
    log = run("actions")
    assert "Re: Dinner" in log.stdout and "cat@example.org" in log.stdout
    assert "done" in log.stdout


def test_in_chat_a_draft_without_yes_is_never_sent(mailbox: MailStore, smtp: SmtpServer,
                                                   tmp_path: Path) -> None:
    model = replies_file(tmp_path, DRAFT, "Of course.")
    result = run("chat", "--model", model,
                 stdin=b"reply to Catherine: Friday works\nactually, tell me a joke\nyes\n")
    assert result.returncode == 0, result.stderr
    assert "Sent to" not in result.stdout and smtp.received == []
    assert "declined" in run("actions").stdout


def test_mail_reply_shows_the_exact_mail_and_sends_on_yes(
        mailbox: MailStore, smtp: SmtpServer, tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("Yes, Friday.\n\nT.", encoding="utf-8")
    refused = run("mail", "reply", "1", "--body-file", str(body), stdin=b"n\n")
    assert "To: cat@example.org" in refused.stdout and "Yes, Friday." in refused.stdout
    assert "Not sent." in refused.stderr and smtp.received == []
    sent_ = run("mail", "reply", "1", "--body-file", str(body), stdin=b"y\n")
    assert sent_.returncode == 0 and "Sent to cat@example.org." in sent_.stderr, sent_.stderr
    assert len(smtp.received) == 1


def test_mail_reply_with_a_wrong_smtp_password_says_so_and_sends_nothing(
        mailbox: MailStore, smtp: SmtpServer, tmp_path: Path) -> None:
    run("mail", "password", "home", "--password-stdin", stdin=b"wrong\n")
    body = tmp_path / "body.txt"
    body.write_text("Yes.", encoding="utf-8")
    failed = run("mail", "reply", "1", "--body-file", str(body), "--yes")
    assert failed.returncode == 1
    assert "refused the login for theo@example.org" in flat(failed.stderr)
    assert "wrong" not in failed.stderr and smtp.received == []
    assert "failed" in run("actions").stdout


def test_mail_reply_needs_exactly_one_way_to_say_it(mailbox: MailStore) -> None:
    neither = run("mail", "reply", "1", "--yes")
    assert neither.returncode == 2 and "either --say" in neither.stderr


def test_empty_mail_lists_and_action_log_say_so_instead_of_an_empty_table(
        setup_record: object, smtp: SmtpServer) -> None:
    listing = run("mail", "list")
    assert listing.returncode == 0 and listing.stdout == ""
    assert "No mail yet: add your account with os1 mail add" in flat(listing.stderr)
    actions = run("actions")
    assert actions.returncode == 0 and actions.stdout == ""
    assert "She hasn't proposed or done anything" in flat(actions.stderr)
    run("mail", "add", "home", "--address", "theo@example.org", "--imap-host", "127.0.0.1",
        "--imap-security", "none", "--smtp-port", str(smtp.port), "--smtp-security", "none",
        "--password-stdin", stdin=b"smtp pw\n")
    assert "Nothing in INBOX yet: os1 mail sync" in flat(run("mail", "list").stderr)
    found = run("mail", "search", "lease")
    assert found.stdout == "" and "No mail holds all of that." in found.stderr
