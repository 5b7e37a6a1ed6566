"""Her mood: a valence/arousal state per person that conversations move, time calms, and
that colours how she talks (a first-person tone line given to the model).

Why valence/arousal and not a list of emotions: two numbers decay and blend smoothly, and
the named feeling is read off a grid in ``os1/data/mood.toml``, so her temperament is data.
Why residual hurt is kept apart: a hurtful remark should outlast the bad mood it caused
(she is over the sulk by evening but still remembers it the next morning). The schema has
no column for it, so it is derived from the hurtful events themselves, each fading with
its own age; those events are never deleted, so hurtful moments stay remembered as such.

Nothing here calls the model; appraisal is VADER, whose lexicon ships in the package.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

from os1.data import read_toml
from os1.storage.db import Connection, Database, Row

HOUR = 3600.0
# Older hurtful events than this many hurt half-lives weigh under 1/4000: not worth reading.
HURT_HORIZON_HALF_LIVES = 12
HURT_EVENTS_READ = 200
_WORD = re.compile(r"[a-z0-9]+")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")


@dataclass(frozen=True)
class Feeling:
    name: str
    tone: str
    valence: tuple[float, float]
    arousal: tuple[float, float]

    def holds(self, valence: float, arousal: float) -> bool:
        return _within(valence, self.valence) and _within(arousal, self.arousal)


@dataclass(frozen=True)
class MoodConfig:
    """``mood.toml``, parsed once; see the file for what each number means."""

    version: int
    baseline_valence: float
    baseline_arousal: float
    valence_half_life_s: float
    arousal_half_life_s: float
    gain: float
    hurtful_gain: float
    min_weight: float
    arousal: dict[str, float]
    max_chars: int
    hurtful: dict[str, Any]
    hurt: dict[str, Any]
    causes: tuple[tuple[float, str], ...]
    hurtful_cause: str
    empty_cause: str
    feelings: tuple[Feeling, ...]

    @classmethod
    def load(cls) -> MoodConfig:
        data = read_toml("mood.toml")
        decay, response, causes = data["decay"], data["response"], data["causes"]
        return cls(
            version=int(data["version"]),
            baseline_valence=float(data["baseline"]["valence"]),
            baseline_arousal=float(data["baseline"]["arousal"]),
            valence_half_life_s=float(decay["valence_half_life_hours"]) * HOUR,
            arousal_half_life_s=float(decay["arousal_half_life_hours"]) * HOUR,
            gain=float(response["gain"]),
            hurtful_gain=float(response["hurtful_gain"]),
            min_weight=float(response["min_weight"]),
            arousal={str(k): float(v) for k, v in data["arousal"].items()},
            max_chars=int(data["appraisal"]["max_chars"]),
            hurtful=dict(data["hurtful"]),
            hurt=dict(data["hurt"]),
            causes=tuple((float(low), str(cause)) for low, cause in causes["by_compound"]),
            hurtful_cause=str(causes["hurtful"]),
            empty_cause=str(causes["empty"]),
            feelings=tuple(_feeling(row) for row in data["feelings"]),
        )

    @property
    def hurt_feeling(self) -> Feeling:
        return Feeling(str(self.hurt["name"]), str(self.hurt["tone"]), (-1.0, 1.0), (0.0, 1.0))

    @property
    def all_feelings(self) -> tuple[Feeling, ...]:
        return (*self.feelings, self.hurt_feeling)

    def feeling_for(self, valence: float, arousal: float, hurt: float) -> Feeling:
        hurt_cfg = self.hurt
        if hurt >= float(hurt_cfg["threshold"]) and valence < float(
            hurt_cfg["unless_valence_above"]
        ):
            return self.hurt_feeling
        for feeling in self.feelings:
            if feeling.holds(valence, arousal):
                return feeling
        return self.feelings[-1]


def _feeling(row: dict[str, Any]) -> Feeling:
    low_v, high_v = row["valence"]
    low_a, high_a = row["arousal"]
    return Feeling(
        str(row["name"]), str(row["tone"]), (float(low_v), float(high_v)),
        (float(low_a), float(high_a)),
    )


def _within(value: float, bounds: tuple[float, float]) -> bool:
    """Min inclusive, max exclusive, except that the top of a scale is inside."""
    low, high = bounds
    return low <= value < high or (value == high and high >= 1.0)


@cache
def mood_config() -> MoodConfig:
    return MoodConfig.load()


# --- appraisal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Appraisal:
    """How one message feels to her: valence in [-1, 1], arousal in [0, 1]."""

    valence: float
    arousal: float
    hurtful: bool
    cause: str


_analyzer: Any = None
_analyzer_lock = threading.Lock()


def _sentiment() -> Any:
    """One analyzer for the process: loading the lexicon takes tens of milliseconds."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


