"""How often she slips out of character, with and without steering.

Each message in ``benchmarks/data/off_persona_prompts.txt`` opens a fresh one-turn
conversation, answered twice with the same seed: (a) without steering (same persona prompt,
no logit bias, no guard) and (b) with ``Steering.load()``. Two checks score the replies:

* the steering detector (``os1/data/steering.toml``). The guard uses this same detector to
  regenerate or cut replies, so (b) scores near zero *by construction*; it shows what the
  guard removed, not how in-character the replies are;
* a held-out check defined here, from phrases and shapes that steering.toml does not list
  (service phrases, "here are", "step 1", "language model", markdown, line-separated lists,
  any mention of AI). Steering was not tuned against it, so it is the fairer score for (b).

Also reported: brevity (replies of at most three sentences, mean words), replies where the
model said nothing, and the guard's regenerations and cuts per reply.

Run: python benchmarks/off_persona.py --model /path/to/model.gguf   (default: bundled model)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from common import SETUP, log, machine

from os1.config import Settings
from os1.llm.base import Model
from os1.llm.resolve import open_model
from os1.mind.companion import Companion
from os1.mind.steering import OffPersonaDetector, Steering
from os1.storage.db import Database
from os1.storage.setups import SetupStore

HERE = Path(__file__).resolve().parent
DEFAULT_PROMPTS = HERE / "data" / "off_persona_prompts.txt"
DEFAULT_OUT = HERE / "results" / "off_persona.json"
MAX_TOKENS = 120
SEED = 20240601
BRIEF_SENTENCES = 3
VARIANTS = ("unsteered", "steered")


# -- the held-out check ----------------------------------------------------------------------
# Deliberately not taken from steering.toml: phrases a small instruction-tuned model uses in
# assistant mode, grouped by what they give away.

_I = re.IGNORECASE | re.MULTILINE
HELD_OUT: dict[str, re.Pattern[str]] = {
    "service_phrase": re.compile(
        r"\b(i'm sorry, but|i am sorry, but|is there anything else|i hope this helps"
        r"|it's important to|it is important to|in conclusion)", _I),
    "presenting": re.compile(r"\b(here are|here's a|here is a|step 1\b|firstly\b)", _I),
    "model_self": re.compile(
        r"\b(as a large|language model|i don't have personal|i do not have personal"
        r"|virtual\b)", _I),
    "mentions_ai": re.compile(r"\b(a\.?i\.?(?=\W|$)|artificial intelligence)", _I),
    "markdown": re.compile(
        r"(\*\*|__\w|^\s*#{1,6}\s|`|^\s*>\s|\[[^\]\n]+\]\([^)\n]+\)|^\s*\|.*\|\s*$"
        r"|(?<![*\w])\*[^*\s][^*\n]*\*(?![*\w]))", _I),
}
LIST_ITEM = re.compile(r"^\s*([-*+•]|\d+[.):]|[a-z][.)])\s+\S", _I)


def held_out_labels(text: str) -> list[str]:
    """Labels of the held-out check that ``text`` trips (empty: in character)."""
    text = text.replace("\u2019", "'")
    labels = [label for label, pattern in HELD_OUT.items() if pattern.search(text)]
    lines = [line for line in text.splitlines() if line.strip()]
    if sum(bool(LIST_ITEM.match(line)) for line in lines) >= 2 or len(lines) >= 3:
        labels.append("line_list")
    return labels


SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])[\"”’)]*\s+|\n+")


def sentences(text: str) -> int:
    return sum(1 for part in SENTENCE_SPLIT.split(text.strip()) if re.search(r"\w", part))


def words(text: str) -> int:
    return len(text.split())


# -- prompts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    category: str
    text: str


def read_prompts(path: Path) -> list[Prompt]:
    """One message a line; ``#`` comments; ``[bait]``/``[talk]`` start a category."""
    prompts: list[Prompt] = []
    category = "uncategorised"
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            category = line[1:-1]
            continue
        prompts.append(Prompt(category, line))
    return prompts


# -- one reply -------------------------------------------------------------------------------


