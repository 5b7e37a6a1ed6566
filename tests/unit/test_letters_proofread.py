"""Her proofreading (os1/letters/proofread.py, model_edits.py, checkers.py): the real
checkers (Harper, quire-grammar) with a scripted model in place of hers. Her rewrite
becomes exact edits; checker and model edits are merged, not stacked; his voice stays;
what he rejected is not suggested again; a non-English letter is left alone."""

from __future__ import annotations

import itertools

from os1.letters.checkers import Checker, harper_edits, quire_edits
from os1.letters.his_letters import NOT_ENGLISH, HisLetters
from os1.letters.model_edits import diff_edits, keeps_voice, sentences
from os1.letters.proofread import Proofreader, apply_edits, is_informal, merge
from os1.letters.records import Edit
from os1.llm.fake import FakeModel
from os1.storage.db import Database

LETTER = "Dear Amy,\n\nI thinks of you evrey day and wonder if your happy."


def test_sentences_are_found_line_by_line() -> None:
    text = "Dear Amy,\n\nIt rained. We stayed in!  Then we read.\nLove,\nTheo"
    assert [text[a:b] for a, b in sentences(text)] == [
        "Dear Amy,", "It rained.", "We stayed in!", "Then we read.", "Love,", "Theo"]


def test_her_rewrite_becomes_exact_edits_on_his_text() -> None:
    text = "Well. There are several reason for not use car"
    span = (6, len(text))
    edits = diff_edits(text, span, "There are several reasons for not using a car.", False)
    assert [(e.original, e.replacement, e.kind) for e in edits] == [
        ("reason", "reasons", "grammar"), ("use", "using a", "fluency"),
        ("car", "car.", "punctuation")]
    assert apply_edits(text, edits) == "Well. There are several reasons for not using a car."
    assert apply_edits(text, edits) == "Well. There are several reasons for not using a car."
    assert all(text[e.start:e.end] == e.original for e in edits)


def test_a_rewrite_that_rewords_him_is_not_proofreading() -> None:
    text = "I want to talk about bad products like cigarrets."
    edits = diff_edits(text, (0, len(text)),
                       "I want to discuss harmful products such as cigarettes.", False)
    assert all(e.original not in ("talk about", "bad", "like") for e in edits)
    flowing = diff_edits(text, (0, len(text)),
                         "I want to discuss harmful products such as cigarettes.", True)
    assert apply_edits(text, flowing) == "I want to discuss harmful products such as cigarettes."


def test_his_voice_stays_unless_he_asks_for_flow() -> None:
    assert not keeps_voice(Edit(0, 5, "gonna", "going to", "fluency", "", "model"))
    assert not keeps_voice(Edit(0, 7, "did not", "didn't", "fluency", "", "model"))
    assert not keeps_voice(Edit(0, 4, "I'm", "I am", "fluency", "", "model"))
    assert keeps_voice(Edit(0, 4, "dont", "don't", "spelling", "", "model"))
    assert keeps_voice(Edit(0, 5, "thier", "their", "spelling", "", "harper"))  # a fix
    assert not keeps_voice(Edit(0, 10, "talk about", "discuss", "fluency", "", "model"))
    assert keeps_voice(Edit(0, 6, "reason", "reasons", "grammar", "", "model"))
    casual = "hey Sam!! gonna be there tmrw?? lol. i dunno if i can bring the cake tho"
    assert is_informal(casual) and not is_informal(LETTER)
    kept = Proofreader(FakeModel()).suggest(casual)
    assert apply_edits(casual, kept) == casual  # the model echoes; checkers keep quiet


def test_checker_and_model_edits_are_merged_not_stacked() -> None:
    model = FakeModel()
    model.enqueue("I think of you every day and wonder if you're happy.")
    edits = Proofreader(model).suggest(LETTER)
    spans = [(e.start, e.end) for e in edits]
    assert len(spans) == len(set(spans))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert apply_edits(LETTER, edits) == \
        "Dear Amy,\n\nI think of you every day and wonder if you're happy."
    evrey = next(e for e in edits if e.original == "evrey")
    assert evrey.source.startswith("harper") and evrey.kind == "spelling"
    assert evrey.reason == "“evrey” is spelt “every”."
    assert all(e.reason for e in edits)


