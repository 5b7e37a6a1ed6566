"""Her proofreading measured on JFLEG dev with GLEU, against baselines in the same run.

Data, read at run time from ``../shared/evalsets/jfleg/dev`` and never copied: 754
learner sentences (``dev.src``) with four fluent rewrites each (``dev.ref0..3``), in Penn
Treebank tokens. Every system reads the sentence as a person would have typed it
(``ptb.detokenise``) and its output is put back in JFLEG's tokens (``ptb.retokenise``)
before scoring, so the tokenisation is neither corrected nor penalised.

Systems, each on the same sentences, interleaved sentence by sentence:

- ``source``: the sentence unchanged, through the same round trip; beside it the raw
  source tokens. The two agree when the round trip costs nothing.
- ``harper``: harper-py alone: each lint's first suggestion, overlapping lints dropped
  (the earlier one stays), applied from the end.
- ``model-plain``: the bundled model asked plainly ("Correct ... this sentence"),
  greedy; its reply is kept whole, and what is scored is its first line that is not a
  lead-in ("Here is the corrected sentence:"), without a "Corrected:" label or quotes
  round the whole of it.
- ``her``: ``os1.letters.proofread.Proofreader`` on the bundled model, every edit it
  suggests applied.

Scores (``gleu.py``, as the JFLEG script computes them): corpus GLEU, the mean over 500
reference draws (with their sd); the share of sentences made worse (smoothed sentence
GLEU below the unchanged source's), made better and left unchanged; seconds per sentence.
Her minus each baseline: corpus GLEU difference with a 95% paired bootstrap interval
over sentences. Anchors computed from the data on all 754 sentences in every run: the
unchanged source (the published dev figure is 38.21; the run stops if it is not
reproduced) and each human reference scored against the other three (published 55.26).

Resumable: each output is appended to ``<out>.jsonl`` as it is made, with a hash of what
made it; a run continues where the last stopped, making again only the outputs whose
system has changed since (``--fresh`` starts over). Progress on stderr.

Run: python benchmarks/proofread.py [--limit N] [--systems source,harper,model-plain,her]
     (the model systems take seconds a sentence on two cores)
Writes benchmarks/results/proofread.json (+ .jsonl) and prints markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from common import log, machine
from gleu import Gleu, Tokens, paired_bootstrap, sentence_gleu
from ptb import detokenise, retokenise

from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.llm.bundled import CHAT_MODEL

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "evalsets" / "jfleg" / "dev"
DEFAULT_OUT = HERE / "results" / "proofread.json"
SYSTEMS = ("source", "harper", "model-plain", "her")
PUBLISHED_SOURCE_DEV = 0.3821  # keisks/jfleg README: SOURCE 38.21 on dev
PLAIN_PROMPT = ("Correct the grammar and spelling of this sentence. Reply with the "
                "corrected sentence only.\n\n{text}")
PLAIN_SPARE_TOKENS = 64  # room for a lead-in such as "Here is the corrected sentence:"
_LABEL = re.compile(r"^(?:corrected(?: sentence)?|correction|answer)\s*:\s*", re.IGNORECASE)

System = Callable[[str], str]  # natural text in, corrected natural text out


@dataclass(frozen=True)
class Jfleg:
    """Tokenised as in the files: per sentence its source and its references."""

    sources: list[list[str]]
    references: list[list[list[str]]]
    lines: list[str]  # the raw source lines, for detokenising


def load_jfleg(folder: Path) -> Jfleg:
    names = ["dev.src", *(f"dev.ref{k}" for k in range(4))]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise SystemExit(f"JFLEG dev is not at {folder} (missing {', '.join(missing)}). "
                         "This benchmark reads it at run time from "
                         "../shared/evalsets/jfleg/dev and never copies it; pass --data.")
    files = [(folder / n).read_text(encoding="utf-8").splitlines() for n in names]
    if len({len(f) for f in files}) != 1:
        raise SystemExit(f"JFLEG files in {folder} differ in length: "
                         + ", ".join(f"{n} {len(f)}" for n, f in zip(names, files, strict=True)))
    refs = [[line.split() for line in lines] for lines in zip(*files[1:], strict=True)]
    return Jfleg([line.split() for line in files[0]], refs, files[0])


def anchors(data: Jfleg) -> dict[str, float]:
    """On all sentences, whatever ``--limit``: the unchanged source (which must match
    the published figure, or the metric here is not JFLEG's), its round trip through
    natural text, and each reference against the other three (the human ceiling)."""
    full = Gleu(data.sources, data.references)
    source = full.corpus(data.sources).mean
    if abs(source - PUBLISHED_SOURCE_DEV) > 0.0005:
        raise SystemExit(f"self-check failed: the unchanged dev source scores {source:.4f}, "
                         f"not the published {PUBLISHED_SOURCE_DEV}: gleu.py or the data "
                         "differs from JFLEG's")
    round_trip = full.corpus([retokenise(detokenise(s)).split() for s in data.lines]).mean
    human = []
    for k in range(4):
        others = Gleu(data.sources, [[r for j, r in enumerate(refs) if j != k]
                                     for refs in data.references])
        human.append(others.corpus([refs[k] for refs in data.references]).mean)
    return {"source": round(source, 4), "source_round_trip": round(round_trip, 4),
            "human_leave_one_out": round(statistics.fmean(human), 4)}


def harper_system() -> System:
    import harper

    linter = harper.Linter()

    def correct(text: str) -> str:
        return apply_lints(text, linter.lint(text, language="plaintext"))
    return correct


def apply_lints(text: str, lints: Sequence[Any]) -> str:
    """Each lint's first suggestion; of overlapping lints the earlier stays; applied from
    the end so earlier spans stay true. Harper's spans are code points, as Python's."""
    chosen: list[tuple[int, int, str]] = []
    for lint in sorted(lints, key=lambda x: (x.span.start, x.span.end)):
        if not lint.suggestions:
            continue
        start, end = lint.span.start, lint.span.end
        if chosen and start < chosen[-1][1]:
            continue
        suggestion = lint.suggestions[0]
        kind = int(suggestion.kind)  # harper.SuggestionKind: 0 replace, 1 remove, 2 insert after
        new = {0: suggestion.replacement_text, 1: "",
               2: text[start:end] + suggestion.replacement_text}[kind]
        chosen.append((start, end, new))
    for start, end, new in reversed(chosen):
        text = text[:start] + new + text[end:]
    return text


def plain_system(model: Model) -> System:
    """The model's whole reply, kept as it came: ``plain_reply`` takes the correction
    out of it when scoring, so a better reading of replies needs no new run."""
    def correct(text: str) -> str:
        budget = 2 * len(text.split()) + PLAIN_SPARE_TOKENS
        return complete(model, [Message("user", PLAIN_PROMPT.format(text=text))],
                        GenerateOptions(max_tokens=budget, temperature=0.0, seed=8316))
    return correct


def plain_reply(reply: str, text: str) -> str:
    """The correction in the model's reply: its first line that is neither a bare label
    nor a lead-in ending in a colon ("Here is the corrected sentence:"), without the label
    and without quotes round the whole of it (unless the sentence had them)."""
    for line in reply.strip().splitlines():
        line = _LABEL.sub("", line.strip()).strip()
        if line.endswith(":"):
            continue
        if len(line) >= 2 and line[0] == line[-1] == '"' and text[:1] != '"':
            line = line[1:-1].strip()
        if line:
            return line
    return ""


def her_system(model: Model) -> System:
    from os1.letters.proofread import Proofreader, apply_edits

    reader = Proofreader(model)

    def correct(text: str) -> str:
        return apply_edits(text, reader.suggest(text))
    return correct


def build(name: str, model: Callable[[], Model]) -> System:
    if name == "source":
        return lambda text: text
    if name == "harper":
        return harper_system()
    return plain_system(model()) if name == "model-plain" else her_system(model())


def bundled_model() -> Model:
    from os1.config import load_settings
    from os1.llm.bundled import ensure_assembled
    from os1.llm.llama import LlamaModel

    return LlamaModel(ensure_assembled(CHAT_MODEL, load_settings().cache_dir),
                      context_size=2048)


def setups() -> dict[str, str]:
    """What each system's outputs depend on, as a short hash: an output made by another
    setup (her code or wording changed, another prompt, another Harper) is made again
    on resuming, never mixed in. The round trip shapes every system's input."""
    root = HERE.parent
    her = [*sorted((root / "os1" / "letters").glob("*.py")), root / "os1" / "data" / "letters.toml"]

    def digest(*parts: str | Path) -> str:
        h = hashlib.sha256((HERE / "ptb.py").read_bytes())
        for part in parts:
            h.update(part.read_bytes() if isinstance(part, Path) else part.encode("utf-8"))
        return h.hexdigest()[:12]
    return {"source": digest(), "harper": digest(version("harper-py")),
            "model-plain": digest(PLAIN_PROMPT, str(PLAIN_SPARE_TOKENS), CHAT_MODEL.sha256),
            "her": digest(CHAT_MODEL.sha256, *her)}


class Outputs:
    """Every output made so far, one JSON line each, appended as it is made, with the
    setup that made it; on resuming only those of today's setup count."""

    def __init__(self, path: Path, setup: dict[str, str], fresh: bool) -> None:
        self.path, self.setup = path, setup
        self.done: dict[tuple[str, int], dict[str, Any]] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh or not path.exists():
            path.write_text("", encoding="utf-8")
            return
        raw = path.read_text(encoding="utf-8")
        if raw and not raw.endswith("\n"):  # a line cut off by an interruption
            raw = raw[:raw.rfind("\n") + 1]
            path.write_text(raw, encoding="utf-8")
        records = [json.loads(line) for line in raw.splitlines() if line.strip()]
        kept = [r for r in records if setup.get(r.get("system", "")) == r.get("setup")]
        self.done = {(r["system"], r["index"]): r for r in kept}
        if len(kept) < len(records):
            log(f"{len(records) - len(kept)} earlier outputs came from another setup of "
                "their system (code, prompt or Harper changed): they are made again")

    def add(self, system: str, index: int, output: str, seconds: float) -> None:
        record = {"system": system, "index": index, "output": output,
                  "seconds": round(seconds, 4), "setup": self.setup[system]}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        self.done[(system, index)] = record


def produce(data: Jfleg, systems: Sequence[str], limit: int, outputs: Outputs) -> None:
    """Every system's output for the first ``limit`` sentences, sentence by sentence, so
    a run cut short has all systems on the same sentences."""
    cache: list[Model] = []

    def model() -> Model:  # loaded once, and only when a model system runs
        if not cache:
            cache.append(bundled_model())
        return cache[0]

    built: dict[str, System] = {}
    todo = [(i, s) for i in range(limit) for s in systems if (s, i) not in outputs.done]
    log(f"{len(todo)} outputs to make ({limit * len(systems) - len(todo)} kept from before)")
    start = time.perf_counter()
    for n, (index, name) in enumerate(todo, 1):
        if name not in built:
            built[name] = build(name, model)
        text = detokenise(data.lines[index])
        began = time.perf_counter()
        output = built[name](text)
        outputs.add(name, index, output, time.perf_counter() - began)
        elapsed = time.perf_counter() - start
        log(f"[{n}/{len(todo)}] sentence {index + 1} {name}: {output[:70]!r}  "
            f"ETA {elapsed / n * (len(todo) - n):.0f} s")
    for loaded in cache:
        loaded.close()


def score(data: Jfleg, systems: Sequence[str], limit: int, outputs: Outputs) -> dict[str, Any]:
    metric = Gleu(data.sources[:limit], data.references[:limit])
    baseline = [sentence_gleu(s, s, r) for s, r in
                zip(data.sources[:limit], data.references[:limit], strict=True)]
    hyps = {"source (raw JFLEG tokens)": data.sources[:limit]}
    seconds: dict[str, list[float]] = {}
    for name in systems:
        rows = [outputs.done[(name, i)] for i in range(limit)]
        hyps[name] = [retokenise(finished(name, r["output"], data.lines[i])).split()
                      for i, r in enumerate(rows)]
        seconds[name] = [r["seconds"] for r in rows]
    stats = {name: metric.stats(h) for name, h in hyps.items()}
    result: dict[str, Any] = {}
    for name, h in hyps.items():
        mine = metric.sentences(h)
        result[name] = {**metric.corpus(h).as_dict(), **changes(mine, baseline, h, data.sources),
                        "s_per_sentence": mean_or_none(seconds.get(name))}
    paired = {f"her - {other}": paired_bootstrap(stats["her"], stats[other], metric.draws)
              for other in systems if other != "her"} if "her" in systems else {}
    return {"systems": result, "paired": paired}


def finished(system: str, output: str, line: str) -> str:
    """What is scored of a system's output: for the plain model, the correction taken
    out of its reply."""
    return plain_reply(output, detokenise(line)) if system == "model-plain" else output


def changes(mine: Sequence[float], baseline: Sequence[float], hyps: Sequence[Tokens],
            sources: Sequence[Tokens]) -> dict[str, float]:
    """Shares of sentences made worse or better than the unchanged source (smoothed
    sentence GLEU) and left exactly as they were."""
    n = len(mine)
    worse = sum(m < b - 1e-9 for m, b in zip(mine, baseline, strict=True))
    better = sum(m > b + 1e-9 for m, b in zip(mine, baseline, strict=True))
    same = sum(list(h) == list(s) for h, s in zip(hyps, sources[:n], strict=True))
    return {"made_worse": round(worse / n, 4), "made_better": round(better / n, 4),
            "unchanged": round(same / n, 4), "worse_count": worse}


def mean_or_none(values: Sequence[float] | None) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def markdown(result: dict[str, Any]) -> str:
    lines = [f"JFLEG dev, first {result['sentences']} sentences:", "",
             "| system | GLEU | sd (draws) | made worse | made better | unchanged | s/sentence |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in result["systems"].items():
        secs = "-" if s["s_per_sentence"] is None else f"{s['s_per_sentence']:.2f}"
        lines.append(f"| {name} | {s['gleu']:.4f} | {s['std']:.4f} | {s['made_worse']:.1%}"
                     f" | {s['made_better']:.1%} | {s['unchanged']:.1%} | {secs} |")
    if result["paired"]:
        lines += ["", "| paired (same sentences) | GLEU difference | 95% bootstrap interval |",
                  "|---|---:|---|"]
        lines += [f"| {k} | {v['diff']:+.4f} | [{v['ci95'][0]:+.4f}, {v['ci95'][1]:+.4f}] |"
                  for k, v in result["paired"].items()]
    a = result["anchors"]
    lines += ["", f"All 754 dev sentences: unchanged source {a['source']:.4f} (published "
              f"38.21), its detok->retok round trip {a['source_round_trip']:.4f}, each "
              f"human reference against the other three {a['human_leave_one_out']:.4f} "
              "(published 55.26)."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=0, help="only the first N sentences")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help=f"comma-separated, of {', '.join(SYSTEMS)}")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--fresh", action="store_true", help="discard earlier outputs")
    args = parser.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown or not systems:
        parser.error(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    data = load_jfleg(args.data)
    limit = min(args.limit or len(data.lines), len(data.lines))
    if limit < 1:
        parser.error("--limit must be at least 1")
    found = anchors(data)
    log(f"self-check: unchanged dev source GLEU {found['source']} (published 0.3821)")
    outputs = Outputs(args.out.with_suffix(".jsonl"), setups(), args.fresh)
    produce(data, systems, limit, outputs)
    result = {"benchmark": "proofread", "machine": machine(), "sentences": limit,
              "harper_py": version("harper-py"), "plain_prompt": PLAIN_PROMPT,
              "setups": outputs.setup, "anchors": found,
              **score(data, systems, limit, outputs)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(markdown(result))
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
