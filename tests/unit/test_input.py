"""Decoding what is typed or piped in (os1/ui/input.py)."""

from __future__ import annotations

from os1.ui.input import InputLine, decode_lines, decode_text


def test_decode_lines_strips_line_ends_and_numbers_lines() -> None:
    lines = list(decode_lines([b"hello\n", b"caf\xc3\xa9\r\n", b"\n", b"last"]))
    assert lines == [InputLine(1, "hello"), InputLine(2, "café"), InputLine(3, ""),
                     InputLine(4, "last")]


def test_decode_lines_reports_bad_bytes_and_keeps_the_line() -> None:
    (line,) = decode_lines([b"ab\xffcd\n"])
    assert line.text == "ab\ufffdcd"
    assert line.problem is not None
    assert "Line 1" in line.problem
    assert "bytes ff at byte 2" in line.problem


def test_decode_lines_names_a_truncated_sequence_whole() -> None:
    (_, line) = decode_lines([b"fine\n", b"caf\xc3 x\n"])
    assert line.number == 2
    assert line.problem is not None and "Line 2" in line.problem
    assert "bytes c3 at byte 3" in line.problem
    assert line.text == "caf\ufffd x"


def test_decode_lines_names_every_bad_byte() -> None:
    """The problem says exactly which bytes were replaced: all of them, not just the first."""
    (line,) = decode_lines([b"ab\xff\xfecd\n"])
    assert line.text == "ab\ufffd\ufffdcd"
    assert line.problem is not None
    assert "ff fe" in line.problem


def test_decode_text() -> None:
    assert decode_text("héllo\n".encode()) == ("héllo\n", None)
    text, problem = decode_text(b"\x80oops")
    assert text == "\ufffdoops"
    assert problem is not None and "bytes 80 at byte 0" in problem
