"""His letters sent to a publisher through real mail servers started here (Dovecot for
IMAP, aiosmtpd for SMTP; tests/mail_servers.py): ``os1 letters submit`` and "send my
letters to ..." in a conversation send nothing before his yes, and after it the
publisher's server receives the query letter with the synopsis and the manuscript
attached, a copy lands in his real Sent folder, and the action log says done; a reply
the publisher puts in his inbox is then seen by ``os1 letters submissions`` and by her.
No model: nothing in the package is hers to write."""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from os1.config import Settings
from os1.letters.desk import LetterDesk
from os1.letters.library import LetterLibrary
from os1.letters.skill import SKILL
from os1.llm.base import Model
from os1.skills.contract import Person
from os1.skills.router import IntentRouter
from os1.storage.actions import ActionLog
from os1.storage.db import Database
from tests.mail_servers import Dovecot, SmtpServer

PASSWORD = "a long imap password"
PUBLISHER = "submissions@penguin.example"
BIO = ("I write letters for other people at BeautifulHandwrittenLetters.com in Los Angeles; "
       "this is my first collection.")
LETTERS = (("The first snow", "Amelia", "Dear Amelia,\n\nThe first snow came last night, and "
            "I thought of you on the porch with your coffee going cold.\n\nLove,\nTheo"),
           ("At forty", "Chris", "Dear Chris,\n\nForty years old and still the boy who "
            "climbed the water tower! Happy birthday, old friend.\n\nTheo"))


def os1(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "os1", *args], env=dict(os.environ),
                          input=stdin, capture_output=True, text=True, timeout=300,
                          check=False)


def flat(text: str) -> str:
    return " ".join(text.split())


def no_model() -> Model:
    raise AssertionError("the model was asked for: nothing here is hers to write")


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot, request: pytest.FixtureRequest) -> str:
    user = f"theo{abs(hash(request.node.name)) % 10**8}"
    dovecot.add_user(user, PASSWORD)
    return user


@pytest.fixture
def smtp(mailbox: str) -> Iterator[SmtpServer]:
    server = SmtpServer(user=mailbox, password=PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def his_mail(dovecot: Dovecot, mailbox: str, smtp: SmtpServer, db: Database,
             settings: Settings) -> str:
    """His account on the real servers, and two letters chosen for the book."""
    added = os1("mail", "add", "home", "--address", f"{mailbox}@example.org", "--login",
                mailbox, "--imap-host", "127.0.0.1", "--imap-port", str(dovecot.port),
                "--imap-security", "none", "--smtp-port", str(smtp.port),
                "--smtp-security", "none", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    library = LetterLibrary(db, settings.user)
    for title, who, text in LETTERS:
        library.choose(library.add(text, title, who).id, True)
    return mailbox


def publisher_replies(dovecot: Dovecot, mailbox: str) -> None:
    reply = EmailMessage()
    reply["From"], reply["To"] = f"Jane Doe <{PUBLISHER}>", f"{mailbox}@example.org"
    reply["Subject"] = "Re: We would love to print your letters"
    reply["Date"] = email.utils.formatdate(time.time() + 120, localtime=True)
    reply.set_content("Dear Theo, we'd like to publish them as a book.\n\nJane")
    dovecot.append(mailbox, [reply])
    synced = os1("mail", "sync")
    assert synced.returncode == 0, synced.stderr


def received_attachments(smtp: SmtpServer) -> list[str]:
    [received] = smtp.received
    assert received.recipients == [PUBLISHER]
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert "I am writing to offer" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return [str(part.get_filename()) for part in message.iter_attachments()]


def test_submit_sends_only_after_yes_files_in_sent_and_sees_the_reply(
        his_mail: str, dovecot: Dovecot, smtp: SmtpServer, db: Database,
        settings: Settings) -> None:
    command = ("letters", "submit", "--to", PUBLISHER, "--publisher", "Penguin",
               "--author", "Theodore Twombly", "--title", "The first snow", "--bio", BIO)
    declined = os1(*command, stdin="n\n")
    assert declined.returncode == 0 and "Not sent." in declined.stderr, declined.stderr
    assert "Dear editors at Penguin," in declined.stdout and BIO in declined.stdout
    assert smtp.received == [] and dovecot.folder_uids(his_mail, "Sent") == []
    sent = os1(*command, stdin="y\n")
    assert sent.returncode == 0, sent.stderr
    assert "A copy is in Sent." in flat(sent.stderr), sent.stderr
    assert received_attachments(smtp) == ["The first snow - synopsis.txt",
                                          "The first snow - manuscript.pdf"]
    assert len(dovecot.folder_uids(his_mail, "Sent")) == 1
    [done, declined_action] = ActionLog(db, settings.user).recent(kind="letters-submission")
    assert (done.status, declined_action.status) == ("done", "declined")
    assert done.detail["filed_in"] == "Sent" and done.error == ""
    assert os1("letters", "submissions").stdout.count("not yet") == 1
    publisher_replies(dovecot, his_mail)
    listed = flat(os1("letters", "submissions").stdout)
    assert "not yet" not in listed and "Jane Doe" in listed, listed
    assert "We would love to print" in listed
    said = Talk(db, settings).say("did the publisher answer?")
    assert said is not None and said.startswith(f"Yes — {PUBLISHER} answered on ")
    assert "Jane Doe, “Re: We would love to print your letters”" in said
    assert "publish them as a book" not in said, "its words are not read out unasked"


class Talk:
    """Her letters desk behind the router, with his real mail (the password from where
    ``os1 mail add`` kept it)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        person = Person(settings, db, no_model, None, "Theodore Twombly")
        self.router = IntentRouter([(SKILL, LetterDesk(person))])

    def say(self, text: str) -> str | None:
        answer = self.router.answer(text)
        return answer.said if answer is not None else None


def test_in_conversation_she_sends_only_after_yes_and_hears_the_answer(
        his_mail: str, dovecot: Dovecot, smtp: SmtpServer, db: Database,
        settings: Settings) -> None:
    talk = Talk(db, settings)
    ask = f"send my letters to Penguin at {PUBLISHER}"
    assert "my bio:" in (talk.say(ask) or "")
    shown = talk.say(f"my bio: {BIO}")
    assert shown is not None and shown.endswith("Shall I send it? Yes or no.")
    assert talk.say("no") == "All right, I haven't sent anything."
    assert talk.say("yes") is None and smtp.received == []
    assert "Shall I send it?" in (talk.say(ask) or ""), "his bio was kept"
    assert smtp.received == [] and dovecot.folder_uids(his_mail, "Sent") == []
    sent = talk.say("yes")
    assert sent is not None and "A copy is in your Sent folder." in sent, sent
    assert received_attachments(smtp) == ["Letters - synopsis.txt",
                                          "Letters - manuscript.pdf"]
    assert len(dovecot.folder_uids(his_mail, "Sent")) == 1
    statuses = [a.status for a in ActionLog(db, settings.user).recent(kind="letters-submission")]
    assert statuses == ["done", "declined"]
    waiting = talk.say("did the publisher answer?")
    assert waiting is not None and waiting.startswith(f"No answer yet from {PUBLISHER}")
    publisher_replies(dovecot, his_mail)
    heard = talk.say("have I heard back from the publisher?")
    assert heard is not None and "“Re: We would love to print your letters”" in heard
