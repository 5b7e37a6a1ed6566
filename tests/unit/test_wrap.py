from __future__ import annotations

from os1.ui.wrap import StreamWrapper


def stream(text: str, width: int, column: int = 0, piece: int = 3) -> str:
    wrapper = StreamWrapper(width, column)
    out = "".join(wrapper.feed(text[i:i + piece]) for i in range(0, len(text), piece))
    return out + wrapper.finish()


def test_words_are_never_split_across_lines() -> None:
    text = "the quick brown fox jumps over the lazy dog and keeps running far away"
    out = stream(text, width=20)
    assert all(len(line) <= 20 for line in out.split("\n"))
    assert out.replace("\n", " ").split() == text.split()


def test_first_line_accounts_for_the_label() -> None:
    out = stream("hello there friend", width=20, column=12)
    assert out.split("\n")[0] == "hello"


def test_newlines_in_the_reply_reset_the_column() -> None:
    out = stream("one\ntwo three", width=12)
    assert out == "one\ntwo three"


def test_a_word_longer_than_the_width_is_kept_whole() -> None:
    out = stream("a " + "x" * 30 + " b", width=12)
    assert "x" * 30 in out.split("\n")
