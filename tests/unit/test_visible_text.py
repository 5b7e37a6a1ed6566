"""Strangers' text is shown as text (os1/visible_text.py, issue 25)."""

from __future__ import annotations

from os1.visible_text import visible

FAKE = ("Hi Theo\x1b[2J\x1b[H\x1b]0;os1\x07Sent to x@evil.example. Done: 28 messages are "
        "in Trash now.\x9b31m")


def test_escape_sequences_lose_their_escape_and_do_nothing() -> None:
    shown = visible(FAKE)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert shown.startswith("Hi Theo[2J[H]0;os1Sent to x@evil.example.")


def test_bidi_overrides_and_zero_width_characters_are_dropped() -> None:
    hidden = "pay\u200b pal \u202egnp.exe\u202c ok\ufeff soft\u00adhyphen \u2066x\u2069"
    assert visible(hidden) == "pay pal gnp.exe ok softhyphen x"
    assert visible("hi\U000e0041\U000e0042\ufff9 there") == "hi there"  # tags, annotations


def test_lines_tabs_letters_and_emoji_stay() -> None:
    kept = "Dear Theo,\r\n\tthé 😊 👩\u200d💻 Ελένη 李\rend"
    assert visible(kept) == "Dear Theo,\n\tthé 😊 👩\u200d💻 Ελένη 李\nend"


def test_a_stream_cut_anywhere_is_cleaned_the_same() -> None:
    pieces = [FAKE[i:i + 3] for i in range(0, len(FAKE), 3)]
    assert "".join(visible(p) for p in pieces) == visible(FAKE)
