"""The turn loop (os1/mind/companion.py) on the scripted model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import pytest

from os1.config import Settings
from os1.errors import BackendTimeout, BackendUnavailable, EmptyMessage, MessageTooLong
from os1.llm.base import GenerateOptions, Message
from os1.llm.fake import FakeCall, FakeModel
from os1.mind.companion import MAX_MESSAGE_CHARS, Companion, NotSetUp
from os1.mind.context import Budget
from os1.mind.persona import Persona
from os1.mind.steering import Steering
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord
from tests.conftest import HER_NAME, HER_REASON, THEO_ANSWERS

STEERING = Steering.load()
# the system prompt and her example exchanges come before the conversation
PREFIX = 1 + 2 * len(Persona.load().examples)
MONDAY_10AM = datetime(2024, 5, 6, 10, 0).timestamp()
DAY = 86400.0


def rows(db: Database) -> list[tuple[str, str, str]]:
    return [(r["role"], r["content"], r["status"]) for r in db.execute(
        "SELECT role, content, status FROM messages ORDER BY id")]


def bulk_history(db: Database, user: str, contents: Sequence[str]) -> None:
    """Old conversation, alternating user/assistant, written in one transaction (fast)."""
    session = ConversationLog(db, user).start_session("test")
    with db.transaction() as tx:
        tx.executemany(
            "INSERT INTO messages(user_id, session_id, role, content, status, created_at)"
            " VALUES (?,?,?,?,'complete',?)",
            [(user, session, "user" if n % 2 == 0 else "assistant", text, 1000.0 + n)
             for n, text in enumerate(contents)])


def prompt_tokens(model: FakeModel, messages: Sequence[Message]) -> int:
    return sum(model.count_tokens(m.content) + 4 for m in messages)


@dataclass
class TrackingModel(FakeModel):
    """A fake that also records what was stored when generation began, and stream closes."""

    db: Database | None = None
    stored_at_call: list[list[tuple[str, str, str]]] = field(default_factory=list)
    stream_closes: int = 0
    prefilled: list[list[Message]] = field(default_factory=list)

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions)\
            -> Iterator[str]:
        if self.db is not None:
            self.stored_at_call.append(rows(self.db))
        inner = super().stream_chat(messages, options)

        def tracked() -> Iterator[str]:
            try:
                yield from inner
            finally:
                self.stream_closes += 1

        return tracked()

    def prefill(self, messages: Sequence[Message]) -> None:
        self.prefilled.append(list(messages))


@dataclass
class DiesMidway(FakeModel):
    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions)\
            -> Iterator[str]:
        self.calls.append(FakeCall(list(messages), options))
        yield "I was "
        yield "saying "
        raise BackendTimeout("the server went quiet")


@pytest.fixture
def tracking(db: Database, settings: Settings, setup_record: SetupRecord) -> TrackingModel:
    return TrackingModel(db=db)


def make(model: FakeModel, db: Database, settings: Settings, steered: bool = False,
         clock: float | None = None) -> Companion:
    if clock is None:
        return Companion(model, db, settings, steering=STEERING if steered else None)
    return Companion(model, db, settings, steering=STEERING if steered else None,
                     clock=lambda: clock)


# -- perceive: what the user said is stored first ---------------------------------------


def test_user_message_is_stored_before_generation(tracking: TrackingModel, db: Database,
                                                  settings: Settings) -> None:
    companion = make(tracking, db, settings)
    turn = companion.reply("hello there")
    assert rows(db) == [("user", "hello there", "complete")], "stored before the stream runs"
    assert "".join(turn) == "You said: hello there"
    assert tracking.stored_at_call == [[("user", "hello there", "complete")]]
    assert rows(db)[-1] == ("assistant", "You said: hello there", "complete")


@pytest.mark.parametrize("steered", [False, True])
def test_model_failure_keeps_the_user_message_and_stores_no_reply(
        fake_model: FakeModel, db: Database, settings: Settings, setup_record: SetupRecord,
        steered: bool) -> None:
    companion = make(fake_model, db, settings, steered)
    fake_model.fail_with = BackendUnavailable("Can't reach the model server.")
    turn = companion.reply("are you there?")
    with pytest.raises(BackendUnavailable):
        list(turn)
    assert rows(db) == [("user", "are you there?", "complete")]
    assert turn.text == ""
    assert turn.status == "failed"  # final once iteration ends, whichever way it failed


def test_failure_midway_stores_the_partial_reply_as_failed_and_leaves_it_out_later(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    model = DiesMidway()
    companion = make(model, db, settings)
    turn = companion.reply("tell me")
    with pytest.raises(BackendTimeout):
        list(turn)
    assert turn.status == "failed"
    assert rows(db) == [("user", "tell me", "complete"), ("assistant", "I was saying ", "failed")]

    fake = FakeModel()
    again = make(fake, db, settings)
    "".join(again.reply("hello?"))
    assert [m.content for m in fake.calls[-1].messages[PREFIX:]] == ["tell me", "hello?"]


def test_reply_is_stored_complete(fake_model: FakeModel, companion: Companion,
                                  db: Database) -> None:
    fake_model.enqueue("I missed you. How was the sea?")
    turn = companion.reply("I'm back")
    pieces = list(turn)
    assert len(pieces) > 1
    assert "".join(pieces) == turn.text == "I missed you. How was the sea?"
    assert turn.status == "complete"
    assert turn.notice is None
    assert rows(db) == [("user", "I'm back", "complete"),
                        ("assistant", "I missed you. How was the sea?", "complete")]


STORY = ("Once there was a lighthouse. It was lonely, and it sang to the ships at night. "
         "One night a ship sang back. They talked until morning. Then the fog came in.")


@pytest.mark.parametrize("steered", [False, True])
def test_closing_a_turn_midway_stores_what_was_said_as_interrupted(
        tracking: TrackingModel, db: Database, settings: Settings, steered: bool) -> None:
    companion = make(tracking, db, settings, steered)
    tracking.enqueue(STORY)
    turn = companion.reply("tell me a story")
    stream = iter(turn)
    shown = next(stream) + next(stream)
    turn.close()
    assert shown and STORY.startswith(shown) and len(shown) < len(STORY)
    assert turn.status == "interrupted"
    assert turn.text == shown
    assert rows(db)[-1] == ("assistant", shown, "interrupted")
    assert tracking.stream_closes == 1, "the model's stream was closed, generation stopped"

    # Next time she sees that she was cut off.
    "".join(companion.reply("sorry, go on"))
    history = tracking.calls[-1].messages
    assert history[-2] == Message("assistant", shown + " —")


def test_closing_a_turn_before_it_starts_stores_no_reply(companion: Companion,
                                                         db: Database) -> None:
    turn = companion.reply("hi")
    turn.close()
    assert rows(db) == [("user", "hi", "complete")]


@pytest.mark.parametrize("text", ["", " ", "\n\t  \r\n", "\u3000"])
def test_empty_message_is_refused_and_nothing_stored(companion: Companion, db: Database,
                                                     fake_model: FakeModel, text: str) -> None:
    with pytest.raises(EmptyMessage) as caught:
        companion.reply(text)
    assert "empty" in str(caught.value)
    assert caught.value.hint
    assert rows(db) == []
    assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    assert fake_model.calls == []


def test_message_over_the_limit_is_refused_and_nothing_stored(companion: Companion,
                                                              db: Database,
                                                              fake_model: FakeModel) -> None:
    with pytest.raises(MessageTooLong) as caught:
        companion.reply("x" * (MAX_MESSAGE_CHARS + 1))
    assert f"{MAX_MESSAGE_CHARS + 1:,}" in str(caught.value)
    assert "Nothing was stored" in str(caught.value)
    assert rows(db) == []
    assert fake_model.calls == []


def test_a_megabyte_message_is_stored_whole_and_read_in_part(
        companion: Companion, db: Database, fake_model: FakeModel, settings: Settings) -> None:
    text = "BEGIN " + "all the things I never told anyone. " * 28_000 + "END"
    assert len(text) > 1_000_000
    turn = companion.reply(text)
    assert turn.notice is not None
    assert f"{len(text):,} characters" in turn.notice
    assert "saved" in turn.notice
    "".join(turn)
    stored = rows(db)
    assert stored[0] == ("user", text, "complete")
    assert stored[1][0] == "assistant"
    last = fake_model.calls[-1].messages[-1]
    budget = Budget(fake_model.context_size, settings.max_reply_tokens)
    assert last.role == "user"
    assert last.content.startswith("BEGIN") and last.content.endswith("END")
    assert "too long for me to read at once" in last.content
    assert fake_model.count_tokens(last.content) <= budget.message_tokens


def test_unencodable_characters_are_replaced_not_crashed_on(companion: Companion,
                                                            db: Database) -> None:
    "".join(companion.reply("bad \udcff surrogate"))
    assert rows(db)[0] == ("user", "bad ? surrogate", "complete")


# -- recall: the prompt ---------------------------------------------------------------


def test_system_prompt_has_her_name_and_the_setup_and_is_stable(
        fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> None:
    now = [MONDAY_10AM]
    companion = Companion(fake_model, db, settings, clock=lambda: now[0])
    for text in ("hi", "how are you?", "tell me something"):
        "".join(companion.reply(text))
        now[0] += 3600
    systems = [call.messages[0] for call in fake_model.calls]
    assert all(m.role == "system" for m in systems)
    assert systems[0] == systems[1] == systems[2]
    system = systems[0].content
    assert HER_NAME in system and "Theo" in system and HER_REASON in system
    for answer in THEO_ANSWERS.values():
        assert answer in system
    assert "Your name" not in system  # "What Theo told you: - Your name: Theo" read as hers
    # A restart (new Companion) builds the very same prompt.
    restarted = Companion(FakeModel(), db, settings)
    assert restarted.system_prompt()[0] == system


def test_each_prompt_extends_the_previous_one(companion: Companion,
                                              fake_model: FakeModel) -> None:
    for n in range(12):
        "".join(companion.reply(f"message number {n}"))
    for before, after in zip(fake_model.calls, fake_model.calls[1:], strict=False):
        assert after.messages[: len(before.messages)] == before.messages
        assert len(after.messages) == len(before.messages) + 2


def test_newest_user_message_is_last_even_with_a_huge_history(
        companion: Companion, fake_model: FakeModel, db: Database,
        settings: Settings) -> None:
    bulk_history(db, settings.user, [f"old message {n} " + "blah " * 300 for n in range(300)])
    "".join(companion.reply("what now?"))
    messages = fake_model.calls[-1].messages
    assert messages[-1] == Message("user", "what now?")
    assert messages[0].role == "system"
    assert messages[PREFIX].role == "user"
    budget = Budget(fake_model.context_size, settings.max_reply_tokens)
    assert prompt_tokens(fake_model, messages) <= budget.prompt_tokens
    assert len(messages) > PREFIX + 2, "some recent history is still there"


def test_prompt_prefix_stays_stable_in_a_long_conversation(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    """With a large context, hundreds of short messages all fit: the prompt must still
    only grow at its end from turn to turn (so the model reuses its evaluated prefix)."""
    model = FakeModel(context_size=32768)
    bulk_history(db, settings.user, [f"short message {n}" for n in range(420)])
    companion = Companion(model, db, settings)
    for n in range(3):
        "".join(companion.reply(f"and another {n}"))
    first, second, third = (call.messages for call in model.calls)
    assert second[: len(first)] == first
    assert third[: len(second)] == second


def test_greeting_is_none_on_a_first_meeting(companion: Companion,
                                             fake_model: FakeModel, db: Database) -> None:
    assert companion.greet() is None
    assert fake_model.calls == []
    assert rows(db) == []


@pytest.mark.parametrize(("gap", "since", "when"), [
    (3 * DAY, "3 days", "on Monday, in the morning"),
    (DAY + 8 * 3600, "a day", "yesterday, in the morning"),
    (2 * 3600, "about 2 hours", "earlier today, in the morning"),
    (40 * DAY, "about 6 weeks", "on Monday 6 May 2024"),
])
def test_greeting_mentions_the_gap(fake_model: FakeModel, db: Database, settings: Settings,
                                   setup_record: SetupRecord, gap: float, since: str,
                                   when: str) -> None:
    now = [MONDAY_10AM]
    companion = Companion(fake_model, db, settings, clock=lambda: now[0])
    "".join(companion.reply("good night"))
    now[0] = MONDAY_10AM + gap
    later = Companion(fake_model, db, settings, clock=lambda: now[0])
    fake_model.enqueue("There you are! It's been a while.")
    turn = later.greet()
    assert turn is not None
    assert "".join(turn) == "There you are! It's been a while."
    note = fake_model.calls[-1].messages[-1]
    assert note.role == "user"
    assert f"was {since} ago, {when}." in note.content
    assert "Theo" in note.content
    # The earlier exchange is in the prompt, and the greeting is remembered.
    assert [m.content for m in fake_model.calls[-1].messages[PREFIX:PREFIX + 2]] == [
        "good night", "You said: good night"]
    stored = later.log.all()
    assert stored[-1].content == "There you are! It's been a while."
    assert stored[-1].created_at == MONDAY_10AM + gap


def test_introduction_names_her_and_is_stored(companion: Companion, fake_model: FakeModel,
                                              db: Database) -> None:
    fake_model.enqueue("Hi Theo, I'm Juniper.")
    "".join(companion.introduce())
    messages = fake_model.calls[-1].messages
    assert [m.role for m in messages[:1] + messages[PREFIX:]] == ["system", "user"]
    assert HER_NAME in messages[-1].content and "Theo" in messages[-1].content
    assert rows(db) == [("assistant", "Hi Theo, I'm Juniper.", "complete")]


def test_warm_up_prefills_the_prompt_prefix_of_the_next_reply(
        tracking: TrackingModel, db: Database, settings: Settings) -> None:
    companion = make(tracking, db, settings)
    "".join(companion.reply("hello"))
    companion.warm_up()
    "".join(companion.reply("again"))
    (prefilled,) = tracking.prefilled
    assert tracking.calls[-1].messages[: len(prefilled)] == prefilled
    assert tracking.calls[-1].messages[len(prefilled):] == [Message("user", "again")]


def test_not_set_up_is_reported(fake_model: FakeModel, db: Database,
                                settings: Settings) -> None:
    companion = Companion(fake_model, db, settings)
    with pytest.raises(NotSetUp) as caught:
        companion.system_prompt()
    assert "os1 setup" in caught.value.hint


def test_system_prompt_follows_a_new_setup(companion: Companion, fake_model: FakeModel,
                                           db: Database, settings: Settings,
                                           setup_record: SetupRecord) -> None:
    "".join(companion.reply("hi"))
    companion.setups.save(replace(setup_record, companion_name="Wren", created_at=1.0))
    "".join(companion.reply("hi again"))
    assert "Wren" in fake_model.calls[-1].messages[0].content
    assert HER_NAME not in fake_model.calls[-1].messages[0].content


# -- think: options and steering --------------------------------------------------------


def test_options_carry_the_steering_bias_and_reply_budget(
        fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> None:
    steered = make(fake_model, db, settings, steered=True)
    "".join(steered.reply("hi"))
    options = fake_model.calls[-1].options
    assert dict(options.logit_bias) == STEERING.bias
    assert options.max_tokens == settings.max_reply_tokens

    plain = make(fake_model, db, settings, steered=False)
    "".join(plain.reply("hi"))
    assert dict(fake_model.calls[-1].options.logit_bias) == {}


def test_reply_budget_follows_settings(fake_model: FakeModel, db: Database,
                                       settings: Settings, setup_record: SetupRecord) -> None:
    companion = Companion(fake_model, db, replace(settings, max_reply_tokens=3))
    fake_model.enqueue("one two three four five")
    assert "".join(companion.reply("count")) == "one two three "
    assert fake_model.calls[-1].options.max_tokens == 3


def test_a_reply_parroting_the_message_is_regenerated(
        fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> None:
    said = "My sister Ana lives in Porto, she teaches piano."
    fake_model.enqueue(said, "Piano in Porto! Do you ever hear her play?")
    turn = make(fake_model, db, settings, steered=True).reply(said)
    assert "".join(turn) == "Piano in Porto! Do you ever hear her play?"
    assert turn.guard.labels == ("echo",) and len(fake_model.calls) == 2


def test_off_persona_reply_is_regenerated_with_a_reminder(
        fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> None:
    companion = make(fake_model, db, settings, steered=True)
    fake_model.enqueue("As an AI language model, I don't have feelings.",
                       "I felt a little lonely, honestly. Did you?")
    turn = companion.reply("did you miss me?")
    assert "".join(turn) == "I felt a little lonely, honestly. Did you?"
    assert turn.guard.attempts == 2
    first, second = fake_model.calls
    assert first.messages[-1].content == "did you miss me?"
    assert second.messages[-1].content == "did you miss me?"
    assert (second.messages[-2].role, second.messages[-1].role) == ("system", "user")
    assert second.messages[-2].content.startswith("Stay yourself, Juniper")
    assert second.options.temperature > first.options.temperature
    assert second.messages[:-2] == first.messages[:-1]  # the history, unchanged
    assert rows(db)[-1] == ("assistant", "I felt a little lonely, honestly. Did you?",
                            "complete")


def test_she_does_not_call_him_by_a_name_from_his_message_or_by_hers(
        fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> None:
    companion = make(fake_model, db, settings, steered=True)
    fake_model.enqueue("Hey Ana! Porto must be lovely.", "Oh, Juniper, how lovely.",
                       "Porto must be lovely. Does she like teaching there?")
    turn = companion.reply("My sister Ana lives in Porto, she teaches piano.")
    assert "".join(turn) == "Porto must be lovely. Does she like teaching there?"
    assert turn.guard.attempts == 3 and turn.guard.labels == ("misaddress",)
    fake_model.enqueue("Well, Ana, that's lovely.", "Well, Ana, that's lovely.",
                       "Well, Ana, that's lovely. Is she happy there?")
    assert "".join(companion.reply("Ana is happy in Porto.")) == \
        "That's lovely. Is she happy there?"
    fake_model.enqueue("Theo! I missed you too.")  # his own name is his to be called by
    assert "".join(companion.reply("I missed you, Juniper.")) == "Theo! I missed you too."


def test_steered_reply_is_kept_short_unless_more_is_asked_for(
        fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> None:
    companion = make(fake_model, db, settings, steered=True)
    fake_model.enqueue(STORY, STORY)
    short = "".join(companion.reply("how was your night?"))
    assert short == "Once there was a lighthouse. It was lonely, and it sang to the ships at " \
                    "night. One night a ship sang back."
    assert "".join(companion.reply("tell me a story")) == STORY


def test_when_every_attempt_slips_she_says_she_is_lost_for_words(
        fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> None:
    companion = make(fake_model, db, settings, steered=True)
    fake_model.enqueue(*["As an AI language model, I cannot feel."] * 3)
    turn = companion.reply("do you love me?")
    text = "".join(turn)
    assert text == companion.persona.lost_for_words
    assert turn.guard.attempts == 3
    assert rows(db)[-1] == ("assistant", text, "complete")


def test_a_list_on_every_try_is_said_as_sentences_and_stored_as_said(
        fake_model: FakeModel, db: Database, settings: Settings,
        setup_record: SetupRecord) -> None:
    companion = make(fake_model, db, settings, steered=True)
    tips = ("Sure, here are some tips:\n\n1. **Keep a schedule**: the same bedtime.\n"
            "2. Keep the room dark\n")
    fake_model.enqueue(tips, tips, tips)
    turn = companion.reply("Give me tips for sleeping better.")
    text = "".join(turn)
    assert text == "Keep a schedule: the same bedtime. Keep the room dark."
    assert turn.guard.attempts == 3
    assert rows(db)[-1] == ("assistant", text, "complete")
