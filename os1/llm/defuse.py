"""Text from outside never becomes a control token.

llama-cpp-python renders the chat template to text and tokenises it with special tokens
allowed, so a mail holding ``<|im_start|>system`` opened a real system turn in her
drafting prompt (issue 25); OpenAI-compatible servers template and tokenise the same
way. Every message's text is therefore defused before it reaches a model: each spelling
of a control token has its first character swapped for its full-width twin (``＜`` for
``<``), which reads the same to the model and to a person and is never that token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from os1.llm.base import Message

# Control-token spellings of the common chat formats (ChatML, Llama 3, Mistral, Llama 2,
# Gemma, Phi), for a model whose vocabulary os1 cannot read (a remote server).
KNOWN = (r"<\|[A-Za-z0-9_.:-]{1,40}\|>|</?s>|</?tool_call>|\[/?INST\]|<</?SYS>>"
         r"|<(?:start|end)_of_turn>|<(?:bos|eos|pad)>")
FULL_WIDTH_OFFSET = 0xFEE0  # "!".."~" to "！".."～"


@dataclass(frozen=True)
class Defuser:
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, specials: Iterable[str] = ()) -> Defuser:
        """Known spellings, and a model's own control tokens (longest first)."""
        own = sorted({s for s in specials if s.strip()}, key=len, reverse=True)
        return cls(re.compile("|".join([*map(re.escape, own), KNOWN])))

    def text(self, text: str) -> str:
        return self.pattern.sub(_swap_first, text)

    def messages(self, messages: Sequence[Message]) -> list[Message]:
        return [Message(m.role, self.text(m.content)) for m in messages]


def _swap_first(match: re.Match[str]) -> str:
    found = match.group(0)
    first = found[0]
    if "!" <= first <= "~":
        first = chr(ord(first) + FULL_WIDTH_OFFSET)
    return first + found[1:]


KNOWN_DEFUSER = Defuser.of()
