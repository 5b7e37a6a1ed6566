"""``/v1/chat/completions``: existing chat clients talk to her with their os1 token as the
API key.

She keeps each person's conversation herself, so of the messages a client sends only the
last user message is new to her; the rest (a client's own copy of the history) is not
read again, and her system prompt is hers, not the client's. Sampling settings are hers
too: a companion doesn't change her temperature on request.

A request may name its message with ``client_id`` in the body or an ``Idempotency-Key``
header: sent again, it is answered with her stored reply, not stored twice. A client that
disconnects, while its turn waits for the model or while she answers, gives the turn up
(issue 25: abandoned requests held the queue, and people still there were told busy).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from os1.errors import InputError
from os1.server.dependencies import Me, State
from os1.server.turn_stream import (
    MAX_CLIENT_ID_CHARS,
    ClientGone,
    Event,
    Finished,
    Piece,
    check_client_id,
    run_turn,
)

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
    client_id: str | None = Field(None, max_length=MAX_CLIENT_ID_CHARS)

# What a response to a client that has gone says (nobody reads it; nginx's code for it).
CLIENT_CLOSED = 499


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


router = APIRouter(tags=["openai"])


@router.get("/v1/models")
def models(account: Me) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                        "owned_by": "os1"}]}


@router.post("/v1/chat/completions", response_model=None)
async def completions(body: ChatRequest, account: Me, request: Request, state: State,
                      idempotency_key: Annotated[str | None, Header(
                          max_length=MAX_CLIENT_ID_CHARS)] = None) -> Response:
    text = said(body)
    client_id = _client_id(body.client_id, idempotency_key)
    reply_id = f"chatcmpl-{uuid.uuid4().hex}"
    gone = asyncio.Event()
    watching: asyncio.Task[None] | None = asyncio.create_task(_watch(request, gone))
    events = run_turn(state, account, text, client_id, until=(gone,))
    try:
        first = await anext(events)  # errors (busy, too long) become HTTP statuses here
        if body.stream:
            streaming, watching = watching, None  # the stream's now, to its end
            assert streaming is not None
            return StreamingResponse(_sse(reply_id, first, events, streaming),
                                     media_type="text/event-stream")
        async with aclosing(events):
            pieces = [first, *[e async for e in events]]
    except ClientGone:
        return Response(status_code=CLIENT_CLOSED)
    finally:
        if watching is not None:
            watching.cancel()
    reply = "".join(e.text for e in pieces if isinstance(e, Piece))
    done = next((e for e in pieces if isinstance(e, Finished)), None)
    return JSONResponse({
        "id": reply_id, "object": "chat.completion", "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                     "finish_reason": _finish(done)}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})


def _client_id(in_body: str | None, in_header: str | None) -> str | None:
    if in_body is not None and in_header is not None and in_body != in_header:
        raise InputError("client_id and the Idempotency-Key header differ.",
                         "Send the message's key once, in either.")
    return check_client_id(in_body if in_body is not None else in_header)


async def _watch(request: Request, gone: asyncio.Event) -> None:
    """Set ``gone`` when the client disconnects. The body has been read, so the next
    message the server has for this request is its disconnect (or the end of the
    response, when this watch is cancelled)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    gone.set()


async def _sse(reply_id: str, first: Event, events: AsyncGenerator[Event, None],
               watching: asyncio.Task[None]) -> AsyncIterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        return "data: " + json.dumps({
            "id": reply_id, "object": "chat.completion.chunk", "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

    try:
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
    except ClientGone:
        return  # nobody to tell
    finally:
        watching.cancel()


def _finish(done: Finished | None) -> str:
    return "stop" if done is not None and done.status == "complete" else "length"
