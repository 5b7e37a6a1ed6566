"""Keeping her in character: a logit bias against assistant-speak, a few hard rules for
replies that slipped anyway (markup, a vendor's name, speaking as him), her critic's ear
for everything else (``critic.py``), and a streaming guard that asks again or cuts.

Why a guard on the stream rather than a check afterwards: replies are shown as they are
generated, so a bad opening has to be caught before it reaches the screen. The guard lets
her reply out a whole sentence at a time, each once it has been heard.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Generator, Iterator
from dataclasses import dataclass
from typing import Protocol

from os1.data import read_text, read_toml
from os1.llm.base import GenerateOptions
from os1.mind.addressing import Addressing
from os1.mind.echo import echoes, may_echo
from os1.mind.form import FormReader
from os1.mind.perspective import Perspective
from os1.mind.spoken import Repair

SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")
# A sentence end that is certainly one: punctuation, closing quotes, then a space.
COMPLETE_SENTENCE = re.compile(r"[.!?…][\"”’)]*(?=\s)")
WORD = re.compile(r"\S+")
CLAUSE_END = re.compile(r"[,;:—–](?=\s)")
# "1." opening a line is a list's number, not the end of a sentence.
LIST_NUMBER = re.compile(r"(?:\A|\n)\s*\d{1,2}[.)]\Z")


@dataclass(frozen=True)
class Sampling:
    """How her replies are sampled (``steering.toml`` ``[sampling]``): llama.cpp's
    penalties keep the small model from looping; each regeneration runs a little hotter."""

    temperature: float
    temperature_step: float
    top_p: float
    min_p: float
    repeat_penalty: float
    presence_penalty: float
    frequency_penalty: float

    def options(self, max_tokens: int, attempt: int, bias: dict[str, float],
                grammar: str | None) -> GenerateOptions:
        return GenerateOptions(
            max_tokens=max_tokens, temperature=self.temperature + self.temperature_step * attempt,
            top_p=self.top_p, min_p=self.min_p, repeat_penalty=self.repeat_penalty,
            presence_penalty=self.presence_penalty, frequency_penalty=self.frequency_penalty,
            logit_bias=bias, grammar=grammar)


@dataclass(frozen=True)
class Steering:
    version: int
    bias: dict[str, float]
    patterns: dict[str, str]
    max_sentences: int
    asks_for_more: str
    first_clause_words: int
    repair: Repair
    sampling: Sampling
    form: FormReader
    minds: frozenset[str]
    modifiers: frozenset[str]
    not_names: frozenset[str] = frozenset()
    plain: frozenset[str] = frozenset()

    @classmethod
    def load(cls) -> Steering:
        data = read_toml("steering.toml")
        return cls(
            version=int(data["version"]),
            bias={str(k): float(v) for k, v in data["bias"].items()},
            patterns={**{str(k): str(v) for k, v in data["detect"].items()},
                      "recites": recital_pattern()},
            max_sentences=int(data["brevity"]["max_sentences"]),
            asks_for_more=str(data["brevity"]["unless"]),
            first_clause_words=int(data["brevity"]["first_clause_words"]),
            not_names=frozenset(str(w).lower() for w in data["addressing"]["not_names"]),
            repair=Repair.from_patterns(str(data["repair"]["opener"]),
                                        str(data["repair"]["lead_in"])),
            sampling=Sampling(**{k: float(v) for k, v in data["sampling"].items()}),
            form=FormReader.load(),
            minds=frozenset(str(w).lower() for w in data["perspective"]["minds"]),
            modifiers=frozenset(str(w).lower() for w in data["perspective"]["modifiers"]),
            plain=frozenset(str(w).lower() for w in data["perspective"]["plain"]),
        )

    def sentence_limit(self, message: str) -> int | None:
        """How many sentences a reply to ``message`` may have (None: as many as needed)."""
        if re.search(self.asks_for_more, message, re.IGNORECASE):
            return None
        return self.max_sentences

    def detector(self, name: str, user_name: str = "") -> OffPersonaDetector:
        return OffPersonaDetector(self.patterns, name, user_name)


# Her notes' own wording (not the memories in them, which she may well say back): five
# words of it in a row in a reply are her reading her notes out ("Theodore is asking about
# their own life.", said to him in the companion benchmark).
NOTE_FRAMES = ("about_them.txt", "someone_else.txt", "he_said_earlier.txt",
               "he_told_me.txt", "memory_notes.txt", "mood_note.txt", "spoken.txt")
RECITED_WORDS = 5


def recital_pattern() -> str:
    """Every run of ``RECITED_WORDS`` words of the notes' fixed wording, as one pattern."""
    runs: set[str] = set()
    for name in NOTE_FRAMES:
        for fragment in re.split(r"\{[a-z_]+\}", read_text(f"prompts/{name}")):
            found = re.findall(r"[a-z']+", fragment.lower())
            runs.update(r"\W+".join(map(re.escape, found[i:i + RECITED_WORDS]))
                        for i in range(len(found) - RECITED_WORDS + 1))
    return r"\b(?:" + "|".join(sorted(runs)) + r")\b"


