"""Whether a tune the model wrote is one she can keep, and the repairs made in its text.

What is checked (``CHECKS``, by name):
- ``parses``: it is all in the ABC subset the grammar allows (no ties, tuplets, chords
  of notes or words), and music21 reads it and finds notes;
- ``in_key``: every note is in the declared key's scale (no accidental outside the key
  signature);
- ``tonal_centre``: the piece sounds in its key, not only in its key signature (A minor
  and C major share one). music21's key analysis (Krumhansl-Schmuckler) names the declared
  tonic and mode, OR the tonic triad's notes take at least ``TRIAD_SHARE`` of the sounding
  time. Why either: the analysis alone fails short melodies that end on their tonic but
  wander through the relative key, and the triad share alone accepts random notes that
  happen to fall on it; with the cadence check also required, either is enough;
- ``cadence``: the last note is the tonic and the piece ends with the final bar line |];
- ``meter``: every bar holds exactly what the meter allows (only bar 1 may be short: a
  pickup);
- ``bar_count``: the full bars are within ``BAR_TOLERANCE`` of the bars asked for.

Meter and bar count are read from the text itself (as ``repair`` must), with L:1/8, which
the composer's header always sets; the rest from music21, imported only when needed (it
takes seconds).
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from os1.making.music.character import MAX_BARS
from os1.making.records import Character

CHECKS = ("parses", "in_key", "tonal_centre", "cadence", "meter", "bar_count")
TRIAD_SHARE = 0.45
BAR_TOLERANCE = 0.25
LETTERS = "CDEFGAB"
LENGTHS = (Fraction(1), Fraction(2), Fraction(3), Fraction(4), Fraction(6), Fraction(8))
_FIELD = re.compile(r"^(?:[A-Za-z]:|%)")
_TOKEN = re.compile(r"""
    (?P<chord>"[^"\n]*")
  | (?P<deco>![^!\n]*!)
  | (?P<note>(?P<acc>[\^_=]*)(?P<pitch>[A-Ga-g][,']*|[zx])(?P<len>\d*/*\d*))
  | (?P<bar>:*\|[\]|:]*|::|\[\|)
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE)


@dataclass
class Token:
    kind: str  # "chord", "deco", "note", "space" or "other"
    text: str
    pitch: str = ""  # a note's letter with its octave marks, "z" for a rest
    length: Fraction = Fraction(0)  # in eighths
    accidental: str = ""


@dataclass
class Bar:
    tokens: list[Token] = field(default_factory=list)
    closed_by: str = ""

    @property
    def eighths(self) -> Fraction:
        return sum((t.length for t in self.tokens if t.kind == "note"), Fraction(0))

    @property
    def events(self) -> list[Token]:
        return [t for t in self.tokens if t.kind == "note"]

    def text(self) -> str:
        return "".join(t.text for t in self.tokens).strip()


def split_abc(abc: str) -> tuple[str, str]:
    """The header (field lines: X: ... K:, and %% directives) and the body, each a string
    of whole lines; a body line with a comment keeps what comes before the %."""
    head: list[str] = []
    body: list[str] = []
    for line in abc.splitlines():
        if not body and _FIELD.match(line):
            head.append(line)
        elif line.strip() and not line.startswith("%"):
            body.append(line.split("%", 1)[0])
    return "\n".join(head) + "\n", "\n".join(body) + "\n"


def bar_eighths(meter: str) -> Fraction:
    """A full bar's length in eighths (L:1/8): 8 for 4/4, 6 for 3/4 and 6/8."""
    top, _, bottom = meter.partition("/")
    return Fraction(int(top), int(bottom)) * 8


def read_bars(body: str) -> list[Bar]:
    """The body's bars, in order; notes after the last bar line form one more bar."""
    bars, current = [], Bar()
    for match in _TOKEN.finditer(body):
        kind = match.lastgroup or "other"
        if kind == "bar":
            current.closed_by = match.group()
            bars.append(current)
            current = Bar()
        elif kind == "note":
            current.tokens.append(Token("note", match.group(), match.group("pitch"),
                                        _length(match.group("len")), match.group("acc")))
        else:
            current.tokens.append(Token(kind, match.group()))
    if current.events:
        bars.append(current)
    return [bar for bar in bars if bar.tokens and bar.text()]


def _length(text: str) -> Fraction:
    number, slashes, under = re.fullmatch(r"(\d*)(/*)(\d*)", text).groups()  # type: ignore[union-attr]
    top = Fraction(int(number)) if number else Fraction(1)
    if not slashes:
        return top
    return top / (int(under) if under else 2 ** len(slashes))


def step_of(pitch: str) -> int:
    """A pitch's diatonic step: C = 0, c = 7, C, = -7, c' = 14."""
    letter = pitch[0]
    step = LETTERS.index(letter.upper()) + (7 if letter.islower() else 0)
    return step + 7 * pitch.count("'") - 7 * pitch.count(",")


def pitch_of(step: int) -> str:
    octave, letter = divmod(step, 7)
    if octave >= 1:
        return LETTERS[letter].lower() + "'" * (octave - 1)
    return LETTERS[letter] + "," * -octave


def music21_key(character: Character) -> Any:
    """The character's key as music21's ``Key`` (ABC's Bb is music21's B-)."""
    from music21 import key

    tonic = character.key[0] + character.key[1:].replace("b", "-")
    return key.Key(tonic, character.mode)


def check(abc: str, character: Character) -> list[str]:
    """The names of the checks ``abc`` fails, in ``CHECKS`` order; empty when it passes.
    When music21 cannot read it, the checks that need music21 fail too."""
    _, body = split_abc(abc)
    bars = read_bars(body)
    failed = set(_text_failures(body, bars, character))
    notes = _notes(abc)
    if not notes:
        failed.update(("parses", "in_key", "tonal_centre", "cadence"))
    else:
        failed.update(_music_failures(abc, notes, character))
    return [name for name in CHECKS if name in failed]


def _text_failures(body: str, bars: list[Bar], character: Character) -> list[str]:
    failed = []
    if any(t.kind == "other" for bar in bars for t in bar.tokens):
        failed.append("parses")  # outside the subset: ties, tuplets, chords of notes, words
    full = bar_eighths(character.meter)
    if (not any(b.eighths == full for b in bars) or bars[0].eighths > full
            or any(b.eighths != full for b in bars[1:])):
        failed.append("meter")
    counted = sum(1 for b in bars if b.eighths == full)
    if abs(counted - character.bars) > BAR_TOLERANCE * character.bars:
        failed.append("bar_count")
    if not body.rstrip().endswith("|]"):
        failed.append("cadence")
    return failed


def _notes(abc: str) -> list[Any]:
    """music21's notes of ``abc`` (chord symbols and rests left out); none when it cannot
    read it. Why catch everything: music21's ABC reader raises whatever it trips on."""
    from music21 import converter, note

    try:
        with contextlib.redirect_stderr(io.StringIO()):  # its warnings are not his concern
            score = converter.parse(abc, format="abc")
    except Exception:
        return []
    return list(score.recurse().getElementsByClass(note.Note))


def _music_failures(abc: str, notes: list[Any], character: Character) -> list[str]:
    key = music21_key(character)
    failed = []
    scale = {p.pitchClass for p in key.pitches}
    if any(n.pitch.pitchClass not in scale for n in notes):
        failed.append("in_key")
    if not _sounds_in(notes, key):
        failed.append("tonal_centre")
    if notes[-1].pitch.pitchClass != key.tonic.pitchClass:
        failed.append("cadence")
    return failed


def _sounds_in(notes: list[Any], key: Any) -> bool:
    from music21 import stream

    melody: stream.Stream[Any] = stream.Stream([copy.deepcopy(n) for n in notes])
    analysed = melody.analyze("key")
    if analysed.tonic.pitchClass == key.tonic.pitchClass and analysed.mode == key.mode:
        return True
    triad = {key.pitchFromDegree(d).pitchClass for d in (1, 3, 5)}
    total = sum(float(n.quarterLength) for n in notes)
    on_triad = sum(float(n.quarterLength) for n in notes if n.pitch.pitchClass in triad)
    return total > 0 and on_triad / total >= TRIAD_SHARE


def repair(abc: str, character: Character) -> str | None:
    """``abc`` with what can be mended in its text mended: accidentals and unknown marks
    dropped, bars beyond the tolerance (and ``MAX_BARS``) dropped, short bars filled and
    long ones cut to the meter, the last note made the tonic, the final |] written. None
    when nothing changed (what fails can't be mended in the text: start again)."""
    head, body = split_abc(abc)
    bars = [_cleaned(bar) for bar in read_bars(body)]
    bars = [bar for bar in bars if bar.events]
    if not bars:
        return None
    limit = min(MAX_BARS, character.bars if len(bars) > (1 + BAR_TOLERANCE) * character.bars
                else len(bars))
    bars = bars[:limit]
    full = bar_eighths(character.meter)
    for i, bar in enumerate(bars):
        if bar.eighths > full:
            _cut(bar, full)
        if bar.eighths < full and i > 0:
            _fill(bar, full)
    _end_on_tonic(bars[-1], character.key[0], bars)
    mended = head + _written(bars)
    return None if mended == head + body.rstrip("\n") + "\n" else mended


def _cleaned(bar: Bar) -> Bar:
    kept = [t for t in bar.tokens if t.kind in ("chord", "deco", "note", "space")]
    for token in kept:
        if token.kind == "note" and token.accidental:
            token.text, token.accidental = token.text[len(token.accidental):], ""
        if token.kind == "note" and token.pitch == "x":  # an invisible rest is a rest
            token.text, token.pitch = "z" + token.text[1:], "z"
    return Bar(kept, bar.closed_by)


def _cut(bar: Bar, full: Fraction) -> None:
    """Shorten the bar to ``full``: notes wholly past it go, the one across it is cut to
    the longest plain length that fits (a rest makes up the rest)."""
    while bar.eighths > full:
        last = bar.events[-1]
        room = full - (bar.eighths - last.length)
        fitting = [n for n in LENGTHS if n <= room]
        if fitting:
            _set(last, last.pitch, fitting[-1])
        else:  # by identity: an equal note earlier in the bar is not this one
            del bar.tokens[next(i for i, t in enumerate(bar.tokens) if t is last):]


def _fill(bar: Bar, full: Fraction) -> None:
    """Lengthen the last note when that gives a plain length, else add rests."""
    missing = full - bar.eighths
    last = bar.events[-1] if bar.events else None
    if last is not None and last.length + missing in LENGTHS:
        _set(last, last.pitch, last.length + missing)
        return
    for part in _plain_parts(missing):
        bar.tokens.append(Token("space", " "))
        bar.tokens.append(Token("note", "", "z", part))
        _set(bar.tokens[-1], "z", part)


def _plain_parts(length: Fraction) -> list[Fraction]:
    """``length`` as plain lengths, longest first (5 is 4 and 1); halves and smaller last."""
    parts = []
    for plain in reversed(LENGTHS):
        while length >= plain:
            parts.append(plain)
            length -= plain
    if length > 0:
        parts.append(length)
    return parts


def _end_on_tonic(bar: Bar, tonic: str, bars: list[Bar]) -> None:
    """The last note becomes the tonic, of the same length, at the octave nearest the
    note before it (so the melody does not leap at the end)."""
    events = [t for b in bars for t in b.events]
    before = [t for t in events[:-1] if t.pitch != "z"]
    near = step_of(before[-1].pitch) if before else step_of("c")
    tonic_step = LETTERS.index(tonic.upper())
    steps = [tonic_step + 7 * octave for octave in range(-2, 4)]
    _set(bar.events[-1], pitch_of(min(steps, key=lambda s: abs(s - near))), bar.events[-1].length)


def _set(token: Token, pitch: str, length: Fraction) -> None:
    token.pitch, token.length = pitch, length
    token.text = pitch + _length_text(length)


def _length_text(length: Fraction) -> str:
    if length == 1:
        return ""
    if length.denominator == 1:
        return str(length.numerator)
    return f"{length.numerator if length.numerator != 1 else ''}/{length.denominator}"


def _written(bars: list[Bar]) -> str:
    """Four bars a line, each closed by |, the last by |]."""
    lines = []
    for start in range(0, len(bars), 4):
        group = bars[start:start + 4]
        lines.append(" ".join(f"{bar.text()} |" for bar in group))
    return "\n".join(lines)[:-1] + "|]\n"
