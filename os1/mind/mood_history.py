"""Her mood with one person over time, for the web page's chart.

Only the appraisals of the messages that moved her are stored, not her mood after each,
so the course is replayed from them exactly as ``MoodKeeper.feel`` moved it (fading
toward her baseline between messages), ending with her mood now.
"""

from __future__ import annotations

from dataclasses import dataclass

from os1.mind.mood import Appraisal, MoodKeeper, MoodState, decayed


@dataclass(frozen=True)
class MoodPoint:
    at: float
    valence: float
    arousal: float
    feeling: str
    cause: str  # what moved her then; "now" for the last point


def mood_trajectory(keeper: MoodKeeper, limit: int, now: float) -> list[MoodPoint]:
    """Each point the state right after one of the last ``limit`` messages that moved
    her, oldest first, and a last point for ``now``."""
    cfg = keeper.config
    valence, arousal, last = cfg.baseline_valence, cfg.baseline_arousal, None
    points: list[MoodPoint] = []
    for event in reversed(keeper.events(limit)):
        if last is not None:
            elapsed = max(0.0, event.at - last)
            valence = decayed(valence, cfg.baseline_valence, elapsed, cfg.valence_half_life_s)
            arousal = decayed(arousal, cfg.baseline_arousal, elapsed, cfg.arousal_half_life_s)
        valence, arousal = keeper.moved(
            MoodState(valence, arousal, event.at),
            Appraisal(event.valence, event.arousal, event.hurtful, event.cause))
        last = event.at
        points.append(MoodPoint(event.at, valence, arousal,
                                MoodState(valence, arousal, event.at).feeling, event.cause))
    current = keeper.current(now)
    points.append(MoodPoint(now, current.valence, current.arousal, current.feeling, "now"))
    return points
