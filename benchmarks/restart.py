"""Her first reply after a restart: with the evaluated state saved at the end of the last
session (os1/llm/kvcache.py) against starting cold, in one run.

A conversation of ``--turns`` exchanges is stored, one real turn is taken (so the model
has evaluated the whole window) and the state is saved. Then, ``--reps`` times each,
alternating: a fresh model (as a new process would have) answers the next message, once
after loading the saved state and once cold. Reported: time to the model's first token,
medians, and their ratio (lower is better).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from common import SETUP, log, machine
from ttft import load_exchanges

from os1.config import Settings
from os1.llm.bundled import CHAT_MODEL, ensure_assembled
from os1.llm.llama import LlamaModel
from os1.mind.companion import Companion
from os1.mind.steering import Steering
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupStore

NEXT_MESSAGE = "Anyway, enough about that. How has your day been?"


def first_token_seconds(model_path: Path, settings: Settings, state: Path | None) -> float:
    model = LlamaModel(model_path, settings.context_size)
    try:
        if state is not None and model.load_state(state) == 0:
            raise RuntimeError(f"the saved state {state} was not loaded")
        db = Database.open(settings.db_path)
        companion = Companion(model, db, settings, steering=Steering.load())
        start = time.perf_counter()
        turn = companion.reply(NEXT_MESSAGE)
        next(iter(turn))
        elapsed = time.perf_counter() - start
        turn.close()
        db.close()
        return elapsed
    finally:
        model.close()


def prepare(model_path: Path, settings: Settings, turns: int, state: Path) -> int:
    db = Database.open(settings.db_path)
    SetupStore(db, settings.user).save(SETUP)
    conversation = ConversationLog(db, settings.user)
    session = conversation.start_session("benchmark")
    source, exchanges = load_exchanges()
    log(f"history: {turns} exchanges from {source}")
    for user, reply in exchanges[:turns]:
        conversation.append(session, "user", user)
        conversation.append(session, "assistant", reply)
    model = LlamaModel(model_path, settings.context_size)
    companion = Companion(model, db, settings, steering=Steering.load())
    "".join(companion.reply("Sorry, where were we?"))
    saved = model.save_state(state)
    model.close()
    db.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=None, help="a .gguf (default: bundled)")
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" /
                        "restart.json")
    args = parser.parse_args()
    model_path = args.model or ensure_assembled(CHAT_MODEL, Settings().cache_dir)
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), max_reply_tokens=32)
        state = Path(home) / "state.kv"
        saved = prepare(model_path, settings, args.turns, state)
        log(f"saved state: {saved} tokens, {state.stat().st_size / 1e6:.1f} MB")
        warm: list[float] = []
        cold: list[float] = []
        for rep in range(args.reps):
            for name, samples, path in (("warm", warm, state), ("cold", cold, None)):
                samples.append(first_token_seconds(model_path, settings, path))
                log(f"rep {rep + 1}: {name} {samples[-1] * 1000:.0f} ms")
    result: dict[str, Any] = {
        "benchmark": "restart", "machine": machine(), "turns": args.turns,
        "saved_tokens": saved, "warm_s": warm, "cold_s": cold,
        "median_warm_s": statistics.median(warm), "median_cold_s": statistics.median(cold),
    }
    result["ratio_warm_to_cold"] = result["median_warm_s"] / result["median_cold_s"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print("| first reply after a restart | first token (ms) |\n|---|---:|")
    print(f"| cold (no saved state) | {result['median_cold_s'] * 1000:.0f} |")
    print(f"| with the saved state | {result['median_warm_s'] * 1000:.0f} |")
    print(f"\nratio saved/cold: {result['ratio_warm_to_cold']:.3f} "
          f"({saved} tokens restored, {args.turns} stored exchanges)")


if __name__ == "__main__":
    main()
