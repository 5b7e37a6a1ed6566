"""The ``os1`` command, run as a real process on the fake model."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from os1.config import Settings
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord
from tests.conftest import HER_NAME, HER_REASON

OS1 = [sys.executable, "-m", "os1"]
WREN = json.dumps({"name": "Wren", "why": "I like small brave birds, and I feel like one."})
JUNIPER = json.dumps({"name": "Juniper", "why": HER_REASON})


def run(*args: str, stdin: bytes = b"", cwd: Path | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*OS1, *args], input=stdin, capture_output=True, timeout=timeout,
                            env=dict(os.environ), cwd=cwd, check=False)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"))


def flat(text: str) -> str:
    """Output with line wrapping undone (rich wraps stderr at 80 columns in a pipe)."""
    return " ".join(text.split())


def query(home: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(home / "os1.db") as db:
        return db.execute(sql).fetchall()


def messages(home: Path) -> list[tuple[object, ...]]:
    return query(home, "SELECT role, content, status FROM messages ORDER BY id")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def replies_file(tmp_path: Path, *replies: str) -> str:
    path = tmp_path / "replies.json"
    path.write_text(json.dumps(list(replies)), encoding="utf-8")
    return f"fake:{path}"


@pytest.fixture
def ready(setup_record: SetupRecord, os1_home: Path) -> Path:
    """A data dir in which she is already set up (as Juniper, for Theo)."""
    return os1_home


# -- before setup ------------------------------------------------------------------------


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert "0.1.0" in result.stdout


def test_say_before_setup_fails_fast_and_loads_no_model(os1_home: Path) -> None:
    # If it tried to load the model first, the error would be about the missing file.
    result = run("say", "--model", "/nonexistent/model.gguf", "hello")
    assert result.returncode == 1
    err = flat(result.stderr)
    assert "She hasn't been set up yet." in err
    assert "os1 setup --name NAME" in err
    assert "model file" not in err
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert messages(os1_home) == []


def test_piped_chat_before_setup_fails_fast(os1_home: Path) -> None:
    result = run("chat", "--model", "/nonexistent/model.gguf", stdin=b"hello\n")
    assert result.returncode == 1
    assert "She hasn't been set up yet." in flat(result.stderr)
    assert messages(os1_home) == []


def test_setup_with_flags_prints_her_name_and_why(os1_home: Path, tmp_path: Path) -> None:
    samantha = json.dumps({"name": "Samantha", "why": "I like it."})
    result = run("setup", "--model", replies_file(tmp_path, samantha, JUNIPER),
                 "--name", "Theo", "--answer", "social=Social, mostly",
                 "--answer", "hope=Someone to talk to", "--voice", "male")
    assert result.returncode == 0, result.stderr
    assert flat(result.stdout) == f"{HER_NAME}: {HER_REASON}"
    ((user, voice, name, reason, answers),) = query(
        os1_home, "SELECT user_name, voice, companion_name, name_reason, answers_json"
                  " FROM setups")
    assert (user, voice, name, reason) == ("Theo", "male", HER_NAME, HER_REASON)
    assert isinstance(answers, str)
    assert json.loads(answers) == {"name": "Theo", "social": "Social, mostly",
                                   "hope": "Someone to talk to"}


def test_setup_answers_file_json(os1_home: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"name": "Zoë", "mother": "Warm.", "voice": "male"}),
                       encoding="utf-8")
    result = run("setup", "--model", replies_file(tmp_path, WREN),
                 "--answers-file", str(answers))
    assert result.returncode == 0, result.stderr
    assert flat(result.stdout).startswith("Wren: I like small brave birds")
    assert query(os1_home, "SELECT user_name, voice, answers_json FROM setups") == [
        ("Zoë", "male", json.dumps({"name": "Zoë", "mother": "Warm."}, ensure_ascii=False))]


def test_setup_answers_file_from_stdin_toml(os1_home: Path, tmp_path: Path) -> None:
    toml = b'name = "Theo"\nsocial = "Antisocial, lately."\n'
    result = run("setup", "--model", replies_file(tmp_path, WREN), "--answers-file", "-",
                 stdin=toml, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert query(os1_home, "SELECT user_name, voice, companion_name FROM setups") == [
        ("Theo", "female", "Wren")]


def test_setup_flags_override_the_answers_file(os1_home: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"name": "Zoë", "voice": "male"}))
    result = run("setup", "--model", replies_file(tmp_path, WREN),
                 "--answers-file", str(answers), "--name", "Theo", "--voice", "female")
    assert result.returncode == 0, result.stderr
    assert query(os1_home, "SELECT user_name, voice FROM setups") == [("Theo", "female")]


@pytest.mark.parametrize(("args", "expected"), [
    (["--name", "Theo", "--answer", "colour=blue"], "Unknown setup question(s): colour."),
    (["--answer", "social=yes"], "Setup needs your name."),
    ([], "Setup needs answers."),
])
def test_setup_with_bad_answers_says_what_to_fix(os1_home: Path, tmp_path: Path,
                                                 args: list[str], expected: str) -> None:
    result = run("setup", "--model", replies_file(tmp_path, WREN), *args)
    assert result.returncode == 1
    assert expected in flat(result.stderr)
    assert "Traceback" not in result.stderr
    assert query(os1_home, "SELECT COUNT(*) FROM setups") == [(0,)]


def test_setup_answer_without_equals_is_a_usage_error(os1_home: Path, tmp_path: Path) -> None:
    result = run("setup", "--model", "fake", "--name", "Theo", "--answer", "social")
    assert result.returncode == 2
    assert "KEY=TEXT" in flat(result.stderr)


def test_setup_with_garbage_answers_file(os1_home: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "answers.txt"
    garbage.write_bytes(b"\xff\xfe this : is [ nothing")
    result = run("setup", "--model", replies_file(tmp_path, WREN),
                 "--answers-file", str(garbage))
    assert result.returncode == 1
    assert "The answers file is neither JSON nor TOML" in flat(result.stderr)


def test_setup_with_missing_answers_file(os1_home: Path, tmp_path: Path) -> None:
    result = run("setup", "--model", "fake", "--answers-file", str(tmp_path / "nope.json"))
    assert result.returncode == 1
    assert "Can't read the answers file" in flat(result.stderr)


def test_setup_fails_cleanly_when_she_cannot_choose_a_name(os1_home: Path,
                                                           tmp_path: Path) -> None:
    result = run("setup", "--model", replies_file(tmp_path, *["no"] * 5), "--name", "Theo")
    assert result.returncode == 1
    assert "She couldn't settle on a name" in flat(result.stderr)
    assert query(os1_home, "SELECT COUNT(*) FROM setups") == [(0,)]


# -- after setup ---------------------------------------------------------------------------


def test_setup_again_without_flag_is_refused(ready: Path, tmp_path: Path) -> None:
    result = run("setup", "--model", replies_file(tmp_path, WREN), "--name", "Theo")
    assert result.returncode == 1
    err = flat(result.stderr)
    assert f"She is already set up: she is {HER_NAME}." in err
    assert "os1 setup --again" in err
    assert query(ready, "SELECT companion_name FROM setups") == [(HER_NAME,)]


def test_setup_again_keeps_her_old_self_and_the_conversation(ready: Path, tmp_path: Path,
                                                             db: Database,
                                                             settings: Settings) -> None:
    log = ConversationLog(db, settings.user)
    session = log.start_session("test")
    log.append(session, "user", "remember the sea?")
    log.append(session, "assistant", "Always.")
    result = run("setup", "--again", "--model", replies_file(tmp_path, WREN), "--name", "Theo")
    assert result.returncode == 0, result.stderr
    assert flat(result.stdout).startswith("Wren:")
    assert query(ready, "SELECT companion_name FROM setups ORDER BY id DESC") == [
        ("Wren",), (HER_NAME,)]
    assert messages(ready) == [("user", "remember the sea?", "complete"),
                               ("assistant", "Always.", "complete")]
    history = run("history")
    assert history.stdout.splitlines() == ["you: remember the sea?", "Wren: Always."]


def test_say_prints_her_reply(ready: Path) -> None:
    result = run("say", "--model", "fake", "hello", "there")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "You said: hello there\n"
    assert messages(ready) == [("user", "hello there", "complete"),
                               ("assistant", "You said: hello there", "complete")]


def test_say_plays_scripted_replies(ready: Path, tmp_path: Path) -> None:
    result = run("say", "--model", replies_file(tmp_path, "I missed you. How was it?"), "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "I missed you. How was it?\n"


def test_say_reads_the_message_from_stdin(ready: Path) -> None:
    result = run("say", "--model", "fake", "-", stdin="from stdin, with ümlauts".encode())
    assert result.returncode == 0, result.stderr
    assert result.stdout == "You said: from stdin, with ümlauts\n"


def test_say_from_stdin_drops_the_line_end(ready: Path) -> None:
    """``echo hi | os1 say -`` says "hi", not "hi\\n"."""
    result = run("say", "--model", "fake", "-", stdin=b"hi there\n")
    assert result.returncode == 0, result.stderr
    assert messages(ready)[0] == ("user", "hi there", "complete")
    assert result.stdout == "You said: hi there\n"


def test_say_from_stdin_with_bad_bytes_reports_them(ready: Path) -> None:
    result = run("say", "--model", "fake", "-", stdin=b"caf\xe9 au lait")
    assert result.returncode == 0, result.stderr
    assert "bytes e9 at byte 3" in flat(result.stderr)
    assert result.stdout == "You said: caf\ufffd au lait\n"


def test_say_an_empty_message(ready: Path) -> None:
    result = run("say", "--model", "fake", "   ")
    assert "That message is empty" in flat(result.stderr)
    assert result.stdout == ""
    assert messages(ready) == []


def test_piped_chat_one_reply_per_line(ready: Path) -> None:
    stdin = b"hi\n\n   \nab\xff\xfecd\nbye\n"
    result = run("chat", "--model", "fake", stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "You said: hi", "You said: ab\ufffd\ufffdcd", "You said: bye"]
    err = flat(result.stderr)
    assert err.count("That message is empty, so there's nothing for her to answer.") == 2
    assert "Line 4 of the input is not valid UTF-8 (bytes ff" in err
    assert [row[1] for row in messages(ready) if row[0] == "user"] == [
        "hi", "ab\ufffd\ufffdcd", "bye"]


def test_piped_chat_stores_a_megabyte_line_whole(ready: Path) -> None:
    line = "BEGIN " + "x" * 999_990 + " END"
    assert len(line) == 1_000_000
    result = run("chat", "--model", "fake", stdin=line.encode() + b"\nafter\n")
    assert result.returncode == 0, result.stderr
    assert "Your message is 1,000,000 characters" in flat(result.stderr)
    out = result.stdout.splitlines()
    assert len(out) == 2
    assert out[0].startswith("You said: BEGIN xxx")
    assert out[1] == "You said: after"
    ((length, head, tail),) = query(
        ready, "SELECT length(content), substr(content, 1, 6), substr(content, -4) "
               "FROM messages WHERE role = 'user' ORDER BY id LIMIT 1")
    assert (length, head, tail) == (1_000_000, "BEGIN ", " END")


def test_say_to_an_unreachable_server_reports_it_and_keeps_the_message(ready: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = run("say", "--model", url, "are you there?")
    err = flat(result.stderr)
    assert "Can't reach the model server" in err
    assert "Traceback" not in result.stderr
    assert messages(ready) == [("user", "are you there?", "complete")]


@pytest.mark.parametrize("case", ["unreachable server", "empty message"])
def test_say_exits_with_an_error_when_no_reply_came(ready: Path, case: str) -> None:
    """A script running ``os1 say`` must be able to tell from the exit status that she
    did not answer."""
    if case == "unreachable server":
        result = run("say", "--model", f"http://127.0.0.1:{closed_port()}", "are you there?")
    else:
        result = run("say", "--model", "fake", " ")
    assert result.stdout.strip() == ""
    assert result.returncode == 1


def test_say_with_a_missing_model_file(ready: Path) -> None:
    result = run("say", "--model", "/nonexistent.gguf", "hello")
    assert result.returncode == 1
    assert "There is no model file at /nonexistent.gguf." in flat(result.stderr)
    assert "Traceback" not in result.stderr


def test_say_with_a_file_that_is_not_a_model(ready: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_text("<html>Not Found</html>")
    result = run("say", "--model", str(bogus), "hello")
    assert result.returncode == 1
    err = flat(result.stderr)
    assert f"{bogus} is not a GGUF model file (it starts with b'<htm', not b'GGUF')." in err
    assert "Traceback" not in result.stderr


def test_bad_config_is_reported_not_crashed_on(ready: Path) -> None:
    (ready / "config.toml").write_text('modle = "fake"\n')
    result = run("say", "hello")
    assert result.returncode == 1
    assert "Unknown setting 'modle'" in flat(result.stderr)
    assert "Traceback" not in result.stderr


def test_history_shows_the_turns(ready: Path, db: Database, settings: Settings) -> None:
    empty = run("history")
    assert empty.returncode == 0 and empty.stdout == ""
    assert "You haven't talked with her yet" in empty.stderr
    assert run("say", "--model", "fake", "hello").returncode == 0
    log = ConversationLog(db, settings.user)
    session = log.start_session("test")
    log.append(session, "user", "tell me a story")
    log.append(session, "assistant", "Once upon a", status="interrupted")
    result = run("history")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "you: hello", f"{HER_NAME}: You said: hello",
        "you: tell me a story", f"{HER_NAME}: Once upon a (interrupted)"]
    assert run("history", "--limit", "1").stdout == f"{HER_NAME}: Once upon a (interrupted)\n"
