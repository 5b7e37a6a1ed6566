"""A chat model served over HTTP by anything that speaks the OpenAI chat API.

Ollama, the llama.cpp server, vLLM and LM Studio all expose ``/v1/chat/completions``, so
one small client covers every "bring your own model server" setup. Every httpx exception
and every bad status is translated here into an ``os1.errors`` exception, so callers never
see a transport-level traceback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from os1.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
    ModelNotFound,
)
from os1.llm.base import GenerateOptions, Message
from os1.llm.defuse import KNOWN_DEFUSER

EXCERPT_CHARS = 300
CHARS_PER_TOKEN = 3.5


class OpenAIChatModel:
    """Streams replies from an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    The server is contacted lazily: constructing the model never does I/O, so a CLI can
    build it before it knows whether it will be used. With no ``model`` given, the server's
    only model is picked on first use (servers like llama.cpp serve exactly one).
    """

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key: str = "",
        timeout: float = 60.0,
        context_size: int = 4096,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base_url = normalise_base_url(base_url)
        self._shown = shown_url(self._base_url)  # in messages and logs: no credentials
        self._model = model.strip()
        self._timeout = timeout
        self._context_size = context_size
        self._schema_style = "json_schema"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=f"{self._base_url}/v1",
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )

    @property
    def name(self) -> str:
        """Never does I/O, so it is safe in error messages; "auto" until a model is picked."""
        return f"{self._model or 'auto'} @ {self._shown}"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def context_size(self) -> int:
        """As configured: the OpenAI API has no standard way to ask the server."""
        return self._context_size

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) -> Iterator[str]:
        """Reply pieces as the server sends them.

        This is a generator, so nothing is sent until the first ``next()``, and connection
        errors surface there. Closing it closes the HTTP response, which drops the
        connection; servers stop generating when their client goes away.
        """
        with self._translate_errors():
            model = self._resolved_model()
            payload = build_payload(model, messages, options, self._schema_style)
            with self._client.stream("POST", "/chat/completions", json=payload) as response:
                if self._rejects_schema_style(response, options):
                    self._schema_style = "json_object"
                    retry = build_payload(model, messages, options, self._schema_style)
                    with self._client.stream("POST", "/chat/completions", json=retry) as second:
                        self._check_status(second, model)
                        yield from _sse_content(second.iter_lines(), self._shown)
                    return
                self._check_status(response, model)
                yield from _sse_content(response.iter_lines(), self._shown)

    def _rejects_schema_style(self, response: httpx.Response, options: GenerateOptions) -> bool:
        """OpenAI's ``json_schema`` response format is not universal: llama-cpp-python's
        server only takes ``{"type": "json_object", "schema": ...}``. Detect that refusal
        once and use the older form from then on."""
        if options.json_schema is None or self._schema_style != "json_schema":
            return False
        if response.status_code < 400:
            return False
        response.read()
        return "response_format" in response.text

    def count_tokens(self, text: str) -> int:
        """An estimate (about 3.5 characters per token for English text).

        The server's tokenizer is out of reach over the OpenAI API, so budgets built on this
        number should keep a margin.
        """
        return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))

    def close(self) -> None:
        self._client.close()

    def _resolved_model(self) -> str:
        if not self._model:
            self._model = self._pick_model()
        return self._model

    def _pick_model(self) -> str:
        response = self._client.get("/models")
        if response.status_code == 404:
            raise BackendError(
                f"The server at {self._shown} has no /v1/models list, so os1 can't pick "
                "a model for you.",
                "Name the model with --endpoint-model.",
            )
        self._check_status(response, "")
        ids = _model_ids(response, self._shown)
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise ModelNotFound(
                f"The model server at {self._shown} lists no models.",
                "Load or pull a model on the server (e.g. `ollama pull llama3.2`).",
            )
        raise ConfigError(
            f"The model server at {self._shown} serves {len(ids)} models: {', '.join(ids)}.",
            "Pick one with --endpoint-model.",
        )

    def _check_status(self, response: httpx.Response, model: str) -> None:
        """Turns a non-2xx answer into an error that says what to change."""
        if response.is_success:
            return
        response.read()
        status = response.status_code
        detail = f"HTTP {status}: {_excerpt(response.text)}"
        if status in (401, 403):
            raise BackendError(
                f"The model server at {self._shown} refused the request ({detail}).",
                "Set OS1_API_KEY (or api_key in config.toml) to a key the server accepts.",
            )
        if status == 404 and model:
            raise ModelNotFound(
                f"The model server at {self._shown} has no model {model!r} ({detail}).",
                f"See {self._shown}/v1/models and pick one with --endpoint-model.",
            )
        raise BackendError(f"The model server at {self._shown} answered {detail}")

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        """The one place httpx exceptions become os1 ones (order matters: timeouts first,
        since a connect timeout means "slow", not "absent")."""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise BackendTimeout(
                f"The model server at {self._shown} gave no answer within "
                f"{self._timeout:g} seconds.",
                "If it is just slow (a big model, a cold start), raise request_timeout in "
                "config.toml or set OS1_REQUEST_TIMEOUT (seconds).",
            ) from exc
        except httpx.ConnectError as exc:
            raise BackendUnavailable(
                f"Can't reach the model server at {self._shown}: {_reason(exc)}.",
                "Is it running? Start it, or choose another model with --model.",
            ) from exc
        except httpx.HTTPError as exc:
            raise BackendError(
                f"The connection to the model server at {self._shown} failed: {_reason(exc)}."
            ) from exc


def shown_url(url: str) -> str:
    """``url`` without the password a user may have put in it (``https://me:secret@host``):
    it was shown at start and written into error messages and logs (issue 25)."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def normalise_base_url(base_url: str) -> str:
    """The server root without ``/v1``: users copy either form from server docs."""
    url = base_url.strip().rstrip("/")
    if not url:
        raise ConfigError("The model server URL is empty.", "Give it like http://localhost:11434.")
    if "://" not in url:
        url = f"http://{url}"
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url


def build_payload(
    model: str, messages: Sequence[Message], options: GenerateOptions,
    schema_style: str = "json_schema",
) -> dict[str, Any]:
    """The request body.

    ``options.logit_bias`` is left out on purpose: it is keyed by text pieces, and an
    OpenAI endpoint only accepts token ids, which can't be computed without the server's
    tokenizer. ``grammar`` is not OpenAI API but the llama.cpp server honours it, and
    other servers ignore unknown fields.
    """
    if options.json_schema is not None and options.grammar is not None:
        raise ValueError("GenerateOptions: give json_schema or grammar, not both")
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content}
                     for m in KNOWN_DEFUSER.messages(messages)],
        "stream": True,
        "max_tokens": options.max_tokens,
        "temperature": options.temperature,
        "top_p": options.top_p,
    }
    if options.presence_penalty or options.frequency_penalty:
        payload["presence_penalty"] = options.presence_penalty
        payload["frequency_penalty"] = options.frequency_penalty
    # llama.cpp's own samplers: its server honours them, others ignore unknown fields
    if options.min_p:
        payload["min_p"] = options.min_p
    if options.repeat_penalty != 1.0:
        payload["repeat_penalty"] = options.repeat_penalty
    if options.stop:
        payload["stop"] = list(options.stop)
    if options.seed is not None:
        payload["seed"] = options.seed
    if options.json_schema is not None and schema_style == "json_object":
        payload["response_format"] = {"type": "json_object", "schema": dict(options.json_schema)}
    elif options.json_schema is not None:
        payload["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "reply", "schema": dict(options.json_schema), "strict": True},
        }
    if options.grammar is not None:
        payload["grammar"] = options.grammar
    return payload


