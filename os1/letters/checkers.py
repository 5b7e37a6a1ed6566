"""Two real grammar checkers, each turned into her kind of edit: Harper (Rust, with its
own dictionary) and quire-grammar (rules, plus its ONNX edit tagger).

Why two and not the model alone: a checker's edit is exact (this span, this word) and
never invents, where a 1.5B model rewrites; the model is for what rules can't see. And
why their style advice is left out by default: "passive voice" or "very unique" is about
how he writes, not a mistake, and she keeps his voice unless he asks her to make it flow.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from difflib import SequenceMatcher
from functools import cache
from typing import Any

from os1.letters.records import Edit, EditKind

# Harper's lint kinds, as her kinds (None: style advice, kept only to make it flow)
_HARPER_KINDS: dict[str, EditKind | None] = {
    "Spelling": "spelling", "Typo": "spelling", "Capitalization": "spelling",
    "Agreement": "grammar", "Grammar": "grammar", "Repetition": "grammar",
    "Miscellaneous": "grammar", "BoundaryError": "grammar", "Nonstandard": "grammar",
    "Punctuation": "punctuation", "Formatting": "punctuation",
    "WordChoice": "word choice", "Usage": "word choice", "Eggcorn": "word choice",
    "Malapropism": "word choice",
    "Style": None, "Readability": None, "Enhancement": None, "Redundancy": None,
}
_QUIRE_KINDS: dict[str, EditKind | None] = {
    "mechanics": "grammar", "confusable": "word choice", "punctuation": "punctuation",
    "agreement": "grammar", "style": None,
}
# A suggested spelling this unlike the word is a guess (a name, slang): "tmrw" -> "thaw".
MIN_SPELLING_LIKENESS = 0.7

Checker = Callable[[str, bool], list[Edit]]


@cache
def _harper_linter() -> Any:
    import harper

    return harper.Linter()


_harper_lock = threading.Lock()  # a Linter raises if two threads use it at once


def harper_edits(text: str, flow: bool = False) -> list[Edit]:
    """Harper's lints with a suggestion, each as an edit taking its first suggestion
    (a misspelling's first suggestion only if it looks like the word)."""
    with _harper_lock:
        lints = _harper_linter().lint(text)
    edits = []
    for lint in lints:
        kind = _HARPER_KINDS.get(str(lint.lint_kind), "grammar")
        if kind is None and flow:
            kind = "fluency"
        if kind is None or not lint.suggestions:
            continue
        start, end = lint.span.start, lint.span.end
        original = text[start:end]
        replacement = _applied(original, lint.suggestions[0])
        if replacement == original:
            continue
        if kind == "spelling" and not _plausible_spelling(original, replacement):
            continue
        edits.append(Edit(start, end, original, replacement, kind, "", "harper"))
    return edits


def quire_edits(text: str, flow: bool = False) -> list[Edit]:
    """quire-grammar's corrections that have a suggestion."""
    import quire_grammar

    edits = []
    for found in quire_grammar.check(text):
        kind = _QUIRE_KINDS.get(found.category, "grammar")
        if kind is None and flow:
            kind = "fluency"
        if kind is None or not found.suggestions:
            continue
        if found.rule_id.startswith("doubled") or "capital" in found.rule_id:
            kind = "grammar" if found.rule_id.startswith("doubled") else "spelling"
        original = text[found.start:found.end]
        if found.suggestions[0] != original:
            edits.append(Edit(found.start, found.end, original, found.suggestions[0], kind,
                              "", "quire"))
    return edits


def _applied(original: str, suggestion: Any) -> str:
    """What a Harper suggestion makes of the problem text (replace, remove, insert)."""
    kind = int(suggestion.kind)
    if kind == 1:  # remove
        return ""
    if kind == 2:  # insert after
        return original + str(suggestion.replacement_text)
    return str(suggestion.replacement_text)


def _plausible_spelling(word: str, suggestion: str) -> bool:
    """A fix of his spelling, not a guess at a name ("Theo" -> "The") or at slang."""
    if word.lower() == suggestion.lower():
        return True
    if word[:1].isupper():
        return False
    likeness = SequenceMatcher(None, word.lower(), suggestion.lower()).ratio()
    return likeness >= MIN_SPELLING_LIKENESS
