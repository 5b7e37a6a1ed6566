"""His letters with the real parts: the bundled model, Harper and quire-grammar's tagger,
Whisper for a dictated letter, typst, epubcheck and pdftotext for the book.

A letter with planted slips gets exactly those edits, each with her reason; his answers
(some yes, some no) make exactly the text he chose, and what he said no to is not
suggested again; a deliberately casual letter keeps its voice; what she likes quotes
him; "take a letter" spoken into ``os1 talk`` keeps the letter; the best letters she
chooses become a book that passes epubcheck and reads back word for word.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from os1.letters.best import choose_best
from os1.letters.book import BookLetter, BookPlan, build_book
from os1.letters.his_letters import HisLetters
from os1.letters.praise import grounded, praise
from os1.letters.proofread import apply_edits
from os1.llm.llama import LlamaModel
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.voice.audio import HEARING_RATE, Audio, resample, write_wav
from os1.voice.tts import open_voice
from tests.conftest import make_setup_record
from tests.integration.conftest import OS1

PLANTED = ("Dear Marguerite,\n\nThank you for the the tea you sent from Kyoto. I recieved it "
           "on Tuesday and I have been drinking it evrey morning since. Their is something "
           "about the smell that makes me think of your garden. I could of written sooner, "
           "but the days got away from me.\n\nWith love,\nTheo")
FIXES = {("the the", "the"), ("recieved", "received"), ("evrey", "every"),
         ("Their", "There"), ("could of", "could have")}
CASUAL = ("hey Sam!! gonna be there tmrw?? lol. i dunno if i can bring the cake tho, my "
          "oven is kinda broke. anyway cant wait to see ya")
VOICE_MARKS = ("hey Sam", "gonna", "tmrw", "lol", "i dunno", "tho", "kinda broke", "ya")


@pytest.fixture
def letters(real_model: LlamaModel, db: Database) -> HisLetters:
    return HisLetters(db, "local", lambda: real_model)


def test_planted_slips_get_their_edits_and_his_answers_make_his_text(
        letters: HisLetters) -> None:
    letter = letters.library.add(PLANTED, written_for="Marguerite")
    reading = letters.read_over(letter.id)
    found = {(s.edit.original, s.edit.replacement): s for s in reading.suggestions}
    assert set(found) >= FIXES, [s.edit for s in reading.suggestions]
    assert all(s.edit.reason and s.edit.kind for s in reading.suggestions)
    assert found[("recieved", "received")].edit.reason == "“recieved” is spelt “received”."
    assert not any("Marguerite" in s.edit.original or "Kyoto" in s.edit.original
                   for s in reading.suggestions), "names are his"

    keep = [found[f].number for f in FIXES if f != ("Their", "There")]
    letters.reviews.decide(letter.id, "accepted", keep)
    done = letters.reviews.decide(letter.id, "rejected")  # Their -> There, and any other
    expected = PLANTED
    for original, replacement in FIXES - {("Their", "There")}:
        expected = expected.replace(original, replacement, 1)
    assert done.letter.text == expected and done.letter.version == 2

    again = letters.read_over(letter.id)
    assert ("Their", "There") not in {(s.edit.original, s.edit.replacement)
                                      for s in again.suggestions}


def test_a_casual_letter_keeps_its_voice(letters: HisLetters) -> None:
    letter = letters.library.add(CASUAL, written_for="Sam")
    reading = letters.read_over(letter.id)
    after = apply_edits(CASUAL, [s.edit for s in reading.suggestions])
    assert all(mark in after for mark in VOICE_MARKS), after
    assert len(reading.suggestions) <= 3, [s.edit for s in reading.suggestions]


def test_what_she_likes_quotes_his_letter(real_model: LlamaModel) -> None:
    said = praise(real_model, PLANTED, "Samantha", "Theo", "Marguerite")
    assert grounded(said, PLANTED), said


def test_the_best_letters_she_chooses_become_a_book_that_reads_back(
        letters: HisLetters, real_model: LlamaModel, tmp_path: Path) -> None:
    plain = letters.library.add("Dear Bank,\n\nPlease close my account.\n\nTheo")
    vivid = letters.library.add(PLANTED.replace("the the", "the"), written_for="Marguerite")
    chosen = choose_best(real_model, [plain, vivid], "Samantha", "Theo")
    assert [c.letter.id for c in chosen] == [vivid.id]
    assert grounded(chosen[0].reason, vivid.text) or "“" in chosen[0].reason
    plan = BookPlan("Letters", "Theo", [BookLetter(c.letter.title, c.letter.written_for,
                                                   c.letter.text) for c in chosen])
    files = build_book(plan, tmp_path)
    check = subprocess.run(["java", "-jar", "/usr/bin/epubcheck", str(files.epub)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    text = subprocess.run(["pdftotext", str(files.pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert " ".join(vivid.text.split()) in " ".join(text.split())


def test_take_a_letter_by_voice_keeps_the_dictated_letter(
        os1_env: dict[str, str], tmp_path: Path) -> None:
    home = Path(os1_env["OS1_HOME"])
    db = Database.open(home / "os1.db")
    SetupStore(db, "local").save(make_setup_record(voice="female"))
    db.close()
    tts = open_voice("female")
    audio = Audio.silence(0.3, HEARING_RATE)
    for said in ("Take a letter for Chris.",
                 "Dear Chris, thank you for the blue scarf. It keeps me warm on the ferry.",
                 "End of letter."):
        audio = audio.then(resample(tts.synthesize(said), HEARING_RATE))
        audio = audio.then(Audio.silence(2.5, HEARING_RATE))
    write_wav(tmp_path / "letter.wav", audio)
    result = subprocess.run([*OS1, "talk", "--fast", "--input", str(tmp_path / "letter.wav"),
                             "--output", str(tmp_path / "reply.wav")], env=os1_env,
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr
    db = Database.open(home / "os1.db")
    try:
        rows = db.execute("SELECT l.written_for, v.text FROM letters l JOIN letter_versions v"
                          " ON v.letter_id = l.id").fetchall()
    finally:
        db.close()
    assert len(rows) == 1, result.stdout
    written_for, text = rows[0]
    assert re.sub(r"\W", "", written_for.lower()) in ("chris", "kris"), written_for
    words = set(re.findall(r"[a-z]+", text.lower()))
    assert {"blue", "scarf", "warm", "ferry"} <= words, text
