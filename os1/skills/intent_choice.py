"""One question to her model, where the intent router's patterns are unsure or disagree:
is this message one of the intents the patterns found, or plain conversation?

Why only the intents found, each a letter, conversation first: a small model chooses
well among two or three named things and poorly among a dozen, and a one-letter answer
held by a grammar is one token (a grammar makes each sampled token slower on a CPU), is
never parsed loosely and never taken for a reply. The fixed instructions come first, so
llama.cpp reuses them from one question to the next. The words are data
(``data/intent_choice.toml``).
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from functools import cache
from typing import Any

from os1.data import fill, read_toml
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.skills.intents import CONVERSATION, Intent

LETTERS = string.ascii_uppercase


def choose_intent(model: Model, choices: Sequence[Intent], text: str) -> str | None:
    """The label the model chooses for ``text`` among ``choices`` ("mail.read"), or
    "conversation"; None when its answer is no letter offered (a backend that ignores
    grammars, such as the fake)."""
    choices = choices[:len(LETTERS) - 1]
    letters = LETTERS[:len(choices) + 1]
    said = complete(model, choice_prompt(choices, text),
                    GenerateOptions(max_tokens=1, temperature=0.0, top_p=1.0,
                                    grammar=choice_grammar(letters)))
    answer = said.strip()
    if len(answer) != 1 or answer not in letters:
        return None
    return CONVERSATION if answer == "A" else choices[letters.index(answer) - 1].label


def choice_prompt(choices: Sequence[Intent], text: str) -> list[Message]:
    words = _words()
    shown = int(words["max_examples"])
    options = [str(words["conversation"])]
    options += [fill(str(words["option"]), letter=LETTERS[n + 1], description=i.description,
                     examples=" or ".join(json.dumps(e) for e in i.examples[:shown]))
                for n, i in enumerate(choices)]
    return [Message("system", fill(str(words["system"]), options="\n".join(options))),
            Message("user", fill(str(words["message"]), text=text))]


@cache
def choice_grammar(letters: str) -> str:
    """GBNF: exactly one of ``letters``."""
    return "root ::= " + " | ".join(json.dumps(letter) for letter in letters)


@cache
def _words() -> dict[str, Any]:
    return read_toml("intent_choice.toml")
