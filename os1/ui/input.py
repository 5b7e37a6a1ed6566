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
    with U+FFFD, and ``problem`` says exactly where they were."""
    for number, raw in enumerate(raw_lines, start=1):
        line = raw.rstrip(b"\r\n")
        try:
            yield InputLine(number, line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad = line[exc.start:exc.end].hex(" ")
            problem = (f"Line {number} of the input is not valid UTF-8 (bytes {bad} at byte "
                       f"{exc.start}); they were replaced with \N{REPLACEMENT CHARACTER}.")
            yield InputLine(number, line.decode("utf-8", "replace"), problem)


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode a whole message; returns the text and a description of any bad bytes."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.end].hex(" ")
        problem = (f"The input is not valid UTF-8 (bytes {bad} at byte {exc.start}); "
                   "bad bytes were replaced with \N{REPLACEMENT CHARACTER}.")
        return data.decode("utf-8", "replace"), problem
