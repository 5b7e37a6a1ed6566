"""JFLEG's tokens to natural text and back, for the proofreading benchmark.

Why both ways: JFLEG's sentences and references are tokenised the Penn Treebank way
(``do n't``, a space before every comma, digits split: ``2 0 %``). A checker or a model
shown that text corrects the tokenisation instead of the English (Harper flags every
``word ,``), and a natural reply scored against tokenised references loses every
n-gram with a comma in it. So every system reads ``detokenise(source)`` and its output is
scored as ``retokenise(output)``. The benchmark reports the GLEU of the round trip on the
unchanged source beside the raw source: when the two agree, the conversion costs nothing.

Only what JFLEG does is undone and redone; no other normalisation (case, spelling,
British/American) happens here, because that would change what is being scored.
"""

from __future__ import annotations

import re

CLITICS = frozenset({"n't", "'s", "'m", "'re", "'ve", "'ll", "'d"})
CLOSING = frozenset({".", ",", ";", ":", "?", "!", "%", ")", "]", "}", "...", "''"})
OPENING = frozenset({"(", "[", "{", "$", "``"})

_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2026": "..."})
_NOT = re.compile(r"(?<=\w)(n't)\b", re.IGNORECASE)
_CLITIC = re.compile(r"(?<=\w)('(?:s|m|re|ve|ll|d))\b", re.IGNORECASE)
_PLURAL_POSSESSIVE = re.compile(r"(?<=s)'(?=\W|$)", re.IGNORECASE)
_PUNCT = re.compile(r"(\.\.\.|''|``|[!?()\[\]{}\"%$])")
_SEMICOLON = re.compile(r"(&[A-Za-z]+;)|;")  # JFLEG keeps HTML entities (&raspsquo;) whole
_COMMA = re.compile(r"(?<!\d),|,(?!\d)")
_COLON = re.compile(r"(?<!\d):|:(?!\d)")
_DIGITS = re.compile(r"(?<=\d)(?=\d)")
_FINAL_PERIOD = re.compile(r"(?<=\S)(?<!\.\.)\.(?=[\"')\]\s]*$)")
_SPACES = re.compile(r"\s+")


def detokenise(line: str) -> str:
    """JFLEG's tokens as a person would have typed them: ``I do n't know , " he said "``
    becomes ``I don't know, "he said"``; split digits are joined (``2 0 %`` -> ``20%``)."""
    out = ""
    previous = ""
    glue_next = False
    quote_open = False
    for token in line.split():
        glue = glue_next or _attaches_left(token, previous)
        glue_next = token in OPENING
        if token == '"':
            glue, glue_next = (True, False) if quote_open else (glue, True)
            quote_open = not quote_open
        out += token if glue or not out else " " + token
        previous = token
    return out


def _attaches_left(token: str, previous: str) -> bool:
    if not previous:
        return False
    if token in CLOSING or token.lower() in CLITICS:
        return True
    if token == "'" and previous[-1:].lower() == "s":
        return True  # plural possessive: "years ' time"
    return token.isdigit() and len(token) == 1 and previous.isdigit()


def retokenise(text: str) -> str:
    """Natural text in JFLEG's tokens: clitics and punctuation split off, the final period
    split (an inner one stays on its word, as in JFLEG: ``day. The``), digits split one
    by one, curly quotes made straight, lines joined into one."""
    text = text.translate(_CURLY)
    text = _NOT.sub(r" \1", text)
    text = _CLITIC.sub(r" \1", text)
    text = _PUNCT.sub(r" \1 ", text)
    text = _SEMICOLON.sub(lambda m: m.group(1) or " ; ", text)
    text = _COMMA.sub(" , ", text)
    text = _COLON.sub(" : ", text)
    text = _PLURAL_POSSESSIVE.sub(" '", text)
    text = _DIGITS.sub(" ", text)
    text = _FINAL_PERIOD.sub(" .", text.strip())
    return _SPACES.sub(" ", text).strip()
