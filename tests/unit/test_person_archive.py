"""Export and import of one person (os1/storage/archive.py, person_export.py,
person_import.py) on SQLite and PostgreSQL, into either: every table round-trips, and a
damaged, truncated or foreign archive, or a name already taken, writes nothing."""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from os1.errors import InputError, StorageError
from os1.storage.archive import ArchiveError, ArchiveReader
from os1.storage.db import Database
from os1.storage.person_export import export_person
from os1.storage.person_import import import_person
from os1.storage.person_tables import BY_NAME, NOT_EXPORTED
from tests.person_data import (
    JSON_REFERENCES,
    MARKS,
    NOT_IDS,
    REFERENCES,
    assert_same_person,
    columns,
    has_user_id,
    new_account,
    plant,
    rows_of,
    schema_tables,
)

pytestmark = pytest.mark.both_backends
ID_LIKE = re.compile(r"^id$|_id$|_ids$|_by$")


@pytest.fixture(params=["sqlite", "postgresql"])
def dest(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Another os1's store, where the archive is imported; someone already lives there,
    so every id the import gives differs from the archive's."""
    target: Path | str = tmp_path / "elsewhere" / "os1.db"
    if request.param == "postgresql":
        target = request.getfixturevalue("postgres_server").new_database()
    database = Database.open(target)
    plant(database, "wren")
    yield database
    database.close()


@pytest.fixture
def theo(db: Database) -> str:
    """Theo's data, in every table, interleaved with Amy's."""
    planted = plant(db, "local")
    plant(db, "amy")
    plant(db, "local", planted=planted)
    return "local"


def count_rows(db: Database) -> dict[str, int]:
    return {t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
            for t in schema_tables(db)}


def test_every_table_is_exported_or_left_out_with_a_reason(db: Database) -> None:
    assert set(schema_tables(db)) == set(BY_NAME) | set(NOT_EXPORTED)
    assert set(NOT_EXPORTED) == {"schema_migrations", "account_tokens", "invitations",
                                 "login_failures", "memory_claims"}


def test_every_column_that_looks_like_an_id_is_known(db: Database) -> None:
    """A column naming other rows must be translated on import; one added later fails
    here until this test (and os1's map) say what it names."""
    known = set(REFERENCES) | set(JSON_REFERENCES) | set(MARKS) | NOT_IDS
    for table in schema_tables(db):
        if not has_user_id(db, table):
            continue
        for column in columns(db, table):
            if ID_LIKE.search(column) and column not in ("id", "user_id"):
                assert (table, column) in known, f"{table}.{column} names what?"
                os1_knows = column in BY_NAME[table].refs or (table, column) in NOT_IDS
                assert os1_knows, f"os1 doesn't translate {table}.{column}"


def test_export_then_import_round_trips_every_table(db: Database, theo: str, dest: Database,
                                                    tmp_path: Path) -> None:
    archive = tmp_path / "theo.os1.tar"
    exported = export_person(db, theo, archive)
    assert archive.stat().st_mode & 0o777 == 0o600
    assert sum(exported.rows.values()) > 30
    imported = import_person(dest, archive)
    assert imported.person.user_id == "local"
    compared = assert_same_person(db, theo, dest, "local")
    assert set(compared) >= {"messages", "memories", "memory_events", "mail_messages",
                             "calendar_reminders", "actions", "self_versions"}
    assert rows_of(dest, "messages", "wren"), "who was there before is still there"


def test_an_account_round_trips_with_a_new_password_and_no_logins(
        db: Database, dest: Database, tmp_path: Path) -> None:
    theo = new_account(db, "theo")
    plant(db, theo)
    archive = tmp_path / "theo.os1.tar"
    export_person(db, theo, archive)
    assert b"$argon2id$fake-theo" not in archive.read_bytes(), "no password leaves"
    imported = import_person(dest, archive, password_hash="$argon2id$new")
    assert imported.person.username == "theo"
    assert_same_person(db, theo, dest, imported.person.user_id)
    row = dest.execute("SELECT username, display_name, password_hash, created_at FROM accounts"
                       " WHERE id = ?", (imported.person.account_id,)).fetchone()
    old = db.execute("SELECT display_name, created_at FROM accounts WHERE username = 'theo'"
                     ).fetchone()
    assert tuple(row) == ("theo", old[0], "$argon2id$new", old[1])
    assert dest.execute("SELECT COUNT(*) FROM account_tokens WHERE account_id = ?",
                        (imported.person.account_id,)).fetchone()[0] == 0


def test_a_name_already_there_is_refused_unless_a_new_one_is_given(
        db: Database, theo: str, tmp_path: Path) -> None:
    archive = tmp_path / "theo.os1.tar"
    export_person(db, theo, archive)
    before = count_rows(db)
    with pytest.raises(InputError, match="someone called 'local' here already"):
        import_person(db, archive)
    assert count_rows(db) == before
    imported = import_person(db, archive, new_name="theo2")
    assert_same_person(db, theo, db, "theo2")
    assert imported.person.user_id == "theo2"
    for reserved in ("her", "account:7"):
        with pytest.raises(InputError, match="can't be a local person's name"):
            import_person(db, archive, new_name=reserved)


def test_an_account_whose_username_is_taken_is_refused(db: Database, tmp_path: Path) -> None:
    theo = new_account(db, "theo")
    plant(db, theo)
    archive = tmp_path / "theo.os1.tar"
    export_person(db, theo, archive)
    before = count_rows(db)
    with pytest.raises(InputError, match="called 'theo' here already"):
        import_person(db, archive, password_hash="x")
    with pytest.raises(InputError, match="needs a password"):
        import_person(db, archive, new_name="theodore")
    assert count_rows(db) == before
    again = import_person(db, archive, new_name="Theodore", password_hash="x")
    assert again.person.user_id != theo and again.person.username == "Theodore"


def test_a_column_added_later_travels_without_a_change(db: Database, theo: str,
                                                         dest: Database, tmp_path: Path) -> None:
    """A migration may add a column (messages.client_id, say): export and import read
    the live schema."""
    for store in (db, dest):
        with store.transaction() as tx:
            tx.execute("ALTER TABLE messages ADD COLUMN client_note TEXT")
    with db.transaction() as tx:
        tx.execute("UPDATE messages SET client_note = 'from the phone' WHERE user_id = ?",
                   (theo,))
    archive = tmp_path / "theo.os1.tar"
    export_person(db, theo, archive)
    import_person(dest, archive)
    notes = {r["client_note"] for r in rows_of(dest, "messages", "local")}
    assert notes == {"from the phone"}


def test_a_table_no_one_mapped_stops_the_export(db: Database, theo: str,
                                                tmp_path: Path) -> None:
    with db.transaction() as tx:
        tx.execute("CREATE TABLE postcards (user_id TEXT NOT NULL, body TEXT NOT NULL)")
    with pytest.raises(StorageError, match="doesn't know whether to export the tables postcards"):
        export_person(db, theo, tmp_path / "theo.os1.tar")
    assert not (tmp_path / "theo.os1.tar").exists()


def test_an_existing_file_is_not_overwritten_without_force(db: Database, theo: str,
                                                           tmp_path: Path) -> None:
    archive = tmp_path / "out" / "theo.os1.tar"
    archive.parent.mkdir()
    archive.write_text("mine")
    with pytest.raises(InputError, match="already exists"):
        export_person(db, theo, archive)
    assert archive.read_text() == "mine"
    export_person(db, theo, archive, force=True)
    assert ArchiveReader(archive).manifest["format"] == "os1-export"
    assert [p.name for p in archive.parent.iterdir()] == ["theo.os1.tar"], "nothing staged left"


def test_nobody_has_nothing_to_export(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothing of 'nobody' here"):
        export_person(db, "nobody", tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()


# -- archives that must be refused ---------------------------------------------------------


@pytest.fixture
def archive(db: Database, theo: str, tmp_path: Path) -> Path:
    path = tmp_path / "theo.os1.tar"
    export_person(db, theo, path)
    return path


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "empty" / "os1.db")
    yield database
    database.close()


def rewritten(archive: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of ``archive`` with members replaced (or, for None, left out)."""
    out = archive.with_name("changed.tar")
    with tarfile.open(archive) as source, tarfile.open(out, "w") as target:
        for member in source.getmembers():
            data = change.get(member.name, source.extractfile(member).read())  # type: ignore[union-attr]
            if data is not None:
                member.size = len(data)
                target.addfile(member, io.BytesIO(data))
        for name, data in change.items():
            if name not in source.getnames() and data is not None:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                target.addfile(info, io.BytesIO(data))
    return out


def member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        return tar.extractfile(name).read()  # type: ignore[union-attr]


def refused(empty: Database, path: Path, message: str) -> None:
    before = count_rows(empty)
    with pytest.raises(ArchiveError, match=message):
        import_person(empty, path)
    assert count_rows(empty) == before, "nothing written"


def test_a_changed_byte_is_refused(archive: Path, empty: Database) -> None:
    lines = member(archive, "messages.jsonl")
    refused(empty, rewritten(archive, {"messages.jsonl": lines.replace(b"lovely", b"lovelY")}),
            "messages.jsonl is not what its manifest says")


def test_a_truncated_archive_is_refused(archive: Path, empty: Database, tmp_path: Path) -> None:
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused(empty, cut, r"is damaged \(cut off\?\)|is incomplete: it has no")


def test_a_missing_table_file_is_refused(archive: Path, empty: Database) -> None:
    refused(empty, rewritten(archive, {"memories.jsonl": None}), "incomplete: it has no "
            "memories.jsonl")


def test_foreign_archives_are_refused(archive: Path, empty: Database, tmp_path: Path) -> None:
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("just some notes")
    refused(empty, not_tar, "not an os1 export")
    refused(empty, rewritten(archive, {"extra.sh": b"rm -rf /"}), "doesn't list: extra.sh")
    manifest = json.loads(member(archive, "manifest.json"))
    refused(empty, rewritten(archive, {"manifest.json": json.dumps(
        {**manifest, "format": "someone-else"}).encode()}), "not an os1 export")
    refused(empty, rewritten(archive, {"manifest.json": json.dumps(
        {**manifest, "version": 2}).encode()}), "format version 2")
    refused(empty, rewritten(archive, {"manifest.json": json.dumps(
        {**manifest, "schema_version": 999}).encode()}), "made by a newer os1")


def test_someone_elses_row_slipped_in_is_refused(archive: Path, empty: Database) -> None:
    """Checksums recomputed, so only the import's own checks can see it."""
    lines = member(archive, "setups.jsonl").replace(b'"user_id":"local"',
                                                    b'"user_id":"amy"', 1)
    manifest = json.loads(member(archive, "manifest.json"))
    import hashlib

    manifest["tables"]["setups"] |= {"sha256": hashlib.sha256(lines).hexdigest(),
                                     "bytes": len(lines)}
    refused(empty, rewritten(archive, {"setups.jsonl": lines,
                                       "manifest.json": json.dumps(manifest).encode()}),
            "someone else's")
