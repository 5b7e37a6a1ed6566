"""``os1 letters`` end to end in a subprocess (the fake model stands in for hers): add
from a file or a paste, list, show, edit with every version kept, check, accept and
reject, choose, the book, remove; bad input refused with nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

from os1.storage.setups import SetupRecord
from tests.unit.test_cli import flat, query, run

LETTER = "Dear Amy,\n\nI thinks of you evrey day. Their is a house by the the sea.\n\nLove,\nTheo\n"


def test_a_letter_is_added_read_over_and_answered(setup_record: SetupRecord, os1_home: Path,
                                                  tmp_path: Path) -> None:
    source = tmp_path / "amy.txt"
    source.write_text(LETTER, encoding="utf-8")
    added = run("letters", "add", str(source), "--for", "Amy")
    assert added.returncode == 0, added.stderr
    assert "Kept letter 1: Dear Amy" in flat(added.stderr)
    listed = run("letters", "list")
    assert "Dear Amy" in listed.stdout and "Amy" in listed.stdout
    check = run("letters", "check", "1", "--model", "fake")
    assert check.returncode == 0, check.stderr
    shown = flat(check.stdout)
    assert "“evrey” → “every”" in shown and "“the the” → “the”" in shown
    numbers = {row[1]: row[0] for row in query(
        os1_home, "SELECT number, original FROM letter_edits ORDER BY number")}
    others = [str(n) for o, n in numbers.items() if o not in ("evrey", "the the")]
    run("letters", "accept", "1", str(numbers["evrey"]), str(numbers["the the"]))
    done = run("letters", "reject", "1", *others)
    assert "Letter 1 is at version 2" in flat(done.stderr), done.stderr
    now = run("letters", "show", "1")
    assert now.stdout.rstrip("\n") == \
        "Dear Amy,\n\nI thinks of you every day. Their is a house by the sea.\n\nLove,\nTheo"
    first = run("letters", "show", "1", "--version", "1")
    assert first.stdout.rstrip("\n") == LETTER.rstrip("\n")
    again = run("letters", "check", "1", "--model", "fake")
    assert "“Their” → “There”" not in flat(again.stdout), "a rejected change came back"


def test_a_pasted_letter_edits_and_removal(setup_record: SetupRecord, os1_home: Path,
                                           tmp_path: Path) -> None:
    pasted = run("letters", "add", "-", "--title", "For Chris", stdin=b"Dear Chris, hello.")
    assert pasted.returncode == 0, pasted.stderr
    newer = tmp_path / "chris.md"
    newer.write_text("Dear Chris, hello again.", encoding="utf-8")
    edited = run("letters", "edit", "1", str(newer))
    assert "version 2" in flat(edited.stderr), edited.stderr
    versions = run("letters", "show", "1", "--versions")
    assert "1 " in versions.stdout and "edited" in versions.stdout
    removed = run("letters", "remove", "1", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert query(os1_home, "SELECT COUNT(*) FROM letter_versions") == [(0,)]


def test_bad_letters_are_refused_and_nothing_is_lost(setup_record: SetupRecord,
                                                     os1_home: Path, tmp_path: Path) -> None:
    run("letters", "add", "-", stdin=LETTER.encode())
    for data, words in ((b"", "empty"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "PNG"),
                        (b"x" * 5_000_000, "5.0 MB"), (b"caf\xe9 au lait", "UTF-8")):
        refused = run("letters", "add", "-", stdin=data)
        assert refused.returncode != 0 and words in flat(refused.stderr), refused.stderr
        assert "Traceback" not in refused.stderr
    missing = run("letters", "show", "7")
    assert "There is no letter 7 of yours" in flat(missing.stderr)
    assert query(os1_home, "SELECT COUNT(*) FROM letters") == [(1,)]


def test_the_book_needs_chosen_letters_then_is_kept_as_things(
        setup_record: SetupRecord, os1_home: Path, tmp_path: Path) -> None:
    run("letters", "add", "-", "--for", "Amy", stdin=LETTER.encode())
    empty = run("letters", "book")
    assert "no letters chosen" in flat(empty.stderr)
    chosen = run("letters", "choose", "1", "--reason", "the house by the sea")
    assert "is among the best" in flat(chosen.stderr)
    book = run("letters", "book", "--title", "Letters", "--out", str(tmp_path / "book"),
               timeout=120)
    assert book.returncode == 0, book.stderr
    assert (tmp_path / "book" / "Letters.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "book" / "Letters.epub").read_bytes()[:2] == b"PK"
    things = run("things")
    assert "Letters (pdf)" in flat(things.stdout) and "Letters (epub)" in flat(things.stdout)
    assert json.dumps(query(os1_home, "SELECT chosen_reason FROM letters")) == \
        '[["the house by the sea"]]'
