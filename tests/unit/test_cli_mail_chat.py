"""Her mail inside ``os1 chat``, through the real command with piped input, the scripted
model and a mailbox filled through the fake IMAP edge (issue 25): "read me the newest one"
reads the newest mail, and every answer she gives (and keeps in her history) is printed,
even while llama.cpp, loading a model in another thread, has pointed stdout at /dev/null.
(The desk in detail: test_mail.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from os1.config import Settings
from os1.mail.fake import FakeMailServer
from os1.mail.mailboxes import MailStore
from os1.mail.sync import sync_folder
from os1.storage.db import Database
from tests.unit.test_cli import flat, messages
from tests.unit.test_mail import ACCOUNT, sent

KEPT = "I went through your mail with you; what I said is in os1 mail."
NEWEST = "Here's the newest one from Anna, about \"Trip\". It says: The train leaves at nine."

# `os1 chat`, with a thread that does what the memory worker's model load does: llama.cpp's
# own suppress_stdout_stderr (verbose=False) holds descriptors 1 and 2 on /dev/null, and
# sys.stdout and sys.stderr swapped, from before her first answer until after her last.
WHILE_A_MODEL_LOADS = """
import sys, threading
from llama_cpp._utils import suppress_stdout_stderr
from os1.cli import main
from os1.ui.terminal import TerminalChat

talk = TerminalChat.run

def run_while_a_model_loads(self, greet, **given):
    loading, loaded = threading.Event(), threading.Event()

    def load():
        with suppress_stdout_stderr(disable=False):
            loading.set()
            loaded.wait()

    loader = threading.Thread(target=load)
    loader.start()
    loading.wait()
    try:
        talk(self, greet, **given)
    finally:
        loaded.set()
        loader.join()

TerminalChat.run = run_while_a_model_loads
sys.argv = ["os1", *sys.argv[1:]]
main()
"""


@pytest.fixture
def mailbox(setup_record: object, db: Database, settings: Settings) -> MailStore:
    store = MailStore(db, settings.user)
    account = store.add_account(ACCOUNT)
    server = FakeMailServer()
    server.deliver(sent("Catherine <cat@example.org>", "Dinner Friday?", "Bring wine.",
                        Date="Mon, 30 Nov 2026 18:00:00 +0100"))
    server.deliver(sent("Anna <anna@example.org>", "Trip", "The train leaves at nine.",
                        Date="Tue, 01 Dec 2026 08:00:00 +0100"))
    sync_folder(store, account, server)
    return store


def chat_while_a_model_loads(stdin: bytes) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-c", WHILE_A_MODEL_LOADS, "chat", "--model",
                             "fake"], input=stdin, capture_output=True, timeout=60,
                            env=dict(os.environ), check=False)
    return subprocess.CompletedProcess(result.args, result.returncode,
                                       result.stdout.decode("utf-8", "replace"),
                                       result.stderr.decode("utf-8", "replace"))


def test_every_answer_in_her_history_is_printed_while_a_model_loads(
        mailbox: MailStore, os1_home: Path) -> None:
    result = chat_while_a_model_loads(
        b"hi\nany new mail?\n\nread me the newest one\nthanks\n")
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    answers = [content for role, content, _ in messages(os1_home) if role == "assistant"]
    assert len(answers) == 4 and len(printed) == len(answers), (printed, answers)
    for shown, kept in zip(printed, answers, strict=True):
        if kept == KEPT:  # a desk's answer: the log keeps no stranger's words
            assert shown.startswith(("You have 2 new emails.", "Here's the newest one"))
        else:
            assert shown == kept
    assert printed[2] == NEWEST
    assert "That message is empty" in flat(result.stderr), "notices are not lost either"
