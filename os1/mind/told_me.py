"""Which of her notes answers his question about himself, and how she says it to him.

Asked "What do I do for a living?" the morning after he told her, her notes held "Theo
writes letters for other people at work", ranked first, and the 1.5B model still
answered "You work as a software engineer" on every try (perspective.py caught it, and
she said she didn't know). The note answers by meaning, not by words, and similarity
alone could not tell it from a note that doesn't answer (``data/told_me.toml`` has the
numbers), so her model is asked of each of the nearest few: does this note answer
his question? One letter under a grammar, Y or N, the way intent_choice.py asks.

The note found is quoted beside his question, and is what she says on the guard's last
try instead of "you haven't told me": "You write letters for other people at work, you
told me." (``told_him`` turns it to him). Without one, or with one not plainly about
him, she stays honest.

Asking costs her model's evaluated conversation (llama.cpp keeps one prompt), so the
next reply reads it again: a question about himself with notes to check is slower.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from os1.data import fill, read_toml
from os1.errors import OS1Error
from os1.llm.base import GenerateOptions, Message, Model, complete

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToldMe:
    """The question put to the model (``data/told_me.toml``): which memory kinds are
    notes he told her, how many of the nearest are checked, and the prompt's words."""

    kinds: tuple[str, ...]
    candidates: int
    system: str
    question: str
    yes: str
    no: str
    examples: tuple[tuple[str, str, str], ...]

    @classmethod
    def load(cls) -> ToldMe:
        data = read_toml("told_me.toml")
        return cls(tuple(str(k) for k in data["kinds"]), int(data["candidates"]),
                   str(data["system"]), str(data["question"]), str(data["yes"]),
                   str(data["no"]),
                   tuple((str(e["question"]), str(e["note"]), str(e["answer"]))
                         for e in data["example"]))

    def prompt(self, question: str, note: str) -> list[Message]:
        """The instructions and examples first, so llama.cpp reuses them note to note."""
        messages = [Message("system", self.system)]
        for asked, written, answer in self.examples:
            messages += [Message("user", fill(self.question, question=asked, note=written)),
                         Message("assistant", answer)]
        return [*messages, Message("user", fill(self.question, question=question, note=note))]

    def answers(self, model: Model, question: str, note: str) -> bool:
        """Whether the model reads ``note`` as answering ``question`` (a backend that
        ignores grammars and says anything else: no)."""
        grammar = f"root ::= {json.dumps(self.yes)} | {json.dumps(self.no)}"
        said = complete(model, self.prompt(question, note),
                        GenerateOptions(max_tokens=1, temperature=0.0, top_p=1.0,
                                        grammar=grammar))
        return said.strip() == self.yes

    def answering(self, model: Model, question: str, notes: Sequence[str]) -> str | None:
        """The first of ``notes`` (nearest first) that answers ``question``; None when
        none does, or the model fails (she then answers as she would have)."""
        try:
            return next((note for note in notes[:self.candidates]
                         if self.answers(model, question, note)), None)
        except OS1Error as exc:
            log.warning("Could not ask which note answers him (%s).", exc)
            return None


@cache
def told_me() -> ToldMe:
    return ToldMe.load()


@dataclass(frozen=True)
class Turning:
    """How a note about him is said to him (``data/told_me.toml`` ``[turning]``)."""

    verbs: dict[str, str]
    adverbs: frozenset[str]
    pronouns: frozenset[str]

    @classmethod
    def load(cls) -> Turning:
        data = read_toml("told_me.toml")["turning"]
        return cls({str(k): str(v) for k, v in data["verbs"].items()},
                   frozenset(str(w) for w in data["adverbs"]),
                   frozenset(str(w) for w in data["pronouns"]))

    def verb(self, word: str) -> str:
        """"writes" as said to him: "write" ("teaches" "teach", "tries" "try", "is"
        "are"); a word of another tense ("wrote", "can") stays."""
        lowered = word.lower()
        if lowered in self.verbs:
            return self.verbs[lowered]
        if lowered.endswith("ies") and len(lowered) > 4:
            return word[:-3] + "y"
        if lowered.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
            return word[:-2]
        if lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
            return word[:-1]
        return word

    def said_to_him(self, rest: str, possessive: bool) -> str | None:
        """What follows his name, said to him: its verb in the second person (after any
        "still"); None where a pronoun in it may be his or another's."""
        found = rest.split(" ")
        if any(w.strip(",;:").lower() in self.pronouns for w in found):
            return None
        if not possessive:
            at = 0
            while at < len(found) - 1 and (found[at].lower() in self.adverbs
                                            or found[at].lower().endswith("ly")):
                at += 1
            found[at] = self.verb(found[at])
        return ("Your " if possessive else "You ") + " ".join(found)


@cache
def _turning() -> Turning:
    return Turning.load()


def told_him(note: str, name: str) -> str | None:
    """``note`` said to him, without its full stop: "Theo writes letters for other people
    at work." becomes "You write letters for other people at work", "Theo's sister lives
    in Lisbon" "Your sister lives in Lisbon". None for a note that doesn't open with his
    name (or "he"/"she"): it is not plainly about him; and for one with a pronoun after
    it ("to his grandmother": whose?)."""
    text = " ".join(note.replace("\u2019", "'").split()).rstrip(" .!")
    names = [re.escape(n) for n in dict.fromkeys([name.strip(), *name.split()[:1]]) if n]
    opening = re.match(rf"(?:(?:{'|'.join(names)})('s)?|he|she)\s+(?=\S)", text,
                       re.IGNORECASE)
    if not names or opening is None:
        return None
    return _turning().said_to_him(text[opening.end():], bool(opening.group(1)))
