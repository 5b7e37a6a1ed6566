"""One intent router for every skill (issue 24): patterns from each skill's TOML first, one
grammar-held question to her model only where they are unsure or disagree, a proposal's
reply to the skill that proposed, and plain conversation left to her, at no cost."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from os1.calendar.desk import CalendarDesk
from os1.calendar.events import CalendarSource, CalendarStore
from os1.calendar.skill import SKILL as CALENDAR
from os1.config import Settings
from os1.errors import ConfigError
from os1.llm.fake import FakeModel
from os1.mail.skill import SKILL as MAIL
from os1.mind.companion import Companion
from os1.skills.contract import BaseSkill, SkillAnswer
from os1.skills.intents import builtin_intents, find_intents, read_intents
from os1.skills.router import IntentRouter
from os1.storage.db import Database
from os1.storage.setups import SetupRecord
from tests.unit.test_calendar import BERLIN, Clock, at, event
from tests.unit.test_mail import sent
from tests.unit.test_mail_errands import DRAFT, Desk

THURSDAY = "Do you remember what's happening on Thursday?"


def router(db: Database, model: FakeModel | None, calendar: bool = False,
           mail: Desk | None = None) -> tuple[IntentRouter, CalendarDesk]:
    clock = Clock()
    desk = CalendarDesk(db, "theo", clock=clock, tz=BERLIN)
    if calendar:
        store = CalendarStore(db, "theo", BERLIN, clock=clock)
        store.replace_events(store.add_source(CalendarSource("home", "ics")),
                             [event("Lunch with Ana", at(3, 12))])
    mail = mail or Desk(db)
    return IntentRouter([(CALENDAR, desk), (MAIL, mail.desk)],
                        (lambda: model) if model is not None else None), desk


def test_the_morning_after_he_told_her_of_a_lunch_her_memory_answers_not_the_calendar(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    """The misroute of issue 24: with no calendar, "what's happening on Thursday?" got "I
    can't see a calendar yet"; it is conversation, and with a calendar it is still hers."""
    model, mail = FakeModel(), Desk(db)
    desks, _ = router(db, model, mail=mail)
    companion = Companion(model, db, settings, desk=desks)
    said = "".join(companion.reply(THURSDAY))
    assert "calendar" not in said and said.startswith("You said:"), "the model answered"
    assert len(model.calls) == 1, "her reply only: the router asked the model nothing"
    with_calendar, _ = router(db, FakeModel(), calendar=True, mail=mail)
    assert with_calendar.answer(THURSDAY) is None
    assert with_calendar.answer("what's on my calendar on Thursday?") is not None


def test_plain_talk_and_sure_requests_never_ask_the_model(db: Database) -> None:
    model = FakeModel()
    desks, _ = router(db, model, calendar=True)
    for talk in ("How are you today?", "I had a long day at work.", "Tell me a story.",
                 "My mum said she'd call on Sunday.", "I wrote my grandmother a letter."):
        assert desks.answer(talk) is None, talk
    agenda = desks.answer("What do I have on Thursday?")
    assert agenda is not None and "Lunch with Ana" in agenda.said
    assert model.calls == [], "patterns decided every one"


def test_unsure_patterns_ask_the_model_once_held_by_a_grammar(db: Database) -> None:
    model = FakeModel()
    model.enqueue("A")
    desks, _ = router(db, model, calendar=True)
    text = "I got a really sweet email from my sister this morning."
    assert desks.answer(text) is None, "mentioning mail is conversation"
    [call] = model.calls
    assert call.options.grammar == 'root ::= "A" | "B"', "conversation, or what was found"
    assert call.options.max_tokens == 1 and call.options.temperature == 0.0
    assert text in call.messages[-1].content
    offered = call.messages[0].content
    assert "A: conversation" in offered and "B: he asks whether he has new mail" in offered


def test_the_models_choice_is_the_desk_asked_and_a_non_label_leaves_it_to_patterns(
        db: Database) -> None:
    model = FakeModel()
    mail = Desk(db)
    desks, _ = router(db, model, mail=mail)
    text = "Put the new mail away, please."  # calendar.add? mail.summary? neither is sure
    model.enqueue("C")
    answer = desks.answer(text)
    assert answer is not None and answer.said.startswith("Nothing new in your mail")
    assert "B: he asks her to put an event" in model.calls[0].messages[0].content
    model.enqueue("I think it is about mail")  # no letter (a backend without grammars)
    route = desks.route(text)
    assert route.asked_model and route.chosen is None
    assert [m.intent.label for m in route.tries] == ["calendar.add", "mail.summary"], \
        "the patterns' order decides"
    model.enqueue("A")
    assert desks.route(text).tries == (), "the model says conversation"
    assert len(model.calls) == 3