class OffPersonaDetector:
    """Finds assistant-speak, markup and third-person self-reference in a reply."""

    def __init__(self, patterns: dict[str, str], name: str, user_name: str = "") -> None:
        """``{name}`` in a pattern stands for hers, ``{user}`` for his."""
        flags = re.IGNORECASE | re.MULTILINE
        never = r"\b\B"
        self._patterns = {
            label: re.compile(pattern.replace("{name}", re.escape(name) if name else never)
                              .replace("{user}", re.escape(user_name) if user_name else never),
                              flags)
            for label, pattern in patterns.items()
        }

    def labels(self, text: str, skip: Collection[str] = ()) -> list[str]:
        text = _plain_quotes(text)
        return [label for label, p in self._patterns.items()
                if label not in skip and p.search(text)]

    def first_match_start(self, text: str, skip: Collection[str] = ()) -> int | None:
        text = _plain_quotes(text)
        starts = [m.start() for label, p in self._patterns.items()
                  if label not in skip and (m := p.search(text))]
        return min(starts) if starts else None


def _plain_quotes(text: str) -> str:
    """Typographic apostrophes as plain ones (same length, so positions still hold)."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


@dataclass
class GuardReport:
    """What the guard did to the last reply, for logs and the benchmark."""

    attempts: int = 0
    cut: bool = False
    capped: bool = False
    labels: tuple[str, ...] = ()


class Ear(Protocol):
    """What hears each sentence before she says it (the critic, for one turn)."""

    def slips(self, sentence: str, index: int) -> bool:
        """``index``: the sentence's place in her reply, from 0."""
        ...


@dataclass
class _Said:
    """What one attempt has let out so far."""

    text: str = ""
    first_end: int = 0  # where her first sentence, as shown, ends

    @property
    def sentences(self) -> int:
        return len(COMPLETE_SENTENCE.findall(self.text + " "))


