"""``os1 letters submit`` / ``submissions`` and "send my letters to ..." in ``os1 chat``,
through the real commands and a real SMTP server (aiosmtpd, in this process): shown
whole, nothing received before his yes, the mail with both files after it, every step in
``os1 actions``. With Dovecot for the Sent copy and the publisher's reply:
tests/integration/test_letters_submission_real.py."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path

import pytest

from os1.storage.setups import SetupRecord
from tests.mail_servers import SmtpServer, free_port
from tests.unit.test_cli import flat, query, run
from tests.unit.test_letters_submission import BIO, BIRTHDAY, PUBLISHER, SNOW

SUBMIT = ("letters", "submit", "--to", PUBLISHER, "--publisher", "Penguin", "--editor",
          "Jane Doe", "--title", "The first snow", "--contact", "12 Elm Street")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(user="theo@example.org", password="smtp pw").start()
    yield server
    server.stop()


@pytest.fixture
def letters(setup_record: SetupRecord, smtp: SmtpServer, tmp_path: Path) -> None:
    added = run("mail", "add", "home", "--address", "theo@example.org", "--imap-host",
                "127.0.0.1", "--imap-port", str(free_port()), "--imap-security", "none",
                "--smtp-port", str(smtp.port), "--smtp-security", "none", "--password-stdin",
                stdin=b"smtp pw\n")
    assert added.returncode == 0, added.stderr
    for n, (who, text) in enumerate((("Amelia", SNOW), ("Chris", BIRTHDAY)), 1):
        path = tmp_path / f"{n}.txt"
        path.write_text(text, encoding="utf-8")
        assert run("letters", "add", str(path), "--for", who).returncode == 0
        assert run("letters", "choose", str(n)).returncode == 0


def test_submit_shows_the_package_and_sends_only_on_yes(letters: None, smtp: SmtpServer,
                                                        os1_home: Path) -> None:
    declined = run(*SUBMIT, "--bio", BIO, stdin=b"n\n")
    assert declined.returncode == 0, declined.stderr
    shown = declined.stdout
    assert shown.startswith(f"From: theo@example.org\nTo: {PUBLISHER}\nSubject: Query: The "
                            "first snow, a collection of letters (about ")
    assert "Attached: The first snow - synopsis.txt (" in shown
    assert "The first snow - manuscript.pdf (" in shown
    assert "Dear Jane Doe,\n\nI am writing to offer Penguin The first snow" in shown
    assert f"\n\n{BIO}\n\n" in shown and "Theo\n12 Elm Street\ntheo@example.org" in shown
    assert "--- The first snow - synopsis.txt ---\n\nSYNOPSIS: The first snow, by Theo" \
        in shown and "2. “Dear Chris”, for Chris." in shown
    assert "Not sent." in declined.stderr and smtp.received == []
    sent = run(*SUBMIT, stdin=b"y\n")  # his bio was kept from the first time
    assert sent.returncode == 0, sent.stderr
    assert f"Sent to {PUBLISHER} with The first snow - synopsis.txt, The first snow - " \
           "manuscript.pdf attached." in flat(sent.stderr)
    assert "no copy could be kept in Sent" in flat(sent.stderr), "no IMAP server here"
    [received] = smtp.received
    assert received.recipients == [PUBLISHER]
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message["Subject"].startswith("Query: The first snow")
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["The first snow - synopsis.txt", "The first snow - manuscript.pdf"]
    assert query(os1_home, "SELECT status FROM actions WHERE kind = 'letters-submission'"
                 " ORDER BY id") == [("declined",), ("done",)]
    listed = run("letters", "submissions")
    assert PUBLISHER in listed.stdout and "not yet" in listed.stdout


def test_in_chat_she_sends_it_only_after_yes(letters: None, smtp: SmtpServer) -> None:
    said = run("chat", "--model", "fake",
               stdin=f"send my letters to Penguin at {PUBLISHER}\nmy bio: {BIO}\nno\n"
                     f"send my letters to Penguin at {PUBLISHER}\nyes\n".encode())
    assert said.returncode == 0, said.stderr
    out = said.stdout
    assert "I need a few lines about you" in out and "I've kept that as your bio" in out
    assert out.count("Shall I send it? Yes or no.") == 2
    assert "All right, I haven't sent anything." in out
    assert f"Sent — your letters are on their way to {PUBLISHER}" in out
    assert len(smtp.received) == 1


def test_bad_requests_get_clear_messages_and_send_nothing(letters: None, smtp: SmtpServer,
                                                          os1_home: Path) -> None:
    no_bio = run(*SUBMIT, "--yes")
    assert no_bio.returncode == 1 and "needs a short bio in your own words" in \
        flat(no_bio.stderr)
    bad_to = run("letters", "submit", "--to", "penguin", "--bio", BIO, "--yes")
    assert bad_to.returncode == 1 and "'penguin' is not one mail address" in \
        flat(bad_to.stderr)
    long_bio = run(*SUBMIT, "--bio", "word " * 200, "--yes")
    assert long_bio.returncode == 1 and "at most 150 words" in flat(long_bio.stderr)
    assert smtp.received == [] and query(os1_home, "SELECT COUNT(*) FROM actions") == [(0,)]
