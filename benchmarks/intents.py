"""Which skill a message is for: the intent router (os1/skills/router.py) on a labelled
set written for the purpose, patterns alone against patterns + her model.

Data: ``benchmarks/data/intents/dev.jsonl`` and ``heldout.jsonl``, 128 messages each
(``text``, ``expected``: "skill.intent" or "conversation"), 68 of them everyday talk,
many of which mention mail, letters, dates, days, calendars or meetings without asking
for anything, and five requests for each of the twelve intents in other words. The
patterns (os1/data/intents/*.toml) were written looking at the dev half only; the
held-out half was written at the same time, before any result, and never tuned on.

What is measured is the router's choice (``IntentRouter.route``), before a desk acts: a
desk may still decline a wrong choice ("add salt to the soup" has no time), so the
false-trigger rates here are the router's, an upper bound on what he would see.

- accuracy: the label is the expected one (conversation included);
- false triggers: everyday talk routed to a skill, over all everyday talk;
- requests missed: a request left to conversation; wrong intent: routed to another;
- model calls: how many messages asked the model (patterns unsure or disagreeing),
  with the median and 90th-percentile seconds a call took.

Run: python benchmarks/intents.py [--patterns-only] [--threads N]   (a few minutes)
Writes benchmarks/results/intents.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from common import log, machine, read_jsonl

from os1.calendar.skill import SKILL as CALENDAR
from os1.config import Settings
from os1.llm.base import Model
from os1.llm.resolve import open_model
from os1.mail.skill import SKILL as MAIL
from os1.skills.contract import SkillAnswer
from os1.skills.intents import CONVERSATION
from os1.skills.router import IntentRouter, Route

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "intents"
DEFAULT_OUT = HERE / "results" / "intents.json"
SPLITS = ("dev", "heldout")
CONTEXT_SIZE = 2048


class Undecided:
    """A desk that never acts: only the router's choice is measured."""

    def answer(self, text: str) -> SkillAnswer | None:
        return None

    def passed(self) -> None:
        return None

    def reply(self, text: str) -> SkillAnswer | None:
        return None

    def act(self, intent: str, text: str, slots: Mapping[str, str]) -> SkillAnswer | None:
        return None


def routed(router: IntentRouter, rows: Sequence[dict[str, Any]], use_model: bool
           ) -> list[dict[str, Any]]:
    out = []
    for n, row in enumerate(rows):
        began = time.perf_counter()
        route: Route = router.route(row["text"], use_model=use_model)
        took = time.perf_counter() - began
        out.append({"text": row["text"], "expected": row["expected"], "got": route.label,
                    "asked_model": route.asked_model, "model_label": route.chosen,
                    "seconds": round(took, 3)})
        if use_model and route.asked_model:
            log(f"  {n + 1}/{len(rows)} {route.label} ({took:.1f} s): {row['text'][:60]}")
    return out


def scores(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    talk = [r for r in results if r["expected"] == CONVERSATION]
    asks = [r for r in results if r["expected"] != CONVERSATION]
    calls = [r["seconds"] for r in results if r["asked_model"]]
    return {
        "messages": len(results), "conversation": len(talk), "requests": len(asks),
        "accuracy": _share(sum(r["got"] == r["expected"] for r in results), len(results)),
        "false_triggers": sum(r["got"] != CONVERSATION for r in talk),
        "false_trigger_rate": _share(sum(r["got"] != CONVERSATION for r in talk), len(talk)),
        "requests_right": _share(sum(r["got"] == r["expected"] for r in asks), len(asks)),
        "requests_missed": sum(r["got"] == CONVERSATION for r in asks),
        "requests_wrong_intent": sum(r["got"] not in (CONVERSATION, r["expected"])
                                     for r in asks),
        "right_skill": _share(sum(r["got"].split(".")[0] == r["expected"].split(".")[0]
                                  for r in results), len(results)),
        "model_calls": len(calls),
        "model_call_median_s": round(statistics.median(calls), 2) if calls else None,
        "model_call_p90_s": round(sorted(calls)[int(0.9 * (len(calls) - 1))], 2)
        if calls else None,
        "errors": [{k: r[k] for k in ("text", "expected", "got")}
                   for r in results if r["got"] != r["expected"]],
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def markdown(result: dict[str, Any]) -> str:
    rows = ["| split | variant | accuracy | false triggers (talk) | requests right | "
            "missed / wrong intent | model calls | median call |",
            "|---|---|---|---|---|---|---|---|"]
    for split in SPLITS:
        for variant, s in result["splits"][split].items():
            median = f"{s['model_call_median_s']:.1f} s" if s["model_call_median_s"] else "-"
            rows.append(
                f"| {split} | {variant} | {s['accuracy']:.1%} | {s['false_triggers']}/"
                f"{s['conversation']} ({s['false_trigger_rate']:.1%}) | "
                f"{s['requests_right']:.1%} | {s['requests_missed']} / "
                f"{s['requests_wrong_intent']} | {s['model_calls']} | {median} |")
    return "\n".join(rows)


def open_bundled(threads: int | None) -> Model:
    # Defaults, not the user's config file; OS1_HOME still decides where the model is cached.
    settings = Settings().with_overrides(home=os.environ.get("OS1_HOME"), model=None,
                                         context_size=CONTEXT_SIZE, threads=threads)
    return open_model(settings)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--patterns-only", action="store_true", help="no model: patterns alone")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    info = machine()
    model = None if args.patterns_only else open_bundled(args.threads)
    router = IntentRouter([(CALENDAR, Undecided()), (MAIL, Undecided())],
                          (lambda: model) if model is not None else None)
    result: dict[str, Any] = {"benchmark": "intents", "date": dt.datetime.now().isoformat(),
                              "machine": info, "model": model.name if model else None,
                              "intents": [i.label for i in router.intents], "splits": {}}
    per_message: dict[str, Any] = {}
    for split in SPLITS:
        rows = read_jsonl(DATA / f"{split}.jsonl")
        variants = {"patterns alone": routed(router, rows, use_model=False)}
        if model is not None:
            log(f"{split}: patterns + model")
            variants["patterns + model"] = routed(router, rows, use_model=True)
        result["splits"][split] = {name: scores(r) for name, r in variants.items()}
        per_message[split] = variants
    if model is not None:
        model.close()
    result["machine"]["loadavg_at_end"] = list(os.getloadavg())
    result["runtime_s"] = round(time.perf_counter() - began, 1)
    result["per_message"] = per_message
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown(result))
    log(f"wrote {args.out} ({result['runtime_s']:.0f} s)")


if __name__ == "__main__":
    main()
