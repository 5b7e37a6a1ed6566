"""``os1 serve`` for real: the command under uvicorn on a loopback port, the bundled model,
her memory's embedder, the official ``openai`` client and a WebSocket client; then the
server killed with SIGKILL mid-reply, and stopped with SIGTERM mid-reply."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from websockets.sync.client import connect

from os1.llm.base import Message
from os1.llm.llama import LlamaModel
from os1.server.states import ModelStates
from tests.integration.conftest import OS1
from tests.postgres_server import PostgresServer

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], log: Path, *options: str) -> None:
        self.env = env
        self.log = log
        self.options = options
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*OS1, "serve", "--port", str(self.port), *self.options],
                env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/api/status").json()["state"] == "ready":
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready in time:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(60)

    def token(self, username: str) -> str:
        httpx.post(f"{self.url}/api/accounts", json={"username": username,
                                                     "password": PASSWORD})
        login = httpx.post(f"{self.url}/api/sessions", json={"username": username,
                                                             "password": PASSWORD})
        return str(login.json()["token"])

    def history(self, token: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/history?limit=500",
                           headers={"Authorization": f"Bearer {token}"})
        return list(answer.json())


@pytest.fixture
def server(os1_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    server = Server(os1_env, tmp_path / "server.log")
    yield server.start()
    if server.process is not None and server.process.poll() is None:
        server.stop(signal.SIGKILL)


def test_the_official_openai_client_gets_her_answer(server: Server) -> None:
    her = openai.OpenAI(api_key=server.token("theo"), base_url=f"{server.url}/v1",
                        max_retries=0, timeout=120)
    stream = her.chat.completions.create(model="os1", stream=True, messages=[
        {"role": "user", "content": "What is the capital of France? One word, please."}])
    reply = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert "paris" in reply.lower()


def start_reply(server: Server, token: str, text: str) -> tuple[int, str]:
    """Send ``text`` over the WebSocket and read until her first piece (a sentence, or a
    long first clause: 80 tokens hold only three or four) has arrived; returns the id the
    server acknowledged and what had arrived."""
    with connect(f"ws://127.0.0.1:{server.port}/api/conversation", open_timeout=30) as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(ws.recv(30))["type"] == "ready"
        ws.send(json.dumps({"type": "message", "text": text}))
        accepted = json.loads(ws.recv(120))
        assert accepted["type"] == "accepted"
        frame = json.loads(ws.recv(120))
        assert frame["type"] == "piece", frame  # her reply must still be under way
        return int(accepted["message_id"]), str(frame["text"])


def test_kill_9_mid_reply_loses_no_acknowledged_message(server: Server) -> None:
    token = server.token("theo")
    question = "Tell me a long story about a lighthouse keeper and his cat."
    message_id, _ = start_reply(server, token, question)
    server.stop(signal.SIGKILL)
    server.start()
    history = server.history(token)
    assert (history[0]["id"], history[0]["content"]) == (message_id, question)


def test_a_graceful_stop_mid_reply_stores_what_she_had_said(server: Server) -> None:
    token = server.token("theo")
    message_id, heard = start_reply(server, token, "Tell me a long story about a girl who"
                                                 " builds a boat.")
    # uvicorn shuts down gracefully, then re-raises the signal: either status is clean
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    server.start()
    history = server.history(token)
    assert history[0]["id"] == message_id
    assert history[1]["role"] == "assistant" and history[1]["status"] in \
        ("complete", "interrupted")
    assert history[1]["content"].startswith(heard.strip()[:10])


def test_os1_chat_talks_with_her_on_a_remote_server(server: Server, tmp_path: Path) -> None:
    client_env = {**server.env, "OS1_HOME": str(tmp_path / "client")}
    login = subprocess.run([*OS1, "login", server.url, "--username", "theo", "--sign-up"],
                           env={**client_env, "OS1_PASSWORD": PASSWORD},
                           capture_output=True, text=True, timeout=60)
    assert login.returncode == 0, login.stderr
    stored = (tmp_path / "client" / "servers.json")
    assert stored.stat().st_mode & 0o077 == 0  # the token is readable by the user only
    chat = subprocess.run([*OS1, "chat", "--server", server.url],
                          input="What is the capital of France? One word, please.\n",
                          env=client_env, capture_output=True, text=True, timeout=300)
    assert chat.returncode == 0, chat.stderr
    assert "paris" in chat.stdout.lower()
    token = json.loads(stored.read_text())[server.url]
    assert [m["role"] for m in server.history(token)] == ["user", "assistant"]
    unknown = subprocess.run([*OS1, "chat", "--server", "http://127.0.0.1:1"], input="hi\n",
                             env=client_env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode != 0 and "os1 login" in unknown.stderr


def test_the_model_keeps_each_persons_evaluated_conversation_across_switches(
        real_model: LlamaModel, tmp_path: Path) -> None:
    states = ModelStates(tmp_path / "states", keep=2)
    prompts = {user: [Message("system", f"You are talking with {user}. " * 20),
                      Message("user", f"Hello, I am {user}.")]
               for user in ("account:1", "account:2", "account:3")}
    evaluated = {}
    for user, prompt in prompts.items():
        states.switch_to(real_model, user)
        real_model.prefill(prompt)
        evaluated[user] = real_model.llama.input_ids[:real_model.llama.n_tokens].tolist()
    states.switch_to(real_model, "account:2")  # back to someone it left: restored, not re-read
    llama = real_model.llama
    assert llama.input_ids[:llama.n_tokens].tolist() == evaluated["account:2"]
    assert states.restored == 1 and states.holds(real_model, "account:2")
    # only the 2 most recent people it left keep a file; account:1's was deleted
    assert sorted(p.name for p in (tmp_path / "states").iterdir()) == \
        ["account-2.kv", "account-3.kv"]
    assert ModelStates(tmp_path / "states", keep=1)._saved.keys() == {"account:3"}


def settled(measure: Callable[[], int], timeout: float = 120) -> int:
    """``measure()`` once it has stopped changing for 2 s."""
    deadline = time.monotonic() + timeout
    last, same = measure(), 0
    while same < 4 and time.monotonic() < deadline:
        time.sleep(0.5)
        now = measure()
        same = same + 1 if now == last else 0
        last = now
    return last


def stored_messages(env: dict[str, str]) -> int:
    db = sqlite3.connect(Path(env["OS1_HOME"]) / "os1.db")
    try:
        return int(db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
    finally:
        db.close()


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:"))
               .split()[1]) / 1024


SENT = 400


def test_a_client_that_never_reads_holds_no_one_up_and_costs_bounded_memory(
        os1_env: dict[str, str], tmp_path: Path) -> None:
    """The fake model here: replies of 80 words of 500 letters, 40 KB each; a few hundred
    fill the socket buffers of a client that doesn't read."""
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps([f"Reply {n}: " + " ".join(["lorem" * 100] * 80)
                                   for n in range(SENT + 10)]))
    server = Server(os1_env, tmp_path / "server.log", "--model", f"fake:{replies}",
                    "--no-memory").start()
    try:
        assert server.process is not None
        slow, quick = server.token("slow"), server.token("quick")
        before = rss_mib(server.process.pid)
        with connect(f"ws://127.0.0.1:{server.port}/api/conversation") as stalled:
            stalled.send(json.dumps({"type": "auth", "token": slow}))
            for n in range(SENT):  # and never reads a frame
                stalled.send(json.dumps({"type": "message", "text": f"long reply {n}"}))
            settled(lambda: stored_messages(os1_env))  # its turns stop: the buffers are full
            # the stalled client's unread reply holds no model slot and no place in the queue
            status = httpx.get(f"{server.url}/api/status").json()
            assert (status["running"], status["waiting"], status["available"]) == (0, 0, True)
            with connect(f"ws://127.0.0.1:{server.port}/api/conversation") as ws:
                ws.send(json.dumps({"type": "auth", "token": quick}))
                ws.recv(60)
                ws.send(json.dumps({"type": "message", "text": "Meanwhile, hello."}))
                while json.loads(ws.recv(60))["type"] != "done":
                    pass
            grown = rss_mib(server.process.pid) - before
            assert grown < 150, f"{grown:.0f} MiB for one client that never reads"
        # the stalled client's turns went on as far as the socket buffers let them
        assert 2 <= stored_messages(os1_env) - 2 < 2 * SENT
    finally:
        server.stop(signal.SIGKILL)


