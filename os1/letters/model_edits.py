"""Her model's part of proofreading: it rewrites one sentence corrected, and the
difference between his sentence and hers becomes edits, each with a span in his text.

Why a rewrite and not spans from the model: a 1.5B model counts characters badly but
writes a corrected sentence well; a word-level diff turns that sentence back into exact,
separate edits he can take or leave one by one. And why so much is thrown away: a rewrite
is also where his voice goes missing ("talk about" becomes "discuss", "gonna" becomes
"going to"), so outside "make it flow" only edits that fix something are kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache

from os1.data import read_toml
from os1.letters.records import Edit, EditKind
from os1.llm.base import GenerateOptions, Message, Model, complete

TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
ONE_LINE = r"root ::= [^\n]+"
_LEANS_LEFT = frozenset(",.;:!?)”’")  # marks written against the word before them
MIN_WORDS = 3  # "Dear Amy," and "Love, Theo" are his, not sentences to correct
MAX_CHANGED = 0.5  # a rewrite changing more than half his words is not proofreading
_PREFIX = re.compile(r"^(?:corrected(?: sentence)?|rewritten(?: sentence)?|answer)\s*:\s*",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokens(text: str, offset: int = 0) -> list[Token]:
    return [Token(m.group(), m.start() + offset, m.end() + offset)
            for m in TOKEN.finditer(text)]


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text``: each line split at its sentence ends."""
    spans = []
    offset = 0
    for line in text.split("\n"):
        start = 0
        for cut in SENTENCE_END.finditer(line):
            spans.append((offset + start, offset + cut.start()))
            start = cut.end()
        spans.append((offset + start, offset + len(line.rstrip())))
        offset += len(line) + 1
    trimmed = [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in spans]
    return [(a, b) for a, b in trimmed if b > a]


@cache
def _lists() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    data = read_toml("letters.toml")
    return (frozenset(data["voice"]["informal"]), frozenset(data["words"]["function"]),
            tuple(data["voice"]["contractions"]))


def informal_words() -> frozenset[str]:
    return _lists()[0]


def rewrite(model: Model, sentence: str, flow: bool) -> str | None:
    """Her corrected sentence, or None when what came back is not one."""
    prompt = read_toml("letters.toml")["prompts"]["flow" if flow else "proofread"]
    budget = max(48, 2 * len(sentence.split()) + 24)
    reply = complete(model, [Message("system", prompt), Message("user", sentence)],
                     GenerateOptions(max_tokens=budget, temperature=0.0, grammar=ONE_LINE,
                                     seed=8316))
    reply = _PREFIX.sub("", reply.strip()).strip()
    if len(reply) >= 2 and reply[0] == reply[-1] == '"' and sentence[:1] != '"':
        reply = reply[1:-1].strip()
    if not reply or not 0.5 <= len(reply) / max(1, len(sentence)) <= 1.8:
        return None
    return reply


def diff_edits(text: str, span: tuple[int, int], corrected: str, flow: bool) -> list[Edit]:
    """The changes from ``text[span]`` to ``corrected``, as edits on ``text``."""
    mine = tokens(text[span[0]:span[1]], span[0])
    hers = tokens(corrected)
    matcher = SequenceMatcher(None, [t.text for t in mine], [t.text for t in hers],
                              autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    changed = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in changes)
    if not flow and changed > MAX_CHANGED * len(mine) + 1:
        return []
    ranges = _joined([r for _, i1, i2, j1, j2 in changes
                      if (r := _widened(mine, hers, (i1, i2, j1, j2))) is not None])
    edits = [_edit(text, corrected, mine, hers, r) for r in ranges]
    return [e for e in edits if e is not None and (flow or keeps_voice(e))]


def left_alone(text: str, span: tuple[int, int], corrected: str) -> list[tuple[int, int]]:
    """The stretches of ``text[span]`` her rewrite kept word for word."""
    mine = tokens(text[span[0]:span[1]], span[0])
    hers = tokens(corrected)
    matcher = SequenceMatcher(None, [t.text for t in mine], [t.text for t in hers],
                              autojunk=False)
    return [(mine[i1].start, mine[i2 - 1].end)
            for tag, i1, i2, _, _ in matcher.get_opcodes() if tag == "equal"]


def function_words() -> frozenset[str]:
    return _lists()[1]


def related(a: str, b: str) -> bool:
    return _related(a, b)


Range = tuple[int, int, int, int]  # his tokens i1:i2 become her tokens j1:j2


