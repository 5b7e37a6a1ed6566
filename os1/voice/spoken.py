"""What she actually got to say: sentences played whole, and the part of the one she was
cut off in, measured by how much of its audio went out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class SpokenRecord:
    done: list[str] = field(default_factory=list)
    current: str = ""
    fraction: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def playing(self, sentence: str, fraction: float) -> None:
        with self._lock:
            self.current, self.fraction = sentence, fraction

    def played(self, sentence: str) -> None:
        with self._lock:
            self.done.append(sentence)
            self.current, self.fraction = "", 0.0

    def text(self) -> str:
        """Whole sentences, then the words of the cut one in proportion to its audio
        played (speech runs at a roughly even pace of words)."""
        with self._lock:
            words = self.current.split()
            heard = words[:int(len(words) * self.fraction)]
            return " ".join([*self.done, *([" ".join(heard)] if heard else [])])
