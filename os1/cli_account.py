"""``--account USERNAME`` on ``os1 mail`` and ``os1 calendar``: the commands act for
someone who talks with her through ``os1 serve``. Each account's mail, calendars and
their passwords are kept under that account, apart from the local user's and everyone
else's, so the server's conversation with that person (and only that person) can use them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from os1.config import Settings
from os1.server.ids import user_id_of
from os1.storage.db import Database

F = TypeVar("F", bound=Callable[..., Any])


def account_option(command: F) -> F:
    return click.option(
        "--account", metavar="USERNAME", default=None, expose_value=False, is_eager=True,
        callback=_switch_user,
        help="Act for this os1 serve account instead of you.")(command)


def _switch_user(ctx: click.Context, _param: click.Parameter, username: str | None) -> None:
    if username is None:
        return
    settings: Settings = ctx.find_object(Settings)  # type: ignore[assignment]
    db = Database.open(settings.storage)
    try:
        ctx.obj = replace(settings, user=user_id_of(db, username))
    finally:
        db.close()
