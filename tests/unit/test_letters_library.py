"""His letters (os1/letters/library.py, review.py): every version kept, his answers to
her suggestions making exactly the text he chose, rejected changes remembered, one
person's letters never another's; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from os1.errors import InputError
from os1.letters.library import LetterLibrary, LetterNotFound
from os1.letters.reading import MAX_LETTER_CHARS
from os1.letters.records import Edit
from os1.letters.review import Reviews
from os1.storage.db import Database

pytestmark = pytest.mark.both_backends

TEXT = "Dear Amy,\n\nI thinks of you evrey day.\n\nLove,\nTheo"


def edit(text: str, original: str, replacement: str, kind: str = "spelling") -> Edit:
    start = text.index(original)
    return Edit(start, start + len(original), original, replacement, kind,  # type: ignore[arg-type]
                "a reason", "harper")


@pytest.fixture
def theo(db: Database) -> LetterLibrary:
    return LetterLibrary(db, "theo")


def test_a_letter_keeps_every_version_and_who_it_was_for(theo: LetterLibrary) -> None:
    letter = theo.add(TEXT + "\r\n", written_for="Amy")
    assert (letter.title, letter.written_for, letter.version) == ("Dear Amy", "Amy", 1)
    assert letter.text == TEXT  # line endings made plain, nothing else touched
    second = theo.revise(letter.id, TEXT.replace("thinks", "think"), "edited")
    assert second.version == 2 and "I think" in second.text
    assert theo.revise(letter.id, second.text, "edited").version == 2  # same text: no new one
    assert [v.text for v in theo.versions(letter.id)] == [TEXT, second.text]
    assert theo.version(letter.id, 1).text == TEXT
    renamed = theo.describe(letter.id, title="For Amy's birthday", written_for="")
    assert (renamed.title, renamed.written_for, renamed.version) == ("For Amy's birthday",
                                                                     "", 2)


def test_bad_letters_are_refused_and_nothing_stored_is_touched(theo: LetterLibrary) -> None:
    kept = theo.add(TEXT)
    for bad in ("", "  \n\n ", "x" * (MAX_LETTER_CHARS + 1), "a\x00b"):
        with pytest.raises(InputError):
            theo.add(bad)
        with pytest.raises(InputError):
            theo.revise(kept.id, bad, "edited")
    with pytest.raises(InputError):
        theo.add(TEXT, title="two\nlines")
    assert [letter.id for letter in theo.all()] == [kept.id]
    assert [v.text for v in theo.versions(kept.id)] == [TEXT]


def test_one_persons_letters_are_never_anothers(db: Database, theo: LetterLibrary) -> None:
    letter = theo.add(TEXT)
    amy = LetterLibrary(db, "amy")
    assert amy.all() == []
    for reach in (lambda: amy.get(letter.id), lambda: amy.versions(letter.id),
                  lambda: amy.revise(letter.id, "mine now", "edited"),
                  lambda: amy.remove(letter.id), lambda: amy.choose(letter.id, True)):
        with pytest.raises(LetterNotFound):
            reach()
    assert theo.get(letter.id).text == TEXT and not theo.get(letter.id).chosen


def test_removing_a_letter_takes_its_versions_and_suggestions(db: Database,
                                                              theo: LetterLibrary) -> None:
    letter = theo.add(TEXT)
    theo.revise(letter.id, TEXT + "\nPS", "edited")
    Reviews(db, "theo", theo).open(theo.get(letter.id), [edit(TEXT, "evrey", "every")])
    theo.remove(letter.id)
    with pytest.raises(LetterNotFound):
        theo.get(letter.id)
    for table in ("letter_versions", "letter_edits"):
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0


def test_his_answers_make_exactly_the_text_he_chose(db: Database, theo: LetterLibrary) -> None:
    letter = theo.add(TEXT)
    reviews = Reviews(db, "theo", theo)
    suggestions = reviews.open(letter, [edit(TEXT, "thinks", "think", "grammar"),
                                        edit(TEXT, "evrey", "every"),
                                        edit(TEXT, "Theo", "The")])
    assert [s.number for s in suggestions] == [1, 2, 3]
    waiting = reviews.decide(letter.id, "accepted", [1, 2])
    assert (waiting.accepted, waiting.waiting, waiting.letter.version) == (2, 1, 1)
    done = reviews.decide(letter.id, "rejected", [3])
    assert (done.accepted, done.rejected, done.waiting) == (2, 1, 0)
    assert done.letter.text == "Dear Amy,\n\nI think of you every day.\n\nLove,\nTheo"
    assert done.letter.version == 2 and theo.version(letter.id, 1).text == TEXT
    assert reviews.rejected() == {("theo", "the")}
    assert reviews.suggestions(letter.id) == []


def test_answers_by_kind_and_done_leave_the_unanswered(db: Database,
                                                       theo: LetterLibrary) -> None:
    letter = theo.add(TEXT)
    reviews = Reviews(db, "theo", theo)
    reviews.open(letter, [edit(TEXT, "thinks", "think", "grammar"),
                          edit(TEXT, "evrey", "every")])
    assert reviews.decide(letter.id, "accepted", kind="spelling").waiting == 1
    finished = reviews.finish(letter.id)
    assert finished.letter.text == TEXT.replace("evrey", "every")
    assert reviews.rejected() == set()


def test_suggestions_on_a_letter_changed_since_are_refused(db: Database,
                                                          theo: LetterLibrary) -> None:
    letter = theo.add(TEXT)
    reviews = Reviews(db, "theo", theo)
    reviews.open(letter, [edit(TEXT, "evrey", "every")])
    changed = theo.revise(letter.id, "Dear Amy, evrey hour.", "edited")
    with pytest.raises(InputError, match="changed since I read it"):
        reviews.decide(letter.id, "accepted")
    assert theo.get(letter.id).text == changed.text  # his newer version untouched


def test_unknown_numbers_and_kinds_are_named(db: Database, theo: LetterLibrary) -> None:
    letter = theo.add(TEXT)
    reviews = Reviews(db, "theo", theo)
    with pytest.raises(InputError, match="no suggestions of mine"):
        reviews.decide(letter.id, "accepted")
    reviews.open(letter, [edit(TEXT, "evrey", "every")])
    with pytest.raises(InputError, match=r"no suggestion 4 .* 1 to 1"):
        reviews.decide(letter.id, "accepted", [4])
    with pytest.raises(InputError, match="not a kind"):
        reviews.decide(letter.id, "accepted", kind="tone")
    assert reviews.suggestions(letter.id)[0].decision == ""
