"""``/v1/chat/completions``: existing chat clients talk to her with their os1 token as the
API key.

She keeps each person's conversation herself, so of the messages a client sends only the
last user message is new to her; the rest (a client's own copy of the history) is not
read again, and her system prompt is hers, not the client's. Sampling settings are hers
too: a companion doesn't change her temperature on request.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from os1.errors import InputError
from os1.server.app import Me
from os1.server.turns import Event, Finished, Piece, run_turn

if TYPE_CHECKING:
    from os1.server.app import ServerState

MODEL_ID = "os1"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(max_length=40)
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"model": "os1", "messages": [{"role": "user", "content": "How was your day?"}]}]})
    model: str = Field(MODEL_ID, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=10_000)
    stream: bool = False


def said(request: ChatRequest) -> str:
    """The text of the last user message (text parts joined, other parts ignored)."""
    for message in reversed(request.messages):
        if message.role != "user":
            continue
        content = message.content
        if isinstance(content, list):
            content = "".join(str(p.get("text", "")) for p in content
                              if isinstance(p, dict) and p.get("type") == "text")
        if content and content.strip():
            return content
        break
    raise InputError("There is no user message with text to answer.",
                     'The last message must be {"role": "user", "content": "..."}.')


def openai_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/v1/models", tags=["openai"])
    def models(account: Me) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                            "owned_by": "os1"}]}

    @app.post("/v1/chat/completions", tags=["openai"], response_model=None)
    async def completions(body: ChatRequest, account: Me) \
            -> JSONResponse | StreamingResponse:
        text = said(body)
        reply_id = f"chatcmpl-{uuid.uuid4().hex}"
        events = run_turn(state, account, text)
        first = await anext(events)  # errors (busy, too long) become HTTP statuses here
        if body.stream:
            return StreamingResponse(_sse(reply_id, first, events),
                                     media_type="text/event-stream")
        async with aclosing(events):
            pieces = [first, *[e async for e in events]]
        reply = "".join(e.text for e in pieces if isinstance(e, Piece))
        done = next((e for e in pieces if isinstance(e, Finished)), None)
        return JSONResponse({
            "id": reply_id, "object": "chat.completion", "created": int(time.time()),
            "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "finish_reason": _finish(done)}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})



async def _sse(reply_id: str, first: Event, events: AsyncGenerator[Event, None]) \
        -> AsyncIterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        return "data: " + json.dumps({
            "id": reply_id, "object": "chat.completion.chunk", "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

    yield chunk({"role": "assistant"})
    async with aclosing(events):
        event: Event | None = first
        while event is not None:
            if isinstance(event, Piece):
                yield chunk({"content": event.text})
            elif isinstance(event, Finished):
                yield chunk({}, _finish(event))
            event = await anext(events, None)
    yield "data: [DONE]\n\n"


def _finish(done: Finished | None) -> str:
    return "stop" if done is not None and done.status == "complete" else "length"
