"""``os1 export``: everything of one person, as one archive (archive.py's format).

Why one read snapshot around it all: she may be running, and an archive whose memories
cite messages it lacks could not be imported. Passwords never leave: the account's hash
is a ``never`` column, and mail and calendar passwords are not in the database at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from os1.errors import InputError, StorageError
from os1.storage.archive import FORMAT, VERSION, ArchiveWriter
from os1.storage.db import Database
from os1.storage.person_tables import (
    NOT_EXPORTED,
    PERSON_TABLES,
    Person,
    PersonTable,
    person_of,
    quoted,
    scope,
    unmapped_tables,
)

BATCH = 2000
OnStart = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    person: Person
    rows: dict[str, int]
    size: int


def export_person(db: Database, user_id: str, dest: Path, *, force: bool = False,
                  on_start: OnStart | None = None) -> ExportSummary:
    """Write ``user_id``'s archive to ``dest`` (refused if it exists, unless ``force``);
    ``on_start(description, total)`` gives a progress callback over rows."""
    if dest.exists() and not force:
        raise InputError(f"{dest} already exists.", "Choose another name, or add --force.")
    if dest.is_dir():
        raise InputError(f"{dest} is a directory.", "Give a file name, like me.os1.tar.")
    unknown = unmapped_tables(db)
    if unknown:
        raise StorageError(f"This os1 doesn't know whether to export the tables "
                           f"{', '.join(unknown)}.", "Upgrade os1 before exporting.")
    person = person_of(db, user_id)
    writer = ArchiveWriter(dest)
    try:
        with db.read_snapshot():
            rows = _write_tables(db, person, writer, on_start)
            schema = db.schema_version()
        if not any(rows.values()):
            raise InputError(f"There is nothing of {user_id!r} here to export.",
                             "Check OS1_HOME, --database and --account.")
        size = writer.finish(_manifest(db, person, schema))
    finally:
        writer.discard()
    return ExportSummary(dest, person, rows, size)


def _write_tables(db: Database, person: Person, writer: ArchiveWriter,
                  on_start: OnStart | None) -> dict[str, int]:
    counts = {t.name: _count(db, t, person) for t in PERSON_TABLES}
    total = sum(counts.values())
    progress = on_start("Exporting", total) if on_start is not None and total else None
    for table in PERSON_TABLES:
        columns = [c for c in db.column_names(table.name) if c not in table.never]
        out = writer.table(table.name, columns)
        for batch in _batches(db, table, person, columns):
            for row in batch:
                out.write(list(row))
            if progress is not None:
                progress(len(batch))
    return {t.table: t.rows for t in writer.tables}


def _count(db: Database, table: PersonTable, person: Person) -> int:
    where, params = scope(table, person)
    return int(db.execute(f"SELECT COUNT(*) FROM {quoted(table.name)} WHERE {where}",
                          params).fetchone()[0])


def _batches(db: Database, table: PersonTable, person: Person,
             columns: list[str]) -> Iterator[list[list[object]]]:
    """The person's rows in ``table.key`` order, ``BATCH`` at a time (keyset paging: each
    batch starts after the last key seen, so a big table costs no growing OFFSET)."""
    where, params = scope(table, person)
    key = ", ".join(quoted(c) for c in table.key)
    positions = [columns.index(c) for c in table.key]
    select = ", ".join(quoted(c) for c in columns)
    after: tuple[object, ...] | None = None
    while True:
        sql = f"SELECT {select} FROM {quoted(table.name)} WHERE {where}"
        args: tuple[object, ...] = params
        if after is not None:
            sql += f" AND ({key}) > ({', '.join('?' * len(after))})"
            args = (*params, *after)
        rows = db.execute(f"{sql} ORDER BY {key} LIMIT {BATCH}", args).fetchall()
        if not rows:
            return
        yield [list(r) for r in rows]
        after = tuple(rows[-1][i] for i in positions)


def _manifest(db: Database, person: Person, schema: int) -> dict[str, object]:
    return {
        "format": FORMAT, "version": VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "os1_version": _os1_version(), "schema_version": schema, "backend": db.backend,
        "person": {"user_id": person.user_id, "username": person.username},
        "not_exported": dict(NOT_EXPORTED),
    }


def _os1_version() -> str:
    try:
        return version("os1")
    except PackageNotFoundError:
        return "unknown"
