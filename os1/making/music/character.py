"""The character of a piece, decided before a note is written: the key, mode, tempo,
meter, dynamics, instrument and length, from what it is about and her mood.

Why decided in code and not by the model: a 1.5B model writes a fair melody when told
what to write, but asked to choose a tempo or a mode it picks the same ones every time.
Sentiment (VADER) gives the mode, word lists in ``os1/data/music.toml`` the energy, and
the same words always give the same piece's character (the key comes from a stable hash
of the text), so "again, but slower" changes only the tempo.

Length: ``length_for(text)`` reads what the words ask ("32 bars", "five minutes", "a
symphony") into a ``Length`` whose ``capped`` says that more was asked than she writes
(``MAX_BARS``), so the caller can say so; ``character_for`` caps it silently.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

from os1.data import read_toml
from os1.making.records import Character

MAX_BARS = 32
DEFAULT_BARS = 16
MIN_BARS = 4

Band = Literal["calm", "middle", "lively"]
Mood = tuple[float, float]

_analyzer: Any = None
_analyzer_lock = threading.Lock()
_EXPLICIT_KEY = re.compile(r"\b([A-G])(#|b|♯|♭| sharp| flat)?[ -](major|minor)\b")
_ACCIDENTALS = {"#": "#", "♯": "#", " sharp": "#", "b": "b", "♭": "b", " flat": "b"}


@cache
def config() -> dict[str, Any]:
    """``music.toml``, read once."""
    return read_toml("music.toml")


def mentions(text: str, phrases: Iterable[str]) -> bool:
    return count(text, phrases) > 0


def count(text: str, phrases: Iterable[str]) -> int:
    """How many of ``phrases`` occur in ``text`` as whole words (each counted once)."""
    lowered = " ".join(text.lower().split())
    return sum(1 for p in phrases if re.search(rf"(?<![\w'])({re.escape(p)})(?![\w'])",
                                               lowered))


@dataclass(frozen=True)
class Length:
    """How long a piece will be: ``bars`` what she writes, ``asked`` what the words asked
    for (None when they asked nothing), ``capped`` whether she writes less than asked."""

    bars: int
    asked: int | None

    @property
    def capped(self) -> bool:
        return self.asked is not None and self.asked > self.bars


def length_for(text: str) -> Length:
    asked = requested_bars(text)
    return Length(clamp_bars(asked if asked is not None else DEFAULT_BARS), asked)


def clamp_bars(bars: int) -> int:
    return max(MIN_BARS, min(MAX_BARS, bars))


def requested_bars(text: str) -> int | None:
    """The bars the words ask for, uncapped: a count ("32 bars"), a duration ("five
    minutes", "a ten-minute symphony"), a huge form ("a symphony": ten minutes), or
    "longer"/"shorter" (twice/half the usual); None when they say nothing of length."""
    data = config()["length"]
    per_minute = int(data["bars_per_minute"])
    for units, scale in ((data["bar_units"], 1.0), (data["minute_units"], per_minute),
                         (data["second_units"], per_minute / 60)):
        number = _number_before(text, units)
        if number is not None:
            return max(1, math.ceil(number * scale))
    if mentions(text, data["huge"]):
        return 10 * per_minute
    if mentions(text, data["longer"]):
        return 2 * DEFAULT_BARS
    if mentions(text, data["shorter"]):
        return DEFAULT_BARS // 2
    return None


def _number_before(text: str, units: Iterable[str]) -> float | None:
    numbers: dict[str, float] = config()["length"]["numbers"]
    words = "|".join(re.escape(w) for w in sorted(numbers, key=len, reverse=True))
    unit = "|".join(re.escape(u) for u in units)
    found = re.search(rf"\b(\d+(?:\.\d+)?|{words})[\s-]+(?:{unit})\b", text.lower())
    if found is None:
        return None
    value = found.group(1)
    return float(value) if value[0].isdigit() else float(numbers[value])


def valence_of(text: str) -> float:
    """VADER's compound score, in [-1, 1]."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                _analyzer = SentimentIntensityAnalyzer()
    return float(_analyzer.polarity_scores(text)["compound"])


def energy_of(text: str) -> float:
    """In [0, 1]: 0.5 for a subject without calm or lively words, each moving it a step."""
    data = config()["energy"]
    moved = count(text, data["lively"]) - count(text, data["calm"])
    return max(0.0, min(1.0, 0.5 + float(data["step"]) * moved))


def band_of(energy: float) -> Band:
    data = config()["energy"]
    if energy < float(data["calm_below"]):
        return "calm"
    if energy > float(data["lively_above"]):
        return "lively"
    return "middle"


def tempo_for(energy: float) -> int:
    """A tempo within the energy's band, higher the more energy within it."""
    data = config()["energy"]
    low, high = float(data["calm_below"]), float(data["lively_above"])
    edges = {"calm": (0.0, low), "middle": (low, high), "lively": (high, 1.0)}
    band = band_of(energy)
    start, end = edges[band]
    slow, fast = (float(t) for t in config()["tempo"][band])
    share = (energy - start) / (end - start) if end > start else 0.0
    return round(slow + max(0.0, min(1.0, share)) * (fast - slow))


def meter_named(text: str) -> str | None:
    for meter, words in config()["meter"]["words"].items():
        if mentions(text, words):
            return str(meter)
    return None


def instrument_named(text: str) -> str | None:
    for name, words in config()["instruments"]["words"].items():
        if mentions(text, words):
            return str(name)
    return None


def program_of(instrument: str) -> int:
    return int(config()["instruments"]["programs"][instrument])


def mode_for(text: str, valence: float) -> Literal["major", "minor"]:
    data = config()["mode"]
    if mentions(text, data["minor"]):
        return "minor"
    if mentions(text, data["major"]):
        return "major"
    return "minor" if valence < float(data["minor_below"]) else "major"


def key_for(text: str, mode: str) -> str:
    """A key the words name ("in D minor"), else one of the mode's by a stable hash."""
    named = _EXPLICIT_KEY.search(text)
    if named is not None and named.group(3) == mode:
        return named.group(1) + _ACCIDENTALS.get(named.group(2) or "", "")
    keys: list[str] = config()["keys"][mode]
    normal = " ".join(text.lower().split()).encode("utf-8")
    return keys[int.from_bytes(hashlib.sha256(normal).digest()[:4], "big") % len(keys)]


def character_for(about: str, mood: Mood | None = None, bars: int | None = None) -> Character:
    """The character of a piece about ``about``; ``mood`` (her valence in [-1, 1],
    arousal in [0, 1]) nudges it, ``bars`` overrides the length the words ask for."""
    weight = float(config()["mode"]["subject_weight"])
    valence, energy = valence_of(about), energy_of(about)
    if mood is not None:
        her_valence, her_arousal = max(-1.0, min(1.0, mood[0])), max(0.0, min(1.0, mood[1]))
        valence = weight * valence + (1 - weight) * her_valence
        energy = weight * energy + (1 - weight) * her_arousal
    band, mode = band_of(energy), mode_for(about, valence)
    instrument = instrument_named(about) or str(
        config()["instruments"]["by_character"][f"{band}_{mode}"])
    return Character(
        key=key_for(about, mode), mode=mode, tempo=tempo_for(energy),
        meter=meter_named(about) or str(config()["meter"][band]),
        program=program_of(instrument), instrument=instrument,
        dynamics=str(config()["dynamics"][band]),
        bars=clamp_bars(bars) if bars is not None else length_for(about).bars)
