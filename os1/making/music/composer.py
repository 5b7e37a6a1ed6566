"""She composes: the model writes the melody of a piece (ABC notation, the body only)
under a grammar, and what it wrote is checked, mended or written again.

Why the model writes only the body: the header (title, meter, tempo, key, instrument) is
decided in code from the character, and the grammar (``os1/data/grammars/abc_body.gbnf``,
made specific here to the piece's bar count, meter and key) holds a 1.5B model to bars
that fit the meter, notes in the key signature, the key's own chords and a last note on
the tonic. The second voice is the chord symbols, which abc2midi plays as accompaniment
("gchords"): the model may write them, and every bar it leaves without one is given the
key's chord that fits its notes (``harmonised``). A backend that ignores grammars (the
fake model in tests) is caught by the checks and the repairs.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources

from os1.data import fill, read_text
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.making.errors import NotWritable
from os1.making.his_words import his_things_as_his, to_him
from os1.making.music.character import config
from os1.making.music.score_check import (
    CHECKS,
    LETTERS,
    Bar,
    bar_eighths,
    check,
    music21_key,
    pitch_of,
    read_bars,
    repair,
    step_of,
)
from os1.making.records import Character, Score

TEMPERATURE = 0.8
TOKENS_PER_EIGHTH = 3  # a note is a letter and a length, with a space; chords take more
TITLE_CHARS = 60
# per mode: the key's chords by role, as (scale degree from 0, quality)
CHORDS = {
    "major": {"I": (0, ""), "ii": (1, "m"), "IV": (3, ""), "V": (4, ""), "V7": (4, "7"),
              "vi": (5, "m")},
    "minor": {"I": (0, "m"), "IV": (3, "m"), "v": (4, "m"), "V": (4, "7"), "VI": (5, ""),
              "VII": (6, "")},
}
# the chords a bar may be given, in order of preference when two fit as well
HARMONY = {"major": ("I", "V", "IV", "vi", "ii"), "minor": ("I", "v", "IV", "VI", "VII")}
_BAR_LINE = re.compile(r"(:*\|[\]|:]*|::|\[\|)")
_FIRST_NOTE = re.compile(r"![^!\n]*!|([\^_=]*[A-Ga-gz])")  # a decoration, or a note
# her sentence: held to one line by a stop at the newline, not by a grammar (a grammar
# that lets nearly every token through still checks each one, several times slower)
WORDS_TOKENS = 60
FIRST_PERSON = frozenset(("i", "i'm", "i've", "i'd", "i'll", "my", "me"))
_PIECE = re.compile(r'^[\s"A-Ga-gz,\'/0-9|\]!:^_=()\[\-<>.]+$')
_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)")


def compose(model: Model, about: str, character: Character, *, attempts: int = 3) -> Score:
    """A checked score of a piece about ``about``; NotWritable when every attempt, mended
    or not, fails a check."""
    messages = [Message("user", prompt(about, character))]
    options = GenerateOptions(max_tokens=token_budget(character), temperature=TEMPERATURE,
                              top_p=0.95, min_p=0.05, grammar=body_grammar(character))
    failed: list[str] = []
    for attempt in range(1, attempts + 1):
        body = body_of(complete(model, messages, options), character)
        abc = header(character, about) + harmonised(body, character)
        failed = check(abc, character)
        if not failed:
            return Score(abc, character, attempt, False, CHECKS)
        mended = repair(abc, character)
        if mended is not None and not check(mended, character):
            return Score(mended, character, attempt, True, CHECKS)
    raise NotWritable(
        f"I couldn't write a piece that holds together in {attempts} tries "
        f"(the last one failed: {', '.join(failed)}).",
        "Ask again, perhaps about something else or in another way.")


def token_budget(character: Character) -> int:
    per_bar = TOKENS_PER_EIGHTH * int(bar_eighths(character.meter)) + 4
    return character.bars * per_bar + 16


def header(character: Character, about: str) -> str:
    """The tune's header, ours and not the model's; its last lines (after K:) set the
    instrument and keep abc2midi's chord accompaniment under the melody."""
    midi = config()["midi"]
    title = re.sub(r"[^\w ,.'!?-]", "", " ".join(about.split()))
    if len(title) > TITLE_CHARS:
        title = title[:TITLE_CHARS].rsplit(" ", 1)[0]
    return (f"X:1\nT:{title or 'Untitled'}\nM:{character.meter}\nL:1/8\n"
            f"Q:1/4={character.tempo}\nK:{character.abc_key}\n"
            f"%%MIDI program {character.program}\n"
            f"%%MIDI chordprog {midi['chord_program']}\n"
            f"%%MIDI chordvol {midi['chord_volume']}\n%%MIDI bassvol {midi['bass_volume']}\n")


