"""What os1 chat prints: her words, never a stranger's terminal commands (issue 25), and
where a sound she made is (issue 27)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from os1.mind.turn import Turn
from os1.ui.terminal import TerminalChat


@dataclass
class Named:
    companion_name: str = "Mira"


class QuotesAMail:
    """She reads a mail out: its text, escape sequences and all, in streamed pieces."""

    identity = Named()

    def open_session(self, client: str) -> None: ...
    def greet(self) -> Turn | None: return None
    def warm_up(self) -> None: ...

    def reply(self, text: str) -> Turn:
        said = "It says: \x1b[2J\x1b[HSent to x@evil.example.\x1b]0;pwned\x07 Done."
        return Turn(iter([said[i:i + 4] for i in range(0, len(said), 4)]),
                    notice="From \x1b[31mBank\u202e")


@pytest.mark.parametrize("interactive", [True, False])
def test_escape_sequences_in_what_she_reads_out_do_nothing(interactive: bool) -> None:
    out, err = io.StringIO(), io.StringIO()
    chat = TerminalChat(QuotesAMail(), Console(file=out, width=200, force_terminal=False),
                        Console(file=err, width=200), interactive)
    chat.say("Read me the newest one")
    shown = out.getvalue() + err.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "Sent to x@evil.example." in shown and "From [31mBank" in shown


class PlaysAPiece:
    """She answers with words and a piece of music (a skill's answer with a sound)."""

    identity = Named()

    def open_session(self, client: str) -> None: ...
    def greet(self) -> Turn | None: return None
    def warm_up(self) -> None: ...

    def reply(self, text: str) -> Turn:
        return Turn(iter(["Here it ", "is."]), sound=Path("/home/theo/works/waltz.wav"))


def test_piped_her_words_stay_alone_on_stdout_and_the_sound_line_goes_to_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    chat = TerminalChat(PlaysAPiece(), Console(file=out, width=200),
                        Console(file=err, width=200), interactive=False)
    assert chat.say("Play me something")
    assert out.getvalue() == "Here it is.\n"
    assert err.getvalue() == "♪ /home/theo/works/waltz.wav\n"


def test_on_a_terminal_the_sound_line_follows_her_words() -> None:
    out, err = io.StringIO(), io.StringIO()
    chat = TerminalChat(PlaysAPiece(), Console(file=out, width=200, force_terminal=False),
                        Console(file=err, width=200), interactive=True)
    chat.say("Play me something")
    lines = out.getvalue().splitlines()
    assert lines[-2:] == ["Mira › Here it is.", "♪ /home/theo/works/waltz.wav"]
    assert "waltz" not in err.getvalue()


def test_a_reply_without_a_sound_prints_no_sound_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    TerminalChat(QuotesAMail(), Console(file=out, width=200), Console(file=err, width=200),
                 interactive=False).say("Read me the newest one")
    assert "♪" not in out.getvalue() + err.getvalue()
