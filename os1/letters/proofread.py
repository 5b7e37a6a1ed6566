"""Her proofreading of a letter: the checkers' exact edits and her model's, merged into
one list where no two touch the same words, each with a kind and a reason in her words,
minus the changes he has already said no to.

Why merged and not stacked: Harper, quire and the model often see the same slip
("evrey"), and three suggestions for one word is noise he has to wade through; where they
overlap one edit stands, the checker's span with the best word any of them offered.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from difflib import SequenceMatcher

from os1.data import fill, read_toml
from os1.letters.checkers import Checker, harper_edits, quire_edits
from os1.letters.model_edits import (
    MIN_WORDS,
    diff_edits,
    function_words,
    informal_words,
    keeps_voice,
    left_alone,
    related,
    rewrite,
    sentences,
    tokens,
)
from os1.letters.records import Edit
from os1.llm.base import Model

# (original, replacement), lowercased: a change he said no to
Rejected = Collection[tuple[str, str]]
Progress = Callable[[int, int], None]
_SOURCE_RANK = {"harper": 0, "quire": 1, "model": 2}
SURE_SPELLING = 0.8  # a checker's spelling this like his word stands even where she read on


class Proofreader:
    def __init__(self, model: Model | None,
                 checkers: Sequence[Checker] = (harper_edits, quire_edits)) -> None:
        """``model`` None: the checkers alone."""
        self.model = model
        self.checkers = checkers

    def suggest(self, text: str, rejected: Rejected = (), flow: bool = False,
                progress: Progress | None = None) -> list[Edit]:
        """Her edits on ``text`` in order, none overlapping, none he rejected before.
        ``flow``: he asked her to make it flow, so rewording and style are welcome."""
        found = [edit for checker in self.checkers for edit in checker(text, flow)]
        if self.model is not None:
            edits, alone = self._model_edits(text, flow, progress)
            found = [e for e in found if not _vetoed(e, alone)] + edits
        if not flow:
            casual = is_informal(text)
            found = [e for e in found if keeps_voice(e) and _fair_case(text, e, casual)]
        merged = merge(text, found)
        said_no = {(a.lower(), b.lower()) for a, b in rejected}
        return [with_reason(_apostrophe_is_spelling(edit)) for edit in merged
                if (edit.original.lower(), edit.replacement.lower()) not in said_no]

    def _model_edits(self, text: str, flow: bool,
                     progress: Progress | None) -> tuple[list[Edit], list[tuple[int, int]]]:
        """Her model's edits, and the stretches of his text it read and kept as they are."""
        assert self.model is not None
        spans = [s for s in sentences(text) if _words(text[s[0]:s[1]]) >= MIN_WORDS]
        edits: list[Edit] = []
        alone: list[tuple[int, int]] = []
        for done, span in enumerate(spans, 1):
            corrected = rewrite(self.model, text[span[0]:span[1]], flow)
            if corrected is not None:
                edits += diff_edits(text, span, corrected, flow)
                alone += left_alone(text, span, corrected)
            if progress is not None:
                progress(done, len(spans))
        return edits, alone


def _vetoed(edit: Edit, alone: Sequence[tuple[int, int]]) -> bool:
    """A checker's guess where her model read the sentence and kept those words: a
    misspelling fix unlike the word ("nocive" -> "naive") or a verb's other form ("last"
    -> "lasts")."""
    if not any(a <= edit.start and edit.end <= b for a, b in alone):
        return False
    word, fix = edit.original.lower(), edit.replacement.lower()
    if edit.kind == "spelling" and word != fix:
        return SequenceMatcher(None, word, fix).ratio() < SURE_SPELLING
    inflected = " " not in word + fix and (fix.startswith(word) or word.startswith(fix))
    return edit.kind == "grammar" and inflected


def is_informal(text: str) -> bool:
    """A letter written casually on purpose: slang, or most of three or more sentences
    begun in lowercase."""
    informal = informal_words()
    words = [t.text.lower() for t in tokens(text)]
    starts = [text[a:b].lstrip("\"'“(")[:1] for a, b in sentences(text)]
    lower_starts = sum(1 for s in starts if s.islower())
    return sum(1 for w in words if w in informal) >= 2 or \
        (len(starts) >= 3 and lower_starts * 2 > len(starts))


