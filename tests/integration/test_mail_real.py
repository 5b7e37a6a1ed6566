"""``os1 mail`` against a real Dovecot IMAP server started here (tests/mail_servers.py):
adding an account, syncing a 1,000-message mailbox, then only what is new; a wrong
password, a server that isn't there, a certificate that can't be trusted (and one that
can, given its CA), a 50 MB attachment and broken MIME, all through the real command."""

from __future__ import annotations

import email
import email.policy
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import IO

import pytest

from tests.mail_servers import CuttingProxy, Dovecot, SmtpServer, free_port

OS1 = [sys.executable, "-m", "os1"]
PASSWORD = "a long imap password"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot, request: pytest.FixtureRequest) -> str:
    user = f"user{abs(hash(request.node.name)) % 10**8}"
    dovecot.add_user(user, PASSWORD)
    return user


def note(n: int) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"] = f"Sender {n % 7} <s{n % 7}@example.org>", "theo@example.org"
    mail["Subject"], mail["Date"] = f"Note {n}", "Tue, 10 Nov 2026 09:30:00 +0000"
    mail.set_content(f"Body of note {n}.")
    return mail


def os1(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OS1, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=300, check=False)


def add_account(env: dict[str, str], dovecot: Dovecot, user: str, *, password: str = PASSWORD,
                port: int | None = None, security: str = "none") -> None:
    added = os1(env, "mail", "add", "home", "--address", f"{user}@example.org",
                "--login", user, "--imap-host", "127.0.0.1",
                "--imap-port", str(port or dovecot.port), "--imap-security", security,
                "--smtp-port", "2525", "--password-stdin", stdin=password + "\n")
    assert added.returncode == 0, added.stderr


def test_a_mailbox_of_1000_syncs_then_only_new_mail_is_fetched(
        os1_env: dict[str, str], dovecot: Dovecot, mailbox: str) -> None:
    dovecot.append(mailbox, [note(n) for n in range(1000)])
    add_account(os1_env, dovecot, mailbox)
    first = os1(os1_env, "mail", "sync")
    assert first.returncode == 0, first.stderr
    assert "home/INBOX: 1,000 new, 1,000 stored." in first.stderr
    dovecot.append(mailbox, [note(n) for n in range(1000, 1004)])
    again = os1(os1_env, "mail", "sync", "home")
    assert "home/INBOX: 4 new, 1,004 stored." in again.stderr, again.stderr
    listing = os1(os1_env, "mail", "list", "--limit", "2000")
    assert listing.stdout.count("Note ") == 1004
    told = os1(os1_env, "mail", "new").stdout
    assert told.startswith("You have 1,004 new emails. The ones that matter: Sender"), told
    assert "and 1,000 more like them" in told
    assert os1(os1_env, "mail", "new").stdout.startswith("Nothing new")
    found = os1(os1_env, "mail", "search", "note", "1003")
    assert found.returncode == 0 and "Note 1003" in found.stdout and "1 found" in found.stdout
    sorted_ = os1(os1_env, "mail", "sort", "7", "newsletter")
    assert sorted_.returncode == 0 and "7 is newsletter now" in sorted_.stderr
    for stored in Path(os1_env["OS1_HOME"]).glob("os1.db*"):
        assert PASSWORD.encode() not in stored.read_bytes(), "never in the database"


def test_a_wrong_password_and_a_missing_server_get_clear_messages(
        os1_env: dict[str, str], dovecot: Dovecot, mailbox: str) -> None:
    add_account(os1_env, dovecot, mailbox, password="not the password")
    wrong = os1(os1_env, "mail", "sync")
    assert wrong.returncode == 1
    assert f"refused the login for {mailbox}" in wrong.stderr
    assert "not the password" not in wrong.stderr
    fixed = os1(os1_env, "mail", "password", "home", "--password-stdin", stdin=PASSWORD)
    assert fixed.returncode == 0 and os1(os1_env, "mail", "sync").returncode == 0
    os1(os1_env, "mail", "remove", "home")
    add_account(os1_env, dovecot, mailbox, port=free_port())
    gone = os1(os1_env, "mail", "sync")
    assert gone.returncode == 1 and "Can't connect to the mail server" in gone.stderr