def guarded_stream(
    generate: Callable[[int], Iterator[str]],
    detector: OffPersonaDetector,
    report: GuardReport,
    max_attempts: int = 3,
    max_sentences: int | None = None,
    first_clause_words: int | None = None,
    echo_of: str = "",
    addressing: Addressing | None = None,
    repair: Repair | None = None,
    ear: Ear | None = None,
    perspective: Perspective | None = None,
    misplaced_opening: Callable[[str], bool] | None = None,
) -> Iterator[str]:
    """Yield a reply sentence by sentence, each let out only once it is whole and heard:
    by the ``detector`` (markup, a vendor's name, a speaker label), by the ``ear`` (her
    critic), by the echo check (a reply that opens by repeating ``echo_of``, his message,
    word for word) and by ``addressing`` (calling him by someone else's name). A first
    sentence that slips is asked for again (``generate(attempt)``) before anything was
    shown; on the last try the ear's verdict on it is let go (better said than nothing)
    and a misplaced name is dropped. A later sentence that slips ends the reply before
    it. With ``max_sentences`` the reply also ends after that many sentences; with
    ``first_clause_words`` a first clause of at least that many words is let out before
    its sentence ends (her first words come sooner). With
    ``repair``, an opening "Sure," is dropped rather than asked again over, and the last
    try is read as speech, without markup. With ``perspective``, a first sentence that
    answers his question about himself as if about herself ("I write letters") is asked
    for again, and on the last try turned round ("You write letters"). With
    ``misplaced_opening`` (her tact), her opening words, before anything else is said,
    that it finds out of place ("Oh, that's great." after a long day) are asked for
    again, and on the last try let go."""
    for attempt in range(max_attempts):
        report.attempts = attempt + 1
        last_try = attempt == max_attempts - 1
        raw = stream = generate(attempt)
        if repair is not None:
            stream = repair.without_opener(repair.spoken(raw) if last_try else raw)
        guard = _Attempt(detector, report, last_try, max_sentences, first_clause_words,
                         echo_of, addressing, repair, ear, perspective, misplaced_opening)
        try:
            again = yield from guard.run(stream)
        finally:
            for opened in (stream, raw):
                close = getattr(opened, "close", None)
                if close is not None:
                    close()
        if not again:
            return


@dataclass
class _Attempt:
    """One try at a reply (see ``guarded_stream``)."""

    detector: OffPersonaDetector
    report: GuardReport
    last_try: bool
    max_sentences: int | None
    first_clause_words: int | None
    echo_of: str
    addressing: Addressing | None
    repair: Repair | None
    ear: Ear | None
    perspective: Perspective | None
    misplaced_opening: Callable[[str], bool] | None = None

    def run(self, stream: Iterator[str]) -> Generator[str, None, bool]:
        """Yields what she says; returns True to ask for another try."""
        said = _Said()
        held = ""
        for piece in stream:
            held += piece
            slip = self._slip(said, said.text + held)
            if slip is not None:
                self.report.labels = slip[1]
                if not said.text and not self.last_try:
                    return True
                self.report.cut = True
                tail = _ending_before(said.text + held, slip[0], len(said.text))
                yield from self._say(said, _chunks(tail))
                return False
            ready = _releasable(held, first=not said.text,
                                first_clause_words=self.first_clause_words)
            if not said.text and may_echo(held, self.echo_of):
                ready = ""  # not yet known whether it is his message said back
            held = held[len(ready):]
            verdict = yield from self._say(said, _chunks(ready))
            if verdict is not None:
                return verdict
        verdict = yield from self._say(said, _chunks(held) if held.strip() else [])
        return bool(verdict)

    def _slip(self, said: _Said, text: str) -> tuple[int, tuple[str, ...]] | None:
        return _slip(text, said.text, said.first_end, self.detector, self.echo_of,
                     self.addressing, names_dropped=self.last_try)

    def _about_him(self, chunk: str) -> tuple[str, bool] | None:
        """Her first sentence, answering his question about himself: None to ask again,
        else the sentence to say (turned round if it mirrored him; on the last try, if it
        made something up or left out the note that answers him, her honest line: that
        note said to him, or "you haven't told me") and whether it is that line."""
        assert self.perspective is not None
        sentence = chunk.strip()
        if self.perspective.mirrors(sentence):
            self.report.labels = ("mirror",)
            if not self.last_try:
                return None
            sentence = self.perspective.turned(sentence)
        slip = "invented" if self.perspective.invents(sentence) else \
            "missed" if self.perspective.misses(sentence) else None
        if slip is not None:  # made up, or her note that answers him not said
            self.report.labels = (slip,)
            return None if not self.last_try else (self.perspective.honest, True)
        if (not_theirs := self.perspective.lent(sentence)) is not None:
            self.report.labels = ("lent",)  # one person's life given to another
            return None if not self.last_try else (not_theirs, True)
        return chunk if sentence == chunk.strip() else sentence, False

    def _say(self, said: _Said, chunks: list[str]) -> Generator[str, None, bool | None]:
        """Let each chunk out if the ear passes it. Returns True to try again, False when
        the reply is over (a slip, or the sentence limit), None to go on."""
        for chunk in chunks:
            index = said.sentences
            if not said.text and self.perspective is not None:
                verdict = self._about_him(chunk)
                if verdict is None:
                    return True
                chunk, honest = verdict
                if honest:  # what followed her made-up answer can't follow this one
                    yield chunk
                    said.text += chunk
                    return False
            if not said.text and not self.last_try and self.misplaced_opening is not None \
                    and self.misplaced_opening(chunk.strip()):
                self.report.labels = ("tact",)
                return True
            if self.ear is not None and self.ear.slips(chunk.strip(), index):
                self.report.labels = ("ear",)
                if index == 0 and not said.text and not self.last_try:
                    return True
                if index > 0 or said.text:
                    self.report.cut = True
                    return False
            shown = chunk
            if self.addressing is not None and not said.text:
                shown = self.addressing.without(chunk).lstrip()
            said.text += shown
            said.first_end = said.first_end or len(said.text)
            if shown:
                yield shown
            if self.max_sentences is not None and said.sentences >= self.max_sentences:
                self.report.capped = True
                return False
        return None


