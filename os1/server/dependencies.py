"""What a route is given, through FastAPI's ``Depends``: the server's state, the account
of the request's bearer token, and a database connection of the request's own.

The token is the only way a route learns whose data it serves: no route takes a user id,
so there is none to guess. A route declares ``account: Me`` and gets the account, or the
request is answered 401 (no token, or a bad one) or 429 (its budget spent) before the
route runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, cast

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from os1.server.accounts import Account, AuthError
from os1.server.server_state import ServerState
from os1.storage.db import Database


def server_state(connection: HTTPConnection) -> ServerState:
    """The app's state (``create_app`` puts it on ``app.state.os1``); for WebSockets too."""
    return cast(ServerState, connection.app.state.os1)


State = Annotated[ServerState, Depends(server_state)]

bearer = HTTPBearer(auto_error=False)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def current_account(state: State, credentials: Bearer) -> Account:
    """The account of the bearer token (within its request budget), or 401/429."""
    if credentials is None:
        raise AuthError("This needs a token: 'Authorization: Bearer <token>'.",
                        "Get one with POST /api/sessions.")
    found = state.accounts.account_for(credentials.credentials)
    state.limiter.check(found.user_id)
    return found


Me = Annotated[Account, Depends(current_account)]


def reading(state: State) -> Iterator[Database]:
    """A connection of the request's own, closed when it is answered (the turn threads
    have theirs)."""
    with state.reading() as db:
        yield db


Reading = Annotated[Database, Depends(reading)]
