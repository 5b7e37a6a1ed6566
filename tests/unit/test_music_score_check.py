"""The checks a tune must pass, and the repairs made in its text (music21 is real here)."""

from __future__ import annotations

import dataclasses

from music21 import converter, note

from os1.making.music.score_check import (
    CHECKS,
    check,
    pitch_of,
    read_bars,
    repair,
    split_abc,
    step_of,
)
from os1.making.records import Character

G_MAJOR = Character(key="G", mode="major", tempo=100, meter="4/4", program=0,
                    instrument="piano", dynamics="mf", bars=8)
HEAD = "X:1\nT:Test\nM:4/4\nL:1/8\nQ:1/4=100\nK:G\n%%MIDI program 0\n"
GOOD = ('!mf!"G"G2 B2 d2 B2 | "C"c2 e2 "G"d4 | "D"A2 F2 D2 F2 | "G"G2 B2 d4 |\n'
        '"G"B2 d2 g2 d2 | "C"e2 c2 "D"A4 | "G"B2 G2 "D"A2 F2 | "G"G8 |]\n')


def notes(abc: str) -> list[note.Note]:
    parsed = converter.parse(abc, format="abc")
    return list(parsed.recurse().getElementsByClass(note.Note))


def test_a_good_tune_passes_every_check() -> None:
    assert check(HEAD + GOOD, G_MAJOR) == []
    assert CHECKS == ("parses", "in_key", "tonal_centre", "cadence", "meter", "bar_count")


def test_a_minor_tune_passes_in_its_own_key() -> None:
    minor = dataclasses.replace(G_MAJOR, key="A", mode="minor", meter="3/4")
    head = HEAD.replace("M:4/4", "M:3/4").replace("K:G", "K:Am")
    body = ('"Am"A2 c2 e2 | "Dm"d2 c2 B2 | "Am"c2 B2 A2 | "E7"B4 E2 |\n'
            '"Am"A2 c2 e2 | "Dm"f2 e2 d2 | "E7"c2 B2 G2 | "Am"A6 |]\n')
    assert check(head + body, minor) == []


def test_an_accidental_fails_in_key_and_is_dropped_by_repair() -> None:
    abc = HEAD + GOOD.replace("c2 e2 \"G\"d4", "^c2 e2 \"G\"d4")
    assert check(abc, G_MAJOR) == ["in_key"]
    mended = repair(abc, G_MAJOR)
    assert mended is not None and "^" not in mended and check(mended, G_MAJOR) == []


def test_a_wrong_last_note_fails_the_cadence_and_becomes_the_tonic() -> None:
    abc = HEAD + GOOD.replace('"G"G8 |]', '"G"A8 |]')
    assert check(abc, G_MAJOR) == ["cadence"]
    mended = repair(abc, G_MAJOR)
    assert mended is not None and check(mended, G_MAJOR) == []
    last = notes(mended)[-1]
    assert last.pitch.name == "G" and last.quarterLength == 4.0


def test_a_missing_final_bar_line_is_written() -> None:
    abc = HEAD + GOOD.replace("|]", "|")
    assert check(abc, G_MAJOR) == ["cadence"]
    mended = repair(abc, G_MAJOR)
    assert mended is not None and mended.rstrip().endswith("|]")
    assert check(mended, G_MAJOR) == []


def test_short_and_long_bars_fail_the_meter_and_are_fitted() -> None:
    abc = HEAD + GOOD.replace('"C"c2 e2 "G"d4', '"C"c2 e2 "G"d2').replace(
        '"G"B2 d2 g2 d2', '"G"B2 d2 g2 d2 B2')
    assert check(abc, G_MAJOR) == ["meter"]
    mended = repair(abc, G_MAJOR)
    assert mended is not None and check(mended, G_MAJOR) == []
    eighths = [bar.eighths for bar in read_bars(split_abc(mended)[1])]
    assert eighths == [8] * 8


def test_a_pickup_is_allowed_in_the_first_bar_only() -> None:
    pickup = HEAD + "D2 | " + GOOD.replace("!mf!", "")
    assert "meter" not in check(pickup, G_MAJOR)
    later = HEAD + GOOD.replace("| \"G\"G2 B2 d4 |", "| \"G\"G2 B2 | \"G\"G2 B2 d4 |")
    assert "meter" in check(later, G_MAJOR)


def test_too_many_bars_are_dropped_and_too_few_cannot_be_mended() -> None:
    body = GOOD.replace(" |]", " |")
    long_abc = HEAD + body + body + body.replace('"G"G8 |', '"G"G8 |]')
    assert check(long_abc, G_MAJOR) == ["bar_count"]
    mended = repair(long_abc, G_MAJOR)
    assert mended is not None and check(mended, G_MAJOR) == []
    assert len(read_bars(split_abc(mended)[1])) == 8
    short = HEAD + '"G"G2 B2 d2 B2 | "G"G8 |]\n'
    assert check(short, G_MAJOR) == ["bar_count"]
    mended_short = repair(short, G_MAJOR)
    assert mended_short is None or "bar_count" in check(mended_short, G_MAJOR)


def test_what_is_not_music_fails_to_parse() -> None:
    failed = check(HEAD + "I am sorry, I cannot write music.\n", G_MAJOR)
    assert "parses" in failed and "meter" in failed
    assert repair(HEAD + "\n", G_MAJOR) is None


def test_a_tune_that_wanders_from_its_tonic_fails_the_tonal_centre() -> None:
    c_major = dataclasses.replace(G_MAJOR, key="C")
    bar = "A2 d2 f2 d2 | B2 d2 f2 a2 | "
    abc = (HEAD.replace("K:G", "K:C") + bar * 2 + "\n" + bar + "A2 d2 f2 d2 | "
           "B2 d2 f2 A2 | d2 f2 B2 c2 |]\n")
    assert check(abc, c_major) == ["tonal_centre"]


def test_an_overfull_bar_is_cut_after_its_last_note_not_an_equal_one_before() -> None:
    """The model without the grammar wrote this (a chord, then the same note again): the
    cut once found the chord's A for the last A and emptied the bar, and the repair
    crashed on a tune with no last note."""
    waltz = dataclasses.replace(G_MAJOR, meter="3/4", bars=1)
    head = HEAD.replace("M:4/4", "M:3/4")
    mended = repair(head + "|A3/2A2d[ACE]AA3/2^F\n", waltz)
    assert mended is not None
    bars = read_bars(split_abc(mended)[1])
    assert len(bars) == 1 and 5 <= bars[0].eighths <= 6  # a first bar may be a pickup
    assert [t.pitch for t in bars[0].events][:3] == ["A", "A", "d"]
    assert bars[0].events[-1].pitch.upper() == "G"  # ends on the tonic


def test_a_passing_tune_is_left_alone_by_repair() -> None:
    assert repair(HEAD + GOOD.replace("!mf!", ""), G_MAJOR) is None


def test_steps_and_pitches_round_trip() -> None:
    for pitch in ("C,", "G,", "C", "B", "c", "b", "c'", "g'"):
        assert pitch_of(step_of(pitch)) == pitch
    assert step_of("c") - step_of("C") == 7
