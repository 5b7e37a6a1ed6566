"""Her short foreword to the book of his letters, in her voice, about these letters: it
must name someone a letter was for or quote one, or it is not used.

Why checked as praise is: a foreword that could open any book ("These letters are a
testament to the power of words") is the generic praise the issue rules out.
"""

from __future__ import annotations

from collections.abc import Sequence

from os1.data import fill, read_toml
from os1.letters.book import BookLetter
from os1.letters.praise import grounded
from os1.llm.base import GenerateOptions, Message, Model, complete

TRIES = 3
MAX_CHARS = 1200


def foreword(model: Model, letters: Sequence[BookLetter], name: str, user_name: str) -> str:
    """Three to five sentences by her, introducing his letters; a plainer one of hers
    when her model can't write one that is about them."""
    words = read_toml("letters.toml")["foreword"]
    listing = "\n\n".join(f"Letter {n} ({letter.title}"
                          f"{', for ' + letter.written_for if letter.written_for else ''}):\n"
                          f"{letter.text[:1500]}" for n, letter in enumerate(letters, 1))
    messages = [Message("system", fill(words["prompt"], name=name, user_name=user_name)),
                Message("user", listing[:9000])]
    every = "\n\n".join(letter.text for letter in letters)
    names = [letter.written_for for letter in letters if letter.written_for]
    for attempt in range(TRIES):
        said = complete(model, messages, GenerateOptions(max_tokens=220, temperature=0.7,
                                                         seed=8316 + attempt,
                                                         repeat_penalty=1.1))
        said = " ".join(said.split())[:MAX_CHARS]
        if grounded(said, every) or any(n in said for n in names):
            return said
    return fill(words["fallback"], name=name, user_name=user_name,
                count=str(len(letters)), first=letters[0].title)
