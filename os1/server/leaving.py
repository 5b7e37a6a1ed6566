"""``DELETE /api/account``: a person leaves, and everything of theirs goes with them
(``mind/forget_me.py``), with an account of what went.

Why the password and not the token alone: a stolen token must not be able to erase a
whole relationship. Why their tokens are revoked first and their turn slot taken before
anything is deleted: a reply still being written, or memories being extracted, would
write rows of theirs after the account is gone (and SQLite may give a new account the
same number).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter

from os1.mind.forget_me import Forgotten, forget_person
from os1.server.accounts import Account
from os1.server.dependencies import Me, State
from os1.server.gate import Busy
from os1.server.schemas import AccountDeletion, DeletedOut
from os1.server.server_state import ServerState

WAIT_FOR_TURN_S = 60.0

router = APIRouter(tags=["accounts"])


@router.delete("/api/account", response_model=DeletedOut)
async def delete_account(body: AccountDeletion, account: Me, state: State) -> DeletedOut:
    """Your account and everything of yours, deleted for good: your conversation,
    her memories of you (their index and vectors included), her mood toward you,
    your mail and calendar records and their passwords, the saved model states of
    your conversation. Every token is revoked. Needs your password."""
    await asyncio.to_thread(state.accounts.check_password, account, body.password)
    await asyncio.to_thread(state.accounts.revoke_all, account.id)
    async with _their_turn(state, account.user_id):
        gone = await asyncio.to_thread(_forget, state, account)
    return DeletedOut(rows=gone.rows, total_rows=gone.total_rows, files=len(gone.files),
                      passwords=gone.passwords)


@asynccontextmanager
async def _their_turn(state: ServerState, user_id: str) -> AsyncIterator[None]:
    """The person's place in the turn gate, waited for while a reply of theirs runs."""
    deadline = time.monotonic() + WAIT_FOR_TURN_S
    while True:
        admitted = False
        try:
            async with state.gate.turn(user_id):
                admitted = True
                yield
                return
        except Busy:
            if admitted or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def _forget(state: ServerState, account: Account) -> Forgotten:
    if state.minds is not None:
        state.minds.forget(account.user_id)
    with state.reading() as db:
        return forget_person(db, state.settings.home, account.user_id)