def feeling_words() -> frozenset[str]:
    """The words the sentiment lexicon scores: they judge, they state no fact."""
    return frozenset(_sentiment().lexicon)


def compound(text: str) -> float:
    """VADER's compound score of ``text`` in [-1, 1], from the process's one analyzer."""
    return float(_sentiment().polarity_scores(text)["compound"])


def appraise(text: str) -> Appraisal:
    config = mood_config()
    text = text[: config.max_chars]
    if not text.strip():
        return Appraisal(0.0, config.baseline_arousal, False, config.empty_cause)
    compound = float(_sentiment().polarity_scores(text)["compound"])
    hurtful = is_hurtful(text, compound, config)
    valence = min(compound, float(config.hurtful["max_valence"])) if hurtful else compound
    cause = config.hurtful_cause if hurtful else _cause(compound, config)
    return Appraisal(valence, _arousal(text, valence, config), hurtful, cause)


def _arousal(text: str, valence: float, config: MoodConfig) -> float:
    a = config.arousal
    exclamations = min(text.count("!"), int(a["max_exclamations"]))
    caps = min(len(_CAPS_WORD.findall(text)), int(a["max_caps_words"]))
    per_intensity = a["per_positive_intensity" if valence > 0 else "per_negative_intensity"]
    value = (a["base"] + per_intensity * abs(valence)
             + a["per_exclamation"] * exclamations + a["per_caps_word"] * caps)
    return _clamp(value, 0.0, 1.0)


def _cause(compound: float, config: MoodConfig) -> str:
    for low, cause in config.causes:
        if compound >= low:
            return cause
    return config.causes[-1][1]


def is_hurtful(text: str, compound: float, config: MoodConfig) -> bool:
    """Aimed at her and unkind. Why not just "negative": someone sharing their own pain
    ("my dog died, you know?") must move her to sadness, not make her feel attacked."""
    cfg = config.hurtful
    words = _words(text)
    if compound < float(cfg["playful_compound"]) and _has_phrase(words, cfg["insults"]):
        return True
    if compound > float(cfg["threshold"]):
        return False
    return _harsh_near_you(words, cfg)


def _words(text: str) -> list[str]:
    """Lowercase words without apostrophes, so "you're", "you’re" and "youre" match."""
    plain = re.sub("['\u2018\u2019]", "", text.lower())
    return _WORD.findall(plain)


def _has_phrase(words: Sequence[str], phrases: Sequence[str]) -> bool:
    joined = f" {' '.join(words)} "
    return any(f" {' '.join(_words(phrase))} " in joined for phrase in phrases)


def _harsh_near_you(words: Sequence[str], cfg: dict[str, Any]) -> bool:
    you = {w for phrase in cfg["second_person"] for w in _words(phrase)}
    harsh = {w for phrase in cfg["harsh_words"] for w in _words(phrase)}
    window = int(cfg["window_words"])
    you_at = [i for i, w in enumerate(words) if w in you]
    return any(abs(i - j) <= window for j, w in enumerate(words) if w in harsh for i in you_at)


# --- state -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoodState:
    """Her mood at time ``at``; ``hurt`` in [0, 1] is what is left of hurtful remarks."""

    valence: float
    arousal: float
    at: float
    hurt: float = 0.0

    @property
    def feeling(self) -> str:
        return mood_config().feeling_for(self.valence, self.arousal, self.hurt).name

    @property
    def tone(self) -> str:
        return mood_config().feeling_for(self.valence, self.arousal, self.hurt).tone


@dataclass(frozen=True)
class MoodEvent:
    """One message that moved her; valence and arousal are the message's own appraisal."""

    id: int
    at: float
    message_id: int | None
    valence: float
    arousal: float
    hurtful: bool
    cause: str


