"""The character of a piece, decided from its subject and her mood."""

from __future__ import annotations

import pytest

from os1.making.music.character import (
    DEFAULT_BARS,
    MAX_BARS,
    MIN_BARS,
    character_for,
    config,
    length_for,
    requested_bars,
)

BEACH = "a happy lively song about our day at the beach"
RAIN = "a slow sad piece about a rainy goodbye"


def test_a_happy_lively_subject_is_a_fast_loud_major_piece() -> None:
    piece = character_for(BEACH)
    assert piece.mode == "major"
    assert 120 <= piece.tempo <= 150
    assert piece.dynamics == "f"
    assert piece.meter == "4/4"
    assert (piece.instrument, piece.program) == ("acoustic guitar", 24)
    assert piece.key in config()["keys"]["major"]
    assert piece.bars == DEFAULT_BARS


def test_a_slow_sad_subject_is_a_slow_quiet_minor_piece() -> None:
    piece = character_for(RAIN)
    assert piece.mode == "minor"
    assert 60 <= piece.tempo <= 80
    assert piece.dynamics == "p"
    assert (piece.instrument, piece.program) == ("cello", 42)
    assert piece.key in config()["keys"]["minor"]


def test_the_same_words_always_give_the_same_character() -> None:
    assert character_for(BEACH) == character_for(BEACH)
    assert character_for(RAIN, (0.2, 0.4)) == character_for(RAIN, (0.2, 0.4))


def test_the_key_depends_on_the_subject() -> None:
    subjects = [f"a song about {thing}" for thing in
                ("my cat", "the old bridge", "Sunday morning", "the harbour", "a letter",
                 "the garden", "my sister", "the train home")]
    assert len({character_for(s).key for s in subjects}) >= 3


def test_her_mood_nudges_a_neutral_subject() -> None:
    plain = character_for("a song about my cat")
    assert plain.mode == "major" and 90 <= plain.tempo <= 110
    low = character_for("a song about my cat", mood=(-1.0, 0.0))
    assert low.mode == "minor" and low.tempo < 90
    high = character_for("a song about my cat", mood=(1.0, 1.0))
    assert high.mode == "major" and high.tempo > plain.tempo


def test_her_mood_weighs_less_than_the_subject() -> None:
    assert character_for(BEACH, mood=(-1.0, 0.0)).mode == "major"
    assert character_for(RAIN, mood=(1.0, 1.0)).mode == "minor"


def test_words_name_the_key_instrument_and_meter() -> None:
    piece = character_for("a lullaby on the harp in D minor")
    assert (piece.key, piece.mode, piece.instrument, piece.program) == ("D", "minor", "harp", 46)
    assert piece.meter == "3/4"
    assert character_for("a jig in F sharp major").key == "F#"
    assert character_for("a jig in F sharp major").meter == "6/8"


@pytest.mark.parametrize(("text", "bars"), [
    ("a song about the sea", None),
    ("a 32 bars tune", 32),
    ("twelve bars about my walk", 12),
    ("a five minute piece", 125),
    ("a ten-minute symphony about stars", 250),
    ("a thirty second jingle", 13),
    ("a symphony about the city", 250),
    ("a longer song about summer", 2 * DEFAULT_BARS),
    ("a short tune about tea", DEFAULT_BARS // 2),
])
def test_requested_bars_reads_counts_durations_and_forms(text: str, bars: int | None) -> None:
    assert requested_bars(text) == bars


def test_lengths_beyond_the_cap_are_capped_and_say_so() -> None:
    asked = length_for("a ten-minute symphony about the sea")
    assert asked.bars == MAX_BARS and asked.capped and asked.asked == 250
    plain = length_for("a song about the sea")
    assert plain.bars == DEFAULT_BARS and not plain.capped
    assert not length_for("a 24 bars tune").capped
    assert character_for("a ten-minute symphony about the sea").bars == MAX_BARS
    assert character_for("a song", bars=100).bars == MAX_BARS
    assert character_for("a song", bars=1).bars == MIN_BARS
    assert character_for("a song", bars=8).bars == 8
