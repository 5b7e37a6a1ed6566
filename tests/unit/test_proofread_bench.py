"""The proofreading benchmark's own parts (benchmarks/proofread.py), without the model or
the shared data: Harper's suggestions applied, the plain baseline's reply cleaned, the
resumable outputs file, and the scores of made-up sentences."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from proofread import (
    Jfleg,
    Outputs,
    apply_lints,
    harper_system,
    load_jfleg,
    markdown,
    plain_reply,
    score,
)

SETUP = {"source": "s1", "harper": "h1", "model-plain": "m1", "her": "her1"}


def lint(start: int, end: int, kind: int, text: str) -> SimpleNamespace:
    return SimpleNamespace(span=SimpleNamespace(start=start, end=end),
                           suggestions=[SimpleNamespace(kind=kind, replacement_text=text)])


def test_lints_applied_from_the_end_and_overlaps_dropped() -> None:
    text = "I has a apple  today"
    lints = [lint(8, 13, 0, "apple"), lint(2, 5, 0, "have"), lint(6, 7, 2, "n"),
             lint(13, 14, 1, ""), lint(2, 7, 0, "had one"),
             SimpleNamespace(span=SimpleNamespace(start=15, end=20), suggestions=[])]
    # "has"->"have"; "a" gets "n" after it; the overlapping "has a" lint is dropped
    assert apply_lints(text, lints) == "I have an apple today"


def test_harper_itself_corrects_a_plain_sentence() -> None:
    correct = harper_system()
    assert correct("I has a apple.") == "I have an apple."
    assert correct("This sentence is fine.") == "This sentence is fine."


@pytest.mark.parametrize(("reply", "want"), [
    ("Corrected sentence: I have an apple.", "I have an apple."),
    ('"I have an apple."\n\nI changed "has" to "have".', "I have an apple."),
    ("Corrected:\nI have an apple.", "I have an apple."),
    ("Sure. Here is the corrected sentence:\n\nI have an apple.", "I have an apple."),
    ("", ""),
])
def test_plain_reply_is_the_correction_alone(reply: str, want: str) -> None:
    assert plain_reply(reply, "I has a apple.") == want


def test_outputs_resume_where_they_stopped(tmp_path: Path) -> None:
    path = tmp_path / "proofread.jsonl"
    Outputs(path, SETUP, fresh=False).add("harper", 0, "Fine.", 0.5)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"system": "harper", "index": 1, "outp')  # cut off mid-line
    again = Outputs(path, SETUP, fresh=False)
    assert list(again.done) == [("harper", 0)]
    again.add("harper", 1, "Also fine.", 0.25)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["index"] for line in lines] == [0, 1]
    assert list(Outputs(path, SETUP, fresh=True).done) == []


def test_outputs_of_another_setup_are_made_again_not_mixed_in(tmp_path: Path) -> None:
    path = tmp_path / "proofread.jsonl"
    first = Outputs(path, SETUP, fresh=False)
    first.add("her", 0, "old code's output", 1.0)
    first.add("harper", 0, "Harper's output", 0.1)
    changed = Outputs(path, {**SETUP, "her": "her2"}, fresh=False)
    assert list(changed.done) == [("harper", 0)]
    changed.add("her", 0, "new code's output", 1.0)
    again = Outputs(path, {**SETUP, "her": "her2"}, fresh=False)
    assert again.done[("her", 0)]["output"] == "new code's output"
    assert "old code's output" in path.read_text(encoding="utf-8")  # kept, not counted


def test_each_system_has_its_own_stable_setup() -> None:
    from proofread import setups

    first, second = setups(), setups()
    assert first == second and set(first) == {"source", "harper", "model-plain", "her"}
    assert len(set(first.values())) == 4


def test_missing_data_is_named_with_where_it_is_read_from(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"not at .*missing dev\.src.*shared/evalsets"):
        load_jfleg(tmp_path)


def test_scores_of_made_up_sentences(tmp_path: Path) -> None:
    lines = ["she have two cat .", "he go to school yesterday ."]
    refs = [["she has two cats ."] * 4, ["he went to school yesterday ."] * 4]
    data = Jfleg([s.split() for s in lines], [[r.split() for r in rs] for rs in refs], lines)
    outputs = Outputs(tmp_path / "o.jsonl", SETUP, fresh=False)
    for i, (src, fixed, worse) in enumerate(zip(
            ["she have two cat.", "he go to school yesterday."],
            ["She has two cats.", "He went to school yesterday."],
            ["she have two cat.", "he go to yesterday."], strict=True)):
        outputs.add("source", i, src, 0.0)
        outputs.add("her", i, fixed.lower(), 2.0)
        outputs.add("harper", i, worse, 0.1)
    result = score(data, ["source", "harper", "her"], 2, outputs)
    systems = result["systems"]
    assert systems["her"]["gleu"] == 1.0 and systems["her"]["made_better"] == 1.0
    assert systems["source"]["gleu"] == systems["source (raw JFLEG tokens)"]["gleu"]
    assert systems["source"]["unchanged"] == 1.0 and systems["source"]["made_worse"] == 0
    assert systems["harper"]["made_worse"] == 0.5 and systems["harper"]["worse_count"] == 1
    assert systems["her"]["s_per_sentence"] == 2.0
    assert result["paired"]["her - source"]["diff"] > 0
    table = markdown({**result, "sentences": 2, "anchors": {
        "source": 0.3821, "source_round_trip": 0.3821, "human_leave_one_out": 0.5527}})
    assert "| her | 1.0000 |" in table and "her - harper" in table
