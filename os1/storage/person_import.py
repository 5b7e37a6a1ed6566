"""``os1 import``: a person's archive (archive.py) restored into this store, whole or
not at all.

Why everything is checked first and written in one transaction: a damaged, truncated or
foreign archive must leave the store as it was. Why ids are given afresh: the store may
hold other people, whose rows already have the archive's numbers; every column that
names another row (person_tables.PERSON_TABLES' ``refs``) is translated to the new
numbers, and rows are written in their old order, so the memory worker's "everything
after id N" still holds. An id the archive names but doesn't hold (an audit line about a
memory forgotten since) is kept negated: it names nothing here.
"""

from __future__ import annotations

import bisect
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from os1.errors import InputError
from os1.storage.archive import ArchiveError, ArchiveReader
from os1.storage.db import Connection, Database, DuplicateError
from os1.storage.person_tables import (
    BY_NAME,
    PERSON_TABLES,
    Person,
    PersonTable,
    Ref,
    is_reserved,
    quoted,
)

try:
    import psycopg

    _DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, psycopg.Error)
except ImportError:  # pragma: no cover - depends on the installed extras
    _DRIVER_ERRORS = (sqlite3.DatabaseError,)

OnStart = Callable[[str, int], Callable[[int], None]]
IdMaps = dict[str, dict[int, int]]
# as os1 serve's sign-up allows (server/accounts.py)
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
STEP = 500


@dataclass(frozen=True)
class ImportSummary:
    person: Person
    rows: dict[str, int]


def import_person(db: Database, source: Path, *, new_name: str | None = None,
                  password_hash: str | None = None,
                  on_start: OnStart | None = None) -> ImportSummary:
    """Restore the archive at ``source``. The person keeps their user id (a local one)
    or username (an account's) unless ``new_name`` is given; either must be free here.
    An account needs ``password_hash`` (the archive holds no password)."""
    with ArchiveReader(source) as archive:
        size = archive.total_bytes()
        progress = on_start("Checking the archive", size) if on_start and size else None
        archive.verify(progress)
        _check_fits(db, archive)
        old = archive.manifest["person"]
        name = _target_name(db, old, new_name)
        if old.get("username") is not None and password_hash is None:
            raise InputError(f"{name!r} is an os1 serve account, which needs a password.",
                             "Give the new password on stdin with --password-stdin.")
        total = sum(int(e["rows"]) for e in archive.tables.values())
        step = on_start("Importing", total) if on_start is not None and total else None
        try:
            with db.transaction() as tx:
                _check_free(db, tx, old, name)
                return _write(tx, archive, old, name, password_hash, step)
        except DuplicateError as exc:
            raise InputError(f"The username {name!r} is taken here.",
                             "Import under another name with --as NAME.") from exc
        except _DRIVER_ERRORS as exc:
            raise ArchiveError(f"{source} can't be stored here, so nothing was: {exc}.") \
                from exc


# -- checks before writing -----------------------------------------------------------------


def _check_fits(db: Database, archive: ArchiveReader) -> None:
    """The archive's schema, tables and columns are ones this store has."""
    made, here = int(archive.manifest["schema_version"]), db.schema_version()
    if made > here:
        raise ArchiveError(f"{archive.path} was made by a newer os1 (schema {made}; this "
                           f"one has {here}).", "Upgrade os1, then import it.")
    for name, entry in archive.tables.items():
        table = BY_NAME.get(name)
        if table is None:
            raise ArchiveError(f"{archive.path} holds a table this os1 doesn't know: {name}.")
        known = set(db.column_names(name)) - set(table.never)
        strange = [c for c in entry["columns"] if c not in known]
        needed = ["id"] if table.numbered else []
        needed += [] if name == "accounts" else ["user_id"]
        if strange or any(c not in entry["columns"] for c in needed):
            raise ArchiveError(f"{archive.path}: the table {name} doesn't have the columns "
                               f"this os1 has{': ' + ', '.join(strange) if strange else ''}.")


