"""Things her skills make (os1/storage/artefacts.py): a file in the person's own folder
plus a row, listed per person; one person never sees, or removes, another's; bad input is
refused with nothing kept."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from os1.config import Settings
from os1.errors import InputError
from os1.storage.artefacts import ArtefactNotFound, ArtefactStore, forget_files, person_folder
from os1.storage.db import Database

pytestmark = pytest.mark.both_backends


@pytest.fixture
def theo(db: Database, settings: Settings) -> ArtefactStore:
    return ArtefactStore(db, "theo", settings.home)


@pytest.fixture
def amy(db: Database, settings: Settings) -> ArtefactStore:
    return ArtefactStore(db, "amy", settings.home)


def test_a_thing_is_a_private_file_and_a_row_listed_newest_first(theo: ArtefactStore) -> None:
    letter = theo.add("letters", "letter", "To Amy", "Dear Amy,", "letter.txt")
    drawing = theo.add("drawing", "sketch", "A fox", b"\x89PNG fox", "fox.png")
    assert [t.id for t in theo.list()] == [drawing.id, letter.id]
    assert [t.title for t in theo.list("letters")] == ["To Amy"]
    assert letter.path is not None and letter.path.read_text() == "Dear Amy,"
    assert drawing.path is not None and drawing.path.read_bytes() == b"\x89PNG fox"
    assert letter.path.is_relative_to(theo.folder) and letter.path.name.endswith("-letter.txt")
    assert stat.S_IMODE(letter.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(theo.folder.stat().st_mode) == 0o700
    assert (letter.skill, letter.kind) == ("letters", "letter")


def test_one_person_never_sees_or_removes_anothers(theo: ArtefactStore,
                                                   amy: ArtefactStore) -> None:
    mine = theo.add("letters", "letter", "To Amy", "Dear Amy,", "letter.txt")
    assert amy.list() == []
    with pytest.raises(ArtefactNotFound, match=f"no thing {mine.id} of yours"):
        amy.get(mine.id)
    with pytest.raises(ArtefactNotFound):
        amy.remove(mine.id)
    assert theo.list() == [mine] and mine.path is not None and mine.path.exists()
    assert theo.folder != amy.folder


def test_removing_takes_the_file_with_the_row(theo: ArtefactStore) -> None:
    kept = theo.add("letters", "letter", "Kept", "stays", "a.txt")
    gone = theo.add("letters", "letter", "Gone", "goes", "b.txt")
    theo.remove(gone.id)
    assert theo.list() == [kept]
    assert gone.path is not None and not gone.path.exists()


@pytest.mark.parametrize(("skill", "kind", "title", "name", "problem"), [
    ("Letters", "letter", "To Amy", "a.txt", "not a skill's name"),
    ("letters", "", "To Amy", "a.txt", "kind must be 1 to 40"),
    ("letters", "letter", "  ", "a.txt", "title must be 1 to 200"),
    ("letters", "letter", "x" * 201, "a.txt", "title must be 1 to 200"),
    ("letters", "letter", "To Amy", "../../os1.db", "can't be a file name here"),
    ("letters", "letter", "To Amy", ".hidden", "can't be a file name here"),
])
def test_bad_input_is_refused_and_nothing_is_kept(theo: ArtefactStore, skill: str, kind: str,
                                                  title: str, name: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        theo.add(skill, kind, title, "text", name)
    assert theo.list() == []
    assert not theo.folder.exists()


def test_a_row_whose_path_leaves_the_folder_names_no_file(db: Database,
                                                          theo: ArtefactStore) -> None:
    """As an imported archive could hold: nothing outside the folder is theirs."""
    outside = theo.folder.parent.parent / "os1.db"
    with db.transaction() as tx:
        tx.execute("INSERT INTO artefacts(user_id, skill, kind, title, path, created_at)"
                   " VALUES ('theo', 'letters', 'letter', 'Sly', '../../os1.db', 1.0)")
    [sly] = theo.list()
    assert sly.path is None
    theo.remove(sly.id)
    assert theo.list() == []
    assert db.backend != "sqlite" or outside.exists()


def test_forgetting_their_files_leaves_everyone_elses(theo: ArtefactStore, amy: ArtefactStore,
                                                      settings: Settings) -> None:
    theo.add("letters", "letter", "To Amy", "Dear Amy,", "letter.txt")
    hers = amy.add("letters", "letter", "To Theo", "Dear Theo,", "letter.txt")
    gone = forget_files(settings.home, "theo")
    assert len(gone) == 1 and not theo.folder.exists()
    assert hers.path is not None and hers.path.read_text() == "Dear Theo,"


@pytest.mark.parametrize("user_id", ["..", ".", "account:3", "a/b", "account%3A3"])
def test_every_person_has_a_folder_of_their_own_inside_artefacts(user_id: str,
                                                                 tmp_path: Path) -> None:
    folder = person_folder(tmp_path, user_id)
    assert folder.parent == tmp_path / "artefacts" and folder.name not in (".", "..")
    assert "/" not in folder.name
    others = {"..", ".", "account:3", "a/b", "account%3A3"} - {user_id}
    assert all(person_folder(tmp_path, other) != folder for other in others)
