"""OpenAIChatModel: the protocol against httpx.MockTransport, the faults against real
loopback sockets (a refused port, a server that never answers, a slow stream)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from os1.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
    ModelNotFound,
)
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.llm.openai_http import OpenAIChatModel

HELLO = [Message("user", "Hello")]
Handler = Callable[[httpx.Request], httpx.Response]


def chunk(content: str | None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": content}}]}


def sse(*events: dict[str, Any] | str, done: bool = True) -> str:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    return "".join(lines) + ("data: [DONE]\n\n" if done else "")


def sse_response(body: str) -> httpx.Response:
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


@dataclass
class Recorder:
    """A fake server: answers with ``respond`` and keeps every request."""

    respond: Handler
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.method == "POST"]


def make_model(respond: Handler, **kwargs: Any) -> tuple[OpenAIChatModel, Recorder]:
    recorder = Recorder(respond)
    kwargs.setdefault("model", "m1")
    model = OpenAIChatModel(
        kwargs.pop("base_url", "http://box:8080"),
        transport=httpx.MockTransport(recorder),
        **kwargs,
    )
    return model, recorder


def replying(*pieces: str) -> Handler:
    return lambda _request: sse_response(sse(*(chunk(p) for p in pieces)))


# --- protocol -------------------------------------------------------------------------------


def test_satisfies_the_model_protocol() -> None:
    model, _ = make_model(replying("x"))
    assert isinstance(model, Model)


def test_yields_only_nonempty_content_pieces_until_done() -> None:
    body = (
        ": keep-alive comment\n\n"
        + sse({"choices": [{"delta": {"role": "assistant"}}]}, chunk(None), chunk(""), done=False)
        + "event: message\n"
        + "data:"
        + json.dumps(chunk("Hel"))
        + "\n\n"
        + sse(chunk("lo"), {"choices": [], "usage": {"total_tokens": 3}}, done=True)
        + sse(chunk("after done"), done=False)
    )
    model, _ = make_model(lambda _r: sse_response(body))
    assert list(model.stream_chat(HELLO, GenerateOptions())) == ["Hel", "lo"]


def test_stream_without_done_marker_ends_at_eof() -> None:
    model, _ = make_model(lambda _r: sse_response(sse(chunk("a"), chunk("b"), done=False)))
    assert complete(model, HELLO, GenerateOptions()) == "ab"


def test_maps_options_into_the_request_body() -> None:
    model, server = make_model(replying("ok"))
    options = GenerateOptions(
        max_tokens=42,
        temperature=0.3,
        top_p=0.8,
        stop=("\nUser:", "</s>"),
        seed=7,
        logit_bias={"Hello": -5.0},
    )
    messages = [Message("system", "Be kind."), Message("user", "Hi")]
    assert complete(model, messages, options) == "ok"

    (request,) = server.requests
    assert request.method == "POST"
    assert request.url == "http://box:8080/v1/chat/completions"
    assert json.loads(request.content) == {
        "model": "m1",
        "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "Hi"},
        ],
        "stream": True,
        "max_tokens": 42,
        "temperature": 0.3,
        "top_p": 0.8,
        "stop": ["\nUser:", "</s>"],
        "seed": 7,
    }


def test_leaves_out_unset_optional_fields() -> None:
    model, server = make_model(replying("ok"))
    complete(model, HELLO, GenerateOptions())
    (body,) = server.bodies()
    assert not {"stop", "seed", "response_format", "grammar", "logit_bias", "min_p",
                "repeat_penalty", "presence_penalty", "frequency_penalty"} & body.keys()


def test_her_samplers_are_sent_the_penalties_as_openai_and_the_rest_as_llama_cpp_does() -> None:
    model, server = make_model(replying("ok"))
    complete(model, HELLO, GenerateOptions(min_p=0.05, repeat_penalty=1.1,
                                           presence_penalty=0.3, frequency_penalty=0.2))
    (body,) = server.bodies()
    assert (body["presence_penalty"], body["frequency_penalty"]) == (0.3, 0.2)
    assert (body["min_p"], body["repeat_penalty"]) == (0.05, 1.1)


def test_json_schema_becomes_a_strict_response_format() -> None:
    schema = {"type": "object", "properties": {"mood": {"type": "string"}}}
    model, server = make_model(replying("{}"))
    complete(model, HELLO, GenerateOptions(json_schema=schema))
    (body,) = server.bodies()
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": schema, "strict": True},
    }
    assert "grammar" not in body


def test_grammar_is_sent_as_an_extra_field() -> None:
    model, server = make_model(replying("yes"))
    complete(model, HELLO, GenerateOptions(grammar='root ::= "yes" | "no"'))
    (body,) = server.bodies()
    assert body["grammar"] == 'root ::= "yes" | "no"'
    assert "response_format" not in body


def test_refuses_schema_and_grammar_together() -> None:
    model, server = make_model(replying("x"))
    options = GenerateOptions(json_schema={"type": "object"}, grammar="root ::= x")
    with pytest.raises(ValueError, match="not both"):
        complete(model, HELLO, options)
    assert server.requests == []


def test_sends_bearer_token_only_when_a_key_is_set() -> None:
    with_key, keyed = make_model(replying("x"), api_key="sk-secret")
    without_key, anonymous = make_model(replying("x"))
    complete(with_key, HELLO, GenerateOptions())
    complete(without_key, HELLO, GenerateOptions())
    assert keyed.requests[0].headers["authorization"] == "Bearer sk-secret"
    assert "authorization" not in anonymous.requests[0].headers


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://host:11434", "http://host:11434"),
        ("http://host:11434/", "http://host:11434"),
        ("http://host:11434/v1", "http://host:11434"),
        ("http://host:8000/v1/", "http://host:8000"),
        ("  host:1234  ", "http://host:1234"),
        ("https://api.example.com/proxy/v1", "https://api.example.com/proxy"),
    ],
)
def test_normalises_the_base_url(given: str, root: str) -> None:
    model, server = make_model(replying("x"), base_url=given, model="qwen")
    complete(model, HELLO, GenerateOptions())
    assert server.requests[0].url == f"{root}/v1/chat/completions"
    assert model.name == f"qwen @ {root}"


def test_empty_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        OpenAIChatModel("  ")


def test_constructing_and_naming_do_no_io() -> None:
    model, server = make_model(replying("x"), model="")
    assert model.name == "auto @ http://box:8080"
    assert model.context_size == 4096
    assert server.requests == []


# --- picking the model ----------------------------------------------------------------------


def models_server(*ids: str) -> Handler:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"object": "list", "data": [{"id": i} for i in ids]})
        return sse_response(sse(chunk("hi")))

    return respond


def test_picks_the_only_model_once_and_remembers_it() -> None:
    model, server = make_model(models_server("qwen2.5:1.5b"), model="")
    assert complete(model, HELLO, GenerateOptions()) == "hi"
    assert complete(model, HELLO, GenerateOptions()) == "hi"
    paths = [(r.method, r.url.path) for r in server.requests]
    assert paths == [
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/chat/completions"),
    ]
    assert [b["model"] for b in server.bodies()] == ["qwen2.5:1.5b", "qwen2.5:1.5b"]
    assert model.name == "qwen2.5:1.5b @ http://box:8080"


def test_several_models_ask_the_user_to_choose() -> None:
    model, server = make_model(models_server("llama3.2", "qwen2.5", "phi4"), model="")
    with pytest.raises(ConfigError) as caught:
        complete(model, HELLO, GenerateOptions())
    assert "llama3.2, qwen2.5, phi4" in str(caught.value)
    assert "--endpoint-model" in caught.value.hint
    assert server.bodies() == []


def test_no_models_is_model_not_found() -> None:
    model, _ = make_model(models_server(), model="")
    with pytest.raises(ModelNotFound, match="lists no models"):
        complete(model, HELLO, GenerateOptions())


def test_unreadable_model_list_is_a_backend_error() -> None:
    model, _ = make_model(lambda _r: httpx.Response(200, text="<html>hi</html>"), model="")
    with pytest.raises(BackendError, match="model list"):
        complete(model, HELLO, GenerateOptions())


# --- HTTP errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_point_at_the_api_key(status: int) -> None:
    model, _ = make_model(lambda _r: httpx.Response(status, json={"error": "bad key"}))
    with pytest.raises(BackendError) as caught:
        complete(model, HELLO, GenerateOptions())
    assert not isinstance(caught.value, ModelNotFound)
    assert f"HTTP {status}" in str(caught.value)
    assert "bad key" in str(caught.value)
    assert "OS1_API_KEY" in caught.value.hint


def test_404_for_the_model_is_model_not_found() -> None:
    error = {"error": {"message": 'model "nope" not found, try pulling it first'}}
    model, _ = make_model(lambda _r: httpx.Response(404, json=error), model="nope")
    with pytest.raises(ModelNotFound) as caught:
        complete(model, HELLO, GenerateOptions())
    assert "'nope'" in str(caught.value)
    assert "try pulling it first" in str(caught.value)
    assert "--endpoint-model" in caught.value.hint


def test_server_error_shows_status_and_a_short_excerpt() -> None:
    body = "Internal trouble: " + "x" * 1000 + "END"
    model, _ = make_model(lambda _r: httpx.Response(500, text=body))
    with pytest.raises(BackendError) as caught:
        complete(model, HELLO, GenerateOptions())
    message = str(caught.value)
    assert type(caught.value) is BackendError
    assert "HTTP 500" in message
    assert "Internal trouble: xxx" in message
    assert "END" not in message
    assert message.count("x") <= 300


def test_malformed_event_is_a_backend_error_after_good_pieces() -> None:
    body = sse(chunk("fine"), "{not json", chunk("never"))
    model, _ = make_model(lambda _r: sse_response(body))
    stream = model.stream_chat(HELLO, GenerateOptions())
    assert next(stream) == "fine"
    with pytest.raises(BackendError, match="malformed event: \\{not json") as caught:
        next(stream)
    assert isinstance(caught.value.__cause__, json.JSONDecodeError)


@pytest.mark.parametrize(
    "event",
    ['"just a string"', '{"choices": "oops"}', '{"error": {"message": "out of memory"}}'],
)
def test_odd_events_are_backend_errors(event: str) -> None:
    model, _ = make_model(lambda _r: sse_response(sse(event)))
    with pytest.raises(BackendError):
        complete(model, HELLO, GenerateOptions())


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("Name or service not known"), BackendUnavailable),
        (httpx.ConnectTimeout("timed out"), BackendTimeout),
        (httpx.ReadTimeout("timed out"), BackendTimeout),
        (httpx.RemoteProtocolError("peer closed connection"), BackendError),
    ],
)
def test_transport_errors_are_translated(exc: httpx.HTTPError, expected: type[Exception]) -> None:
    def fail(_request: httpx.Request) -> httpx.Response:
        raise exc

    model, _ = make_model(fail)
    with pytest.raises(expected) as caught:
        complete(model, HELLO, GenerateOptions())
    assert type(caught.value) is expected
    assert caught.value.__cause__ is exc
    assert "http://box:8080" in str(caught.value)


def test_count_tokens_is_a_character_estimate() -> None:
    model, _ = make_model(replying("x"), context_size=8192)
    assert model.count_tokens("") == 1
    assert model.count_tokens("abc") == 1
    assert model.count_tokens("a" * 35) == 10
    assert model.count_tokens("a" * 36) == 11
    assert model.context_size == 8192


def test_close_closes_the_http_client() -> None:
    model, _ = make_model(replying("x"))
    model.close()
    assert model._client.is_closed


# --- real sockets ---------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on: bound, read, released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_refused_connection_is_backend_unavailable_quickly() -> None:
    port = free_port()
    model = OpenAIChatModel(f"http://127.0.0.1:{port}/v1", model="m", timeout=5)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        complete(model, HELLO, GenerateOptions())
    assert time.monotonic() - started < 2
    assert f"Can't reach the model server at http://127.0.0.1:{port}:" in str(caught.value)
    assert "--model" in caught.value.hint
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    model.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    listener.close()


def test_silent_server_is_backend_timeout(silent_server: int) -> None:
    model = OpenAIChatModel(f"http://127.0.0.1:{silent_server}", model="m", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendTimeout) as caught:
        complete(model, HELLO, GenerateOptions())
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 3
    assert "0.5 seconds" in str(caught.value)
    assert "OS1_REQUEST_TIMEOUT" in caught.value.hint
    assert "request_timeout" in caught.value.hint
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    model.close()


@dataclass
class SlowStream:
    port: int
    total: int
    sent: list[int] = field(default_factory=list)
    client_gone: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def slow_stream_server() -> Iterator[SlowStream]:
    """Streams ``total`` SSE chunks, one every 0.2 s, noting when the client hangs up."""
    state = SlowStream(port=0, total=25)

    class SlowHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for i in range(state.total):
                    self.wfile.write(sse(chunk(f"piece{i} "), done=False).encode())
                    self.wfile.flush()
                    state.sent.append(i)
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                state.client_gone.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=2)


def test_closing_the_stream_hangs_up_promptly(slow_stream_server: SlowStream) -> None:
    model = OpenAIChatModel(f"http://127.0.0.1:{slow_stream_server.port}", model="m", timeout=5)
    stream = model.stream_chat(HELLO, GenerateOptions())
    assert isinstance(stream, Generator)
    assert next(stream) == "piece0 "

    started = time.monotonic()
    stream.close()
    assert time.monotonic() - started < 0.5

    assert slow_stream_server.client_gone.wait(timeout=3)
    assert len(slow_stream_server.sent) < slow_stream_server.total
    model.close()


def test_falls_back_to_json_object_schema_when_json_schema_is_refused() -> None:
    """llama-cpp-python's server refuses OpenAI's json_schema format but takes the older
    json_object form with a schema; the backend switches once and remembers."""
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        if body["response_format"]["type"] == "json_schema":
            return httpx.Response(500, text="response_format: Input should be 'json_object'")
        chunk = json.dumps({"choices": [{"delta": {"content": '{"a": 1}'}}]})
        return httpx.Response(200, text=f"data: {chunk}\n\ndata: [DONE]\n\n",
                              headers={"content-type": "text/event-stream"})

    model = OpenAIChatModel("http://server", model="m", transport=httpx.MockTransport(handler))
    options = GenerateOptions(json_schema={"type": "object"})
    assert "".join(model.stream_chat([Message("user", "x")], options)) == '{"a": 1}'
    assert "".join(model.stream_chat([Message("user", "y")], options)) == '{"a": 1}'
    styles = [b["response_format"]["type"] for b in bodies]
    assert styles == ["json_schema", "json_object", "json_object"]
    assert bodies[1]["response_format"]["schema"] == {"type": "object"}
