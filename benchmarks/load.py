"""Many people at once on ``os1 serve`` (loopback only, bounded in time).

Part 1, sessions (``--sessions``, default 8,316, as in the film): the real ``os1 serve``
under uvicorn, with the model replaced by the fake backend (``--model fake``: it echoes
"You said: <text>" at once), so what is measured is the server: accounts, WebSockets,
the turn queue, the companions and SQLite. Every session connects and authenticates, then
all are held open idle while the server's RSS is read: RSS per idle session = (RSS with
all sessions open - RSS before) / sessions. Then every session sends ``--messages``
messages, one after another (the first at a random moment within ``--spread`` seconds;
0 sends all at once, a burst that measures the queue), each with a unique text, and
checks that the answer is the echo of its own text (a reply with another session's text
would be misrouted) and that it came at all (lost). Round trip: from sending a message to
her ``done`` frame. Afterwards the server's database is read directly: each account must
hold exactly its own messages.
Accounts and their login tokens are written straight into the database before the server
starts, with a cheap argon2 setting: hashing 8,316 passwords at the server's cost would
take minutes and measure nothing about serving.

Part 2, real model (``--real``): the bundled model, 1, 4 and 16 people (new accounts each
time) sending messages at the same moment through the OpenAI-compatible endpoint
(streamed): a first round, then the measured round of everyone's second message, an
ongoing conversation. Aggregate generated pieces per second and p50/p99 time to first
piece, each as a ratio to one person alone, measured in the same run, for each server
set-up: keeping each person's evaluated state when the model switches person
(``--kept-states 32``, the default) or not (``0``), with one model worker or two
(``--model-workers 2``: two llama.cpp instances, one thread each). With one worker turns
share the model through the first-come queue, so with 16 people the last waits for 15.

Run: python benchmarks/load.py                   (part 1: ~2 min on 2 cores)
     python benchmarks/load.py --real            (parts 1 and 2: ~15 min)
     python benchmarks/load.py --real --sessions 0   (part 2 only)
     python benchmarks/load.py --sessions 500    (a smoke test)
Writes benchmarks/results/load.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from websockets.asyncio.client import ClientConnection, connect

from os1.server.accounts import digest
from os1.storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "load.json"
PASSWORD = "load test password"
CONNECT_AT_ONCE = 200
REPLY_TIMEOUT_S = 600.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# -- the server ------------------------------------------------------------------------------


def make_accounts(db_path: Path, count: int) -> list[str]:
    """``count`` accounts with login tokens, written in one transaction."""
    db = Database.open(db_path)
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    now = time.time()
    tokens = [os.urandom(24).hex() for _ in range(count)]
    with db.transaction() as tx:
        for i, token in enumerate(tokens):
            account = tx.execute("INSERT INTO accounts(username, display_name, password_hash,"
                                 " created_at) VALUES (?,?,?,?) RETURNING id",
                                 (f"user{i}", f"User {i}", cheap, now)).fetchone()[0]
            tx.execute("INSERT INTO account_tokens(digest, account_id, created_at, expires_at)"
                       " VALUES (?,?,?,?)", (digest(token), account, now, now + 86400))
    db.close()
    return tokens


class Server:
    def __init__(self, home: Path, model: str, max_waiting: int,
                 options: Sequence[str] = ()) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "OS1_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        self.log = (home / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "os1", "serve", "--port", str(self.port), "--model", model,
             "--no-memory", "--max-waiting", str(max_waiting), *options],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.home / "server.log").read_text())
            try:
                if httpx.get(f"{self.url}/api/status").json()["state"] == "ready":
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server was not ready in time")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# -- part 1: sessions ------------------------------------------------------------------------


async def open_session(url: str, token: str, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        ws = await connect(url, open_timeout=120, ping_interval=None, max_queue=64)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        ready = json.loads(await ws.recv())
        if ready.get("type") != "ready":
            raise RuntimeError(f"login refused: {ready}")
        return ws


async def converse(ws: ClientConnection, index: int, messages: int,
                   spread_s: float) -> dict[str, Any]:
    """Send ``messages`` messages one by one, the first at a random moment within
    ``spread_s``; check each answer is the echo of its own."""
    result: dict[str, Any] = {"round_trips": [], "lost": 0, "misrouted": 0, "busy": 0}
    await asyncio.sleep(random.uniform(0, spread_s))
    for m in range(messages):
        text = f"session {index} message {m} {os.urandom(4).hex()}"
        began = time.monotonic()
        await ws.send(json.dumps({"type": "message", "text": text}))
        reply, done = "", None
        try:
            while done is None:
                frame = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT_S))
                if frame["type"] == "piece":
                    reply += frame["text"]
                elif frame["type"] in ("done", "error"):
                    done = frame
        except (TimeoutError, OSError, ConnectionError):
            result["lost"] += 1
            continue
        if done["type"] == "error":
            result["busy" if done.get("code") == "busy" else "lost"] += 1
            continue
        result["round_trips"].append(time.monotonic() - began)
        if reply.strip() != f"You said: {text}":
            result["misrouted"] += 1
    return result


async def sessions_part(server: Server, tokens: list[str], messages: int,
                        spread_s: float) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{server.port}/api/conversation"
    before = rss_mib(server.process.pid)
    log(f"opening {len(tokens)} sessions ...")
    began = time.monotonic()
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    sockets = await asyncio.gather(*(open_session(url, t, gate) for t in tokens))
    opened_s = time.monotonic() - began
    await asyncio.sleep(2)
    held = rss_mib(server.process.pid)
    log(f"{len(sockets)} sessions open in {opened_s:.0f} s; server RSS {before:.0f} -> "
        f"{held:.0f} MiB; sending {messages} message(s) each ...")
    began = time.monotonic()
    results = await asyncio.gather(*(converse(ws, i, messages, spread_s)
                                     for i, ws in enumerate(sockets)))
    talk_s = time.monotonic() - began
    peak = rss_mib(server.process.pid)
    await asyncio.gather(*(ws.close() for ws in sockets))
    trips = [t for r in results for t in r["round_trips"]]
    return {
        "sessions": len(sockets), "messages_per_session": messages, "spread_s": spread_s,
        "open_s": round(opened_s, 1), "talk_s": round(talk_s, 1),
        "server_rss_before_mib": round(before, 1), "server_rss_open_mib": round(held, 1),
        "server_rss_after_talk_mib": round(peak, 1),
        "rss_per_idle_session_kib": round((held - before) * 1024 / len(sockets), 1),
        "sent": len(sockets) * messages, "answered": len(trips),
        "lost": sum(r["lost"] for r in results), "busy": sum(r["busy"] for r in results),
        "misrouted": sum(r["misrouted"] for r in results),
        "round_trip_p50_ms": round(pct(trips, 0.5) * 1000, 1),
        "round_trip_p99_ms": round(pct(trips, 0.99) * 1000, 1),
        "turns_per_s": round(len(trips) / talk_s, 1) if talk_s else 0.0,
    }


def fake_part(folder: Path, sessions: int, messages: int, spread_s: float) -> dict[str, Any]:
    home = folder / "fake"
    home.mkdir()
    log(f"making {sessions} accounts ...")
    tokens = make_accounts(home / "os1.db", sessions)
    server = Server(home, "fake", sessions * messages)
    try:
        server.wait_ready()
        held = asyncio.run(sessions_part(server, tokens, messages, spread_s))
    finally:
        server.stop()
    return {"sessions": held, "stored": stored_check(home / "os1.db", sessions, messages)}


def stored_check(db_path: Path, sessions: int, messages: int) -> dict[str, Any]:
    """Each account holds exactly its own messages, and her echo of each."""
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT user_id, role, content FROM messages").fetchall()
    ids = dict(db.execute("SELECT 'account:' || id, username FROM accounts").fetchall())
    db.close()
    wrong = 0
    per_user: dict[str, int] = {}
    for user_id, _role, content in rows:
        index = ids[user_id].removeprefix("user")
        per_user[user_id] = per_user.get(user_id, 0) + 1
        if f"session {index} message" not in content:
            wrong += 1
    counts = set(per_user.values())
    return {"rows": len(rows), "rows_not_their_own": wrong,
            "accounts_with_messages": len(per_user),
            "every_account_holds_all_its_turns": counts == {2 * messages}
            and len(per_user) == sessions}


# -- part 2: the real model ----------------------------------------------------------------


async def one_reply(client: httpx.AsyncClient, token: str, text: str) -> dict[str, float]:
    began = time.monotonic()
    first = 0.0
    pieces = 0
    async with client.stream("POST", "/v1/chat/completions",
                             headers={"Authorization": f"Bearer {token}"},
                             json={"model": "os1", "stream": True,
                                   "messages": [{"role": "user", "content": text}]}) as answer:
        answer.raise_for_status()
        async for line in answer.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            delta = json.loads(line[6:])["choices"][0]["delta"]
            if delta.get("content"):
                first = first or time.monotonic()
                pieces += 1
    return {"ttft_s": first - began, "pieces": pieces, "end": time.monotonic()}


QUESTIONS = ("What is your favourite season, and why?", "Tell me about a good book.",
             "How do you cheer someone up?", "What makes a place feel like home?")


async def concurrent(server: Server, tokens: Sequence[str]) -> dict[str, Any]:
    """Everyone in ``tokens`` sends one message at the same moment."""
    async with httpx.AsyncClient(base_url=server.url, timeout=REPLY_TIMEOUT_S) as client:
        began = time.monotonic()
        rows = await asyncio.gather(*(one_reply(client, token, QUESTIONS[i % 4])
                                      for i, token in enumerate(tokens)))
    elapsed = max(r["end"] for r in rows) - began
    ttfts = [r["ttft_s"] for r in rows]
    return {"people": len(tokens), "elapsed_s": round(elapsed, 2),
            "pieces": sum(r["pieces"] for r in rows),
            "pieces_per_s": round(sum(r["pieces"] for r in rows) / elapsed, 2),
            "ttft_p50_s": round(pct(ttfts, 0.5), 2), "ttft_p99_s": round(pct(ttfts, 0.99), 2)}


PEOPLE = (1, 4, 16)


def real_part(folder: Path, kept_states: int, workers: int) -> dict[str, Any]:
    """For 1, 4 and 16 people (different accounts each time): a first round in which each
    sends a first message (their system prompt read for the first time), then the
    measured round, everyone's second message: an ongoing conversation."""
    home = folder / f"real-{kept_states}x{workers}"
    home.mkdir()
    tokens = make_accounts(home / "os1.db", sum(PEOPLE))
    server = Server(home, "bundled", 64, ["--kept-states", str(kept_states),
                                          "--model-workers", str(workers)])
    rows = []
    try:
        server.wait_ready()
        start = 0
        for people in PEOPLE:
            group = tokens[start:start + people]
            start += people
            first = asyncio.run(concurrent(server, group))
            rows.append({**asyncio.run(concurrent(server, group)), "first_round": first})
    finally:
        server.stop()
    alone = rows[0]
    for row in rows:
        row["pieces_per_s_ratio"] = round(row["pieces_per_s"] / alone["pieces_per_s"], 2)
        row["ttft_p50_ratio"] = round(row["ttft_p50_s"] / alone["ttft_p50_s"], 2)
        row["ttft_p99_ratio"] = round(row["ttft_p99_s"] / alone["ttft_p99_s"], 2)
        log(f"real model, kept states {kept_states}, {workers} worker(s), {row['people']} at once: "
            f"{row['pieces_per_s']} pieces/s, TTFT p50 {row['ttft_p50_s']} s "
            f"p99 {row['ttft_p99_s']} s")
    return {"kept_states": kept_states, "model_workers": workers, "rows": rows}


