"""The first-run setup: validating answers, reading answer files, her choosing a name."""

from __future__ import annotations

import json

import pytest

from os1.data import read_toml
from os1.errors import InputError, ModelError
from os1.llm.fake import FakeModel
from os1.mind.setup import (
    NAME_SCHEMA,
    NAMING_ATTEMPTS,
    SetupAnswers,
    SetupScript,
    choose_name,
    complete_setup,
    read_answers_file,
    validate_answers,
)
from os1.storage.db import Database
from os1.storage.setups import SetupStore

SCRIPT = SetupScript.load()
ANSWERS = SetupAnswers({"name": "Theo", "social": "Social", "hope": "A friend"}, "female")
GOOD = json.dumps({"name": "Juniper", "why": "I love how juniper smells after the rain."})


def choice(name: str, why: str = "I just love the sound of it, it feels like me.") -> str:
    return json.dumps({"name": name, "why": why})


def test_script_matches_its_data_file() -> None:
    data = read_toml("setup.toml")
    assert [q.key for q in SCRIPT.questions] == [q["key"] for q in data["questions"]]
    assert SCRIPT.voices == ("female", "male")
    assert SCRIPT.default_voice in SCRIPT.voices
    assert "samantha" in SCRIPT.forbidden_names and "assistant" in SCRIPT.forbidden_names
    assert SCRIPT.labels["name"] == "Your name"


def test_validate_answers_cleans_and_orders() -> None:
    answers = validate_answers(
        SCRIPT, {"hope": "  someone\n to   talk to ", "name": " Theo ", "mother": "",
                 "social": "x" * 900}, "male")
    assert list(answers.answers) == ["name", "social", "hope"]
    assert answers.answers["hope"] == "someone to talk to"
    assert answers.answers["social"] == "x" * 500
    assert answers.user_name == "Theo"
    assert answers.voice == "male"


def test_validate_answers_unknown_key() -> None:
    with pytest.raises(InputError) as caught:
        validate_answers(SCRIPT, {"name": "Theo", "colour": "blue", "age": "40"}, "female")
    assert str(caught.value) == "Unknown setup question(s): age, colour."
    assert "hope, mother, name, social" in caught.value.hint


@pytest.mark.parametrize("answers", [{}, {"social": "yes"}, {"name": "   \n "}])
def test_validate_answers_needs_a_name(answers: dict[str, str]) -> None:
    with pytest.raises(InputError, match="needs your name") as caught:
        validate_answers(SCRIPT, answers, "female")
    assert "--name" in caught.value.hint


def test_validate_answers_bad_voice() -> None:
    with pytest.raises(InputError, match="Unknown voice 'robot'") as caught:
        validate_answers(SCRIPT, {"name": "Theo"}, "robot")
    assert "female, male" in caught.value.hint


def test_read_answers_file_json() -> None:
    text = json.dumps({"name": "Théo", "social": "yes", "voice": "male", "age": 40})
    assert read_answers_file(text) == {"name": "Théo", "social": "yes", "voice": "male",
                                       "age": "40"}


def test_read_answers_file_toml() -> None:
    text = 'name = "Theo"\nmother = """Complicated,\nloving."""\nvoice = "female"\n'
    assert read_answers_file(text) == {"name": "Theo", "mother": "Complicated,\nloving.",
                                       "voice": "female"}


@pytest.mark.parametrize(("text", "expected"), [
    ("this is : not [ anything", "neither JSON nor TOML"),
    ("name = ", "neither JSON nor TOML"),
    ("", None),
    ('["Theo"]', "must hold a table"),
    ("42", "must hold a table"),
])
def test_read_answers_file_garbage(text: str, expected: str | None) -> None:
    if expected is None:
        # An empty file is valid TOML: an empty table, so no answers (setup then asks
        # for a name).
        assert read_answers_file(text) == {}
        return
    with pytest.raises(InputError, match=expected):
        read_answers_file(text)


def test_choose_name_accepts_a_good_choice_and_asks_with_the_schema() -> None:
    model = FakeModel()
    model.enqueue(GOOD)
    assert choose_name(model, SCRIPT, ANSWERS) == (
        "Juniper", "I love how juniper smells after the rain.")
    (call,) = model.calls
    assert call.options.json_schema == NAME_SCHEMA
    prompt = call.messages[0].content
    assert "Theo" in prompt and "a female voice" in prompt and "A friend" in prompt


@pytest.mark.parametrize("bad", [
    "not json at all",
    '{"name": "Juniper"}',
    '["Juniper", "why"]',
    choice("Assistant"),
    choice("Samantha"),
    choice("samantha"),
    choice("SIRI"),
    choice("Theo"),
    choice("theo"),
    choice("J"),
    choice("Juniper Rose"),
    choice("ThisNameIsFarTooLongToBeOne"),
    choice("Juniper", "Because it sounds nice and green."),
    choice("Juniper", "Me!"),
    choice("Juniper", "I was made by Alibaba Cloud, so I like it."),
    choice("Juniper", "I am a language model and I like it."),
])
def test_choose_name_rejects_and_retries(bad: str) -> None:
    model = FakeModel()
    model.enqueue(bad, GOOD)
    assert choose_name(model, SCRIPT, ANSWERS)[0] == "Juniper"
    assert len(model.calls) == 2
    assert model.calls[1].options.temperature > model.calls[0].options.temperature


def test_choose_name_strips_and_normalises_the_reason() -> None:
    model = FakeModel()
    model.enqueue(json.dumps({"name": " Wren ", "why": "I  like\nsmall brave birds."}))
    assert choose_name(model, SCRIPT, ANSWERS) == ("Wren", "I like small brave birds.")


def test_choose_name_gives_up_with_model_error() -> None:
    model = FakeModel()
    model.enqueue("nope", choice("Assistant"), choice("Theo"), "{}", choice("Samantha"), GOOD)
    with pytest.raises(ModelError) as caught:
        choose_name(model, SCRIPT, ANSWERS)
    assert len(model.calls) == NAMING_ATTEMPTS == 5
    message = str(caught.value)
    assert "couldn't settle on a name" in message
    assert "'Samantha' is not her own name" in message
    assert "--again" in caught.value.hint
    assert list(model.replies) == [GOOD], "no more attempts than NAMING_ATTEMPTS"


def test_complete_setup_saves_the_record(db: Database) -> None:
    store = SetupStore(db, "local")
    model = FakeModel()
    model.enqueue(GOOD)
    record = complete_setup(model, store, SCRIPT, ANSWERS)
    assert store.current() == record
    assert record.companion_name == "Juniper"
    assert record.user_name == "Theo"
    assert record.answers == ANSWERS.answers
    assert record.voice == "female"


def test_complete_setup_saves_nothing_when_naming_fails(db: Database) -> None:
    store = SetupStore(db, "local")
    model = FakeModel()
    model.enqueue(*["garbage"] * NAMING_ATTEMPTS)
    with pytest.raises(ModelError):
        complete_setup(model, store, SCRIPT, ANSWERS)
    assert store.current() is None
