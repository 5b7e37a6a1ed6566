"""Which words are ordinary English, and which name a person or a place, so that "jazz"
and "catherine" can be told apart when both are written in lowercase (her shared self,
``shared_self.py``, keeps a person's names out).

Ordinary: a word in zxcvbn's lists of English words (the 30,000 commonest in Wikipedia and
the 20,000 commonest in film and TV subtitles), in VADER's sentiment lexicon, among
``data/names.toml``'s everyday words, or a form of one of those ("cooks" of "cook").
zxcvbn's lists keep each word once, in the list where it ranks highest. So a common word
that is also a common name ("mark", "young") sits in the lists of given names and
surnames, and counts as ordinary when two of its forms are English words ("marked",
"marking"), unless it looks like a name and nothing else (three letters, a doubled last
letter as in "matt", "-ie" as in "carrie"); and a word commonest as a password ("coffee",
but also "boston" and "samantha") counts as ordinary when a form of it is listed too
("coffees"). zxcvbn leaves out short words (it guesses them letter by letter), so a word
of three letters that no list holds is ordinary ("sun").
Not ordinary: every other name, any longer word in none of the lists ("theo", "kowalski"),
and whatever names a place (``data/places.toml``: countries, regions, cities) or is a
given name the lists count as English or leave out (``data/names.toml``: "mia", "wei").

A heuristic, in English only: a name that is also a common word ("mark", "rose") passes
as the word, and a rare ordinary word ("wistful") counts as a detail.

zxcvbn comes with ``os1[server]``, the only place her self is shared.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import NamedTuple

from os1.data import read_toml
from os1.memory.embeddings import STOPWORDS

ENGLISH_LISTS = ("english_wikipedia", "us_tv_and_film")
NAME_LISTS = ("female_names", "male_names", "surnames")
SUFFIXES = ("s", "es", "ed", "ing", "er", "est", "ly", "ness", "ful", "y")
STEMMED = ("s", "es", "ed", "ing", "ly")  # "cooks" is ordinary because "cook" is
# what is left of "isn't", "don't", "we'll" when words are split at the apostrophe
CONTRACTED = frozenset({"aren", "isn", "wasn", "weren", "hasn", "haven", "hadn", "don",
                        "doesn", "didn", "won", "wouldn", "shouldn", "couldn", "mustn",
                        "needn", "ain", "ll", "ve", "re", "s", "t", "d", "m"})


class _Lists(NamedTuple):
    english: frozenset[str]  # with VADER's words, os1's stopwords and names.toml's words
    names: frozenset[str]
    passwords: frozenset[str]  # everyday words ("coffee"), names, places and junk


@lru_cache(maxsize=100_000)
def is_ordinary(word: str) -> bool:
    """``word`` (lowercase, one token) is an ordinary English word, not a name."""
    if word in named_things():
        return False
    lists = _lists()
    if word in lists.english or word in CONTRACTED:
        return True
    if any(_ordinary_stem(word, suffix, lists) for suffix in STEMMED
           if word.endswith(suffix) and len(word) - len(suffix) >= 3):  # "cooks", "cats"
        return True
    forms = _forms(word)
    if word in lists.names:
        return len(forms & lists.english) >= 2 and not _looks_like_a_name(word)
    if word in lists.passwords:  # "coffee" of "coffees"; no "bostons" or "samanthas"
        return bool(forms & (lists.english | lists.passwords))
    # zxcvbn leaves out short words (guessed letter by letter instead): "sun", "ate"
    return len(word) <= 3 or bool(forms & lists.english)


@cache
def named_things() -> frozenset[str]:
    """Places and given names, lowercase; some of several words ("new york")."""
    places = read_toml("places.toml")
    found = {name for kind in ("countries", "regions", "cities") for name in places[kind]}
    return frozenset(found | set(read_toml("names.toml")["given"]))


@cache
def _lists() -> _Lists:
    """zxcvbn's frequency lists, VADER's lexicon, os1's stopwords and ``names.toml``."""
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
        SentimentIntensityAnalyzer,
    )
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    english = {w for kind in ENGLISH_LISTS for w in FREQUENCY_LISTS[kind]}
    english |= {w for w in SentimentIntensityAnalyzer().lexicon if w.isalpha()}
    english |= STOPWORDS | set(read_toml("names.toml")["words"])
    names = {w for kind in NAME_LISTS for w in FREQUENCY_LISTS[kind]}
    passwords = {w for w in FREQUENCY_LISTS["passwords"] if w.isalpha()}
    return _Lists(frozenset(english), frozenset(names), frozenset(passwords))


def _forms(word: str) -> set[str]:
    """Inflected and derived forms of ``word``, and what it may be a form of."""
    forms = {word + suffix for suffix in SUFFIXES}
    if word.endswith("e"):
        forms |= {word[:-1] + "ing", word + "d", word + "r", word + "st"}
    for suffix in SUFFIXES:
        stem = word[:-len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            forms |= {stem, stem + "e"}
            if stem[-1] == stem[-2]:
                forms.add(stem[:-1])  # "stopped" of "stop"
            if stem.endswith("i"):
                forms.add(stem[:-1] + "y")  # "steadier" of "steady"
    forms.discard(word)
    return forms


def _ordinary_stem(word: str, suffix: str, lists: _Lists) -> bool:
    """``word`` less ``suffix`` is ordinary; a short one only before an "s" and if nothing
    lists it as a name ("cats", "pets"; not "jones" of "jon", "emily" of "emi")."""
    stem = word[:-len(suffix)]
    if len(stem) > 3:
        return is_ordinary(stem)
    if stem in lists.english:
        return True
    return suffix == "s" and stem not in lists.names and stem not in named_things()


def _looks_like_a_name(word: str) -> bool:
    """"tim", "matt", "webb", "carrie" (a doubled l, s or f is common in words: "hill")."""
    doubled = word[-1] == word[-2] and word[-1] not in "lsfeo"
    return len(word) <= 3 or doubled or word.endswith("ie")