class MoodKeeper:
    """Her mood with one person, kept in the database so it outlives the session."""

    def __init__(self, db: Database, user_id: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.user_id = user_id
        self.clock = clock
        self.config = mood_config()

    def current(self, now: float | None = None) -> MoodState:
        return self._state(self.db, self.clock() if now is None else now)

    def feel(self, text: str, message_id: int | None = None,
             at: float | None = None) -> MoodState:
        """Let one message move her. Read, update and record happen in one write
        transaction, so two processes feeling at once never lose a step."""
        at = self.clock() if at is None else at
        appraisal = appraise(text)
        with self.db.transaction() as tx:
            before = self._state(tx, at)
            valence, arousal = self.moved(before, appraisal)
            tx.execute(
                "INSERT INTO moods(user_id, valence, arousal, updated_at) VALUES (?,?,?,?)"
                " ON CONFLICT(user_id) DO UPDATE SET valence=excluded.valence,"
                " arousal=excluded.arousal, updated_at=excluded.updated_at",
                (self.user_id, valence, arousal, at),
            )
            tx.execute(
                "INSERT INTO mood_events(user_id, at, message_id, valence, arousal, hurtful,"
                " cause) VALUES (?,?,?,?,?,?,?)",
                (self.user_id, at, message_id, appraisal.valence, appraisal.arousal,
                 int(appraisal.hurtful), appraisal.cause),
            )
            hurt = self._hurt(tx, at)
        return MoodState(valence, arousal, at, hurt)

    def hurtful_moments(self, limit: int = 10) -> list[MoodEvent]:
        """Most recent first."""
        return self._events("AND hurtful = 1", limit)

    def events(self, limit: int = 50) -> list[MoodEvent]:
        """Most recent first."""
        return self._events("", limit)

    def moved(self, before: MoodState, appraisal: Appraisal) -> tuple[float, float]:
        """Part of the way toward how the message feels: further for a more emotional
        message, and further still for a hurtful one."""
        cfg = self.config
        gain = cfg.hurtful_gain if appraisal.hurtful else cfg.gain
        step = min(1.0, gain * max(abs(appraisal.valence), cfg.min_weight))
        valence = before.valence + step * (appraisal.valence - before.valence)
        arousal = before.arousal + step * (appraisal.arousal - before.arousal)
        return _clamp(valence, -1.0, 1.0), _clamp(arousal, 0.0, 1.0)

    def _state(self, conn: Connection | Database, now: float) -> MoodState:
        cfg = self.config
        row = conn.execute(
            "SELECT valence, arousal, updated_at FROM moods WHERE user_id = ?",
            (self.user_id,),
        ).fetchone()
        hurt = self._hurt(conn, now)
        if row is None:
            return MoodState(cfg.baseline_valence, cfg.baseline_arousal, now, hurt)
        elapsed = max(0.0, now - float(row["updated_at"]))
        valence = decayed(float(row["valence"]), cfg.baseline_valence, elapsed,
                          cfg.valence_half_life_s)
        arousal = decayed(float(row["arousal"]), cfg.baseline_arousal, elapsed,
                          cfg.arousal_half_life_s)
        return MoodState(valence, arousal, now, hurt)

    def _hurt(self, conn: Connection | Database, now: float) -> float:
        """Each hurtful remark still felt, combined so that hurts add up but stay below 1."""
        cfg = self.config.hurt
        half_life = float(cfg["half_life_hours"]) * HOUR
        rows = conn.execute(
            "SELECT at, valence FROM mood_events WHERE user_id = ? AND hurtful = 1"
            " AND at <= ? AND at > ? ORDER BY id DESC LIMIT ?",
            (self.user_id, now, now - HURT_HORIZON_HALF_LIVES * half_life, HURT_EVENTS_READ),
        ).fetchall()
        unhurt = 1.0
        for row in rows:
            size = _clamp(float(cfg["base"]) + float(cfg["per_intensity"])
                          * abs(float(row["valence"])), 0.0, 1.0)
            unhurt *= 1.0 - size * _fade(now - float(row["at"]), half_life)
        return 1.0 - unhurt

    def _events(self, condition: str, limit: int) -> list[MoodEvent]:
        rows = self.db.execute(
            "SELECT id, at, message_id, valence, arousal, hurtful, cause FROM mood_events"
            f" WHERE user_id = ? {condition} ORDER BY at DESC, id DESC LIMIT ?",
            (self.user_id, max(0, limit)),
        ).fetchall()
        return [_event(row) for row in rows]


def _event(row: Row) -> MoodEvent:
    message_id = row["message_id"]
    return MoodEvent(
        id=int(row["id"]), at=float(row["at"]),
        message_id=None if message_id is None else int(message_id),
        valence=float(row["valence"]), arousal=float(row["arousal"]),
        hurtful=bool(row["hurtful"]), cause=str(row["cause"]),
    )


def decayed(value: float, baseline: float, elapsed: float, half_life: float) -> float:
    if elapsed <= 0:
        return value  # exact, so a state read back right away equals the one stored
    return baseline + (value - baseline) * _fade(elapsed, half_life)


def _fade(elapsed: float, half_life: float) -> float:
    return math.pow(0.5, elapsed / half_life)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