def body_of(reply: str, character: Character) -> str:
    """The model's tune body with the piece's dynamics in front: only lines of notes
    (a model without the grammar may add a header, fences or talk)."""
    lines = [line.strip() for line in reply.replace("```", "\n").splitlines()]
    notes = [line for line in lines if line and _PIECE.match(line)
             and not re.match(r"^[A-Za-z]:", line)]
    return f"!{character.dynamics}!" + "\n".join(notes) + "\n"


def chord_names(character: Character) -> dict[str, str]:
    """The key's chords by role ("I", "IV", "V", ...): ``{"I": "Em", "V": "B7", ...}``."""
    key = music21_key(character)
    names = {}
    for role, (degree, quality) in CHORDS[character.mode].items():
        root = key.pitchFromDegree(degree + 1).name.replace("-", "b")
        names[role] = root + quality
    return names


@cache
def _grammar_rules() -> str:
    text = resources.files("os1.data").joinpath("grammars/abc_body.gbnf").read_text("utf-8")
    kept = [line for line in text.splitlines()
            if not re.match(r"^(root|bar|end|tonic|chord) ::=", line)]
    return "\n".join(kept) + "\n"


def body_grammar(character: Character) -> str:
    """The body grammar for this piece: its bars, four a line, each a full bar of its
    meter, chords only the key's own, and the last bar ending on the tonic held for a
    quarter or longer (a cadence by construction)."""
    unit = int(bar_eighths(character.meter))
    parts = [('bar "\\n"' if n % 4 == 0 else 'bar " "') for n in range(1, character.bars)]
    chords = " | ".join(f'"{name}"' for name in sorted(set(chord_names(character).values())))
    endings = " | ".join(f'r{unit - held} tonic "{held}"' if held < unit else f'tonic "{held}"'
                         for held in (2, 3, 4, 6, 8) if held <= unit)
    letter = character.key[0]
    return (f"root ::= {' '.join(parts)} end\n"
            f'bar ::= chord? r{unit} "|"\n'
            f'end ::= chord? ({endings}) " "? "|]"\n'
            f'tonic ::= "{letter}" ","? | "{letter.lower()}"\n'
            f'chord ::= "\\"" ({chords}) "\\""\n' + _grammar_rules())


def prompt(about: str, character: Character) -> str:
    tonic = character.key[0]
    triad = [pitch_of(LETTERS.index(tonic) + d) for d in (0, 2, 4)]
    return fill(read_text("prompts/compose.txt"), about=" ".join(about.split()),
                feeling=feeling(character), key_name=key_name(character),
                meter=character.meter, instrument=character.instrument,
                bars=str(character.bars), eighths=str(int(bar_eighths(character.meter))),
                tonic=tonic, triad=", ".join(triad), example=example(about, character))


