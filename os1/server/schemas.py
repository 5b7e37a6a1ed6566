"""The bodies the server's API takes and gives, as pydantic models: they validate what
comes in (a 422 naming the field) and write the OpenAPI spec."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Phase = Literal["loading", "ready", "shutting_down", "failed"]


class SignUp(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=2000)
    display_name: str = Field("", max_length=200)
    invitation: str | None = Field(None, max_length=200)


class Credentials(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=2000)


class PasswordChange(BaseModel):
    current: str = Field(max_length=2000)
    new: str = Field(max_length=2000)


class AccountDeletion(BaseModel):
    password: str = Field(max_length=2000)


class DeletedOut(BaseModel):
    rows: dict[str, int]  # rows deleted, per table
    total_rows: int
    files: int  # files removed (vector index, saved model states)
    passwords: int  # mail and calendar passwords removed


class AccountOut(BaseModel):
    username: str
    display_name: str
    created_at: float


class LoginOut(BaseModel):
    token: str
    expires_at: float


class StatusOut(BaseModel):
    state: Phase
    available: bool
    detail: str
    running: int
    waiting: int
    max_waiting: int
    retry_after_s: int


class MessageOut(BaseModel):
    id: int
    role: Literal["user", "assistant"]
    content: str
    status: str
    created_at: float
    client_id: str | None = None  # the key its client sent it under, if any


class MoodOut(BaseModel):
    feeling: str
    valence: float
    arousal: float
    hurt: float


class SelfOut(BaseModel):
    version: int
    traits: list[str]
    interests: list[str]
    opinions: list[str]
    wants: list[str]
    reason: str


class MemoryOut(BaseModel):
    id: int
    kind: str
    content: str
    subject: str
    importance: float
    created_at: float
    event_at: float | None


class ForgottenOut(BaseModel):
    forgotten: int


class ErrorOut(BaseModel):
    error: dict[str, Any]
