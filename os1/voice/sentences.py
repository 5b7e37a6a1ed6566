"""Her streamed reply cut into pieces worth speaking, as soon as each is complete.

A sentence goes to text-to-speech the moment its full stop arrives, so she starts talking
while the model is still writing the rest. A long first clause goes at its comma, because
the first piece decides how long the user waits. Markdown and emoji are for screens: they
are taken out before speech, never read aloud.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_END = re.compile(r"([.?!…]+['\"”’)]*)(\s+)")
# A stop at the very end of what has come so far ends a sentence too (the persona guard
# releases a sentence without the space after it), unless it may be "Mr." or "3.5".
_END_NOW = re.compile(r"(?:[?!…]|(?<=[a-z]{3})\.)['\"”’)]*$")
_CLAUSE = re.compile(r"(?<!\d)([,;:—])(\s+|$)")  # "1,000" is no clause end
_MARKUP = re.compile(r"(\*\*|__|[*_`#>|~]|^\s*[-•]\s+|^\s*\d+\.\s+)", re.MULTILINE)
_SAID_AS = ((re.compile(r"\$(\d[\d,.]*)"), r"\1 dollars"), (re.compile(r"(\d)\s?%"), r"\1 percent"),
            (re.compile(r"\s&\s"), " and "))
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_NOT_SPOKEN = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0000FE0F\U0000200D]")


def speakable(text: str) -> str:
    """``text`` as it should sound: no markup, emoji or URLs; whitespace collapsed."""
    text = _LINK.sub(r"\1", text)
    text = re.sub(r"https?://\S+", "a link", text)
    text = _NOT_SPOKEN.sub("", _MARKUP.sub("", text))
    for pattern, words in _SAID_AS:
        text = pattern.sub(words, text)
    return re.sub(r"\s+", " ", text).strip()


class SentenceSplitter:
    def __init__(self, first_clause_words: int = 6) -> None:
        self.first_clause_words = first_clause_words
        self._buffer = ""
        self._spoken_any = False

    def feed(self, piece: str) -> Iterator[str]:
        """The pieces that ``piece`` completed, in order."""
        self._buffer += piece
        while (cut := self._cut()) is not None:
            head, self._buffer = self._buffer[:cut], self._buffer[cut:]
            self._spoken_any = True
            if spoken := speakable(head):
                yield spoken

    def flush(self) -> Iterator[str]:
        head, self._buffer = self._buffer, ""
        if spoken := speakable(head):
            yield spoken

    def _cut(self) -> int | None:
        newline = self._buffer.find("\n")
        end = _END.search(self._buffer)
        cuts = [m.end(1) for m in [end] if m is not None]
        if newline > 0:
            cuts.append(newline + 1)
        if not cuts and _END_NOW.search(self._buffer.rstrip(" ")) and self._buffer.strip():
            cuts.append(len(self._buffer))
        if not self._spoken_any:
            cuts += [c.end(1) for c in _CLAUSE.finditer(self._buffer)
                     if len(self._buffer[:c.start()].split()) >= self.first_clause_words][:1]
        return min(cuts) if cuts else None
