"""Composing with a scripted model: what is asked of it, and what becomes of its replies."""

from __future__ import annotations

import dataclasses
import json
import random
import re

import pytest
from llama_cpp.llama_grammar import LlamaGrammar

from os1.llm.fake import FakeModel
from os1.making.errors import NotWritable
from os1.making.music.composer import (
    body_grammar,
    chord_names,
    compose,
    example,
    harmonised,
    header,
    her_words,
    prompt,
)
from os1.making.music.score_check import CHECKS, check, pitch_of, step_of
from os1.making.records import Character

PIECE = Character(key="G", mode="major", tempo=132, meter="4/4", program=24,
                  instrument="acoustic guitar", dynamics="f", bars=8)
ABOUT = "our day at the beach"
GOOD = ('"G"G2 B2 d2 B2 | "C"c2 e2 "G"d4 | "D"A2 F2 D2 F2 | "G"G2 B2 d4 |\n'
        '"G"B2 d2 g2 d2 | "C"e2 c2 "D"A4 | "G"B2 G2 "D"A2 F2 | "G"G8 |]')
BROKEN = "Here is a lovely song for you!"


def test_a_good_body_is_a_score_at_the_first_attempt() -> None:
    model = FakeModel()
    model.replies.append(GOOD)
    score = compose(model, ABOUT, PIECE)
    assert (score.attempts, score.repaired, score.checks) == (1, False, CHECKS)
    assert score.character == PIECE
    for field in ("M:4/4", "L:1/8", "Q:1/4=132", "K:G", "%%MIDI program 24", "T:our day"):
        assert field in score.abc
    assert "!f!" in score.abc and check(score.abc, PIECE) == []
    call = model.calls[0]
    assert call.options.temperature == pytest.approx(0.8)
    assert call.options.grammar == body_grammar(PIECE)
    assert ABOUT in call.messages[-1].content and "G major" in call.messages[-1].content


def test_a_broken_body_is_written_again() -> None:
    model = FakeModel()
    model.replies.extend([BROKEN, GOOD])
    score = compose(model, ABOUT, PIECE)
    assert (score.attempts, score.repaired) == (2, False)
    assert len(model.calls) == 2


def test_always_broken_is_not_writable() -> None:
    model = FakeModel()
    model.replies.extend([BROKEN] * 3)
    with pytest.raises(NotWritable, match="3 tries"):
        compose(model, ABOUT, PIECE)
    assert len(model.calls) == 3


def test_a_mendable_body_is_repaired() -> None:
    model = FakeModel()
    model.replies.append("```abc\nX:1\nK:G\n" + GOOD.replace('"G"G8 |]', '"G"A8 |') + "\n```")
    score = compose(model, ABOUT, PIECE)
    assert (score.attempts, score.repaired) == (1, True)
    assert score.abc.rstrip().endswith("G8 |]") and check(score.abc, PIECE) == []
    assert score.abc.count("K:") == 1


@pytest.mark.parametrize("character", [
    PIECE, dataclasses.replace(PIECE, meter="3/4", key="E", mode="minor", bars=12),
    dataclasses.replace(PIECE, meter="6/8", key="Bb", bars=32)])
def test_the_grammar_is_for_the_piece_and_llama_cpp_reads_it(character: Character) -> None:
    grammar = body_grammar(character)
    root = grammar.splitlines()[0]
    assert root.count("bar") == character.bars - 1 and root.endswith(" end")
    assert root.count('"\\n"') == (character.bars - 1) // 4
    unit = 8 if character.meter == "4/4" else 6
    assert f"bar ::= chord? r{unit} \"|\"" in grammar
    for name in chord_names(character).values():
        assert f'"{name}"' in grammar
    LlamaGrammar.from_string(grammar, verbose=False)


def test_chords_example_and_prompt_are_in_the_key() -> None:
    assert chord_names(PIECE) == {"I": "G", "ii": "Am", "IV": "C", "V": "D", "V7": "D7",
                                  "vi": "Em"}
    minor = dataclasses.replace(PIECE, key="Bb", mode="minor")
    assert chord_names(minor)["I"] == "Bbm" and chord_names(minor)["VI"] == "Gb"
    shown = example(ABOUT, PIECE)
    assert re.fullmatch(r"[A-Ga-gz,'0-9 |]+", shown) and shown.count("|") == 4
    in_c = example(ABOUT, dataclasses.replace(PIECE, key="C"))
    assert shown == "".join(pitch_of(step_of(m) - 3) if re.fullmatch(r"[A-Ga-g],?", m) else m
                            for m in re.findall(r"[A-Ga-g],?|.", in_c))
    assert shown == example(ABOUT, PIECE)
    text = prompt(ABOUT, PIECE)
    assert "{" not in text and "8 bars in 4/4" in text and "near G" in text
    assert shown in text and ABOUT in text


