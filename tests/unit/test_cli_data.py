"""os1 export, import, forget-me, backup and restore, run as real commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from os1.server.accounts import AccountStore
from os1.storage.db import Database
from tests.person_data import assert_same_person, has_user_id, new_account, plant, schema_tables

OS1 = [sys.executable, "-m", "os1"]


def run(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OS1_HOME": str(home), "COLUMNS": "200"}
    result = subprocess.run([*OS1, *args], input=stdin, capture_output=True, env=env,
                            timeout=120, check=False)
    return subprocess.CompletedProcess(result.args, result.returncode,
                                       result.stdout.decode(), result.stderr.decode())


def flat(text: str) -> str:
    return " ".join(text.split())


def rows(home: Path, user_id: str) -> int:
    db = Database.open(home / "os1.db")
    try:
        return sum(int(db.execute(f"SELECT COUNT(*) FROM {t} WHERE user_id = ?",
                                  (user_id,)).fetchone()[0])
                   for t in schema_tables(db) if has_user_id(db, t))
    finally:
        db.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data dir where Theo (the local person) and Amy have everything."""
    home = tmp_path / "home"
    db = Database.open(home / "os1.db")
    plant(db, "local", home)
    plant(db, "amy", home)
    db.close()
    return home


def test_export_and_import_through_the_commands(home: Path, tmp_path: Path) -> None:
    archive = tmp_path / "out" / "theo.os1.tar"
    exported = run(home, "export", str(archive))
    assert exported.returncode == 0, exported.stderr
    assert "Exported" in exported.stderr and "keep it as private" in flat(exported.stderr)
    assert archive.stat().st_mode & 0o777 == 0o600
    elsewhere = tmp_path / "elsewhere"
    imported = run(elsewhere, "import", str(archive))
    assert imported.returncode == 0, imported.stderr
    assert "Imported 'local'" in imported.stderr
    source, dest = Database.open(home / "os1.db"), Database.open(elsewhere / "os1.db")
    assert_same_person(source, "local", dest, "local")
    source.close()
    dest.close()

    again = run(elsewhere, "import", str(archive))
    assert again.returncode == 1
    assert "someone called 'local' here already" in flat(again.stderr)
    assert "--as NAME" in flat(again.stderr)
    renamed = run(elsewhere, "import", str(archive), "--as", "theo")
    assert renamed.returncode == 0, renamed.stderr
    assert "OS1_USER=theo os1 chat" in flat(renamed.stderr)
    assert rows(elsewhere, "theo") == rows(elsewhere, "local") > 0


def test_a_damaged_archive_changes_nothing(home: Path, tmp_path: Path) -> None:
    archive = tmp_path / "theo.os1.tar"
    assert run(home, "export", str(archive)).returncode == 0
    data = archive.read_bytes()
    at = data.index(b"lovely name")
    archive.write_bytes(data[:at] + b"LOVELY" + data[at + 6:])
    elsewhere = tmp_path / "elsewhere"
    imported = run(elsewhere, "import", str(archive))
    assert imported.returncode == 1
    assert "messages.jsonl is not what its manifest says" in flat(imported.stderr)
    assert "Traceback" not in imported.stderr
    assert rows(elsewhere, "local") == 0


def test_an_account_is_exported_and_imported_with_a_new_password(tmp_path: Path) -> None:
    home = tmp_path / "server"
    db = Database.open(home / "os1.db")
    plant(db, new_account(db, "theo"))
    db.close()
    archive = tmp_path / "theo.os1.tar"
    exported = run(home, "export", "--account", "theo", str(archive))
    assert exported.returncode == 0, exported.stderr
    elsewhere = tmp_path / "elsewhere"
    no_password = run(elsewhere, "import", str(archive))
    assert no_password.returncode == 1 and "--password-stdin" in no_password.stderr
    imported = run(elsewhere, "import", str(archive), "--password-stdin",
                   stdin=b"a brand new lantern password\n")
    assert imported.returncode == 0, imported.stderr
    assert "Imported 'theo'" in imported.stderr
    dest = Database.open(elsewhere / "os1.db")
    try:
        assert AccountStore(dest).log_in("theo", "a brand new lantern password").token
    finally:
        dest.close()


def test_forget_me_asks_first_then_says_what_it_deleted(home: Path) -> None:
    refused = run(home, "forget-me")
    assert refused.returncode == 1 and "add --yes" in flat(refused.stderr)
    before = rows(home, "local")
    assert before > 0
    done = run(home, "forget-me", "--yes")
    assert done.returncode == 0, done.stderr
    assert f"Forgot 'local': {before:,} rows" in done.stdout
    assert "messages: 2" in done.stdout and "files: 4" in done.stdout  # one a thing made
    assert rows(home, "local") == 0 and rows(home, "amy") > 0
    assert not (home / "state" / "local.kv").exists()
    assert "There was nothing of 'local' here" in run(home, "forget-me", "--yes").stdout


def test_forget_me_refuses_while_os1_runs_on_the_data_dir(home: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]);"
         " db.execute('SELECT 1 FROM messages').fetchall(); print('open', flush=True);"
         " sys.stdin.read()", str(home / "os1.db")], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        busy = run(home, "forget-me", "--yes")
    finally:
        holder.communicate(b"", timeout=10)
    assert busy.returncode == 1 and "os1 is running on this data dir" in flat(busy.stderr)
    assert rows(home, "local") > 0


def test_backup_and_restore_through_the_commands(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "backups" / "os1.db"
    backed = run(home, "backup", str(copy))
    assert backed.returncode == 0, backed.stderr
    assert copy.stat().st_mode & 0o777 == 0o600
    then = rows(home, "local")
    assert run(home, "forget-me", "--yes").returncode == 0
    refused = run(home, "restore", str(copy))
    assert refused.returncode == 1 and "Add --force to replace it" in flat(refused.stderr)
    restored = run(home, "restore", str(copy), "--force")
    assert restored.returncode == 0, restored.stderr
    assert "The store it replaced is kept at" in flat(restored.stderr)
    assert rows(home, "local") == then
    aside = sorted(p.name for p in home.glob("os1.db.before-restore-*"))
    assert len(aside) == 2 and aside[1] == aside[0] + ".vectors", aside
    assert not (home / "os1.db.vectors").exists(), "rebuilt from the restored store"
