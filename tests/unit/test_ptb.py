"""JFLEG's Penn Treebank tokens to natural text and back (benchmarks/ptb.py). The
sentences here are made up, in JFLEG's style; none is copied from it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from ptb import detokenise, retokenise

CASES = [  # JFLEG's tokens, as a person types them
    ("I do n't know , but she 's right .", "I don't know, but she's right."),
    ('He said " we can not wait " and left .', 'He said "we can not wait" and left.'),
    ("It took 1 2 years and 2 0 % more money .", "It took 12 years and 20% more money."),
    ("In ten years ' time ( maybe less ) we 'll see !",
     "In ten years' time (maybe less) we'll see!"),
    ("He ca n't go ; she wo n't stay : why ?", "He can't go; she won't stay: why?"),
    ("It was late. The bus was gone ...", "It was late. The bus was gone..."),
]


@pytest.mark.parametrize(("tokens", "natural"), CASES)
def test_detokenise_gives_natural_text(tokens: str, natural: str) -> None:
    assert detokenise(tokens) == natural


@pytest.mark.parametrize(("tokens", "natural"), CASES)
def test_retokenise_gives_jflegs_tokens_back(tokens: str, natural: str) -> None:
    assert retokenise(natural) == tokens


def test_retokenise_straightens_curly_quotes_and_joins_lines() -> None:
    assert retokenise("I don’t think “so”…\nReally.") == \
        'I do n\'t think " so " ... Really .'


def test_only_the_final_period_is_split_as_in_jfleg() -> None:
    assert retokenise("Mr. Lee came at noon. He left.") == "Mr. Lee came at noon. He left ."
    assert retokenise('She said "no."') == 'She said " no . "'


def test_html_entities_in_the_data_stay_whole() -> None:
    line = "he was already &raspsquo; fluent &raspsquo; at it ."
    assert retokenise(detokenise(line)) == line


def test_an_unpaired_quote_and_empty_text_do_not_break_it() -> None:
    assert detokenise('he said " hello') == 'he said "hello'
    assert detokenise("") == retokenise("") == ""
