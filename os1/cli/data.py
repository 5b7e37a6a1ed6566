"""``os1 export``, ``os1 import``, ``os1 forget-me``, ``os1 backup`` and ``os1 restore``:
your relationship is yours, to take away, bring back, end, and keep safe. Thin shells
over os1/storage (archive, person_export, person_import, backup) and mind/forget_me."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console

from os1.config import Settings
from os1.errors import InputError, OS1Error, StorageError
from os1.storage.archive import ArchiveReader
from os1.storage.backup import (
    backup_postgres,
    backup_sqlite,
    in_use,
    restore_postgres,
    restore_sqlite,
)
from os1.storage.db import Database
from os1.storage.person_export import export_person
from os1.storage.person_import import import_person
from os1.ui.commands import account_option, count_bar, err, progress_bar

Bar = Callable[[int], None]


def _bar(description: str, total: int) -> Bar:
    """A bar over bytes while an archive is checked, over rows or pages otherwise."""
    return (progress_bar if description.startswith("Checking") else count_bar)(description,
                                                                              total)


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n / 1024:,.1f} KB"


@click.command(name="export")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@account_option
@click.pass_context
def export_command(ctx: click.Context, path: Path, force: bool) -> None:
    """Everything of yours (conversation, memories and their history, mood, her self as
    it grew with you, mail and calendar records, the action log; no passwords) as one
    archive at PATH (docs/EXPORT_FORMAT.md)."""
    settings: Settings = ctx.obj
    db = Database.open(settings.storage)
    try:
        done = export_person(db, settings.user, path, force=force, on_start=_bar)
    finally:
        db.close()
    err.print(f"Exported {sum(done.rows.values()):,} rows from "
              f"{sum(1 for n in done.rows.values() if n)} tables to {path} "
              f"({_size(done.size)}). It holds your whole relationship with her: keep it as "
              "private as your data dir.", markup=False)


@click.command(name="import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as", "new_name", default=None, metavar="NAME",
              help="Import under this name (a local user id, or an account's username) "
                   "instead of the archive's.")
@click.option("--password-stdin", is_flag=True,
              help="For an os1 serve account: read its new password from stdin.")
@click.pass_context
def import_command(ctx: click.Context, path: Path, new_name: str | None,
                   password_stdin: bool) -> None:
    """Bring an archive made by os1 export into this os1 (SQLite or PostgreSQL). It is
    checked whole first; a damaged or foreign one, or a name already here, changes
    nothing."""
    settings: Settings = ctx.obj
    with ArchiveReader(path) as archive:
        username = archive.manifest["person"].get("username")
    db = Database.open(settings.storage)
    try:
        password_hash = _new_password_hash(db, password_stdin) if username else None
        done = import_person(db, path, new_name=new_name, password_hash=password_hash,
                             on_start=_bar)
    finally:
        db.close()
    who = done.person.username or done.person.user_id
    err.print(f"Imported {who!r}: {sum(done.rows.values()):,} rows.", markup=False)
    if done.person.username is None and done.person.user_id != settings.user:
        err.print(f"Talk with her as them with: OS1_USER={done.person.user_id} os1 chat",
                  markup=False)


def _new_password_hash(db: Database, from_stdin: bool) -> str:
    """The new password of an imported account (an archive holds none), hashed as
    os1 serve's sign-up would."""
    try:
        from os1.server.accounts import AccountStore
    except ImportError as exc:
        raise OS1Error("Importing an os1 serve account needs the server extra.",
                       "Install it: pip install 'os1[server]'") from exc
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("A new password for the account", hide_input=True,
                                confirmation_prompt=True, err=True)
    else:
        raise InputError("This archive is an os1 serve account's, which needs a password.",
                         "Give it on stdin with --password-stdin.")
    return AccountStore(db).hash_new_password(password)


@click.command(name="forget-me")
@click.option("--yes", is_flag=True, help="Don't ask; I know this can't be undone.")
@account_option
@click.pass_context
def forget_me_command(ctx: click.Context, yes: bool) -> None:
    """Delete everything of yours, everywhere, for good: every row, her memories' vectors
    and index, the saved model states, your mail and calendar passwords. Export first
    if you want to keep anything."""
    from os1.mind.forget_me import forget_person

    settings: Settings = ctx.obj
    if not settings.database and in_use(settings.db_path):
        raise StorageError("os1 is running on this data dir: it would go on writing.",
                           "Stop os1 (chat, talk, serve) first; on a server, a person can "
                           "also leave with DELETE /api/account.")
    if not yes:
        _confirm(settings.user)
    db = Database.open(settings.storage)
    try:
        gone = forget_person(db, settings.home, settings.user)
    finally:
        db.close()
    out = Console(highlight=False)
    if not gone.total_rows and not gone.files and not gone.passwords:
        out.print(f"There was nothing of {settings.user!r} here.", markup=False)
        return
    out.print(f"Forgot {settings.user!r}: {gone.total_rows:,} rows", markup=False)
    for table, count in sorted(gone.rows.items()):
        out.print(f"  {table}: {count:,}", markup=False)
    out.print(f"  files: {len(gone.files)} (memory index, saved model states, things made)\n"
              f"  mail and calendar passwords: {gone.passwords}", markup=False)


def _confirm(user: str) -> None:
    if not sys.stdin.isatty():
        raise InputError("forget-me deletes everything of yours and can't be undone.",
                         "Run it on a terminal, or add --yes.")
    typed = click.prompt(f"This deletes everything of {user!r} for good. Type {user} to go "
                         "on", default="", show_default=False, err=True)
    if typed.strip() != user:
        raise InputError("Nothing was deleted.")


@click.command(name="backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@click.pass_context
def backup_command(ctx: click.Context, path: Path, force: bool) -> None:
    """Copy the whole store to PATH, safely while she runs (SQLite's online backup;
    pg_dump for PostgreSQL)."""
    settings: Settings = ctx.obj
    if settings.database:
        size = backup_postgres(settings.database, path, force=force)
    else:
        size = backup_sqlite(settings.db_path, path, force=force, on_start=_bar)
    err.print(f"Backed up to {path} ({_size(size)}). It holds everyone's conversations: "
              "keep it private.", markup=False)


@click.command(name="restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace the store there (it is kept aside, not deleted).")
@click.pass_context
def restore_command(ctx: click.Context, path: Path, force: bool) -> None:
    """Put a backup made by os1 backup back as the store (refused while os1 runs)."""
    settings: Settings = ctx.obj
    if settings.database:
        restore_postgres(path, settings.database)
        err.print(f"Restored {path} into the database.", markup=False)
        return
    done = restore_sqlite(path, settings.db_path, force=force, on_start=_bar)
    err.print(f"Restored {path} as {done.path}.", markup=False)
    if done.aside is not None:
        err.print(f"The store it replaced is kept at {done.aside}.", markup=False)


COMMANDS = (export_command, import_command, forget_me_command, backup_command,
            restore_command)
