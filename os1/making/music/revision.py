"""A piece's character changed by what he asks of it ("slower", "happier, on the violin").

Why the character and not the notes: a new version is composed afresh from the changed
character, so "slower" gives a slower piece that is still sure to be in key and to fit
its meter; the words for each change are in ``os1/data/music.toml``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from os1.making.music.character import (
    MAX_BARS,
    MIN_BARS,
    config,
    instrument_named,
    mentions,
    meter_named,
    program_of,
)
from os1.making.records import Character

TEMPO_MIN = 50
TEMPO_MAX = 180


def revised(character: Character, request: str) -> Character | None:
    """``character`` with every change ``request`` asks for; None when it asks none this
    knows. A change already at its limit ("softer" when it is as soft as it goes, "longer"
    at ``MAX_BARS``) gives a character equal to the one given, which the caller can say."""
    words: dict[str, Any] = config()["revision"]
    changes: dict[str, Any] = {}
    changes.update(_tempo(character, request, words))
    changes.update(_mode(request, words))
    changes.update(_length(character, request, words))
    changes.update(_dynamics(character, request, words))
    instrument = instrument_named(request)
    if instrument is not None:
        changes.update(instrument=instrument, program=program_of(instrument))
    meter = meter_named(request)
    if meter is not None:
        changes["meter"] = meter
    if not changes:
        return None
    return dataclasses.replace(character, **changes)


def _tempo(character: Character, request: str, words: dict[str, Any]) -> dict[str, int]:
    if mentions(request, words["slower"]):
        factor = float(words["slower_factor"])
    elif mentions(request, words["faster"]):
        factor = float(words["faster_factor"])
    else:
        return {}
    return {"tempo": max(TEMPO_MIN, min(TEMPO_MAX, round(character.tempo * factor)))}


def _mode(request: str, words: dict[str, Any]) -> dict[str, str]:
    """The parallel key (A minor to A major): the same home note, brighter or darker."""
    if mentions(request, words["major"]):
        return {"mode": "major"}
    if mentions(request, words["minor"]):
        return {"mode": "minor"}
    return {}


def _length(character: Character, request: str, words: dict[str, Any]) -> dict[str, int]:
    if mentions(request, words["longer"]):
        return {"bars": min(MAX_BARS, character.bars * 2)}
    if mentions(request, words["shorter"]):
        return {"bars": max(MIN_BARS, character.bars // 2)}
    return {}


def _dynamics(character: Character, request: str, words: dict[str, Any]) -> dict[str, str]:
    ladder: list[str] = config()["dynamics"]["ladder"]
    step = (1 if mentions(request, words["louder"])
            else -1 if mentions(request, words["softer"]) else 0)
    if step == 0:
        return {}
    at = ladder.index(character.dynamics) if character.dynamics in ladder else 1
    return {"dynamics": ladder[max(0, min(len(ladder) - 1, at + step))]}
