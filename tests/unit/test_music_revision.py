"""A piece's character changed by what he asks of it."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from os1.making.music.character import MAX_BARS, MIN_BARS
from os1.making.music.revision import TEMPO_MAX, TEMPO_MIN, revised
from os1.making.records import Character

PIECE = Character(key="G", mode="major", tempo=100, meter="4/4", program=0,
                  instrument="piano", dynamics="mf", bars=16)


def test_slower_and_faster_scale_the_tempo() -> None:
    assert revised(PIECE, "slower please") == dataclasses.replace(PIECE, tempo=75)
    assert revised(PIECE, "can you make it faster?") == dataclasses.replace(PIECE, tempo=133)


def test_the_tempo_stays_within_its_limits() -> None:
    slow = revised(dataclasses.replace(PIECE, tempo=60), "slower")
    fast = revised(dataclasses.replace(PIECE, tempo=170), "faster")
    assert slow is not None and slow.tempo == TEMPO_MIN
    assert fast is not None and fast.tempo == TEMPO_MAX


@pytest.mark.parametrize(("request_", "mode"), [
    ("happier", "major"), ("make it brighter", "major"),
    ("sadder", "minor"), ("darker, please", "minor")])
def test_happier_is_major_and_sadder_minor_in_the_same_key(request_: str,
                                                           mode: Literal["major", "minor"]
                                                           ) -> None:
    start = dataclasses.replace(PIECE, mode="minor" if mode == "major" else "major")
    changed = revised(start, request_)
    assert changed == dataclasses.replace(start, mode=mode)


def test_longer_and_shorter_change_the_bars_within_limits() -> None:
    assert revised(PIECE, "longer") == dataclasses.replace(PIECE, bars=MAX_BARS)
    assert revised(PIECE, "make it shorter") == dataclasses.replace(PIECE, bars=8)
    longest = dataclasses.replace(PIECE, bars=MAX_BARS)
    assert revised(longest, "longer") == longest
    shortest = dataclasses.replace(PIECE, bars=MIN_BARS)
    assert revised(shortest, "shorter") == shortest


def test_softer_and_louder_move_one_step() -> None:
    assert revised(PIECE, "softer") == dataclasses.replace(PIECE, dynamics="p")
    assert revised(PIECE, "louder") == dataclasses.replace(PIECE, dynamics="f")
    quiet = dataclasses.replace(PIECE, dynamics="p")
    assert revised(quiet, "quieter") == quiet


@pytest.mark.parametrize(("request_", "instrument", "program"), [
    ("play it on the violin", "violin", 40), ("on guitar", "acoustic guitar", 24),
    ("try it on the cello", "cello", 42)])
def test_an_instrument_named_is_the_instrument(request_: str, instrument: str,
                                               program: int) -> None:
    assert revised(PIECE, request_) == dataclasses.replace(PIECE, instrument=instrument,
                                                           program=program)


def test_several_changes_at_once() -> None:
    assert revised(PIECE, "slower, sadder and on the flute") == dataclasses.replace(
        PIECE, tempo=75, mode="minor", instrument="flute", program=73)


@pytest.mark.parametrize("request_", ["make it about my dog", "I love it", "again"])
def test_a_request_asking_no_known_change_is_none(request_: str) -> None:
    assert revised(PIECE, request_) is None
