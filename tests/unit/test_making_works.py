"""What she made for one person (os1/making/works.py): every version kept, its files
0600 in the person's own folder and gone with the work, one person's works never
another's, a failed write leaving nothing behind, and "the song about the beach" found
by its subject; on SQLite and PostgreSQL."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from os1.config import Settings
from os1.errors import InputError
from os1.making.records import Character, Version
from os1.making.works import WorkNotFound, Works
from os1.storage.artefacts import person_folder
from os1.storage.db import Database

pytestmark = pytest.mark.both_backends

CELLO = Character("D", "minor", 72, "3/4", 42, "Cello", "p", 16)
PIECE_FILES = {"abc": b"X:1\nK:Dm\nD2 F2 A2|]\n", "midi": b"MThd\0\0\0\x06",
               "audio": b"RIFF\x24\0\0\0WAVEfmt ", "sheet": b"<svg xmlns='x'/>"}
DRAWING_FILES = {"svg": b"<svg xmlns='x'/>", "png": b"\x89PNG\r\n\x1a\n"}


def piece(request: str = "our day at the beach", words: str = "The waves are the cello.",
          character: Character = CELLO) -> Version:
    return Version(0, request, words, "X:1\nK:Dm\nD2 F2 A2|]", character=character)


def drawing(request: str, plan: tuple[str, ...] = ("sky: a wide blue band",)) -> Version:
    return replace(Version(0, request, "I drew the light first.", "<svg/>"), plan=plan)


def counts(db: Database) -> tuple[int, ...]:
    """Rows of works, their versions and their files, of everyone."""
    return tuple(int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                 for table in ("works", "work_versions", "artefacts"))


def files_of(settings: Settings, user: str) -> list[Path]:
    folder = person_folder(settings.home, user)
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def theo(db: Database, settings: Settings) -> Works:
    return Works(db, "theo", settings.home)


def test_a_revision_adds_a_version_and_the_first_stays(theo: Works) -> None:
    work = theo.add("music", "our day at the beach", piece(), PIECE_FILES,
                    moment="We walked to the lighthouse.")
    assert (work.kind, work.title, work.moment) == ("music", "Our day at the beach",
                                                    "We walked to the lighthouse.")
    assert [v.number for v in work.versions] == [1]
    assert work.latest.character == CELLO
    slower = replace(CELLO, tempo=56)
    again = theo.revise(work.id, piece("slower", "Slower, like the tide going out.", slower),
                        {**PIECE_FILES, "audio": b"RIFF slower"})
    assert [v.number for v in again.versions] == [1, 2]
    first, second = again.versions
    assert (first.request, first.character, first.her_words) == (
        "our day at the beach", CELLO, "The waves are the cello.")
    assert (second.request, second.character) == ("slower", slower)
    assert theo.file(work.id, 1, "audio").path.read_bytes() == PIECE_FILES["audio"]  # type: ignore[union-attr]
    assert theo.file(work.id, 2, "audio").path.read_bytes() == b"RIFF slower"  # type: ignore[union-attr]
    sketch = theo.add("drawing", "us at the beach", drawing("us at the beach",
                                                            ("sea", "two people")),
                      DRAWING_FILES)
    assert sketch.latest.plan == ("sea", "two people") and sketch.latest.character is None
    assert [w.id for w in theo.all()] == [sketch.id, work.id]
    assert [w.id for w in theo.all("music")] == [work.id]


def test_files_are_private_and_go_with_the_work(theo: Works, db: Database,
                                                 settings: Settings) -> None:
    work = theo.add("music", "the rain on the window", piece(), PIECE_FILES)
    theo.revise(work.id, piece("faster"), PIECE_FILES)
    paths = []
    for number in (1, 2):
        for role, content in PIECE_FILES.items():
            path = theo.file(work.id, number, role).path
            assert path is not None and path.read_bytes() == content
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            paths.append(path)
    assert paths[-1].suffix == ".svg" and "the-rain-on-the-window" in paths[-1].name
    assert sorted(files_of(settings, "theo")) == sorted(paths)
    theo.remove(work.id)
    assert not any(p.exists() for p in paths)
    assert counts(db) == (0, 0, 0)
    with pytest.raises(WorkNotFound):
        theo.get(work.id)


def test_one_persons_works_are_never_anothers(theo: Works, db: Database,
                                              settings: Settings) -> None:
    work = theo.add("music", "our day at the beach", piece(), PIECE_FILES)
    amy = Works(db, "amy", settings.home)
    assert amy.all() == [] and amy.find("the beach") is None
    for reach in (lambda: amy.get(work.id), lambda: amy.file(work.id, 1, "audio"),
                  lambda: amy.revise(work.id, piece("slower"), PIECE_FILES),
                  lambda: amy.remove(work.id)):
        with pytest.raises(WorkNotFound):
            reach()
    assert files_of(settings, "amy") == []
    assert [v.number for v in theo.get(work.id).versions] == [1]
    assert theo.file(work.id, 1, "audio").path.exists()  # type: ignore[union-attr]


def test_a_failed_write_leaves_no_files_and_no_rows(db: Database, settings: Settings) -> None:
    def broken_clock() -> float:
        raise RuntimeError("the disk went away")

    broken = Works(db, "theo", settings.home, clock=broken_clock)
    with pytest.raises(RuntimeError):
        broken.add("music", "our day at the beach", piece(), PIECE_FILES)
    assert counts(db) == (0, 0, 0) and files_of(settings, "theo") == []
    with pytest.raises(KeyError):  # a file of no known kind, after others were written
        Works(db, "theo", settings.home).add("music", "the sea", piece(),
                                             {**PIECE_FILES, "lyrics": b"la la"})
    assert counts(db) == (0, 0, 0) and files_of(settings, "theo") == []
    kept = Works(db, "theo", settings.home).add("music", "the sea", piece(), PIECE_FILES)
    before = sorted(files_of(settings, "theo"))
    with pytest.raises(RuntimeError):
        broken.revise(kept.id, piece("slower"), PIECE_FILES)
    assert sorted(files_of(settings, "theo")) == before
    assert [v.number for v in broken.get(kept.id).versions] == [1]


@pytest.mark.parametrize("about", ["", "   \n ", "x" * 501])
def test_what_it_is_about_must_be_said_and_short(theo: Works, db: Database,
                                                 settings: Settings, about: str) -> None:
    with pytest.raises(InputError):
        theo.add("music", about, piece(), PIECE_FILES)
    assert counts(db) == (0, 0, 0) and files_of(settings, "theo") == []


def test_find_picks_the_work_by_the_words_of_its_subject(theo: Works) -> None:
    beach = theo.add("music", "our day at the beach", piece(), PIECE_FILES)
    rain = theo.add("music", "the rain on the window", piece(), PIECE_FILES)
    flat = theo.add("drawing", "what you imagine my apartment looks like",
                    drawing("my apartment"), DRAWING_FILES)
    assert theo.find("the song you wrote about the beach") == beach
    assert theo.find("that rainy one... the rain") == rain
    assert theo.find("the drawing of my apartment", "drawing") == flat
    assert theo.find("my apartment", "music") is None
    assert theo.find("the song you wrote for me") is None  # no word that tells them apart
    later = theo.add("music", "the beach at night", piece(), PIECE_FILES)
    assert theo.find("the beach") == later  # equals: the newest
    assert theo.find("our day at the beach") == beach  # more words shared wins