def _sse_content(lines: Iterator[str], base_url: str) -> Iterator[str]:
    """Content pieces from server-sent events; comments, other fields and empty deltas
    (role announcements, the final usage chunk) are skipped."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return
        if data:
            piece = _delta_content(_parse_event(data, base_url), base_url)
            if piece:
                yield piece


def _parse_event(data: str, base_url: str) -> Mapping[str, Any]:
    try:
        event = json.loads(data)
    except json.JSONDecodeError as exc:
        raise BackendError(
            f"The model server at {base_url} sent a malformed event: {_excerpt(data)}"
        ) from exc
    if not isinstance(event, dict):
        raise BackendError(
            f"The model server at {base_url} sent a malformed event: {_excerpt(data)}"
        )
    if "error" in event:
        raise BackendError(f"The model server at {base_url} failed mid-reply: {event['error']}")
    return event


def _delta_content(event: Mapping[str, Any], base_url: str) -> str | None:
    try:
        choices = event.get("choices") or []
        if not choices:
            return None
        content = choices[0].get("delta", {}).get("content")
    except (AttributeError, TypeError) as exc:
        raise BackendError(
            f"The model server at {base_url} sent an event of an unknown shape: "
            f"{_excerpt(json.dumps(event))}"
        ) from exc
    return content if isinstance(content, str) else None


def _model_ids(response: httpx.Response, base_url: str) -> list[str]:
    try:
        entries = response.json()["data"]
        return [str(entry["id"]) for entry in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackendError(
            f"The model server at {base_url} sent a model list os1 can't read: "
            f"{_excerpt(response.text)}"
        ) from exc


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
