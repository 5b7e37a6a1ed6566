"""Everything the letters skill does for one person, in one place, so that ``os1
letters``, a conversation and the web page do exactly the same thing: his library, her
reading of a letter, his answers to her suggestions.

Why a letter in another language gets no suggestions: both checkers and her prompts are
English; "correcting" French into English words would damage it, so she says so instead.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from os1.letters.book import BookLetter, BookPlan, build_book, file_stem
from os1.letters.foreword import foreword
from os1.letters.language import looks_english
from os1.letters.library import LetterLibrary
from os1.letters.proofread import Progress, Proofreader
from os1.letters.records import Letter
from os1.letters.review import Reviews, Suggestion
from os1.llm.base import Model
from os1.storage.artefacts import Artefact, ArtefactStore
from os1.storage.db import Database
from os1.storage.setups import SetupStore

NOT_ENGLISH = ("This letter seems not to be in English, and I only proofread English, so "
               "I've left it as you wrote it.")
NOTHING_FOUND = "I read it through and found nothing I'd change."


@dataclass(frozen=True)
class Reading:
    """Her reading of a letter: her suggestions (numbered), or a note saying why none."""

    letter: Letter
    suggestions: list[Suggestion]
    note: str


class HisLetters:
    def __init__(self, db: Database, user_id: str,
                 model: Callable[[], Model | None] = lambda: None) -> None:
        """``model`` is asked for only when she reads a letter (None: checkers only)."""
        self.db = db
        self.user_id = user_id
        self.library = LetterLibrary(db, user_id)
        self.reviews = Reviews(db, user_id, self.library)
        self._model = model

    def read_over(self, letter_id: int, flow: bool = False,
                  progress: Progress | None = None) -> Reading:
        """Her suggestions on the letter as it is now, waiting for his answers."""
        letter = self.library.get(letter_id)
        if not looks_english(letter.text):
            self.reviews.open(letter, [])
            return Reading(letter, [], NOT_ENGLISH)
        reader = Proofreader(self._model())
        edits = reader.suggest(letter.text, self.reviews.rejected(), flow, progress)
        suggestions = self.reviews.open(letter, edits)
        return Reading(letter, suggestions, "" if suggestions else NOTHING_FOUND)

    def book(self, home: Path, title: str, author: str, her_name: str,
             with_foreword: bool = False, anonymise: bool = False,
             handwriting: bool = False) -> list[Artefact]:
        """The chosen letters as a book (PDF and EPUB), kept among his things."""
        letters = [BookLetter(letter.title, letter.written_for, letter.text)
                   for letter in self.library.chosen()]
        preface = ""
        model = self._model() if with_foreword and letters else None
        if model is not None:
            preface = foreword(model, letters, her_name, author)
        plan = BookPlan(title, author, letters, preface, anonymise, handwriting)
        things = ArtefactStore(self.db, self.user_id, home)
        with tempfile.TemporaryDirectory(prefix="os1-book-") as folder:
            files = build_book(plan, Path(folder))
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", file_stem(title)).strip("-.") or "book"
            return [things.add("letters", "book", f"{title} ({kind})", path.read_bytes(),
                               f"{name}.{kind}")
                    for kind, path in (("pdf", files.pdf), ("epub", files.epub))]


def her_name(db: Database, user_id: str) -> str:
    """The name she chose when they met (Samantha before she was set up)."""
    setup = SetupStore(db, user_id).current()
    return setup.companion_name if setup is not None else "Samantha"
