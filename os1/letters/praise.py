"""What she likes in a letter, in her own voice, and always about this letter: her words
must quote his, exactly, or they are not said.

Why checked: a small model praises anything in the same words ("What a heartfelt and
beautiful letter!"), which is the generic praise the issue rules out. A quotation that
really is in his letter grounds what she says in what he wrote; when her model can't give
one in three tries, she says what she likes in a line built around a sentence of his.
"""

from __future__ import annotations

import re

from os1.data import fill, read_text, read_toml
from os1.letters.model_edits import sentences, tokens
from os1.llm.base import GenerateOptions, Message, Model, complete

TRIES = 3
MIN_QUOTED_WORDS = 3
_QUOTED = re.compile(r"[\"“]([^\"“”]{3,300})[\"”]")
_GENERIC = re.compile(r"\b(?:heartfelt|beautiful letter|great letter|well[- ]written|"
                      r"the (?:author|writer)|this letter|in the letter|expresses)\b",
                      re.IGNORECASE)


def praise(model: Model, letter: str, name: str, user_name: str, written_for: str = "",
           seed: int = 8316) -> str:
    """One or two sentences on what she loves in ``letter``, quoting it."""
    system = fill(read_text("prompts/letter_praise.txt"), name=name, user_name=user_name)
    example = read_toml("letters.toml")["praise"]
    asked = f"Here's the letter I wrote{' for ' + written_for if written_for else ''}:"
    messages = [Message("system", system),
                Message("user", f"{asked}\n\n{example['example_letter']}"),
                Message("assistant", example["example_answer"]),
                Message("user", f"{asked}\n\n{letter[:6000]}")]
    for attempt in range(TRIES):
        said = complete(model, messages,
                        GenerateOptions(max_tokens=90, temperature=0.7, top_p=0.9,
                                        seed=seed + attempt, repeat_penalty=1.1))
        said = " ".join(said.split())
        if grounded(said, letter):
            return said
    return fallback(letter)


def grounded(said: str, letter: str) -> bool:
    """Whether ``said`` quotes at least three words of ``letter`` exactly (case, spaces
    and curly quotes aside) and isn't the generic kind."""
    plain = _plain(letter)
    quotes = [q for q in _QUOTED.findall(said)
              if len(tokens(q)) >= MIN_QUOTED_WORDS and _plain(q).strip(" .,;!?") in plain]
    return bool(quotes) and not _GENERIC.search(said) and len(said) <= 400


def fallback(letter: str) -> str:
    """Her line around his longest sentence with a concrete word in it."""
    spans = [letter[a:b] for a, b in sentences(letter)]
    candidates = [s for s in spans if 4 <= len(s.split()) <= 30] or spans or [letter[:120]]
    chosen = max(candidates, key=lambda s: (sum(w[:1].isupper() or w.isdigit()
                                                for w in s.split()[1:]), len(s)))
    return fill(read_toml("letters.toml")["praise"]["fallback"], quote=chosen.strip())


def _plain(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").lower()
    return " ".join(text.split())
