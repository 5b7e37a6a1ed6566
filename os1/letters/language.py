"""Is a letter in English? Asked so that she says a letter in another language is one,
rather than "correcting" French into English (issue 26); the proofreader asks too.

Why a count of the commonest words (``data/stop_words.toml``) and not a language model:
a letter is hundreds of words, in which English's small words ("the", "and", "I'm")
make up a third or more, and a few percent in any other language; that is enough, costs
nothing, and can be read and corrected in one data file. Other languages' lists stop a
Dutch or German letter, which shares "in", "was" and "we" with English, from passing.
"""

from __future__ import annotations

import re
from functools import cache

from os1.data import read_toml

# Under this many words, a letter can't be told apart ("Love, Anna"): it passes.
MIN_WORDS = 6
# The share of its words that must be English's small words: the English letters in the
# tests have 40-75% (a slangy one too), the French, German, Dutch, Spanish, Italian and
# Portuguese ones 11% or less.
MIN_ENGLISH_SHARE = 0.15
# A letter whose letters are mostly outside the Latin alphabet (Cyrillic, Greek, CJK,
# Arabic...) isn't English however few words it has.
MIN_LATIN_SHARE = 0.5

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")


@cache
def _word_lists() -> dict[str, frozenset[str]]:
    return {language: frozenset(words)
            for language, words in read_toml("stop_words.toml").items()}


def looks_english(text: str) -> bool:
    """True unless the text is long enough to tell and reads as another language."""
    letters = len(_LETTER.findall(text))
    if letters and len(_LATIN_LETTER.findall(text)) < MIN_LATIN_SHARE * letters:
        return False
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    if len(words) < MIN_WORDS:
        return True
    shares = {language: _share(words, listed) for language, listed in _word_lists().items()}
    english = shares.pop("english")
    return english >= MIN_ENGLISH_SHARE and all(english >= other for other in shares.values())


def _share(words: list[str], listed: frozenset[str]) -> float:
    """The share of ``words`` in ``listed``; "l'école" counts through "l'"."""
    hits = sum(1 for word in words
               if word in listed or ("'" in word and word[:word.index("'") + 1] in listed))
    return hits / len(words)
