"""What in a short text could point at someone: a name or place of theirs (in any case,
spelled out letter by letter, with accents or look-alike letters), a number (in digits or
in words, "forty-two", "four one five five five"), an email or web address (also spelled
"at gmail dot com"), or a date. Her shared self (``shared_self.py``) keeps out every item
in which one is found.

A person's names are found in what they said and are (``private_names``): words written
with a capital mid-sentence, a text of one word (their name), places and given names
named anywhere, and every word that is not ordinary English (``lexicon.py``), in whatever
case it was written: "i talked with catherine in paris" names two.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable
from functools import cache

from os1.memory.lexicon import is_ordinary, named_things
from os1.when.dates import MONTHS
from os1.when.windows import find_time_window

_CAPITALISED = re.compile(r"(?<![.!?:;]\s)(?<!^)\b[A-Z][\w'-]*")
_ADDRESS = re.compile(
    r"@|://|\bwww\.|\b(?:https?|ftp|mailto):|\b\w{2,}\.(?:com|org|net|edu|gov|io|co|uk|de|fr|me|info)\b"
    r"|[(\[{]\s*at\s*[)\]}]|\bdot\s+(?:com|org|net|edu|gov|io|co|uk|de|fr|me|info)\b"
    r"|\b(?:gmail|googlemail|hotmail|yahoo|outlook|icloud|proton(?:mail)?|aol)\b",
    re.IGNORECASE)
_UNITS = ["zero", "nought", "nil", "one", "two", "three", "four", "five", "six", "seven",
          "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
          "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fourty", "fifty", "sixty", "seventy", "eighty",
         "ninety"]
_BIG = ["hundred", "thousand", "million", "billion", "trillion", "dozen"]
_ORDINALS = ["third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
             "seventeenth", "eighteenth", "nineteenth", "twentieth", "thirtieth",
             "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth",
             "hundredth", "thousandth", "millionth"]
NUMBER_WORDS = frozenset(_UNITS + _TENS + _BIG + _ORDINALS + ["first", "second"])
# alone, these say nothing about anyone ("one day", "two minds", "first snow")
_HARMLESS_ALONE = frozenset({"one", "two", "first", "second"})
_JOINED_NUMBER = re.compile("(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
                            + "){2,}")
_MONTHS = frozenset(MONTHS) - {"may", "march"}
_MONTH_ABBREVIATIONS = frozenset(
    ["jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"])
_MAY_OR_MARCH = re.compile(
    r"\b(?:in|of|on|since|until|till|by|last|next|early|late|mid|this)\s+(?:may|march)\b"
    r"|\b(?:may|march)\s+(?:the\s+)?(?:" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
_ROMAN = re.compile(r"[ivxlcdm]{2,}")
# Cyrillic and Greek letters that look like Latin ones: "саtherine" is "catherine"
_LOOKALIKES = str.maketrans("асеіјорѕхуԁһкмнтвαβεικνορτυχ", "aceijopsxydhkmhtbabeikvoptux")
_LONGEST_JOIN = 30  # characters: "c a t h e r i n e" is found, a sentence is not


def private_names(private: Iterable[str]) -> frozenset[str]:
    """The names and places in ``private`` (lowercase; some of several words)."""
    found: set[str] = set()
    for text in private:
        plain = _plain(text)
        for capitalised in _CAPITALISED.findall(plain):  # "Jean-Luc's": jean, luc, jeanluc
            parts = _words(capitalised.split("'")[0])
            found |= {*parts, "".join(parts)}
        tokens = _words(plain)
        if len(tokens) == 1:
            found |= set(tokens)  # a name on its own: the person's
        found |= {w for w in tokens if len(w) > 2 and not w.isdigit() and not is_ordinary(w)}
        found |= set(_named_phrases(tokens))
    return frozenset(found - {"i", ""})


def detail_in(item: str, names: frozenset[str]) -> str | None:
    """Why ``item`` could carry someone's detail, or None. ``names``: ``private_names``."""
    plain = _plain(item)
    tokens = _words(plain)
    checks = ((_ADDRESS.search(plain), "an address"),
              (_has_digit(plain) or _numbers(tokens), "a number"),
              (_dated(plain, tokens), "a date"),
              (_capitalised(plain), "a name"),
              (_mixed_scripts(plain), "look-alike letters"),
              (_named(tokens, names), "a name of theirs"))
    return next((why for found, why in checks if found), None)