def test_tls_refuses_an_untrusted_certificate_and_accepts_it_with_its_ca(
        os1_env: dict[str, str], dovecot: Dovecot, mailbox: str) -> None:
    dovecot.append(mailbox, [note(1)])
    add_account(os1_env, dovecot, mailbox, port=dovecot.tls_port, security="tls")
    untrusted = os1(os1_env, "mail", "sync")
    assert untrusted.returncode == 1
    assert "certificate can't be trusted" in untrusted.stderr, untrusted.stderr
    trusted = os1(os1_env, "mail", "sync", "--ca-file", str(dovecot.cert))
    assert trusted.returncode == 0 and "1 new" in trusted.stderr, trusted.stderr


def test_a_50_mb_attachment_and_broken_mime_are_stored_readably(
        os1_env: dict[str, str], dovecot: Dovecot, mailbox: str) -> None:
    big = note(1)
    big.replace_header("Subject", "The scans")
    big.add_attachment(b"\x00" * 50_000_000, maintype="application", subtype="zip",
                       filename="scans.zip")
    broken = EmailMessage()
    broken["Subject"], broken["From"] = "Half a mail", "x@example.org"
    broken.set_content("Bonjour \u00e9t\u00e9")
    raw = bytes(broken).replace(b"utf-8", b"x-unknown")
    dovecot.append(mailbox, [big])
    dovecot.append_raw(mailbox, raw)
    add_account(os1_env, dovecot, mailbox)
    synced = os1(os1_env, "mail", "sync")
    assert synced.returncode == 0 and "2 new" in synced.stderr, synced.stderr
    listing = os1(os1_env, "mail", "list").stdout
    assert "The scans" in listing and "Half a mail" in listing
    shown = [os1(os1_env, "mail", "show", str(n)).stdout for n in (1, 2)]
    assert "Body of note 1." in shown[0]
    assert "[attachment: scans.zip, application/zip, size unknown]" in shown[0]
    assert "only its start was fetched" in shown[0]
    assert "Bonjour" in shown[1]
    assert (Path(os1_env["OS1_HOME"]) / "os1.db").stat().st_size < 5_000_000


def newsletter(n: int) -> EmailMessage:
    mail = note(n)
    mail.replace_header("Subject", f"Weekly deals {n}")
    mail["List-Unsubscribe"] = "<mailto:unsubscribe@shop.example>"
    return mail


def test_clean_up_moves_to_the_real_trash_and_undo_puts_it_back(
        os1_env: dict[str, str], dovecot: Dovecot, mailbox: str) -> None:
    dovecot.append(mailbox, [note(1), newsletter(2), note(3), newsletter(4), newsletter(5)])
    add_account(os1_env, dovecot, mailbox)
    assert os1(os1_env, "mail", "sync").returncode == 0
    declined = os1(os1_env, "mail", "clean", stdin="n\n")
    assert "Move 3 messages to Trash (3 newsletter)" in declined.stdout, declined.stdout
    assert "Nothing moved." in declined.stderr
    assert len(dovecot.folder_uids(mailbox, "INBOX")) == 5
    cleaned = os1(os1_env, "mail", "clean", stdin="y\n")
    assert cleaned.returncode == 0 and "3 messages are in Trash" in cleaned.stderr, \
        cleaned.stderr
    assert len(dovecot.folder_uids(mailbox, "INBOX")) == 2
    assert len(dovecot.folder_uids(mailbox, "Trash")) == 3, "moved whole, not expunged"
    undone = os1(os1_env, "mail", "undo")
    assert undone.returncode == 0 and "3 messages are back" in undone.stderr, undone.stderr
    assert len(dovecot.folder_uids(mailbox, "INBOX")) == 5
    assert dovecot.folder_uids(mailbox, "Trash") == []
    again = os1(os1_env, "mail", "sync")
    assert "0 new, 5 stored." in again.stderr, "the returned mail is not stored twice"
    assert "Weekly deals 4" in os1(os1_env, "mail", "list").stdout
    log = os1(os1_env, "actions").stdout
    assert "undone" in log and "declined" in log