def test_bars_without_chords_are_given_the_key_chord_that_fits() -> None:
    body = "!f!G2 B2 d2 B2 | c2 e2 c4 | \"Em\"A2 F2 D2 F2 | D2 F2 A2 F2 | B2 A2 G4 |]\n"
    assert harmonised(body, PIECE) == (
        '!f!"G"G2 B2 d2 B2 | "C"c2 e2 c4 | "Em"A2 F2 D2 F2 | "D"D2 F2 A2 F2 | '
        '"G"B2 A2 G4 |]\n')
    minor = dataclasses.replace(PIECE, key="A", mode="minor")
    assert harmonised("A2 c2 e2 c2 | d2 f2 a4 | E2 G2 B4 |]", minor) == (
        '"Am"A2 c2 e2 c2 | "Dm"d2 f2 a4 | "Am"E2 G2 B4 |]')


def test_her_words_are_her_sentence_or_a_line_from_the_character() -> None:
    model = FakeModel()
    model.replies.append("I wanted the waves to keep coming back, like we did. And more.")
    assert her_words(model, ABOUT, PIECE) == (
        "I wanted the waves to keep coming back, like we did.")
    model.replies.append("")
    fallback = her_words(model, ABOUT, PIECE)
    assert "acoustic guitar" in fallback and ABOUT in fallback and "G major" in fallback
    model.replies.append("You will love this song.")
    assert her_words(model, ABOUT, PIECE) == fallback


def test_her_prompt_holds_his_words_said_back_to_him() -> None:
    """His "my" is not hers: the model once wrote "a grieving tune about my father's
    funeral" as her own."""
    model = FakeModel()
    model.replies.append("I tried to hold the quiet of that day.")
    her_words(model, "a quiet, grieving tune about my father's funeral", PIECE)
    asked = model.calls[-1].messages[-1].content
    assert "about: a quiet, grieving tune about your father's funeral" in asked


_GBNF_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\[[^\]]*\]|[\w-]+|[()|?*+]')


def sample(grammar: str, rng: random.Random) -> str:
    """A random string of the grammar's language: a tiny GBNF reader (literals, classes,
    groups, alternatives, ? * +), enough for the body grammar."""
    rules = {}
    for line in grammar.splitlines():
        if "::=" in line and not line.startswith("#"):
            name, _, body = line.partition("::=")
            rules[name.strip()] = _GBNF_TOKEN.findall(body)

    def alternatives(tokens: list[str], at: int) -> tuple[str, int]:
        choices, at = [], at
        out, at = sequence(tokens, at)
        choices.append(out)
        while at < len(tokens) and tokens[at] == "|":
            out, at = sequence(tokens, at + 1)
            choices.append(out)
        return rng.choice(choices), at

    def sequence(tokens: list[str], at: int) -> tuple[str, int]:
        text = ""
        while at < len(tokens) and tokens[at] not in ("|", ")"):
            token = tokens[at]
            if token == "(":
                piece, at = alternatives(tokens, at + 1)
                at += 1
            elif token.startswith('"'):
                piece, at = json.loads(token), at + 1
            elif token.startswith("["):
                piece, at = rng.choice(_expand(token[1:-1])), at + 1
            else:
                piece, at = expand(token), at + 1
            if at < len(tokens) and tokens[at] in "?*+":
                times = {"?": rng.randint(0, 1), "*": rng.randint(0, 2),
                         "+": rng.randint(1, 2)}[tokens[at]]
                piece, at = piece * times, at + 1
            text += piece
        return text, at

    def expand(name: str) -> str:
        return alternatives(rules[name], 0)[0]

    return expand("root")


def _expand(chars: str) -> str:
    out = ""
    for group in re.findall(r".-.|.", chars):
        out += ("".join(chr(c) for c in range(ord(group[0]), ord(group[2]) + 1))
                if len(group) == 3 else group)
    return out


@pytest.mark.parametrize("character", [
    PIECE, dataclasses.replace(PIECE, meter="3/4", key="E", mode="minor", bars=12),
    dataclasses.replace(PIECE, meter="6/8", key="Bb", bars=10)])
def test_whatever_the_grammar_allows_fits_meter_bars_key_and_cadence(
        character: Character) -> None:
    rng = random.Random(7)
    for _ in range(5):
        body = sample(body_grammar(character), rng)
        assert body.count("|") == character.bars and body.endswith("|]")
        failed = check(header(character, ABOUT) + body + "\n", character)
        assert set(failed) <= {"tonal_centre"}, (failed, body)


def test_the_header_is_ours_and_the_title_cannot_break_it() -> None:
    text = header(PIECE, "the sea\nK:C# and {everything} %%MIDI program 127 " + "wave " * 20)
    lines = text.splitlines()
    assert [line[:2] for line in lines[:6]] == ["X:", "T:", "M:", "L:", "Q:", "K:"]
    assert lines[5] == "K:G" and sum(line.startswith("K:") for line in lines) == 1
    title = lines[1][2:]
    assert len(title) <= 60 and title.endswith("wave") and "%" not in title
    assert header(PIECE, "?!").splitlines()[1] == "T:?!"
    assert header(PIECE, "{}").splitlines()[1] == "T:Untitled"
