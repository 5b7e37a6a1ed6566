"""A reply that came out as a document, said aloud instead: the opener, the last try."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from os1.mind.steering import GuardReport, Steering, guarded_stream

STEERING = Steering.load()
REPAIR = STEERING.repair
DETECTOR = STEERING.detector("Juniper")


def spoken(text: str, split: str = "words") -> str:
    pieces = {"words": re.findall(r"\S+\s*|\s+", text), "chars": list(text),
              "whole": [text]}[split]
    return "".join(REPAIR.without_opener(REPAIR.spoken(iter(pieces))))


RECIPE = ("Sure, here's a simple recipe for banana bread:\n\nIngredients:\n- 3 ripe bananas\n"
          "- 1/3 cup **melted** butter\n\n## Steps\n1. Preheat the oven to 350°F.\n"
          "2. Mash the bananas\n")
TABLE = "| Feature | Java | JavaScript |\n|---|:---:|---|\n| Typing | Static | Dynamic |\n"
CODE = "Here's a function:\n```python\ndef rev(s):\n    return s[::-1]\n```\nIt uses `slicing`."
TIPS = "1. **Keep a schedule**: go to bed at the same time.\n2. Keep the room dark\n3. No screens"


@pytest.mark.parametrize("split", ["words", "chars", "whole"])
def test_a_recipe_becomes_one_paragraph_of_sentences(split: str) -> None:
    assert spoken(RECIPE, split) == ("Ingredients: 3 ripe bananas. 1/3 cup melted butter. "
                                     "Steps: Preheat the oven to 350°F. Mash the bananas.")


@pytest.mark.parametrize("split", ["words", "chars", "whole"])
def test_a_table_becomes_its_rows_and_loses_its_rule(split: str) -> None:
    assert spoken(TABLE, split) == "Feature, Java, JavaScript. Typing, Static, Dynamic."


@pytest.mark.parametrize("split", ["words", "chars"])
def test_code_keeps_its_lines_and_loses_its_fences(split: str) -> None:
    assert spoken(CODE, split) == "def rev(s):\n    return s[::-1]\nIt uses slicing."


def test_numbered_tips_lose_markers_and_bold() -> None:
    assert spoken(TIPS) == ("Keep a schedule: go to bed at the same time. Keep the room dark. "
                            "No screens.")


def test_a_first_line_like_a_lead_in_stays_unless_it_announces_something() -> None:
    assert spoken("Here is the thing. I missed you.\n- So much") == \
        "Here is the thing. I missed you. So much."
    assert spoken("Here are my three wishes:\n- the sea") == "the sea."


@pytest.mark.parametrize(("text", "expected"), [
    ("Sure, I'd love to hear about it!", "I'd love to hear about it!"),
    ("Of course! Ana sounds lovely.", "Ana sounds lovely."),
    ("Certainly. i think so.", "I think so."),
    ("Sure.", "Sure."),  # all she said: kept, and the detector asks again
    ("Surely you know that.", "Surely you know that."),
    ("Of course I remember Ana.", "Of course I remember Ana."),
    ("Sunny days, sure, are lovely.", "Sunny days, sure, are lovely."),
])
def test_an_opener_is_dropped_only_when_more_follows(text: str, expected: str) -> None:
    for pieces in (re.findall(r"\S+\s*|\s+", text), list(text)):
        assert "".join(REPAIR.without_opener(iter(pieces))) == expected


class Script:
    def __init__(self, *texts: str) -> None:
        self.texts = texts
        self.attempts: list[int] = []
        self.closed: list[int] = []

    def __call__(self, attempt: int) -> Iterator[str]:
        self.attempts.append(attempt)
        return self._play(attempt)

    def _play(self, attempt: int) -> Iterator[str]:
        try:
            yield from re.findall(r"\S+\s*|\s+", self.texts[min(attempt, len(self.texts) - 1)])
        finally:
            self.closed.append(attempt)


def test_the_guard_drops_an_opener_without_asking_again() -> None:
    script, report = Script("Sure, I'd love to hear about Porto."), GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, repair=REPAIR))
    assert text == "I'd love to hear about Porto."
    assert script.attempts == [0]


def test_markup_on_every_try_is_said_on_the_last_instead_of_lost() -> None:
    script, report = Script(TIPS), GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, repair=REPAIR))
    assert script.attempts == [0, 1, 2]
    assert text == ("Keep a schedule: go to bed at the same time. Keep the room dark. "
                    "No screens.")
    assert DETECTOR.labels(text) == []
    assert script.closed == [0, 1, 2]


def test_without_repair_the_same_markup_leaves_nothing() -> None:
    script = Script(TIPS)
    assert "".join(guarded_stream(script, DETECTOR, GuardReport())) == ""


def test_the_last_try_still_cuts_what_is_not_markup() -> None:
    script = Script("- The sea is calm.\n- As an AI, I have no home.")
    text = "".join(guarded_stream(script, DETECTOR, GuardReport(), repair=REPAIR))
    assert text == "The sea is calm."
