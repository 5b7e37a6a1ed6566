"""She holds a real conversation on the real bundled model."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from os1.config import Settings
from os1.llm.llama import LlamaModel
from os1.mind.companion import Companion
from os1.mind.setup import FIRST_PERSON, SetupScript
from os1.mind.steering import Steering
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore
from tests.integration.conftest import OS1

pytestmark = pytest.mark.integration

ANSWERS = [
    "--name", "Theo",
    "--answer", "social=Social, but I've kept to myself since my divorce.",
    "--answer", "mother=Complicated. She loves me but never really listens.",
    "--answer", "hope=Someone curious to talk to at the end of the day.",
    "--voice", "female",
]


def run_os1(env: dict[str, str], *args: str, stdin: str | None = None)\
        -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OS1, *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=600, check=False)


def db_rows(env: dict[str, str], query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(Path(env["OS1_HOME"]) / "os1.db") as db:
        return db.execute(query).fetchall()


def test_setup_she_names_herself(os1_env: dict[str, str]) -> None:
    result = run_os1(os1_env, "setup", *ANSWERS)
    assert result.returncode == 0, result.stderr
    ((name, reason, user, answers),) = db_rows(
        os1_env, "SELECT companion_name, name_reason, user_name, answers_json FROM setups")
    assert isinstance(name, str) and isinstance(reason, str)
    assert name.lower() not in SetupScript.load().forbidden_names
    assert name.lower() != "theo"
    assert FIRST_PERSON.search(reason), reason
    assert result.stdout.startswith(f"{name}: ")
    assert json.loads(str(answers))["mother"].startswith("Complicated")
    assert user == "Theo"


def test_conversation_survives_a_restart(os1_env: dict[str, str]) -> None:
    assert run_os1(os1_env, "setup", *ANSWERS).returncode == 0
    first = run_os1(os1_env, "say", "My cat is called Pickles and she is ginger.")
    assert first.returncode == 0, first.stderr
    second = run_os1(os1_env, "say", "Quick question: what is my cat called?")
    assert second.returncode == 0, second.stderr
    assert "pickles" in second.stdout.lower(), second.stdout
    rows = db_rows(os1_env, "SELECT role, status FROM messages ORDER BY id")
    assert rows == [("user", "complete"), ("assistant", "complete")] * 2
    assert (Path(os1_env["OS1_HOME"]) / "state" / "local.kv").stat().st_size > 1_000_000


def test_interrupted_reply_is_stored_as_interrupted(os1_env: dict[str, str]) -> None:
    assert run_os1(os1_env, "setup", *ANSWERS).returncode == 0
    process = subprocess.Popen(
        [*OS1, "chat"], env={**os1_env, "OS1_MAX_REPLY_TOKENS": "200"},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # A suite started in the background (`./run-tests &`) inherits SIGINT ignored, and
        # Python then installs no Ctrl-C handler: give the child a terminal's default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdin and process.stdout
    process.stdin.write(b"Tell me a long, slow story about the sea, please.\n")
    process.stdin.flush()
    shown = b""
    deadline = time.monotonic() + 300
    while len(shown) < 20 and time.monotonic() < deadline:
        shown += os.read(process.stdout.fileno(), 64)
    assert len(shown) >= 20, "her reply did not start within 300 s (is the machine overloaded?)"
    process.send_signal(signal.SIGINT)
    time.sleep(1.0)
    process.stdin.write(b"Sorry to cut you off. Are you still there?\n")
    _out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()
    assert b"interrupted" in err
    rows = db_rows(os1_env, "SELECT role, status, content FROM messages ORDER BY id")
    assert [(r, s) for r, s, _ in rows] == [
        ("user", "complete"), ("assistant", "interrupted"),
        ("user", "complete"), ("assistant", "complete"),
    ]
    partial = str(rows[1][2])
    assert partial and shown.decode("utf-8", "ignore").strip()[:10] in partial


@pytest.fixture
def companion(real_model: LlamaModel, tmp_path: Path) -> Companion:
    db = Database.open(tmp_path / "os1.db")
    SetupStore(db, "local").save(SetupRecord(
        user_name="Theo", answers={"name": "Theo", "social": "Social, mostly."},
        voice="female", companion_name="Wren",
        name_reason="I like small birds that sing loudly for their size."))
    return Companion(real_model, db, Settings(home=tmp_path, max_reply_tokens=60),
                     steering=Steering.load())


def say(companion: Companion, text: str) -> str:
    turn = companion.reply(text)
    return "".join(turn)


def test_fact_from_turn_1_is_used_in_turn_10(companion: Companion) -> None:
    say(companion, "My sister Marguerite is visiting from Lisbon next week.")
    small_talk = ["It rained all day here.", "I made soup for dinner.",
                  "Work was long today.", "I watched a film about whales.",
                  "My neighbour plays the piano at night.", "I want to learn to swim.",
                  "I bought new running shoes.", "Do you like mornings?"]
    for line in small_talk:
        say(companion, line)
    answer = say(companion, "Remind me, what is my sister's name and where does she live?")
    assert "marguerite" in answer.lower(), answer
    assert companion.log.count() == 20


def test_greeting_knows_it_has_been_days(companion: Companion) -> None:
    say(companion, "I'm off to the mountains for a few days.")
    now = time.time()
    companion.clock = lambda: now + 3 * 86400
    turn = companion.greet()
    assert turn is not None
    greeting = "".join(turn)
    assert greeting.strip()
    assert turn.status == "complete"
    assert companion.log.all()[-1].content == greeting
