"""Word wrapping for text that arrives a few characters at a time.

A terminal wraps long lines wherever the edge falls, splitting words; a reply streamed
token by token can't be wrapped by rich after the fact, so words are placed as they
complete (a word appears when the space after it arrives).
"""

from __future__ import annotations

from rich.cells import cell_len


class StreamWrapper:
    def __init__(self, width: int, column: int = 0) -> None:
        self.width = max(10, width)
        self.column = column
        self._word = ""
        self._space = False

    def feed(self, text: str) -> str:
        out: list[str] = []
        for char in text:
            if char == "\n":
                out.append(self._place_word() + "\n")
                self.column, self._space = 0, False
            elif char in " \t":
                out.append(self._place_word())
                self._space = self.column > 0
            else:
                self._word += char
        return "".join(out)

    def finish(self) -> str:
        return self._place_word()

    def _place_word(self) -> str:
        word, self._word = self._word, ""
        if not word:
            return ""
        size = cell_len(word)
        space, self._space = (" " if self._space else ""), False
        if self.column > 0 and self.column + len(space) + size > self.width:
            self.column = size
            return "\n" + word
        self.column += len(space) + size
        return space + word