def test_two_workers_on_postgresql_share_her_and_one_killed_mid_reply_loses_nothing(
        os1_env: dict[str, str], tmp_path: Path, postgres_server: PostgresServer) -> None:
    """Two ``os1 serve`` processes, each with the real model, on one real PostgreSQL
    database: the one answering is killed mid-reply, and the other has the acknowledged
    message and goes on with the same person."""
    env = dict(os1_env, OS1_DATABASE=postgres_server.new_database())
    first = Server(env, tmp_path / "first.log").start()
    second = Server(env, tmp_path / "second.log").start()
    try:
        token = first.token("theo")
        question = "Tell me a long story about a lighthouse keeper and his cat."
        message_id, _ = start_reply(first, token, question)
        first.stop(signal.SIGKILL)
        history = second.history(token)
        assert (history[0]["id"], history[0]["content"]) == (message_id, question)
        her = openai.OpenAI(api_key=token, base_url=f"{second.url}/v1", max_retries=0,
                            timeout=120)
        answer = her.chat.completions.create(model="os1", messages=[
            {"role": "user", "content": "What is the capital of France? One word, please."}])
        assert "paris" in (answer.choices[0].message.content or "").lower()
        assert [m["content"] for m in second.history(token) if m["role"] == "user"] == [
            question, "What is the capital of France? One word, please."]
    finally:
        for server in (first, second):
            if server.process is not None and server.process.poll() is None:
                server.stop(signal.SIGKILL)