def _plain(text: str) -> str:
    """Compatibility forms folded ("４２" is 42), invisible characters dropped, accents
    taken off ("Cathérine" is "Catherine")."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def _words(text: str) -> list[str]:
    return [w.translate(_LOOKALIKES) for w in re.findall(r"[^\W_]+", text.lower())]


def _named_phrases(tokens: list[str], longest: int = 4) -> Iterable[str]:
    """Places named in several words: "new york", "rio de janeiro"."""
    starts = _phrase_starts()
    for i, token in enumerate(tokens):
        if token in starts:
            for n in range(2, longest + 1):
                phrase = " ".join(tokens[i:i + n])
                if phrase in named_things():
                    yield phrase


@cache
def _phrase_starts() -> frozenset[str]:
    return frozenset(name.split()[0] for name in named_things() if " " in name)


def _has_digit(text: str) -> bool:
    return any(c.isdigit() or unicodedata.numeric(c, None) is not None for c in text)


def _numbers(tokens: list[str]) -> bool:
    """A number word (but a lone "one", "two", "first" or "second"), two in a row, or
    several run together ("fortytwo"); a Roman numeral that is no word ("xlii")."""
    for i, word in enumerate(tokens):
        if word in NUMBER_WORDS:
            neighbours = tokens[max(0, i - 1):i] + tokens[i + 1:i + 2]
            if word not in _HARMLESS_ALONE or any(n in NUMBER_WORDS for n in neighbours):
                return True
        elif _JOINED_NUMBER.fullmatch(word) or (_ROMAN.fullmatch(word)
                                                 and not is_ordinary(word)):
            return True
    return False


def _dated(text: str, tokens: list[str]) -> bool:
    if any(w in _MONTHS or w in _MONTH_ABBREVIATIONS for w in tokens):
        return True
    if _MAY_OR_MARCH.search(text):
        return True
    window = find_time_window(text, time.time())
    return window is not None and window.phrase.lower() not in ("recently", "lately")


def _capitalised(text: str) -> bool:
    return any(w.split("'")[0] != "I" for w in _CAPITALISED.findall(text))


def _mixed_scripts(text: str) -> bool:
    """A word with letters of two scripts: "Cаtherine" with a Cyrillic "а"."""
    for word in re.findall(r"[^\W\d_]+", text):
        scripts = {unicodedata.name(c, "?").split()[0] for c in word}
        if len(scripts) > 1:
            return True
    return False


def _named(tokens: list[str], names: frozenset[str]) -> bool:
    """One of ``names``: as a word, with an ending ("parisian", "catherines"), as a phrase
    ("new york") or spelled in pieces ("c a t h e r i n e", "cath-erine")."""
    for i in range(len(tokens)):
        joined = ""
        for j in range(i, len(tokens)):
            joined += tokens[j]
            spaced = " ".join(tokens[i:j + 1])
            if len(joined) > _LONGEST_JOIN:
                break
            if joined in names or spaced in names or _ending_of(joined, names):
                return True
    return False


_ENDINGS = ("s", "es", "an", "ans", "ian", "ians", "ien", "ienne", "er", "ers", "ese", "ish")


def _ending_of(word: str, names: frozenset[str]) -> bool:
    return any(word.endswith(e) and len(word) - len(e) >= 4 and word[:-len(e)] in names
               for e in _ENDINGS)