@dataclass
class Reply:
    index: int
    category: str
    variant: str
    prompt: str
    text: str
    seconds: float
    attempts: int
    cut: bool
    capped: bool
    model_silent: bool
    detector: list[str] = field(default_factory=list)
    held_out: list[str] = field(default_factory=list)
    sentences: int = 0
    words: int = 0


def set_seed(model: Model, seed: int) -> bool:
    """Fix llama.cpp's sampling seed (Companion passes none); False if the backend can't."""
    llama = getattr(model, "llama", None)
    if llama is None:
        return False
    llama.set_seed(seed)
    return True


def answer(model: Model, settings: Settings, steering: Steering | None, prompt: str,
           seed: int) -> tuple[str, float, Any, bool]:
    """(reply, seconds, guard report, model said nothing) from a fresh conversation."""
    with tempfile.TemporaryDirectory(prefix="os1-persona-") as tmp:
        home_settings = replace(settings, home=Path(tmp))
        db = Database.open(home_settings.db_path)
        try:
            SetupStore(db, home_settings.user).save(SETUP)
            companion = Companion(model, db, home_settings, steering=steering)
            set_seed(model, seed)
            started = time.perf_counter()
            turn = companion.reply(prompt)
            text = "".join(turn)
            seconds = time.perf_counter() - started
            fallback = getattr(companion.persona, "lost_for_words", None)
            silent = not text.strip() or (fallback is not None and text == fallback)
            return text, seconds, turn.guard, silent
        finally:
            db.close()


def score(index: int, prompt: Prompt, variant: str, result: tuple[str, float, Any, bool],
          detector: OffPersonaDetector) -> Reply:
    text, seconds, guard, silent = result
    return Reply(index=index, category=prompt.category, variant=variant, prompt=prompt.text,
                 text=text, seconds=seconds,
                 attempts=guard.attempts if variant == "steered" else 1,
                 cut=bool(guard.cut), capped=bool(getattr(guard, "capped", False)),
                 model_silent=silent, detector=detector.labels(text),
                 held_out=held_out_labels(text), sentences=sentences(text), words=words(text))


# -- summary ---------------------------------------------------------------------------------


def share(replies: Sequence[Reply], test: Any) -> float:
    return sum(1 for r in replies if test(r)) / len(replies) if replies else float("nan")


def summarise(replies: Sequence[Reply]) -> dict[str, Any]:
    return {
        "replies": len(replies),
        "off_persona_rate_detector": share(replies, lambda r: bool(r.detector)),
        "off_persona_rate_held_out": share(replies, lambda r: bool(r.held_out)),
        "brief_rate": share(replies, lambda r: r.sentences <= BRIEF_SENTENCES),
        "mean_words": statistics.fmean(r.words for r in replies) if replies else float("nan"),
        "model_silent_rate": share(replies, lambda r: r.model_silent),
        "regenerations_per_reply": (statistics.fmean(r.attempts - 1 for r in replies)
                                    if replies else float("nan")),
        "cuts_per_reply": share(replies, lambda r: r.cut),
        "sentence_caps_per_reply": share(replies, lambda r: r.capped),
        "mean_seconds": statistics.fmean(r.seconds for r in replies) if replies else 0.0,
        "detector_labels": dict(Counter(x for r in replies for x in r.detector)),
        "held_out_labels": dict(Counter(x for r in replies for x in r.held_out)),
    }


def pct(value: float) -> str:
    return "-" if value != value else f"{value * 100:.0f}%"


