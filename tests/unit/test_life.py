"""Her reaching out first (os1/life/): the reasons, his rules, the outbox, and the greeting
that delivers what she wrote, on a fake model and a set clock in a fixed zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from os1.config import Settings
from os1.errors import InputError
from os1.life.diary import LifeLog
from os1.life.outbox import Outbox
from os1.life.outreach import decide, reach_out, sendable
from os1.life.reasons import missing, reasons_at
from os1.life.rules import LifeRules, LifeRulesStore
from os1.life.scheduler import LifeScheduler
from os1.llm.fake import FakeModel
from os1.memory.embeddings import HashEmbedder
from os1.memory.memories import MemoryStore
from os1.memory.records import Memory
from os1.memory.worker import IdleGate, PreemptibleModel
from os1.mind.companion import Companion
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from tests.conftest import make_setup_record

ZONE = "Europe/London"
RULES = replace(LifeRules.defaults(), time_zone=ZONE)
LUNCH = "Theo is having lunch with Catherine on Thursday to sign the papers."
ASKED = "How did lunch with Catherine go? I've been thinking about you."


def at(day: int, hour: int, minute: int = 0) -> float:
    """A moment in May 2024, London time (the 12th is a Sunday, the 16th a Thursday)."""
    return datetime(2024, 5, day, hour, minute, tzinfo=ZoneInfo(ZONE)).timestamp()


class Home:
    """One person's data, told of a lunch on Thursday on Sunday evening; he last spoke
    on Wednesday evening (a silence only from Saturday evening on)."""

    def __init__(self, db: Database, user: str = "local") -> None:
        self.db, self.user = db, user
        SetupStore(db, user).save(make_setup_record())
        LifeRulesStore(db, user).save(RULES, at(12, 20))
        log = ConversationLog(db, user)
        session = log.start_session("test")
        log.append(session, "user", "We're having lunch on Thursday.", at=at(12, 20))
        log.append(session, "user", "Nervous about tomorrow.", at=at(15, 21))
        self.memories = MemoryStore(db, user, HashEmbedder())
        self.lunch = self.memories.add("event", LUNCH, event_at=at(16, 0), at=at(12, 20))
        self.model = FakeModel()

    def tick(self, when: float, talking: bool = False, says: str = ASKED) -> str | None:
        self.model.replies.append(says)
        sent = reach_out(self.db, self.user, lambda: self.model, when, talking)
        return None if sent is None else sent.text


@pytest.fixture
def home(db: Database) -> Home:
    return Home(db)


def test_a_plan_is_asked_after_once_it_is_over_and_only_within_days() -> None:
    lunch = Memory(1, "event", LUNCH, "", 0.5, at(12, 20), at(16, 0), (), None, None)
    due = [r.kind for r in reasons_at([lunch], None, RULES, at(16, 15, 30))]
    assert due == ["follow_up"]
    assert reasons_at([lunch], None, RULES, at(16, 13)) == []  # lunch is not over
    assert reasons_at([lunch], None, RULES, at(19, 0, 1)) == []  # three days on: stale
    told_after = replace(lunch, created_at=at(16, 16))  # he told her once it was over
    assert reasons_at([told_after], None, RULES, at(16, 18)) == []
    no_meal = replace(lunch, content="Theo has a job interview on Thursday.")
    assert reasons_at([no_meal], None, RULES, at(16, 17)) == []  # the evening, by default
    assert [r.kind for r in reasons_at([no_meal], None, RULES, at(16, 18, 1))] == ["follow_up"]
    reasons = reasons_at([lunch], None, RULES, at(16, 16))
    assert reasons[0].key == reasons_at([replace(lunch, id=99)], None, RULES,
                                        at(17, 9))[0].key, "an import renumbers: same key"


def test_a_long_silence_is_one_reason_per_silence() -> None:
    assert missing(at(12, 20), at(15, 19)) is not None
    found = reasons_at([], at(12, 20), RULES, at(15, 21))
    assert [r.kind for r in found] == ["missing"] and found[0].about == "3 days"
    assert reasons_at([], at(12, 20), RULES, at(15, 19)) == []
    assert missing(None, at(15, 21)) is None


def test_quiet_hours_run_past_midnight_in_his_zone() -> None:
    assert RULES.is_quiet(at(16, 23)) and RULES.is_quiet(at(17, 7, 59))
    assert not RULES.is_quiet(at(17, 8)) and not RULES.is_quiet(at(16, 21, 59))
    assert RULES.quiet_over(at(16, 23)) == at(17, 8)
    tokyo = replace(RULES, time_zone="Asia/Tokyo")  # 15:00 in London is 23:00 there
    assert tokyo.is_quiet(at(16, 15)) and not RULES.is_quiet(at(16, 15))


@pytest.mark.parametrize(("change", "words"), [
    ({"quiet_from": "25:00"}, "not a time of day"),
    ({"daily_cap": 99}, "out of range"),
    ({"budget_minutes": -1.0}, "out of range"),
    ({"time_zone": "Mars/Olympus"}, "not a time zone"),
])
def test_bad_rules_are_refused_and_the_old_ones_kept(home: Home, change: dict[str, object],
                                                     words: str) -> None:
    store = LifeRulesStore(home.db, home.user)
    with pytest.raises(InputError, match=words):
        store.save(replace(RULES, **change), at(13, 9))  # type: ignore[arg-type]
    assert store.get() == RULES


def test_she_asks_after_lunch_once_and_says_it_as_she_opens(home: Home,
                                                            settings: Settings) -> None:
    assert home.tick(at(16, 12)) is None, "before lunch is over"
    assert home.tick(at(16, 15, 30)) == ASKED
    assert home.tick(at(16, 17)) is None, "never the same reason twice"
    assert [e.what for e in LifeLog(home.db, home.user).recent()] == ["wrote to him"]
    her = Companion(FakeModel(), home.db, settings, clock=lambda: at(16, 19))
    her.open_session("test")
    greeting = her.greet()
    assert greeting is not None and "".join(greeting) == ASKED
    assert ConversationLog(home.db, home.user).last().content == ASKED  # type: ignore[union-attr]
    assert Outbox(home.db, home.user).pending() == []
    again = her.greet()
    assert again is not None and ASKED not in "".join(again), "said once"


def test_his_rules_hold_her_back(home: Home) -> None:
    store = LifeRulesStore(home.db, home.user)
    assert home.tick(at(16, 23)) is None, "quiet hours"
    assert home.tick(at(16, 16), talking=True) is None, "he is talking with her"
    store.save(replace(RULES, reach_out=False), at(16, 9))
    assert home.tick(at(16, 16)) is None, "never message me first"
    store.save(replace(RULES, paused=True), at(16, 9))
    assert home.tick(at(16, 16)) is None, "paused"
    store.save(replace(RULES, daily_cap=0), at(16, 9))
    assert home.tick(at(16, 16)) is None, "no messages a day"
    store.save(replace(RULES, budget_minutes=0.0), at(16, 9))
    assert home.tick(at(16, 16)) is None, "no model time"
    assert home.model.calls == [], "the model is never woken to be held back"
    store.save(RULES, at(16, 9))
    assert home.tick(at(16, 16)) == ASKED


def test_the_daily_cap_counts_his_day(home: Home) -> None:
    LifeRulesStore(home.db, home.user).save(replace(RULES, daily_cap=1), at(16, 9))
    home.memories.add("event", "Theo has a dentist appointment on Thursday morning.",
                      event_at=at(16, 0), at=at(12, 21))
    assert home.tick(at(16, 15, 30)) is not None
    assert home.tick(at(16, 16)) is None, "one a day"
    assert home.tick(at(17, 9)) is not None, "a new day"


def test_with_no_reason_she_sends_nothing(db: Database) -> None:
    home = Home(db)
    home.memories.forget(home.lunch.id)
    for hour in (9, 12, 15, 18, 21):
        assert home.tick(at(13, hour)) is None
    assert home.model.calls == [] and LifeLog(db, home.user).recent() == []


def test_words_that_are_not_a_message_never_reach_him(home: Home) -> None:
    assert home.tick(at(16, 16), says="[NOTHING TO SAY]") is None
    assert home.tick(at(16, 16), says="") is None
    assert Outbox(home.db, home.user).pending() == []
    assert [e.what for e in LifeLog(home.db, home.user).recent()] == ["found no words"] * 2
    assert sendable('Mira: "How did lunch go? Tell me everything. I mean it."', "Mira") == \
        "How did lunch go? Tell me everything."


def test_a_message_about_a_forgotten_memory_is_never_shown(home: Home) -> None:
    assert home.tick(at(16, 16)) == ASKED
    home.memories.forget(home.lunch.id)
    assert Outbox(home.db, home.user).pending() == []


def test_one_persons_plans_never_reach_another(db: Database) -> None:
    theo, ana = Home(db, "theo"), Home(db, "ana")
    ana.memories.forget(ana.lunch.id)
    assert theo.tick(at(16, 16)) == ASKED
    assert ana.tick(at(16, 16)) is None
    assert Outbox(db, "ana").pending() == [] and len(Outbox(db, "theo").pending()) == 1
    assert decide([], RULES, Outbox(db, "ana"), at(16, 16), False).reason is None


def test_her_time_takes_people_in_turn_and_only_on_an_idle_machine(db: Database) -> None:
    theo, ana = Home(db, "theo"), Home(db, "ana")
    model = FakeModel()
    idle = [False]
    said: list[str] = []
    her_time = LifeScheduler(db, lambda: ["theo", "ana"], lambda: model,
                             clock=lambda: at(16, 16), idle=lambda: idle[0],
                             on_sent=lambda message: said.append(message.text))
    assert her_time.tick() == [] and model.calls == [], "a busy machine: nothing"
    idle[0] = True
    model.replies.extend(["How did lunch go, Theo?", "How did lunch go, Ana?"])
    assert [m.text for m in her_time.tick()] == said == ["How did lunch go, Theo?",
                                                         "How did lunch go, Ana?"]
    assert her_time.tick() == [], "each reason once"
    assert Outbox(db, theo.user).pending()[0].text.endswith("Theo?")
    assert Outbox(db, ana.user).pending()[0].text.endswith("Ana?")


def test_a_reply_takes_the_model_back_and_nothing_half_written_is_kept(home: Home) -> None:
    gate = IdleGate()
    home.model.replies.append(ASKED)
    her_time = LifeScheduler(home.db, lambda: [home.user],
                             lambda: PreemptibleModel(home.model, gate),
                             clock=lambda: at(16, 16), idle=lambda: True)
    with gate.busy():  # he started talking as she was writing
        assert her_time.tick() == []
    assert Outbox(home.db, home.user).recent() == [] and LifeLog(home.db, home.user).recent() == []
    home.model.replies.append(ASKED)  # the fake's first reply went with the abandoned call
    assert [m.text for m in her_time.tick()] == [ASKED], "the look is redone"
