"""His bio for a publisher, in his own words: he gives it (``os1 letters submit --bio``,
or "my bio: ..." in a conversation), it is kept among his things exactly as he gave it
(``os1 things``), and the newest one goes into every query letter until he gives another.

Why never written by the model: a bio speaks for him to a stranger, and every fact in it
must be one he chose to say. When none is kept, she asks him for one instead.
"""

from __future__ import annotations

from os1.errors import InputError
from os1.storage.artefacts import ArtefactStore
from os1.visible_text import visible

KIND = "bio"
MIN_BIO_WORDS = 3
MAX_BIO_WORDS = 150
MAX_BIO_CHARS = 1200


def checked_bio(text: str) -> str:
    """His bio as one paragraph (his words, their order and spelling as given), or a
    precise refusal."""
    bio = " ".join(visible(text).split())
    if not bio:
        raise InputError("Your bio is empty.",
                         "Write a few sentences about yourself, as a publisher should read "
                         "them.")
    words = len(bio.split())
    if words < MIN_BIO_WORDS:
        raise InputError(f"“{bio}” is too short for a bio.",
                         f"Say at least {MIN_BIO_WORDS} words about yourself, as a publisher "
                         "should read them.")
    if words > MAX_BIO_WORDS or len(bio) > MAX_BIO_CHARS:
        raise InputError(f"Your bio is {words:,} words ({len(bio):,} characters); in a query "
                         f"letter it is a short paragraph of at most {MAX_BIO_WORDS} words "
                         f"and {MAX_BIO_CHARS:,} characters.", "Shorten it and give it again.")
    return bio


class HisBio:
    def __init__(self, things: ArtefactStore) -> None:
        """``things``: his own (an ArtefactStore is one person's)."""
        self.things = things

    def kept(self) -> str | None:
        """The bio he gave last, or None if he has given none (or its file is gone)."""
        for thing in self.things.list("letters"):
            if thing.kind != KIND or thing.path is None:
                continue
            try:
                return thing.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        return None

    def keep(self, text: str) -> str:
        """``text``, checked, as his bio from now on (the same bio again adds nothing)."""
        bio = checked_bio(text)
        if self.kept() != bio:
            self.things.add("letters", KIND, "Your bio, for publishers", bio, "bio.txt")
        return bio