def _target_name(db: Database, old: dict[str, Any], new_name: str | None) -> str:
    username, user_id = old.get("username"), str(old["user_id"])
    if username is not None:
        if not isinstance(username, str) or not user_id.startswith("account:"):
            raise ArchiveError("The archive's manifest names its person inconsistently.")
        name = new_name or username
        if not _USERNAME.fullmatch(name):
            raise InputError(f"{name!r} can't be a username: use 1-64 letters, digits, '.', "
                             "'_' or '-', starting with a letter or digit.")
        return name
    if is_reserved(user_id):
        raise ArchiveError("The archive's manifest names its person inconsistently.")
    name = new_name or user_id
    if is_reserved(name) or not name.strip():
        raise InputError(f"{name!r} can't be a local person's name here.",
                         "Choose another with --as NAME.")
    return name


def _check_free(db: Database, tx: Connection, old: dict[str, Any], name: str) -> None:
    """Refused if ``name`` is someone here already (checked inside the transaction)."""
    if old.get("username") is not None:
        taken = tx.execute("SELECT 1 FROM accounts WHERE lower(username) = lower(?)",
                           (name,)).fetchone()
    else:
        taken = next((t for t in db.table_names() if "user_id" in db.column_names(t)
                      and tx.execute(f"SELECT 1 FROM {quoted(t)} WHERE user_id = ? LIMIT 1",
                                     (name,)).fetchone() is not None), None)
    if taken:
        raise InputError(f"There is someone called {name!r} here already, so nothing was "
                         "imported.", "Import under another name with --as NAME.")


# -- writing -------------------------------------------------------------------------------


def _write(tx: Connection, archive: ArchiveReader, old: dict[str, Any], name: str,
           password_hash: str | None, step: Callable[[int], None] | None) -> ImportSummary:
    maps: IdMaps = {}
    person = Person(name)
    if old.get("username") is not None:
        person = _write_account(tx, archive, name, str(password_hash), maps)
    counts: dict[str, int] = {"accounts": int(old.get("username") is not None)}
    for table in PERSON_TABLES[1:]:
        if table.name in archive.tables:
            counts[table.name] = _write_table(tx, archive, table, str(old["user_id"]),
                                              person.user_id, maps, step)
    return ImportSummary(person, counts)


def _write_account(tx: Connection, archive: ArchiveReader, name: str, password_hash: str,
                   maps: IdMaps) -> Person:
    rows = list(archive.rows("accounts")) if "accounts" in archive.tables else []
    if len(rows) != 1:
        raise ArchiveError(f"{archive.path} is an account's, but holds {len(rows)} accounts.")
    row = dict(rows[0][1])
    old_id = _id(row.pop("id"), "accounts", 1)
    row |= {"username": name, "password_hash": password_hash}
    new_id = _insert(tx, "accounts", row, returning=True)
    maps["accounts"] = {old_id: new_id}
    return Person(f"account:{new_id}", new_id, name)


def _write_table(tx: Connection, archive: ArchiveReader, table: PersonTable, old_user: str,
                 new_user: str, maps: IdMaps, step: Callable[[int], None] | None) -> int:
    ids = maps.setdefault(table.name, {})
    # a row naming a later row of its own table (a memory superseded by a newer one) is
    # linked once both are written: (old id of the row, column, old id it names)
    links: list[tuple[int, str, int]] = []
    count = 0
    for number, row in archive.rows(table.name):
        if row.get("user_id") != old_user:
            raise ArchiveError(f"Row {number} of {table.name}.jsonl is someone else's.",
                               "An archive holds one person; this one was altered.")
        row["user_id"] = new_user
        pending: dict[str, int] = {}
        for column, ref in table.refs.items():
            if column in row and ref.table == table.name:
                if row[column] is not None:
                    pending[column] = _id(row[column], table.name, number)
                row[column] = None
            elif column in row:
                row[column] = _translate(ref, row[column], row, maps, table.name, number)
        if table.numbered:
            old_id = _id(row.pop("id"), table.name, number)
            if old_id in ids:
                raise ArchiveError(f"Row {number} of {table.name}.jsonl repeats id {old_id}.")
            ids[old_id] = _insert(tx, table.name, row, returning=True)
            links += [(old_id, column, target) for column, target in pending.items()]
        else:
            _insert(tx, table.name, row)
        count += 1
        if step is not None and count % STEP == 0:
            step(STEP)
    for old_id, column, target in links:
        tx.execute(f"UPDATE {quoted(table.name)} SET {quoted(column)} = ? WHERE id = ?",
                   (_must(ids, target, table.name, table.name), ids[old_id]))
    if step is not None and count % STEP:
        step(count % STEP)
    return count