def test_a_reply_drafted_by_the_real_model_is_received_by_the_smtp_server(
        os1_env: dict[str, str], dovecot: Dovecot, mailbox: str) -> None:
    invite = note(1)
    invite.replace_header("Subject", "Dinner on Friday?")
    invite.set_content("Hi Theo, would you like to come to dinner on Friday at eight?\nCat")
    dovecot.append(mailbox, [invite])
    smtp = SmtpServer(user=f"{mailbox}@example.org", password=PASSWORD).start()
    try:
        added = os1(os1_env, "mail", "add", "home", "--address", f"{mailbox}@example.org",
                    "--login", mailbox, "--imap-host", "127.0.0.1", "--imap-port",
                    str(dovecot.port), "--imap-security", "none", "--smtp-port",
                    str(smtp.port), "--smtp-security", "none", "--password-stdin",
                    stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        smtp.user = mailbox
        assert os1(os1_env, "mail", "sync").returncode == 0
        replied = os1(os1_env, "mail", "reply", "1", "--say",
                      "yes, I'd love to come on Friday, and I'll bring wine", stdin="y\n")
        assert replied.returncode == 0, replied.stderr
        assert replied.stdout.startswith("To: s1@example.org\nSubject: Re: Dinner on Friday?")
        [received] = smtp.received
        assert received.recipients == ["s1@example.org"]
        body = email.message_from_bytes(received.data, policy=email.policy.default)
        text = body.get_content()
        shown = replied.stdout.split("\n\n", 1)[1]
        assert " ".join(text.split()) in " ".join(shown.split()), "sent exactly as shown"
        assert "friday" in text.lower() and "subject:" not in text.lower()
        assert len(dovecot.folder_uids(mailbox, "Sent")) == 1, "a copy is kept in Sent"
        synced = os1(os1_env, "mail", "sync")
        assert "home/Sent: 1 new, 1 stored." in synced.stderr, synced.stderr
    finally:
        smtp.stop()


def test_watch_hears_new_mail_through_idle_and_says_what_came(
        os1_env: dict[str, str], dovecot: Dovecot, mailbox: str) -> None:
    dovecot.append(mailbox, [note(1)])
    add_account(os1_env, dovecot, mailbox)
    watcher = subprocess.Popen([*OS1, "mail", "watch"], env=os1_env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue[str] = queue.Queue()
    for stream in (watcher.stdout, watcher.stderr):
        threading.Thread(target=_pump, args=(stream, lines), daemon=True).start()
    try:
        assert "1 new, 1 stored. Watching for new mail" in _line_with(lines, "Watching")
        arrived = note(2)
        arrived.replace_header("Subject", "Just arrived")
        dovecot.append(mailbox, [arrived])
        said = _line_with(lines, "You have")
        assert said.startswith("You have 2 new emails.") and "Just arrived" in said, said
    finally:
        watcher.terminate()
        watcher.wait(30)
    listing = os1(os1_env, "mail", "list").stdout
    assert "Just arrived" in listing and listing.count("Note 1") == 1


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _line_with(lines: queue.Queue[str], text: str, within_s: float = 60) -> str:
    deadline = time.monotonic() + within_s
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r} within {within_s} s; saw {seen}")


def test_a_connection_cut_mid_sync_resumes_with_nothing_lost_or_doubled(
        os1_env: dict[str, str], dovecot: Dovecot, mailbox: str) -> None:
    dovecot.append(mailbox, [note(n) for n in range(300)])
    proxy = CuttingProxy(dovecot.port, cut_after=60_000)
    try:
        add_account(os1_env, dovecot, mailbox, port=proxy.port)
        cut = os1(os1_env, "mail", "sync")
        assert cut.returncode == 1 and proxy.cuts >= 1
        assert "connection to 127.0.0.1 broke" in cut.stderr, cut.stderr
        assert "it goes on from where it stopped" in cut.stderr
        kept = os1(os1_env, "mail", "list", "--limit", "1000").stdout.count("Note ")
        assert kept < 300 and kept % 100 == 0, "only whole batches were kept"
        proxy.cut_after = None
        resumed = os1(os1_env, "mail", "sync")
        assert resumed.returncode == 0, resumed.stderr
        assert f"{300 - kept:,} new, 300 stored." in resumed.stderr, resumed.stderr
    finally:
        proxy.close()
    listing = os1(os1_env, "mail", "list", "--limit", "1000").stdout
    assert sorted(int(n) for n in re.findall(r"Note (\d+)", listing)) == list(range(300))