# -- report ----------------------------------------------------------------------------------


def markdown(result: dict[str, Any]) -> str:
    out = sessions_table(result) if "sessions" in result else []
    for part in result.get("real", []):
        kept, workers = part["kept_states"], part.get("model_workers", 1)
        out += ["", f"### Real model, people at once, second messages (kept states: {kept}, "
                f"model workers: {workers})",
                "", "| people | pieces/s (ratio) | TTFT p50 (ratio) | TTFT p99 (ratio) |",
                "|---:|---|---|---|"]
        for r in part["rows"]:
            out.append(f"| {r['people']} | {r['pieces_per_s']} ({r['pieces_per_s_ratio']}×) | "
                       f"{r['ttft_p50_s']} s ({r['ttft_p50_ratio']}×) | {r['ttft_p99_s']} s "
                       f"({r['ttft_p99_ratio']}×) |")
    return "\n".join(out)


def sessions_table(result: dict[str, Any]) -> list[str]:
    s = result["sessions"]
    return ["### Sessions (fake model backend)", "",
            "| sessions | messages | answered | lost | misrouted | busy | stored rows not "
            "their own | RSS per idle session | round trip p50 / p99 | turns/s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
            f"| {s['sessions']:,} | {s['sent']:,} | {s['answered']:,} | {s['lost']} | "
            f"{s['misrouted']} | {s['busy']} | {result['stored']['rows_not_their_own']} | "
            f"{s['rss_per_idle_session_kib']} KiB | {s['round_trip_p50_ms']:.0f} / "
            f"{s['round_trip_p99_ms']:.0f} ms | {s['turns_per_s']} |", "",
            f"Server RSS {s['server_rss_before_mib']} MiB before, {s['server_rss_open_mib']} "
            f"MiB with every session open, {s['server_rss_after_talk_mib']} MiB after talking; "
            f"opening took {s['open_s']} s, talking {s['talk_s']} s (first messages spread "
            f"over {s['spread_s']:.0f} s)."]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=8316, help="0: skip part 1")
    parser.add_argument("--messages", type=int, default=1, help="per session (default 1)")
    parser.add_argument("--spread", type=float, default=60.0,
                        help="each session's first message goes at a random moment within "
                             "this many seconds (0: all at once; default 60)")
    parser.add_argument("--real", action="store_true", help="also part 2, the real model")
    parser.add_argument("--real-configs", nargs="+", default=["32x1", "0x1", "32x2"],
                        metavar="KEPTxWORKERS",
                        help="server set-ups for part 2: kept states x model workers "
                             "(default: 32x1 0x1 32x2)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    began = time.monotonic()
    result: dict[str, Any] = {"benchmark": "load", "date": dt.datetime.now().isoformat(),
                              "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="os1-load-") as name:
        folder = Path(name)
        if args.sessions:
            result.update(fake_part(folder, args.sessions, args.messages, args.spread))
        if args.real:
            result["real"] = [real_part(folder, keep, workers) for keep, workers in
                              (tuple(map(int, c.split("x"))) for c in args.real_configs)]
    result["runtime_s"] = round(time.monotonic() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(markdown(result))
    log(f"wrote {args.out} ({result['runtime_s']:.0f} s)")


if __name__ == "__main__":
    main()