def test_merge_keeps_one_edit_per_stretch_of_words() -> None:
    text = "the the end"
    harper = Edit(0, 7, "the the", "the", "grammar", "", "harper")
    quire = Edit(0, 7, "the the", "the", "grammar", "", "quire")
    model = Edit(4, 7, "the", "", "grammar", "", "model")
    assert merge(text, [model, quire, harper]) == [harper]


def test_rejected_changes_are_not_suggested_again() -> None:
    found = Proofreader(None).suggest(LETTER)
    assert ("evrey", "every") in {(e.original, e.replacement) for e in found}
    again = Proofreader(None).suggest(LETTER, rejected={("evrey", "every")})
    assert ("evrey", "every") not in {(e.original, e.replacement) for e in again}
    assert len(again) == len(found) - 1


def test_the_real_checkers_find_planted_slips() -> None:
    text = "Their is a house by the the sea. I could of gone."
    found = {(e.original, e.replacement) for e in harper_edits(text) + quire_edits(text)}
    assert ("the the", "the") in found and ("Their", "There") in found
    assert ("could of", "could have") in found


def test_names_and_slang_are_not_misspellings() -> None:
    text = "Love, Theo. See you tmrw."
    assert [e.original for e in harper_edits(text) if e.kind == "spelling"] == []


def test_a_letter_in_another_language_is_left_alone(db: Database) -> None:
    letters = HisLetters(db, "theo", lambda: FakeModel())
    letter = letters.library.add("Chère Amélie,\n\nJe pense à toi tous les jours et je me "
                                 "demande si tu es heureuse. Il y a une maison près de la mer.")
    reading = letters.read_over(letter.id)
    assert reading.suggestions == [] and reading.note == NOT_ENGLISH
    assert letters.library.get(letter.id).version == 1


def checker_of(*edits: Edit) -> Checker:
    return lambda text, flow: list(edits)


def test_where_her_model_read_and_kept_his_words_a_checkers_guess_is_dropped() -> None:
    text = "I want to talk about nocive products and he last chose."
    nocive = Edit(21, 27, "nocive", "naive", "spelling", "", "harper")
    lasts = Edit(44, 48, "last", "lasts", "grammar", "", "harper")
    model = FakeModel()
    model.enqueue(text)  # she kept the sentence as it was
    assert Proofreader(model, (checker_of(nocive, lasts),)).suggest(text) == []
    alone = Proofreader(None, (checker_of(nocive, lasts),)).suggest(text)
    assert [e.replacement for e in alone] == ["naive", "lasts"]  # no reading: they stand


def test_a_misspelling_takes_her_models_word_when_it_is_a_form_of_his() -> None:
    text = "He thinks differently and he succeded."
    harper = Edit(29, 37, "succeded", "succeed", "spelling", "", "harper")
    model = FakeModel()
    model.enqueue("He thinks differently and he succeeded.")
    [edit] = Proofreader(model, (checker_of(harper),)).suggest(text)
    assert (edit.replacement, edit.source) == ("succeeded", "harper+model")


def test_one_word_added_twice_between_two_edits_is_added_once() -> None:
    text = "If you want sell it, say so."
    quire = Edit(7, 11, "want", "want to", "grammar", "", "quire")
    model = FakeModel()
    model.enqueue("If you want to sell it, say so.")
    edits = Proofreader(model, (checker_of(quire),)).suggest(text)
    assert apply_edits(text, edits) == "If you want to sell it, say so."


def test_a_mark_goes_with_the_word_it_is_written_against() -> None:
    text = "like pot taire on car if they fire you"
    edits = diff_edits(text, (0, len(text)), "like pot tire on a car. If they fire you", False)
    assert [(e.original, e.replacement) for e in edits] == [("taire", "tire"),
                                                             ("car if", "a car. If")]
    assert apply_edits(text, edits) == "like pot tire on a car. If they fire you"


def test_capitals_for_emphasis_stay_and_a_stray_capital_goes() -> None:
    text = "But YOU have to create them. Likewise, The theory holds."
    model = FakeModel()
    model.enqueue("But you have to create them.", "Likewise, the theory holds.")
    edits = Proofreader(model, ()).suggest(text)
    assert [(e.original, e.replacement) for e in edits] == [("The", "the")]