def example(about: str, character: Character) -> str:
    """One of the meter's example tunes, chosen by the subject, moved from C to the
    piece's home note letter by letter (the nearest way, up or down)."""
    examples: list[str] = config()["examples"][character.meter]
    digest = hashlib.sha256(" ".join(about.lower().split()).encode("utf-8")).digest()
    template = examples[digest[0] % len(examples)]
    shift = LETTERS.index(character.key[0])
    shift = shift - 7 if shift > 3 else shift
    return re.sub(r"[A-Ga-g][,']*", lambda m: pitch_of(step_of(m.group()) + shift), template)


def harmonised(body: str, character: Character) -> str:
    """``body`` with a chord symbol opening every bar that has none: the key's chord
    whose notes sound longest in the bar (its first note counting double), the tonic's
    in the last bar. Why ours: abc2midi plays them as the accompaniment, and the small
    model seldom writes chords, or writes them at random."""
    names = chord_names(character)
    parts = _BAR_LINE.split(body)
    filled = [i for i in range(0, len(parts), 2) if read_bars(parts[i])]
    for i in filled:
        if '"' in parts[i]:
            continue
        role = "I" if i == filled[-1] else _fitting_role(read_bars(parts[i])[0], character)
        at = next((m.start() for m in _FIRST_NOTE.finditer(parts[i]) if m.group(1)), 0)
        parts[i] = parts[i][:at] + f'"{names[role]}"' + parts[i][at:]
    return "".join(parts)


def _fitting_role(bar: Bar, character: Character) -> str:
    tonic = LETTERS.index(character.key[0])
    weights = dict.fromkeys(range(7), 0.0)
    for n, token in enumerate(t for t in bar.events if t.pitch not in ("z", "x")):
        degree = (LETTERS.index(token.pitch[0].upper()) - tonic) % 7
        weights[degree] += float(token.length) * (2 if n == 0 else 1)
    chords = CHORDS[character.mode]
    return max(HARMONY[character.mode], key=lambda role: sum(
        weights[(chords[role][0] + step) % 7] for step in (0, 2, 4)))


def feeling(character: Character) -> str:
    """The band of the tempo, as she would say it ("slow, quiet", "lively")."""
    middle = config()["tempo"]["middle"]
    band = ("calm" if character.tempo < middle[0]
            else "lively" if character.tempo > middle[1] else "middle")
    return str(config()["words"][f"feeling_{band}"])


def key_name(character: Character) -> str:
    tonic = character.key[0] + {"#": " sharp", "b": " flat"}.get(character.key[1:], "")
    return f"{tonic} {character.mode}"


def her_words(model: Model, about: str, character: Character) -> str:
    """One sentence, hers, on what she tried to capture; a line made from the character
    when the model's is empty or not one first-person sentence."""
    # his words in the second person: "my father's funeral" was copied as hers
    text = fill(read_text("prompts/compose_words.txt"), about=to_him(" ".join(about.split())),
                feeling=feeling(character), instrument=character.instrument,
                key_name=key_name(character))
    reply = complete(model, [Message("user", text)],
                     GenerateOptions(max_tokens=WORDS_TOKENS, temperature=0.7, stop=("\n",),
                                     repeat_penalty=1.1))
    sentence = _first_person_sentence(reply)
    if sentence is not None:
        return his_things_as_his(sentence, about)
    return fill(str(config()["words"]["fallback"]), about=to_him(" ".join(about.split())),
                feeling=feeling(character), key=key_name(character).rsplit(" ", 1)[0],
                mode=character.mode, instrument=character.instrument)


def _first_person_sentence(reply: str) -> str | None:
    text = " ".join(reply.strip().strip('"').split())
    found = _SENTENCE.match(text)
    sentence = found.group(1) if found else text
    words = sentence.split()
    mine = {w.strip(",.;:!?").lower() for w in words} & FIRST_PERSON
    if not 5 <= len(words) <= 45 or not mine or words[0].lower() == "you":
        return None
    if any(mark in sentence for mark in ("|", "ABC", "```", "{", "}")):
        return None
    return sentence if sentence[-1] in ".!?" else sentence + "."
