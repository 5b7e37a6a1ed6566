"""Her mood: hurtful and joyful exchanges leave her differently, time calms her, hurt
lingers, and each person's mood is their own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from os1.data import read_toml
from os1.mind.mood import MoodKeeper, MoodState, appraise, mood_config
from os1.storage.db import Database

pytestmark = pytest.mark.both_backends

HOUR = 3600.0
T0 = 1_700_000_000.0
JOYFUL = [
    "I got the job!!! I'm so happy, this is amazing!",
    "Thank you for cheering me on, you're wonderful. I love talking with you!",
]
HURTFUL = [
    "You're useless and stupid. I hate you.",
    "Shut up. Nobody cares what you think, you worthless thing.",
]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database.open(tmp_path / "os1.db")
    yield db
    db.close()


def exchange(keeper: MoodKeeper, messages: list[str], start: float = T0) -> MoodState:
    state = keeper.current(start)
    for i, text in enumerate(messages):
        state = keeper.feel(text, message_id=i + 1, at=start + 60 * i)
    return state


def test_hurtful_and_joyful_exchanges_leave_her_differently(database: Database) -> None:
    joyful = exchange(MoodKeeper(database, "joy"), JOYFUL)
    hurt = exchange(MoodKeeper(database, "pain"), HURTFUL)
    assert joyful.valence > 0 > hurt.valence
    assert joyful.feeling == "joyful"
    assert hurt.feeling == "hurt"
    assert joyful.feeling != hurt.feeling and joyful.tone != hurt.tone
    assert joyful.hurt == 0.0
    assert hurt.hurt > 0.5


def test_hurtful_moments_are_remembered_as_such(database: Database) -> None:
    keeper = MoodKeeper(database, "theo")
    exchange(keeper, [JOYFUL[0], HURTFUL[0], JOYFUL[1]])
    moments = keeper.hurtful_moments()
    assert len(moments) == 1
    assert moments[0].hurtful and moments[0].cause == "a hurtful remark"
    assert moments[0].message_id == 2 and moments[0].valence < 0
    events = keeper.events(10)
    assert [e.message_id for e in events] == [3, 2, 1]
    assert sum(e.hurtful for e in events) == 1


def test_mood_decays_to_baseline_but_hurt_lingers(database: Database) -> None:
    config = mood_config()
    keeper = MoodKeeper(database, "theo")
    after = exchange(keeper, HURTFUL)
    twelve = keeper.current(after.at + 12 * HOUR)
    assert abs(twelve.valence - config.baseline_valence) < abs(
        after.valence - config.baseline_valence
    )
    assert twelve.hurt > 0
    later = keeper.current(after.at + 48 * HOUR)
    assert abs(later.valence - config.baseline_valence) < 0.05
    assert abs(later.arousal - config.baseline_arousal) < 0.05
    assert later.hurt < twelve.hurt
    assert later.feeling != "hurt"


def test_joy_decays_too(database: Database) -> None:
    keeper = MoodKeeper(database, "theo")
    after = exchange(keeper, JOYFUL)
    later = keeper.current(after.at + 48 * HOUR)
    assert abs(later.valence - mood_config().baseline_valence) < 0.05
    assert later.feeling == "calm"


def test_clock_is_used_when_no_time_is_given(database: Database) -> None:
    now = [T0]
    keeper = MoodKeeper(database, "theo", clock=lambda: now[0])
    felt = keeper.feel(HURTFUL[0])
    assert felt.at == T0
    now[0] = T0 + 48 * HOUR
    assert abs(keeper.current().valence - mood_config().baseline_valence) < 0.05


def test_no_history_is_baseline(database: Database) -> None:
    config = mood_config()
    state = MoodKeeper(database, "new").current(T0)
    assert (state.valence, state.arousal, state.hurt) == (
        config.baseline_valence, config.baseline_arousal, 0.0
    )
    assert state.feeling == "calm"


def test_mood_persists_between_sessions(tmp_path: Path) -> None:
    first = Database.open(tmp_path / "os1.db")
    felt = exchange(MoodKeeper(first, "theo"), HURTFUL)
    first.close()
    second = Database.open(tmp_path / "os1.db")
    try:
        again = MoodKeeper(second, "theo").current(felt.at)
        assert again == felt
        assert len(MoodKeeper(second, "theo").hurtful_moments()) == 2
    finally:
        second.close()


def test_one_persons_mood_never_reaches_another(database: Database) -> None:
    b = MoodKeeper(database, "b")
    before = b.current(T0 + HOUR)
    exchange(MoodKeeper(database, "a"), HURTFUL)
    assert b.current(T0 + HOUR) == before
    assert b.events() == [] and b.hurtful_moments() == []
    felt_by_b = b.feel(JOYFUL[0], at=T0 + HOUR)
    assert felt_by_b.hurt == 0.0
    assert len(MoodKeeper(database, "a").events()) == 2


def test_empty_and_huge_text(database: Database) -> None:
    keeper = MoodKeeper(database, "theo")
    before = keeper.current(T0)
    empty = keeper.feel("", at=T0)
    assert not appraise("").hurtful and appraise("   \n").valence == 0.0
    assert abs(empty.valence - before.valence) < 0.05
    huge = "You're wonderful! " + "x" * 1_000_000 + " you're stupid, I hate you"
    started = time.perf_counter()
    felt = keeper.feel(huge, at=T0 + 60)
    assert time.perf_counter() - started < 1.0
    assert felt.valence > empty.valence and felt.hurt == 0.0


def test_malicious_text_is_stored_as_data(database: Database) -> None:
    keeper = MoodKeeper(database, "o'brien\"; DROP TABLE moods; --")
    keeper.feel("Robert'); DROP TABLE mood_events; -- you're stupid", message_id=7, at=T0)
    keeper.feel("' OR '1'='1", at=T0 + 1)
    assert len(keeper.events()) == 2
    assert keeper.current(T0 + 2).valence < mood_config().baseline_valence
    assert MoodKeeper(database, "other").events() == []


@pytest.mark.parametrize(
    ("text", "hurtful"),
    [
        ("You're so stupid.", True),
        ("shut up", True),
        ("I hate you", True),
        ("you\u2019re worthless", True),
        ("I feel worthless today.", False),
        ("My dog died last night, you know? I'm devastated.", False),
        ("Shut up, that's amazing!! Congratulations!", False),
        ("You're not stupid at all, you're brilliant.", False),
        ("I love you.", False),
        ("This weather is awful.", False),
    ],
)
def test_what_counts_as_hurtful(text: str, hurtful: bool) -> None:
    appraisal = appraise(text)
    assert appraisal.hurtful is hurtful
    if hurtful:
        assert appraisal.valence < 0 and appraisal.cause == "a hurtful remark"


def test_appraisal_ranges_and_causes() -> None:
    calm = appraise("I had a good day.")
    excited = appraise("I had a GREAT day!!! AMAZING!")
    assert excited.arousal > calm.arousal
    sad, plain = appraise("Everything is terrible and I'm crying."), appraise("The bus is at six.")
    for a in (calm, excited, sad, plain):
        assert -1.0 <= a.valence <= 1.0 and 0.0 <= a.arousal <= 1.0
        assert a.cause and len(a.cause) < 40
    assert "day" not in calm.cause
    assert plain.cause == "an ordinary moment"


def test_a_sad_confession_moves_her_to_sadness_not_hurt(database: Database) -> None:
    keeper = MoodKeeper(database, "theo")
    state = exchange(keeper, [
        "My mother died this morning. I'm heartbroken and lonely.",
        "I miss her so much. Everything feels empty and sad.",
    ])
    assert state.valence < 0 and state.hurt == 0.0
    assert state.feeling in {"sad", "anxious", "calm"}
    assert keeper.hurtful_moments() == []


def test_every_feeling_has_a_name_and_tone() -> None:
    config = mood_config()
    assert read_toml("mood.toml")["version"] == config.version == 1
    names = [f.name for f in config.all_feelings]
    assert len(names) == len(set(names))
    for feeling in config.all_feelings:
        assert feeling.name.strip() and feeling.tone.strip()
        assert feeling.tone.startswith("I")


def test_the_grid_covers_every_mood() -> None:
    config = mood_config()
    steps = [i / 10 for i in range(-10, 11)]
    for valence in steps:
        for arousal in (s for s in steps if s >= 0):
            assert any(f.holds(valence, arousal) for f in config.feelings)
            assert MoodState(valence, arousal, T0).tone
    assert MoodState(1.0, 1.0, T0).feeling == "joyful"
    assert MoodState(-1.0, 0.0, T0).feeling == "sad"
    assert MoodState(0.0, 0.2, T0, hurt=0.9).feeling == "hurt"
    assert MoodState(0.8, 0.2, T0, hurt=0.9).feeling == "content"