def _fair_case(text: str, edit: Edit, casual: bool) -> bool:
    """A capital letter is a fix when a lowercase word at a sentence's start gets one (or
    "i"), not when he writes in lowercase on purpose, nor "Sam" -> "SAM", nor "Happy
    Birthday"."""
    if edit.original.lower() != edit.replacement.lower() or edit.original == "":
        return True
    before = text[:edit.start].rstrip(" \t\"'“(")
    starts = not before or before[-1] in ".!?\n" or edit.original == "i"
    if not starts and edit.replacement == edit.original.lower():  # "Likewise, The theory"
        return edit.original.istitle() and edit.replacement in function_words()
    if not starts and edit.original.islower() and edit.replacement.istitle():
        return not casual and edit.original not in function_words()  # "italian law"
    return not casual and starts and edit.original.islower() and \
        edit.replacement == edit.original[0].upper() + edit.original[1:]


def _words(text: str) -> int:
    return sum(1 for t in tokens(text) if t.text[0].isalnum())


def merge(text: str, edits: Sequence[Edit]) -> list[Edit]:
    """One edit per stretch of his words: the checkers' before the model's (Harper's
    first), a misspelling taking the model's word when it is a form of his."""
    ordered = sorted(edits, key=lambda e: (_SOURCE_RANK.get(e.source, 3), e.start, e.end))
    kept: list[Edit] = []
    for edit in ordered:
        clash = [k for k in kept if _overlap(k, edit) or _same_insertion(k, edit)]
        if not clash:
            kept.append(edit)
            continue
        if len(clash) == 1 and edit.source == "model":
            better = _better_word(clash[0], edit)
            if better is not None:
                kept[kept.index(clash[0])] = better
    return sorted(kept, key=lambda e: e.start)


def _better_word(checker: Edit, model: Edit) -> Edit | None:
    """The checker's misspelling with the model's word, when that word is a form of his:
    the model reads the sentence ("succeded" -> "succeeded"), Harper only the word
    ("succeed")."""
    if checker.kind != "spelling" or (checker.start, checker.end) != (model.start, model.end):
        return None
    word = model.replacement
    if " " in word.strip() or word == checker.replacement or \
            not related(checker.original, word):
        return None
    return replace(checker, replacement=word, source="harper+model")


def _same_insertion(a: Edit, b: Edit) -> bool:
    """Two edits side by side that each add the same word between them ("want to" and
    "to sell"): made together they would say it twice."""
    left, right = sorted((a, b), key=lambda e: e.start)
    if right.start - left.end > 1:
        return False
    added_left = [t.text.lower() for t in tokens(left.replacement)][-1:]
    added_right = [t.text.lower() for t in tokens(right.replacement)][:1]
    had = {t.text.lower() for t in tokens(left.original + " " + right.original)}
    return bool(added_left) and added_left == added_right and added_left[0] not in had


def _apostrophe_is_spelling(edit: Edit) -> Edit:
    """"cant" -> "can't" is spelling, whichever checker called it what."""
    def bare(words: str) -> str:
        return words.replace("'", "").replace("’", "")
    if edit.original != edit.replacement and bare(edit.original) == bare(edit.replacement):
        return replace(edit, kind="spelling")
    return edit


def _overlap(a: Edit, b: Edit) -> bool:
    if a.start == a.end or b.start == b.end:
        return a.start == b.start
    return a.start < b.end and b.start < a.end


def with_reason(edit: Edit) -> Edit:
    """The edit with its one line in her words (``letters.toml``'s reasons)."""
    reasons = read_toml("letters.toml")["reasons"]
    before = {t.text.lower() for t in tokens(edit.original)}
    after = {t.text.lower() for t in tokens(edit.replacement)}
    template = reasons[edit.kind]
    values = {"original": edit.original.strip(), "replacement": edit.replacement.strip()}
    if edit.kind == "spelling" and edit.original.lower() == edit.replacement.lower():
        template = reasons["capital"]
    elif (said := edit.replacement.lower().split()) and edit.original.lower().split() == \
            said + said:
        template = reasons["repeated"]
    elif not edit.replacement.strip() or (after < before and edit.kind != "punctuation"):
        template, values["removed"] = reasons["removed"], " ".join(sorted(before - after))
        values["removed"] = values["removed"] or edit.original.strip()
    elif before < after and edit.kind in ("grammar", "fluency"):
        template, values["added"] = reasons["inserted"], " ".join(
            t.text for t in tokens(edit.replacement) if t.text.lower() not in before)
    return replace(edit, reason=fill(template, **values))


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with ``edits`` made, from the end so earlier spans stay true. An edit whose
    span no longer holds its original words is refused, never applied elsewhere."""
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        if text[edit.start:edit.end] != edit.original:
            raise ValueError(f"the text at {edit.start}-{edit.end} is no longer "
                             f"{edit.original!r}")
        text = text[:edit.start] + edit.replacement + text[edit.end:]
    return text