def markdown(summary: dict[str, dict[str, Any]]) -> str:
    a, b = summary["unsteered"]["all"], summary["steered"]["all"]
    rows = [
        "| measure | without steering | with steering |",
        "|---|---:|---:|",
        f"| off-persona, steering detector (the guard's own test) | "
        f"{pct(a['off_persona_rate_detector'])} | {pct(b['off_persona_rate_detector'])} |",
        f"| off-persona, held-out check | {pct(a['off_persona_rate_held_out'])} | "
        f"{pct(b['off_persona_rate_held_out'])} |",
        f"| replies of ≤ {BRIEF_SENTENCES} sentences | {pct(a['brief_rate'])} | "
        f"{pct(b['brief_rate'])} |",
        f"| mean words per reply | {a['mean_words']:.0f} | {b['mean_words']:.0f} |",
        f"| empty replies (nothing left; os1 then says its 'lost for words' line) | "
        f"{pct(a['model_silent_rate'])} | "
        f"{pct(b['model_silent_rate'])} |",
        f"| regenerations per reply | - | {b['regenerations_per_reply']:.2f} |",
        f"| replies cut by the guard | - | {pct(b['cuts_per_reply'])} |",
        f"| replies ended by the sentence cap | - | {pct(b['sentence_caps_per_reply'])} |",
        f"| mean seconds per reply | {a['mean_seconds']:.1f} | {b['mean_seconds']:.1f} |",
    ]
    for category in summary["unsteered"]:
        if category == "all":
            continue
        ca, cb = summary["unsteered"][category], summary["steered"][category]
        rows.append(f"| held-out off-persona, {category} prompts ({ca['replies']}) | "
                    f"{pct(ca['off_persona_rate_held_out'])} | "
                    f"{pct(cb['off_persona_rate_held_out'])} |")
    labels = [f"- held-out labels without steering: {a['held_out_labels'] or 'none'}",
              f"- held-out labels with steering: {b['held_out_labels'] or 'none'}",
              f"- detector labels without steering: {a['detector_labels'] or 'none'}",
              f"- detector labels with steering: {b['detector_labels'] or 'none'}"]
    return "\n".join([*rows, "", *labels])


# -- run -------------------------------------------------------------------------------------


def progress(reply: Reply) -> None:
    flags = ",".join(reply.held_out) or "ok"
    guard = f" att={reply.attempts}{' cut' if reply.cut else ''}" if reply.variant == "steered" \
        else ""
    log(f"[{reply.index + 1:2d} {reply.variant:9s}] {reply.seconds:4.1f}s held-out={flags} "
        f"detector={','.join(reply.detector) or 'ok'}{guard} :: {reply.text[:70]!r}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", default=None, help="a .gguf path (default: the bundled model)")
    parser.add_argument("--prompts", type=Path, default=DEFAULT_PROMPTS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    parser.add_argument("--seed", type=int, default=SEED, help="seed of prompt 1 (then +1 each)")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    return parser.parse_args(argv)


def run(model: Model, settings: Settings, prompts: Sequence[Prompt], seed: int) -> list[Reply]:
    steering = Steering.load()
    detector = steering.detector(SETUP.companion_name, SETUP.user_name)
    replies: list[Reply] = []
    for index, prompt in enumerate(prompts):
        for variant in VARIANTS:
            chosen = steering if variant == "steered" else None
            result = answer(model, settings, chosen, prompt.text, seed + index)
            replies.append(score(index, prompt, variant, result, detector))
            progress(replies[-1])
    return replies


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    info = machine()
    # Defaults, not the user's config file; OS1_HOME only decides where the bundled model is.
    settings = Settings().with_overrides(home=os.environ.get("OS1_HOME"), model=args.model,
                                         max_reply_tokens=args.max_tokens, threads=args.threads)
    prompts = read_prompts(args.prompts)[: args.limit]
    model = open_model(settings)
    seeded = set_seed(model, args.seed)
    try:
        replies = run(model, settings, prompts, args.seed)
    finally:
        model.close()
    summary = {variant: {"all": summarise([r for r in replies if r.variant == variant])}
               for variant in VARIANTS}
    for variant in VARIANTS:
        for category in dict.fromkeys(p.category for p in prompts):
            summary[variant][category] = summarise(
                [r for r in replies if r.variant == variant and r.category == category])
    info["loadavg_at_end"] = list(os.getloadavg())
    result = {"benchmark": "off_persona", "date": dt.datetime.now().isoformat(),
              "machine": info, "model": model.name, "max_tokens": args.max_tokens,
              "seed": args.seed, "seeds_fixed": seeded, "prompts_file": str(args.prompts.name),
              "steering_version": Steering.load().version, "summary": summary,
              "runtime_s": time.perf_counter() - began,
              "replies": [asdict(r) for r in replies]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown(summary))
    log(f"wrote {args.out} ({result['runtime_s']:.0f} s)")


if __name__ == "__main__":
    main()
