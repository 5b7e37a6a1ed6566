"""The terminal conversation: her reply streamed as it is generated, Ctrl-C to cut her off.

Two modes share one loop. On a terminal she is rendered with rich (names, colours,
spinners). With piped input, stdout carries only her replies, one per line, and every
notice goes to stderr, so scripts can rely on stdout. A reply with a sound (a piece she
composed) is followed by a line "♪ path" to the file, since a terminal can't play it: on
a terminal under her words, piped on stderr.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from rich.console import Console

from os1.errors import OS1Error
from os1.mind.turn import Turn
from os1.ui.input import InputLine, decode_lines
from os1.ui.wrap import StreamWrapper
from os1.visible_text import visible

HER_STYLE = "bold magenta"
YOU_STYLE = "bold cyan"


class Named(Protocol):
    @property
    def companion_name(self) -> str:
        ...


class Conversant(Protocol):
    """What the terminal needs of her: a local ``Companion`` or a ``RemoteCompanion``."""

    @property
    def identity(self) -> Named:
        ...

    def open_session(self, client: str) -> None:
        ...

    def greet(self) -> Turn | None:
        ...

    def reply(self, text: str) -> Turn:
        ...

    def warm_up(self) -> None:
        ...


class TerminalChat:
    def __init__(self, companion: Conversant, out: Console, err: Console,
                 interactive: bool) -> None:
        self.companion = companion
        self.out = out
        self.err = err
        self.interactive = interactive

    # -- output ---------------------------------------------------------------------

    def notice(self, text: str) -> None:
        text = visible(text)
        self.err.print(f"[dim]{text}[/dim]" if self.interactive else text,
                       markup=self.interactive, highlight=False)

    def error(self, error: OS1Error) -> None:
        hint = f" {error.hint}" if error.hint else ""
        self.err.print(f"{error}{hint}", style="red" if self.interactive else None,
                       markup=False, highlight=False)

    def show(self, turn: Turn) -> bool:
        """Stream one reply. Returns False if the user interrupted it."""
        if turn.notice:
            self.notice(turn.notice)
        label = f"{self.companion.identity.companion_name} › "
        wrapper = StreamWrapper(self.out.width, len(label)) if self.interactive else None
        if self.interactive:
            self.out.print(label, style=HER_STYLE, end="")
        try:
            for piece in turn:
                self._write(wrapper.feed(piece) if wrapper else piece)
        except KeyboardInterrupt:
            turn.close()
            self._write((wrapper.finish() if wrapper else "") + "\n")
            self.notice("(interrupted — what she had said so far is kept)")
            return False
        except OS1Error as error:
            self._write("\n")
            self.error(error)
            return True
        self._write((wrapper.finish() if wrapper else "") + "\n")
        if turn.sound is not None:
            self.sound(turn.sound)
        return True

    def sound(self, path: Path) -> None:
        """Where the sound she made is: here, as his to open; piped, stdout stays hers."""
        line = visible(f"♪ {path}")
        if self.interactive:
            self.out.print(line, style=HER_STYLE, markup=False, highlight=False,
                           soft_wrap=True)
        else:
            self.err.print(line, markup=False, highlight=False, soft_wrap=True)

    def _write(self, text: str) -> None:
        text = visible(text)  # her words may quote a stranger's: nothing in them acts
        if self.interactive:
            self.out.print(text, end="", markup=False, highlight=False, soft_wrap=True)
        else:
            self.out.file.write(text)
            self.out.file.flush()

    # -- loop -----------------------------------------------------------------------

    def run(self, greet: bool, arrival: Callable[[], Turn | None] = lambda: None) -> None:
        """``arrival``: what she has waiting to say as he comes, said instead of her
        greeting (only where she would greet)."""
        self.companion.open_session("terminal" if self.interactive else "pipe")
        turn = (arrival() or self.companion.greet()) if greet else None
        if turn is not None:
            self.show(turn)
        elif self.interactive:
            threading.Thread(target=self._warm_up, daemon=True).start()
        for line in self._lines():
            if line.problem:
                self.notice(line.problem)
            self.say(line.text)

    def say(self, text: str) -> bool:
        """One turn; False if she could not answer (bad input or a model failure)."""
        try:
            turn = self.companion.reply(text)
        except OS1Error as error:  # bad input, a busy server: say so and go on
            self.error(error)
            return False
        self.show(turn)
        return turn.status != "failed"

    def _lines(self) -> Iterable[InputLine]:
        if not self.interactive:
            yield from decode_lines(sys.stdin.buffer)
            return
        number = 0
        while True:
            try:
                text = self.out.input(f"[{YOU_STYLE}]you ›[/{YOU_STYLE}] ")
            except (EOFError, KeyboardInterrupt):
                self.out.print()
                return
            number += 1
            yield InputLine(number, text)

    def _warm_up(self) -> None:
        with contextlib.suppress(OS1Error):  # the first real turn reports it properly
            self.companion.warm_up()
