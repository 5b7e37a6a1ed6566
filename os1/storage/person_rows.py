"""Forget-me in the database: every row of one person, in every table, in one
transaction, then scrubbed from the database's own files as far as the backend allows
(SQLite: freed pages zeroed, the FTS index merged, the WAL truncated).

Why also tables no map names: a table added later with a ``user_id`` column is theirs
too, and a forgotten person must not be left in it because no one updated the map.
"""

from __future__ import annotations

from os1.storage.db import Database
from os1.storage.person_tables import PERSON_TABLES, Person, quoted, scope


def delete_person(db: Database, person: Person) -> dict[str, int]:
    """Delete ``person`` everywhere; returns the rows deleted per table (tables with none
    left out)."""
    plan = _plan(db, person)
    db.prepare_forget()
    deleted: dict[str, int] = {}
    with db.transaction() as tx:
        for table, where, params in plan:
            count = tx.execute(f"DELETE FROM {quoted(table)} WHERE {where}", params).rowcount
            if count > 0:
                deleted[table] = deleted.get(table, 0) + count
    db.scrub_person()
    return deleted


Delete = tuple[str, str, tuple[object, ...]]  # table, WHERE, its parameters


def _plan(db: Database, person: Person) -> list[Delete]:
    """The deletes in an order no foreign key objects to: tables no map names first,
    then the mapped ones children before parents, the account and its logins last."""
    mapped = {t.name for t in PERSON_TABLES}
    plan: list[Delete] = [(name, "user_id = ?", (person.user_id,)) for name in db.table_names()
            if name not in mapped and "user_id" in db.column_names(name)]
    plan += [(t.name, *scope(t, person)) for t in reversed(PERSON_TABLES)
             if t.name != "accounts"]
    if person.account_id is not None:
        plan += [("account_tokens", "account_id = ?", (person.account_id,)),
                 ("invitations", "used_by = ?", (person.account_id,)),
                 ("login_failures", "lower(username) = lower(?)", (person.username,)),
                 ("accounts", "id = ?", (person.account_id,))]
    return plan
