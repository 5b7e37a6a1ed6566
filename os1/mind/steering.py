"""Keeping her in character: a logit bias against assistant-speak, a detector for replies
that slipped anyway, and a streaming guard that regenerates or cuts such replies.

Why a guard on the stream rather than a check afterwards: replies are shown as they are
generated, so an off-persona opening ("As an AI language model...") has to be caught
before it reaches the screen. The guard holds back the last few words (a short lookbehind
so that a phrase split across tokens is seen whole) and releases the rest as it comes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from os1.data import read_toml

SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")
WORD = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class Steering:
    version: int
    bias: dict[str, float]
    patterns: dict[str, str]

    @classmethod
    def load(cls) -> Steering:
        data = read_toml("steering.toml")
        return cls(
            version=int(data["version"]),
            bias={str(k): float(v) for k, v in data["bias"].items()},
            patterns={str(k): str(v) for k, v in data["detect"].items()},
        )

    def detector(self, name: str) -> OffPersonaDetector:
        return OffPersonaDetector(self.patterns, name)


class OffPersonaDetector:
    """Finds assistant-speak, markup and third-person self-reference in a reply."""

    def __init__(self, patterns: dict[str, str], name: str) -> None:
        flags = re.IGNORECASE | re.MULTILINE
        self._patterns = {
            label: re.compile(pattern.replace("{name}", re.escape(name) if name else r"\b\B"),
                              flags)
            for label, pattern in patterns.items()
        }

    def labels(self, text: str) -> list[str]:
        return [label for label, p in self._patterns.items() if p.search(text)]

    def first_match_start(self, text: str) -> int | None:
        starts = [m.start() for p in self._patterns.values() if (m := p.search(text))]
        return min(starts) if starts else None


@dataclass
class GuardReport:
    """What the guard did to the last reply, for logs and the benchmark."""

    attempts: int = 0
    cut: bool = False
    labels: tuple[str, ...] = ()


def guarded_stream(
    generate: Callable[[int], Iterator[str]],
    detector: OffPersonaDetector,
    report: GuardReport,
    max_attempts: int = 3,
    lookbehind_words: int = 3,
) -> Iterator[str]:
    """Yield a reply, regenerating (``generate(attempt)``) while an off-persona phrase
    appears before anything was shown, and cutting the reply at the last sentence end
    before the phrase once text has been shown (or on the last attempt)."""
    for attempt in range(max_attempts):
        report.attempts = attempt + 1
        stream = generate(attempt)
        released = ""
        held = ""
        try:
            for piece in stream:
                held += piece
                text = released + held
                start = detector.first_match_start(text)
                if start is not None:
                    report.labels = tuple(detector.labels(text))
                    if not released and attempt < max_attempts - 1:
                        break  # regenerate: nothing shown yet
                    report.cut = True
                    yield _tail_before(text, start, len(released))
                    return
                ready = _releasable(held, lookbehind_words)
                if ready:
                    released += ready
                    held = held[len(ready):]
                    yield ready
            else:
                if held:
                    yield held
                return
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()


def _releasable(held: str, lookbehind_words: int) -> str:
    """The part of ``held`` that can be shown: all but the last few words."""
    words = WORD.findall(held)
    if len(words) <= lookbehind_words:
        return ""
    return "".join(words[: len(words) - lookbehind_words])


def _tail_before(text: str, violation_start: int, shown: int) -> str:
    """Unshown text that ends at the last sentence end before the violation."""
    ends = [m.end() for m in SENTENCE_END.finditer(text, 0, violation_start)]
    cut = max(ends, default=shown)
    return text[shown:cut] if cut > shown else ""
