"""The form he asked for, given by construction: "two lines about the rain" gets two lines.

Asked for "two lines", the small model wrote three; asked for a haiku, five. Telling it
again does not hold. What does: a grammar (GBNF) that lets it write only the asked number
of lines, or words, or a bare yes or no, so it can't do otherwise; and for sentences,
where a grammar would be clumsy, the guard ends the reply after that many.

Which words ask for which form is data (``steering.toml`` ``[form]``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from os1.data import read_toml

# A line of a poem runs to its first comma, full stop, semicolon, question or exclamation
# mark, which ends it: the model's own phrasing decides where a line breaks, so it is
# never cut mid-word, and a line is never so long that the model has finished what it
# wanted to say before the last line (forced on after that, it wrote the chat template's
# next turn as text: "\nuser What are you doing?"). No markup; no colon (a lead-in: "Here
# are two lines:").
LINE = 'line ::= [^\\n,.!?;:#*`] [^\\n,.!?;:*`]{1,90} ([,.!?;] | "...")'
MAX_REQUEST_CHARS = 600
WORD = "word ::= [A-Za-z'\\-]{1,24}"


@dataclass(frozen=True)
class Form:
    """What he asked for: ``lines``, ``words`` or ``sentences`` (a count), or a bare
    ``yes_no``. At most one is set."""

    lines: int = 0
    words: int = 0
    sentences: int = 0
    yes_no: bool = False

    @classmethod
    def of(cls, unit: str, count: int) -> Form:
        return {"lines": cls(lines=count), "words": cls(words=count),
                "sentences": cls(sentences=count)}[unit]

    @property
    def asked(self) -> bool:
        return bool(self.lines or self.words or self.sentences or self.yes_no)

    def grammar(self) -> str | None:
        if self.lines:
            rule = ' "\\n" '.join(["line"] * self.lines)
            return f"root ::= {rule}\n{LINE}\n"
        if self.words:
            # "Happy, curious, and alive": the "and" is English, not a fourth word
            last = '("and ")? word' if self.words > 1 else "word"
            rule = " sep ".join(["word"] * (self.words - 1) + [last])
            return f'root ::= {rule} [.!]?\nsep ::= ", " | " "\n{WORD}\n'
        if self.yes_no:
            return 'root ::= ("Yes" | "No") [.!]\n'
        return None


@dataclass(frozen=True)
class FormReader:
    """Finds the form a message asks for from the words listed in ``[form]``: a count
    ("two", "3") before a unit ("lines", "sentences", "words"), a named form ("haiku"),
    or a request for a bare yes or no."""

    numbers: dict[str, int]
    units: dict[str, str]
    named: dict[str, tuple[str, int]]
    request: re.Pattern[str]
    at_most: re.Pattern[str]
    yes_no: re.Pattern[str]

    @classmethod
    def load(cls) -> FormReader:
        data = read_toml("steering.toml")["form"]
        named = {str(k): (str(v[0]), int(v[1])) for k, v in data["named"].items()}
        return cls({str(k): int(v) for k, v in data["numbers"].items()},
                   {str(k): str(v) for k, v in data["units"].items()}, named,
                   re.compile(str(data["request"]), re.IGNORECASE),
                   re.compile(str(data["at_most"]), re.IGNORECASE),
                   re.compile(str(data["yes_no"]), re.IGNORECASE))

    def read(self, message: str) -> Form:
        if len(message) > MAX_REQUEST_CHARS:
            return Form()  # a letter pasted in to read is no request for a form
        if self.yes_no.search(message):
            return Form(yes_no=True)
        if not self.request.search(message) or self.at_most.search(message):
            return Form()  # "five words max" is a limit, not a count to fill
        words = re.findall(r"[a-z0-9]+", message.lower())
        for before, word in itertools.pairwise(words):
            count = int(before) if before.isdigit() else self.numbers.get(before)
            unit = self.units.get(word)
            if count and unit and 0 < count <= 12:
                return Form.of(unit, count)
        said = " ".join(words)
        for phrase, (unit, count) in self.named.items():
            if re.search(rf"\b{re.escape(phrase)}\b", said):
                return Form.of(unit, count)
        return Form()