def _chunks(text: str) -> list[str]:
    """``text`` cut after each sentence end (the spaces after it open the next)."""
    out, start = [], 0
    for end in COMPLETE_SENTENCE.finditer(text):
        out.append(text[start:end.end()])
        start = end.end()
    if text[start:]:
        out.append(text[start:])
    return [c for c in out if c]


def _slip(text: str, released: str, first_end: int, detector: OffPersonaDetector,
          echo_of: str, addressing: Addressing | None,
          names_dropped: bool = False) -> tuple[int, tuple[str, ...]] | None:
    """Where ``text`` (``released`` of it shown) slips, and why; None if it doesn't.
    ``names_dropped``: a first sentence calling him by another name is no slip (on the
    last try the name is dropped instead)."""
    start = detector.first_match_start(text)
    if start is not None:
        return start, tuple(detector.labels(text))
    if not released and echoes(text, echo_of):
        return 0, ("echo",)
    if addressing is None:
        return None
    if not released:
        if addressing.find(text) and not names_dropped:
            return 0, ("misaddress",)
        first = COMPLETE_SENTENCE.search(text)
        first_end = first.end() if first else len(text)
    later = addressing.find_later(text, first_end)
    return (later, ("misaddress",)) if later is not None else None


def _releasable(held: str, first: bool, first_clause_words: int | None = None) -> str:
    """The part of ``held`` that is ready to be heard: whole sentences, or for speech a
    first clause long enough to start being said."""
    ends = [m.end() for m in COMPLETE_SENTENCE.finditer(held)
            if not LIST_NUMBER.search(held[: m.end()])]
    if ends:
        return held[: ends[-1]]
    if first and first_clause_words is not None:
        clauses = [c.end() for c in CLAUSE_END.finditer(held)
                   if len(WORD.findall(held[:c.start()])) >= first_clause_words]
        return held[: clauses[0]] if clauses else ""
    return ""


def _ending_before(text: str, violation_start: int, shown: int) -> str:
    """Unshown text up to the last sentence end before the violation; if the shown text
    stops mid-sentence, she trails off with an ellipsis rather than breaking off."""
    ends = [m.end() for m in SENTENCE_END.finditer(text, 0, violation_start)]
    cut = max(ends, default=shown)
    if cut > shown:
        return text[shown:cut]
    return "…" if shown and not SENTENCE_END.search(text[:shown].rstrip()[-1:]) else ""
