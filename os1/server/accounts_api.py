"""Accounts and their tokens: sign up, log in and out (here or everywhere), change the
password, and who the token is. Leaving for good is ``leaving.py``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from os1.server.accounts import Account
from os1.server.dependencies import Bearer, Me, State
from os1.server.schemas import AccountOut, Credentials, LoginOut, PasswordChange, SignUp

router = APIRouter(tags=["accounts"])


@router.post("/api/accounts", status_code=201, response_model=AccountOut)
def sign_up(body: SignUp, request: Request, state: State) -> AccountOut:
    """At most a few sign-ups per address in ten minutes, and a bound for everyone
    (server.toml); past them 429 with Retry-After."""
    state.sign_ups.check(request.client.host if request.client else None)
    account = state.accounts.sign_up(body.username, body.password, body.display_name,
                                     body.invitation, state.invitation_required)
    return _out(account)


@router.post("/api/sessions", response_model=LoginOut)
def log_in(body: Credentials, state: State) -> LoginOut:
    login = state.accounts.log_in(body.username, body.password)
    return LoginOut(token=login.token, expires_at=login.expires_at)


@router.delete("/api/sessions/current", status_code=204)
def log_out(account: Me, credentials: Bearer, state: State) -> Response:
    assert credentials is not None  # Me has checked it
    state.accounts.revoke(credentials.credentials)
    return Response(status_code=204)


@router.delete("/api/sessions", status_code=204)
def log_out_everywhere(account: Me, state: State) -> Response:
    """Every token of this account revoked; its open connections end at their next turn."""
    state.accounts.revoke_all(account.id)
    return Response(status_code=204)


@router.put("/api/me/password", status_code=204)
def change_password(body: PasswordChange, account: Me, state: State) -> Response:
    """The current password and a new one; every other token of the account is revoked."""
    state.accounts.change_password(account, body.current, body.new)
    return Response(status_code=204)


@router.get("/api/me", response_model=AccountOut)
def who(account: Me) -> AccountOut:
    return _out(account)


def _out(account: Account) -> AccountOut:
    return AccountOut(username=account.username, display_name=account.display_name,
                      created_at=account.created_at)
