"""Reading what the user types or pipes in, without ever crashing on its bytes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class InputLine:
    number: int
    text: str
    problem: str | None = None


def decode_lines(raw_lines: Iterable[bytes]) -> Iterator[InputLine]:
    """Decode each line as UTF-8; a line with bad bytes is kept, the bad bytes replaced
    with U+FFFD, and ``problem`` says exactly which bytes they were and where."""
    for number, raw in enumerate(raw_lines, start=1):
        text, bad = _decode(raw.rstrip(b"\r\n"))
        problem = f"Line {number} of the input {_describe(bad)}" if bad else None
        yield InputLine(number, text, problem)


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode a whole message; returns the text and a description of any bad bytes."""
    text, bad = _decode(data)
    return text, (f"The input {_describe(bad)}" if bad else None)


def _decode(data: bytes) -> tuple[str, list[tuple[int, bytes]]]:
    """UTF-8 with every undecodable run replaced, and a list of (offset, bytes) runs."""
    parts: list[str] = []
    bad: list[tuple[int, bytes]] = []
    position = 0
    while True:
        try:
            parts.append(data[position:].decode("utf-8"))
            return "".join(parts), bad
        except UnicodeDecodeError as exc:
            start, end = position + exc.start, position + exc.end
            parts.append(data[position:start].decode("utf-8") + "\N{REPLACEMENT CHARACTER}")
            if bad and bad[-1][0] + len(bad[-1][1]) == start:  # one run, reported once
                bad[-1] = (bad[-1][0], data[bad[-1][0]:end])
            else:
                bad.append((start, data[start:end]))
            position = end


def _describe(bad: list[tuple[int, bytes]]) -> str:
    shown = ", ".join(f"bytes {chunk.hex(' ')} at byte {offset}" for offset, chunk in bad[:5])
    more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
    return (f"is not valid UTF-8 ({shown}{more}); those bytes were replaced with "
            "\N{REPLACEMENT CHARACTER}.")