def _insert(tx: Connection, table: str, row: dict[str, object], returning: bool = False) -> int:
    columns = ", ".join(quoted(c) for c in row)
    sql = f"INSERT INTO {quoted(table)} ({columns}) VALUES ({', '.join('?' * len(row))})"
    if not returning:
        tx.execute(sql, tuple(row.values()))
        return 0
    return int(tx.execute(sql + " RETURNING id", tuple(row.values())).fetchone()[0])


# -- translating ids -----------------------------------------------------------------------


def _translate(ref: Ref, value: object, row: dict[str, object], maps: IdMaps, table: str,
               number: int) -> object:
    ids = maps.get(ref.table, {})
    if value is None:
        return None
    if ref.kind == "row":
        return _must(ids, _id(value, table, number), ref.table, table)
    if ref.kind == "maybe":
        return _maybe(ids, _id(value, table, number))
    if ref.kind == "floor":
        return _floor(ids, _id(value, table, number))
    parsed = _json(value, table, number)
    if ref.kind == "list" and isinstance(parsed, list):
        return json.dumps([_maybe(ids, _id(v, table, number)) for v in parsed])
    if ref.kind == "values" and isinstance(parsed, dict):
        return json.dumps({k: _maybe(ids, v) if _is_int(v) else v for k, v in parsed.items()})
    if ref.kind == "trash" and row.get("kind") == "trash" and isinstance(parsed, dict):
        return json.dumps(_trash(parsed, ids, table, number))
    if ref.kind in ("list", "values"):
        raise ArchiveError(f"Row {number} of {table}.jsonl holds a malformed list of ids.")
    return value


def _trash(detail: dict[str, Any], ids: dict[int, int], table: str,
           number: int) -> dict[str, Any]:
    """A clean-up's mail ids (mail/cleanup.py): under "ids", and paired with their UIDs
    under "moved"."""
    out = dict(detail)
    try:
        if "ids" in detail:
            out["ids"] = [_maybe(ids, _id(i, table, number)) for i in detail["ids"]]
        if "moved" in detail:
            out["moved"] = {account: {**where, "pairs": [[_maybe(ids, _id(m, table, number)),
                                                          uid] for m, uid in where["pairs"]]}
                            for account, where in detail["moved"].items()}
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ArchiveError(f"Row {number} of {table}.jsonl holds a malformed clean-up.") \
            from exc
    return out


def _must(ids: dict[int, int], old: int, target: str, table: str) -> int:
    if old not in ids:
        raise ArchiveError(f"A row of {table}.jsonl names row {old} of {target}, which the "
                           "archive doesn't hold.", "The archive is damaged; export it again.")
    return ids[old]


def _maybe(ids: dict[int, int], old: int) -> int:
    return ids.get(old, -abs(old))


def _floor(ids: dict[int, int], old: int) -> int:
    """The new id of the newest row at or before ``old`` (0: none)."""
    olds = sorted(ids)
    at = bisect.bisect_right(olds, old)
    return ids[olds[at - 1]] if at else 0


def _id(value: object, table: str, number: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ArchiveError(f"Row {number} of {table}.jsonl holds {value!r} where an id "
                           "belongs.")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json(value: object, table: str, number: int) -> Any:
    try:
        return json.loads(str(value))
    except ValueError as exc:
        raise ArchiveError(f"Row {number} of {table}.jsonl holds malformed JSON.") from exc