def test_a_proposals_reply_goes_to_the_skill_that_proposed_and_please_confirms_both(
        db: Database) -> None:
    mail = Desk(db)
    mail.deliver(sent("Catherine <cat@example.org>", "Dinner?"))
    mail.model.enqueue(DRAFT)
    desks, calendar = router(db, FakeModel(), mail=mail)
    assert desks.answer("reply to Catherine: Friday works") is not None
    assert desks.answer("please") == SkillAnswer("Sent to cat@example.org.",
                                                 mail.desk.lines["kept"])
    assert len(mail.sender.sent) == 1
    proposed = desks.answer("add dentist on Friday at 3pm")
    assert proposed is not None and proposed.said.startswith('Shall I put "dentist"')
    done = desks.answer("please")
    assert done is not None and done.said.startswith('Done: "dentist" is in your calendar')
    assert desks.answer("please") is None, "nothing is waiting any more"
    assert calendar.store.count() == 1 and len(mail.sender.sent) == 1


def test_a_turn_that_goes_elsewhere_lapses_the_proposal(db: Database) -> None:
    desks, calendar = router(db, FakeModel(), calendar=True)
    assert desks.answer("remind me to call Ana tomorrow at 6pm") is not None
    assert desks.answer("How are you?") is None
    assert desks.answer("yes") is None
    assert calendar.actions.recent()[0].status == "declined"


class Echo(BaseSkill):
    """A skill installed from elsewhere that declares no intents: asked as before."""

    name = "echo"
    order = 50


class EchoDesk:
    def __init__(self) -> None:
        self.passed_turns = 0

    def answer(self, text: str) -> SkillAnswer | None:
        return SkillAnswer("echo", "echo") if text.startswith("echo") else None

    def passed(self) -> None:
        self.passed_turns += 1


def test_a_desk_without_intents_is_asked_in_order_when_no_intent_took_the_turn(
        db: Database) -> None:
    echo = EchoDesk()
    desks = IntentRouter([(Echo(), echo), (CALENDAR, CalendarDesk(db, "theo", tz=BERLIN))])
    assert desks.answer("echo this") == SkillAnswer("echo", "echo")
    assert desks.answer("what's on my calendar?") is not None
    assert echo.passed_turns == 1


@pytest.mark.parametrize(("toml", "error"), [
    ("version = 1\n", "must be a list of [[intents]]"),
    ('[[intents]]\nname = "Bad Name"\npatterns = ["x"]\n', "has no name"),
    ('[[intents]]\nname = "ask"\n', "has no patterns and no maybe"),
    ('[[intents]]\nname = "ask"\npatterns = ["(unclosed"]\n', "not a valid regular"),
    ('[[intents]]\nname = "ask"\npatterns = ["{nope} x"]\n', "uses {nope}"),
    ('[[intents]]\nname = "ask"\npatterns = "x"\n', "must be a list of strings"),
    ('[[intents\n', "can't be read"),
])
def test_a_skills_malformed_intents_are_named_precisely(tmp_path: Path, toml: str,
                                                        error: str) -> None:
    source = tmp_path / "tiny.toml"
    source.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match="tiny") as raised:
        read_intents("tiny", source)
    assert error in str(raised.value)


def test_intents_are_data_with_the_groups_the_desks_take() -> None:
    intents = builtin_intents("mail") + builtin_intents("calendar")
    [read] = find_intents(intents, "Read me the email from my sister, please")
    assert (read.intent.label, read.sure, read.slots["who"]) == ("mail.read", True,
                                                                 "my sister")
    [add] = find_intents(intents, "add dentist on Friday at 3pm")
    assert add.intent.label == "calendar.add" and add.slots == {"rest": "dentist on Friday at 3pm"}
    [agenda] = find_intents(intents, "what's on my calendar?")
    slots: Mapping[str, str] = agenda.slots
    assert agenda.sure and "calendar" in slots
    assert find_intents(intents, THURSDAY) == [], "what she remembers is not the calendar's"
    assert all(i.examples and i.description for i in intents)
