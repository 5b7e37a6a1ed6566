"""What anyone who reaches the port can make the server spend before logging in (issue 25):
a request body is bounded before it is parsed (413, unread or counted as it comes), and
sign-ups are bounded per address and overall (429 with Retry-After)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.server.app import create_app
from os1.server.sign_ups import SignUpLimit, address_key
from tests.unit.test_server import PASSWORD, serve
from tests.uvicorn_server import live

MiB = 1024 * 1024
SECRET = "hunter2-correct-horse"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    client = serve(settings, FakeModel())
    yield client
    client.__exit__(None, None, None)


class Answer(Protocol):
    def json(self) -> Any: ...


def is_error(answer: Answer, kind: str) -> dict[str, Any]:
    error = answer.json()["error"]
    assert error["type"] == kind and error["message"] and "hint" in error
    return dict(error)


# -- bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/accounts", "/api/sessions", "/v1/chat/completions"])
def test_a_body_over_a_mebibyte_is_refused_with_413_and_never_echoed(
        client: TestClient, path: str) -> None:
    body = b'{"username": "theo", "password": "' + SECRET.encode() + b'", "x": "' \
        + b"y" * MiB + b'"}'
    answer = client.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    error = is_error(answer, "too_large")
    assert "1,048,576 bytes" in error["message"]
    assert SECRET not in answer.text and len(answer.text) < 1_000


def test_a_body_without_a_length_is_counted_as_it_comes(client: TestClient) -> None:
    def pieces() -> Iterator[bytes]:  # chunked: no Content-Length to go by
        yield b'{"username": "theo", "password": "' + SECRET.encode() + b'", "x": "'
        for _ in range(3):
            yield b"y" * (MiB // 2)
        yield b'"}'

    answer = client.post("/api/accounts", content=pieces(),
                         headers={"content-type": "application/json"})
    assert answer.status_code == 413 and SECRET not in answer.text
    is_error(answer, "too_large")
    small = client.post("/api/accounts", json={"username": "theo", "password": PASSWORD})
    assert small.status_code == 201  # a body under the limit is read as before


def raw_request(url: str, head: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=30)
    connection.sendall(head.encode())
    return connection


def response_of(connection: socket.socket) -> bytes:
    got = b""
    while b"\r\n\r\n" not in got or not got.rstrip().endswith(b"}"):
        part = connection.recv(65536)
        if not part:
            break
        got += part
    return got


def test_a_100_mb_body_is_answered_before_it_is_sent_and_a_stream_is_cut_off(
        settings: Settings) -> None:
    """On a real server: a declared 100 MB gets its 413 without a byte of it read; a
    body sent in chunks without a length is refused at the first chunk past the limit;
    and a 100 MB chunked flood cannot push more than the socket buffers hold."""
    app = create_app(settings, FakeModel)
    with live(app) as url:
        declared = raw_request(url, "POST /api/accounts HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Type: application/json\r\n"
                                    f"Content-Length: {100 * MiB}\r\n\r\n")
        with declared:
            answer = response_of(declared)
        assert answer.startswith(b"HTTP/1.1 413") and b'"too_large"' in answer
        chunked = raw_request(url, "POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n")
        with chunked:
            for size in (MiB, 1):  # one byte past the limit, and no end of the body
                chunked.sendall(f"{size:x}\r\n".encode() + b"y" * size + b"\r\n")
            answer = response_of(chunked)
        assert answer.startswith(b"HTTP/1.1 413") and b'"too_large"' in answer
        assert sent_before_cut_off(url) < 40 * MiB


def sent_before_cut_off(url: str) -> int:
    """How much of a 100 MB chunked body a client gets to send before the server,
    having refused it, closes the connection."""
    flood = raw_request(url, "POST /api/accounts HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n")
    sent = 0
    chunk = f"{64 * 1024:x}\r\n".encode() + b"y" * 64 * 1024 + b"\r\n"
    stop = threading.Event()

    def drain() -> None:  # read what the server says, so its answer never blocks it
        try:
            while not stop.is_set() and flood.recv(65536):
                pass
        except OSError:
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        while sent < 100 * MiB:
            flood.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass  # cut off: what we wanted
    finally:
        stop.set()
        flood.close()
        reader.join(10)
    return sent


# -- sign-ups ----------------------------------------------------------------------------


def test_five_sign_ups_from_one_address_then_429_and_another_address_is_not_held_up(
        settings: Settings) -> None:
    client = serve(settings, FakeModel())
    try:
        tries = [client.post("/api/accounts", json={"username": f"user{n}",
                                                    "password": PASSWORD if n % 2 else "short"})
                 for n in range(5)]  # refused ones count too: they cost the same
        assert [t.status_code for t in tries] == [400, 201, 400, 201, 400]
        sixth = client.post("/api/accounts", json={"username": "sixth", "password": PASSWORD})
        assert sixth.status_code == 429 and int(sixth.headers["Retry-After"]) >= 60
        assert "sign-ups from your address" in is_error(sixth, "busy")["message"]
        login = client.post("/api/sessions", json={"username": "sixth", "password": PASSWORD})
        assert login.status_code == 401, "the refused sign-up made no account"
        elsewhere = TestClient(client.app, client=("198.51.100.7", 40000))
        made = elsewhere.post("/api/accounts", json={"username": "sixth",
                                                     "password": PASSWORD})
        assert made.status_code == 201
    finally:
        client.__exit__(None, None, None)


def test_sign_ups_from_everyone_together_are_bounded_too(settings: Settings) -> None:
    client = serve(settings, FakeModel(), sign_ups=SignUpLimit(per_address=2, overall=3))
    try:
        codes = []
        for n, address in enumerate(["192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3"]):
            person = TestClient(client.app, client=(address, 40000))
            codes.append(person.post("/api/accounts", json={"username": f"user{n}",
                                                            "password": PASSWORD}))
        assert [c.status_code for c in codes] == [201, 201, 201, 429]
        assert "on this server" in is_error(codes[-1], "busy")["message"]
        assert int(codes[-1].headers["Retry-After"]) >= 1
    finally:
        client.__exit__(None, None, None)


def test_an_ipv6_sign_up_is_counted_by_its_64_and_nothing_crashes_on_odd_hosts() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9") \
        == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7" == address_key("192.0.2.7")
    assert address_key(None) == "unknown" and address_key("testclient") == "testclient"


# -- WebSocket frames --------------------------------------------------------------------


def test_a_deeply_nested_frame_is_bad_json_not_a_crashed_handler(client: TestClient) -> None:
    """60,000 nested brackets fit under the frame limit, and raised RecursionError in the
    JSON parser: the handler died with a traceback, before login as after."""
    deep = "[" * 60_000 + "]" * 60_000
    with client.websocket_connect("/api/conversation") as ws:
        ws.send_text(deep)
        assert ws.receive_json()["code"] == "unauthorised"
    client.post("/api/accounts", json={"username": "theo", "password": PASSWORD})
    token = client.post("/api/sessions", json={"username": "theo", "password": PASSWORD})
    with client.websocket_connect("/api/conversation") as ws:
        ws.send_json({"type": "auth", "token": token.json()["token"]})
        assert ws.receive_json()["type"] == "ready"
        ws.send_text(deep)
        assert ws.receive_json()["code"] == "bad_json"
        ws.send_json({"type": "message", "text": "Still there?"})
        assert ws.receive_json()["type"] == "accepted"
