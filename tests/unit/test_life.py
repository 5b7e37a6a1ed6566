"""Her reaching out first (os1/life/): the reasons, his rules, the outbox, and what is said
as he arrives, on a fake model and a set clock in a fixed zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from os1.config import Settings
from os1.data import fill
from os1.errors import InputError
from os1.life.diary import LifeLog
from os1.life.outbox import Outbox, said_on_arrival
from os1.life.outreach import NAMING_TRIES, decide, reach_out
from os1.life.reasons import missing, reasons_at
from os1.life.rules import LifeRules, LifeRulesStore, life_config
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
NAMED = "lunch with Catherine"  # what the model names the plan (the fake, here)
ASKED = {fill(line, what=NAMED) for line in life_config()["words"]["follow_up"]}


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

    def tick(self, when: float, talking: bool = False, says: str = NAMED) -> str | None:
        self.model.replies.extend([says] * NAMING_TRIES)  # not grounded: asked again
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
    asked = home.tick(at(16, 15, 30))
    assert asked in ASKED
    assert home.tick(at(16, 17)) is None, "never the same reason twice"
    assert [e.what for e in LifeLog(home.db, home.user).recent()] == ["wrote to him"]
    her = Companion(FakeModel(), home.db, settings, clock=lambda: at(16, 19))
    her.open_session("test")
    outbox = Outbox(home.db, home.user)
    arrival = said_on_arrival(her, outbox, at(16, 19))
    assert arrival is not None and "".join(arrival) == asked
    assert ConversationLog(home.db, home.user).last().content == asked  # type: ignore[union-attr]
    assert outbox.pending() == [] and said_on_arrival(her, outbox, at(16, 20)) is None


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
    assert home.tick(at(16, 16)) in ASKED


def test_the_daily_cap_counts_his_day(home: Home) -> None:
    LifeRulesStore(home.db, home.user).save(replace(RULES, daily_cap=1), at(16, 9))
    home.memories.add("event", "Theo has a dentist appointment on Thursday morning.",
                      event_at=at(16, 0), at=at(12, 21))
    assert "the dentist" in (home.tick(at(16, 15, 30), says="the dentist") or "")
    assert home.tick(at(16, 16)) is None, "one a day"
    assert home.tick(at(17, 9)) is not None, "a new day"


def test_with_no_reason_she_sends_nothing(db: Database) -> None:
    home = Home(db)
    home.memories.forget(home.lunch.id)
    for hour in (9, 12, 15, 18, 21):
        assert home.tick(at(13, hour)) is None
    assert home.model.calls == [] and LifeLog(db, home.user).recent() == []


def test_words_that_are_not_a_message_never_reach_him(home: Home) -> None:
    assert home.tick(at(16, 16), says="[NOTHING TO SAY]") is None  # not in her note
    assert home.tick(at(16, 16), says="") is None
    assert home.tick(at(16, 16), says="Theo's lunch") is None  # him in the third person
    assert Outbox(home.db, home.user).pending() == []
    assert [e.what for e in LifeLog(home.db, home.user).recent()] == ["found no words"] * 3
    assert home.tick(at(16, 16), says="his lunch with Catherine on Thursday") in {
        fill(line, what="your lunch with Catherine")
        for line in life_config()["words"]["follow_up"]}, "said to him, when not again"


def test_a_message_about_a_forgotten_memory_is_never_shown(home: Home) -> None:
    assert home.tick(at(16, 16)) in ASKED
    home.memories.forget(home.lunch.id)
    assert Outbox(home.db, home.user).pending() == []


def test_one_persons_plans_never_reach_another(db: Database) -> None:
    theo, ana = Home(db, "theo"), Home(db, "ana")
    ana.memories.forget(ana.lunch.id)
    assert theo.tick(at(16, 16)) in ASKED
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
    model.replies.extend(["lunch with Catherine", "the lunch with Catherine"])
    assert [m.text for m in her_time.tick()] == said
    assert said[0] in ASKED and "the lunch with Catherine" in said[1]
    assert her_time.tick() == [], "each reason once"
    assert Outbox(db, theo.user).pending()[0].text == said[0], "Theo first"
    assert Outbox(db, ana.user).pending()[0].text == said[1]


def test_a_reply_takes_the_model_back_and_nothing_half_written_is_kept(home: Home) -> None:
    gate = IdleGate()
    home.model.replies.append(NAMED)
    her_time = LifeScheduler(home.db, lambda: [home.user],
                             lambda: PreemptibleModel(home.model, gate),
                             clock=lambda: at(16, 16), idle=lambda: True)
    with gate.busy():  # he started talking as she was writing
        assert her_time.tick() == []
    assert Outbox(home.db, home.user).recent() == [] and LifeLog(home.db, home.user).recent() == []
    home.model.replies.append(NAMED)  # the fake's first reply went with the abandoned call
    redone = her_time.tick()
    assert len(redone) == 1 and redone[0].text in ASKED, "the look is redone"


def test_one_plan_written_twice_is_asked_after_once() -> None:
    coffee = Memory(1, "event", "Theo is having coffee with Amy on Thursday morning.", "",
                    0.7, at(12, 20), at(16, 0), (), None, None)
    again = replace(coffee, id=2, content="Theo makes a promise to Amy to be there on "
                                          "Thursday morning.")
    lunch = Memory(3, "event", LUNCH, "", 0.7, at(12, 20), at(16, 0), (), None, None)
    due = reasons_at([coffee, again, lunch], None, RULES, at(16, 18, 30))
    assert sorted(r.memory_id or 0 for r in due) == [1, 3]


def test_her_words_name_the_plan_without_its_day(home: Home) -> None:
    said = home.tick(at(16, 16), says="on Thursday lunch with catherine")
    assert said is not None and "lunch with Catherine" in said and "Thursday" not in said