def _widened(mine: Sequence[Token], hers: Sequence[Token], op: Range) -> Range | None:
    """A change that touches at least one of his words: an insertion is shown as a
    change to the word beside it, and a mark written against a word goes with it."""
    i1, i2, j1, j2 = op
    leans_left = j1 < len(hers) and hers[j1].text in _LEANS_LEFT
    if i1 < i2 and leans_left and mine[i1].text != hers[j1].text and i1 > 0 and j1 > 0:
        return i1 - 1, i2, j1 - 1, j2  # "car if" -> "car. If": the mark goes with "car"
    if i1 < i2:
        return op
    if i1 > 0 and j1 > 0 and (leans_left or i1 == len(mine)):
        return i1 - 1, i2, j1 - 1, j2  # "morning" -> "morning,"
    if i1 < len(mine) and j2 < len(hers) and hers[j2].text == mine[i1].text:
        return i1, i2 + 1, j1, j2 + 1  # "car" -> "a car"
    return None


def _joined(ranges: Sequence[Range]) -> list[Range]:
    """Ranges that now share a word of his, made one."""
    joined: list[Range] = []
    for i1, i2, j1, j2 in ranges:
        if joined and i1 < joined[-1][1]:
            a1, a2, b1, b2 = joined[-1]
            joined[-1] = (a1, max(a2, i2), b1, max(b2, j2))
        else:
            joined.append((i1, i2, j1, j2))
    return joined


def _edit(text: str, corrected: str, mine: Sequence[Token], hers: Sequence[Token],
          op: Range) -> Edit | None:
    i1, i2, j1, j2 = op
    start, end = mine[i1].start, mine[i2 - 1].end
    replacement = corrected[hers[j1].start:hers[j2 - 1].end] if j2 > j1 else ""
    original = text[start:end]
    if replacement == "" and end < len(text) and text[end:end + 1] == " ":
        end += 1  # a removed word takes its space with it
        original = text[start:end]
    if replacement == original:
        return None
    return Edit(start, end, original, replacement, kind_of(original, replacement), "",
                "model")


def kind_of(original: str, replacement: str) -> EditKind:
    words_a = [t.text for t in tokens(original) if t.text[0].isalnum()]
    words_b = [t.text for t in tokens(replacement) if t.text[0].isalnum()]
    if words_a == words_b:
        return "punctuation"
    if len(words_a) == len(words_b) == 1:
        a, b = words_a[0].lower(), words_b[0].lower()
        if a == b or _bare(a) == _bare(b):
            return "spelling"
        if _related(a, b):
            return "grammar"
        return "word choice"
    _, function, _ = _lists()
    added = {w.lower() for w in words_b} ^ {w.lower() for w in words_a}
    if added and added <= function:
        return "grammar"
    return "fluency"


def keeps_voice(edit: Edit) -> bool:
    """Whether an edit fixes something rather than rewording him."""
    informal, function, contractions = _lists()
    before = [t.text.lower() for t in tokens(edit.original)]
    after = [t.text.lower() for t in tokens(edit.replacement)]
    if any(w in informal for w in before):
        return False
    if _contraction_only(edit.original, edit.replacement, contractions):
        return False
    removed = [w for w in before if w[0].isalnum() and w not in after]
    new = [w for w in after if w[0].isalnum() and w not in before]
    swapped = [w for w in removed if w not in function]
    added = [w for w in new if w not in function]
    # a word of his that means something traded for an unrelated one ("thier" -> "their"
    # is a fix, "talk" -> "discuss" is not), or one added out of nowhere, is rewording
    return all(any(_related(a, b) for b in new) for a in swapped) and \
        all(any(_related(a, b) for a in removed) for b in added)


def _contraction_only(original: str, replacement: str, endings: Sequence[str]) -> bool:
    """"did not" <-> "didn't", "I am" <-> "I'm": the same words, said shorter or longer."""
    if "'" not in original + replacement and "’" not in original + replacement:
        return False

    def expanded(text: str) -> list[str]:
        text = text.lower().replace("’", "'")
        text = re.sub(r"\bcan't\b", "can not", re.sub(r"\bwon't\b", "will not", text))
        text = text.replace("n't", " not")
        for ending in endings:
            text = text.replace(ending, " " + ending)
        return text.split()

    return expanded(original) == expanded(replacement)


def _bare(word: str) -> str:
    return re.sub(r"['’\s]", "", word)


def _related(a: str, b: str) -> bool:
    """Forms of one word or a misspelling of it: "develop"/"developped", "reason"/
    "reasons", "siences"/"sciences"."""
    a, b = a.lower(), b.lower()
    shared = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                  min(len(a), len(b)))
    if shared >= 4 or (min(len(a), len(b)) >= 3 and shared >= min(len(a), len(b)) - 1):
        return True
    return SequenceMatcher(None, a, b).ratio() >= 0.7
