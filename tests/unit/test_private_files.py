"""Her files are readable by their owner alone (issue 25: os1.db was 0644, its dir 0755)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from os1.storage.private_files import open_private, private_dir
from os1.storage.sqlite import SQLiteDatabase


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_its_wal_and_its_directory_are_the_owners_alone(
        tmp_path: Path) -> None:
    home = tmp_path / "home" / "os1"
    db = SQLiteDatabase.connect(home / "os1.db")
    db.execute("CREATE TABLE IF NOT EXISTS t (x)")
    db.execute("INSERT INTO t VALUES (1)")
    files = [home / "os1.db", home / "os1.db-wal", home / "os1.db-shm"]
    assert all(f.exists() for f in files)
    assert [mode(f) for f in files] == [0o600] * 3
    assert mode(home) == mode(tmp_path / "home") == 0o700
    db.connection.close()


def test_an_older_readable_database_is_closed_and_a_chosen_directory_left_alone(
        tmp_path: Path) -> None:
    (tmp_path / "os1.db").touch(mode=0o644)
    tmp_path.chmod(0o755)
    db = SQLiteDatabase.connect(tmp_path / "os1.db")
    assert mode(tmp_path / "os1.db") == 0o600 and mode(tmp_path) == 0o755
    db.connection.close()


def test_an_in_memory_database_makes_no_file(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    SQLiteDatabase.connect(Path(":memory:")).connection.close()
    assert list(tmp_path.iterdir()) == []


def test_a_saved_file_is_created_private(tmp_path: Path) -> None:
    with open_private(private_dir(tmp_path / "state") / "model.state") as f:
        f.write(b"the words of a conversation")
    assert mode(tmp_path / "state" / "model.state") == 0o600
    assert mode(tmp_path / "state") == 0o700


def test_opening_a_second_connection_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """Closing any descriptor of a SQLite file drops the process's locks on it: making an
    existing database private must not open it (it corrupted a busy server's database)."""
    first = SQLiteDatabase.connect(tmp_path / "os1.db")
    first.execute("CREATE TABLE t (x)")
    first.connection.execute("BEGIN IMMEDIATE")
    first.connection.execute("INSERT INTO t VALUES (1)")
    opened = []
    real_open = os.open

    def watching(path: object, *args: object, **kwargs: object) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", watching)
        second = SQLiteDatabase.connect(tmp_path / "os1.db", migrate=False)
    assert str(tmp_path / "os1.db") not in opened
    first.connection.execute("COMMIT")
    assert second.execute("SELECT x FROM t").fetchall()[0][0] == 1
    first.connection.close()
    second.connection.close()
