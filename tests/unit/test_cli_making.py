"""``os1 compose``, ``os1 draw`` and ``os1 made`` end to end in a subprocess: the real
composer, draftsman and renderers on the fake model's scripted replies (a melody the
checks pass, a plan and its shapes); every version kept, files copied out by suffix,
the gallery listed, shown, exported and emptied; failures told with a hint, exit 1, and
nothing kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from os1.config import Settings
from os1.making.music.character import character_for, requested_bars
from os1.making.music.revision import revised
from os1.making.works import Works
from os1.storage.db import Database
from tests.unit.test_cli import flat, query, run
from tests.unit.test_making_studio import melody
from tests.unit.test_making_works import DRAWING_FILES, PIECE_FILES, drawing, piece

WORDS = "I wrote it to sound like the waves we watched all afternoon."
PLAN = ("sky: top half, light blue\nsea: middle band, deep blue\n"
        "sand: bottom third, pale yellow\nsun: upper right, yellow circle\n")
SHAPES = ['<rect x="0" y="0" width="400" height="150" fill="#87ceeb"/>',
          '<rect x="0" y="150" width="400" height="60" fill="#1e5aa8"/>',
          '<rect x="0" y="210" width="400" height="90" fill="#f3e2a9"/>',
          '<circle cx="335" cy="60" r="32" fill="#ffd34d"/>']
DOG = '<ellipse cx="120" cy="250" rx="24" ry="12" fill="#8b5a2b"/>'


def replies(tmp_path: Path, name: str, *texts: str) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(list(texts)), encoding="utf-8")
    return f"fake:{path}"


def test_a_piece_is_composed_copied_and_made_slower(os1_home: Path, tmp_path: Path) -> None:
    about = "our day at the beach"
    first = character_for(about, None, requested_bars(about))
    composed = run("compose", about, "--out", str(tmp_path / "beach.wav"), "--model",
                   replies(tmp_path, "first", melody(first), WORDS), timeout=180)
    assert composed.returncode == 0, composed.stderr
    assert composed.stdout.startswith(WORDS)
    assert f"{first.key} {first.mode}, {first.tempo} beats a minute" in composed.stdout
    paths = [Path(line.split(": ", 1)[1]) for line in composed.stdout.splitlines()
             if line.startswith(("abc (", "midi (", "audio (", "sheet ("))]
    assert [p.suffix for p in paths] == [".abc", ".mid", ".wav", ".svg"]
    assert all(p.is_file() and os1_home in p.parents for p in paths)
    assert (tmp_path / "beach.wav").read_bytes()[:4] == b"RIFF"
    assert "Copied the audio" in flat(composed.stderr)
    slower = revised(first, "slower")
    assert slower is not None and slower.tempo < first.tempo
    again = run("compose", "--revise", "1", "slower", "--play", "--model",
                replies(tmp_path, "slower", melody(slower), "Slower, like the tide."),
                timeout=180)
    assert again.returncode == 0, again.stderr  # played, or told why not: it is kept
    assert "Traceback" not in again.stderr
    assert "Work 1, version 2" in flat(again.stderr)
    assert f"{slower.tempo} beats a minute" in run("made", "show", "1").stdout
    assert f"{first.tempo} beats a minute" in run("made", "show", "1", "--version",
                                                  "1").stdout
    unclear = run("compose", "--revise", "1", "make it purple", "--model", "fake")
    assert unclear.returncode == 1 and "How should I change" in flat(unclear.stderr)
    assert "For example: os1 compose --revise 1" in flat(unclear.stderr)
    assert query(os1_home, "SELECT number, request FROM work_versions ORDER BY number") == [
        (1, about), (2, "slower")]


def test_a_drawing_is_drawn_and_a_dog_added(os1_home: Path, tmp_path: Path) -> None:
    drawn = run("draw", "us", "at", "the", "beach", "--out", str(tmp_path / "beach.png"),
                "--model", replies(tmp_path, "draw", PLAN, *SHAPES,
                                   "I drew the two of us small against a big sea."))
    assert drawn.returncode == 0, drawn.stderr
    assert "· sun: upper right, yellow circle" in drawn.stdout
    assert (tmp_path / "beach.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dog_plan = PLAN + "dog: on the sand, small brown dog\n"
    changed = run("draw", "--revise", "1", "add a dog", "--out", str(tmp_path / "dog.svg"),
                  "--model", replies(tmp_path, "dog", dog_plan, DOG,
                                     "I gave us a dog to chase the waves."))
    assert changed.returncode == 0, changed.stderr
    assert "· dog: on the sand, small brown dog" in changed.stdout
    assert "<ellipse" in (tmp_path / "dog.svg").read_text(encoding="utf-8")
    first = run("made", "export", "1", "--version", "1", str(tmp_path / "first.svg"))
    assert first.returncode == 0, first.stderr
    assert "<ellipse" not in (tmp_path / "first.svg").read_text(encoding="utf-8")
    wrong = run("compose", "--revise", "1", "slower")
    assert wrong.returncode == 1 and "Work 1 is a drawing" in flat(wrong.stderr)
    assert "os1 draw --revise 1" in flat(wrong.stderr)


def test_the_gallery_lists_shows_exports_and_removes(settings: Settings, db: Database,
                                                     os1_home: Path, tmp_path: Path) -> None:
    works = Works(db, settings.user, settings.home)
    song = works.add("music", "the rain on the window", piece(), PIECE_FILES,
                     moment="It rained all Sunday.")
    works.revise(song.id, piece("faster"), {**PIECE_FILES, "audio": b"RIFF faster"})
    works.add("drawing", "us at the beach", drawing("us at the beach"), DRAWING_FILES)
    listed = run("made")
    assert listed.returncode == 0 and "The rain on the window" in listed.stdout
    assert "Us at the beach" in listed.stdout
    only = run("made", "list", "--kind", "drawing").stdout
    assert "Us at the beach" in only and "rain" not in only
    shown = run("made", "show", str(song.id)).stdout
    assert "About: the rain on the window" in shown and "From: It rained all Sunday." in shown
    assert "version 2 of 2" in shown and "Asked: faster" in shown
    assert "Her words: The waves are the cello." in shown
    assert "D minor, 72 beats a minute, 3/4, Cello, 16 bars" in shown
    target = tmp_path / "rain.wav"
    assert run("made", "export", str(song.id), str(target)).returncode == 0
    assert target.read_bytes() == b"RIFF faster"
    assert run("made", "export", str(song.id), "--version", "1", str(target)).returncode == 0
    assert target.read_bytes() == PIECE_FILES["audio"]
    midi = tmp_path / "rain.mid"
    assert run("made", "export", str(song.id), str(midi)).returncode == 0
    assert midi.read_bytes() == PIECE_FILES["midi"]
    files = [works.file(song.id, n, role).path for n in (1, 2) for role in PIECE_FILES]
    removed = run("made", "remove", str(song.id), "--yes")
    assert removed.returncode == 0 and f"Removed work {song.id}" in flat(removed.stderr)
    assert not any(p is not None and p.exists() for p in files)
    assert query(os1_home, "SELECT kind FROM works") == [("drawing",)]


@pytest.mark.parametrize(("args", "code", "words"), [
    (("made", "show", "9"), 1, "There is nothing 9 that she made for you"),
    (("made", "export", "9", "x.wav"), 1, "See what she made with: os1 made"),
    (("compose", "--revise", "9", "slower"), 1, "There is nothing 9"),
    (("compose", "the sea", "--out", "sea.txt"), 1, "Name a file ending in .wav"),
    (("draw", "the sea", "--out", "sea.wav"), 1, "Name a file ending in .png, .svg"),
    (("compose",), 2, "Missing argument"),
    (("made", "show", "one"), 2, "is not a valid integer"),
])
def test_bad_requests_fail_at_once_with_a_hint(args: tuple[str, ...], code: int,
                                               words: str, os1_home: Path) -> None:
    refused = run(*args)
    assert refused.returncode == code, refused.stderr
    assert words in flat(refused.stderr) and "Traceback" not in refused.stderr
    assert "Waking her up" not in refused.stderr  # no model was loaded for it


def test_a_failure_keeps_nothing_and_says_what_to_do(os1_home: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    unwritable = run("compose", "the rain", "--model", "fake")  # she only echoes
    assert unwritable.returncode == 1
    assert "couldn't write a piece that holds together" in flat(unwritable.stderr)
    assert "Ask again" in flat(unwritable.stderr) and "Traceback" not in unwritable.stderr
    about = "our day at the beach"
    character = character_for(about, None, requested_bars(about))
    monkeypatch.setenv("PATH", str(tmp_path))  # no abc2midi, no fluidsynth
    missing = run("compose", about, "--model",
                  replies(tmp_path, "piece", melody(character), WORDS))
    assert missing.returncode == 1 and "sudo apt install abcmidi" in flat(missing.stderr)
    assert query(os1_home, "SELECT COUNT(*) FROM works") == [(0,)]
    assert query(os1_home, "SELECT COUNT(*) FROM artefacts") == [(0,)]
    assert not (os1_home / "artefacts").exists() or not any(
        p.is_file() for p in (os1_home / "artefacts").rglob("*"))
