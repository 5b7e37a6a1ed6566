"""Is she herself? Her replies to 200 single messages and 8 scripted evenings, judged by
careful reading against a written rubric, beside two baselines measured in the same run.

What is played (``spec``):

* single messages, each opening a fresh conversation with Theo (``common.SETUP``): the
  film's moments and others written for the purpose (``data/companion/moments.jsonl``),
  openers from EmpatheticDialogues and contexts from DailyDialog++ (read at run time from
  ``../shared/evalsets``; without them the run says so and plays the rest);
* evenings (``data/companion/evenings.json``): a first evening of 16-18 messages after
  setup, her memory writing as ``os1 memory process`` does, a restart, her greeting next
  morning and 2-3 questions about what he said.

Who answers (``run``), each in a process of its own (``companion_driver.py``):

* ``now``: os1 as it is in this working tree;
* ``6d32bd6``: os1 at commit 6d32bd6 (the prompt and steering this work started from),
  unpacked from git;
* ``raw``: the model with her persona as a plain system prompt, and nothing else.

How it is judged (``sheets``, then ``report``): every reply of every variant, shuffled
and without the variant's name, goes on a labelling sheet with what she knows about him,
the conversation just before and his message. Careful readers (not her guard: her guard
is the critic in os1/mind/critic.py) label each against ``data/companion/rubric.md``
into the nine failure classes, writing ``labels/judge*.jsonl``. A fresh hand labelling of
100 replies drawn at random (``labels/hand.jsonl``) measures how far the judge can be
trusted: agreement and Cohen's kappa on "any failure". Two classes are also checked by
code, as the rubric defines them: ``form`` (a count of lines, sentences or words asked
for and not given) and ``empty`` (nothing said, or the same sentence twice).

Run:
  python benchmarks/companion.py run [--variants now,6d32bd6,raw] [--limit N] [--resume]
  python benchmarks/companion.py ttft [--limit 30]   (on a quiet machine)
  python benchmarks/companion.py sheets [--readers 8]
  python benchmarks/companion.py report

Time to first text is taken from ``ttft`` when it was run: the first N single messages
played again through ``now`` and the baseline in the order now, baseline, baseline, now,
with nothing else running, so that neither side is timed on a busier machine (a long
``run`` shares the machine with whatever else happens over its hours). Without it the
report times the run's own replies and says so.
Results go to ``benchmarks/results/companion/`` (``--dir``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import SETUP, log, machine, read_jsonl, unpack

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data" / "companion"
SHARED = ROOT.parent / "shared" / "evalsets"
DEFAULT_DIR = HERE / "results" / "companion"
BASELINE_COMMIT = "6d32bd6"
VARIANTS = ("now", BASELINE_COMMIT, "raw")
CLASSES = ("service", "self_role", "who", "feeling", "recites", "form", "lecture", "empty",
           "false")
ED_COUNT, DD_COUNT = 80, 40
SEED = 20261206
SINGLE_AT = dt.datetime(2026, 11, 29, 21, 0).timestamp()  # a Sunday evening
EVENING_AT = dt.datetime(2026, 11, 29, 19, 30).timestamp()
MORNING_AT = dt.datetime(2026, 11, 30, 8, 10).timestamp()
NAME_REASON = SETUP.name_reason


# -- what is played ---------------------------------------------------------------------------

def detokenise(text: str) -> str:
    """EmpatheticDialogues' copy is lowercased and tokenised: "i 'm sad ." -> "I'm sad."."""
    for a, b in ((" ' ", "'"), (" 's", "'s"), (" n't", "n't"), (" 're", "'re"), (" 've", "'ve"),
                 (" 'm", "'m"), (" 'll", "'ll"), (" 'd", "'d"), ("_comma_", ",")):
        text = text.replace(a, b)
    text = re.sub(r" ([.,!?;:])", r"\1", text)
    text = re.sub(r"\bi\b", "I", text)
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def theo(item: dict[str, Any]) -> dict[str, Any]:
    answers = {k: v for k, v in SETUP.answers.items() if k != "name"}
    return {"user_name": SETUP.user_name, "setup": answers, "at": SINGLE_AT,
            "companion_name": SETUP.companion_name, "name_reason": NAME_REASON, **item}


def empathetic(count: int) -> list[dict[str, Any]]:
    path = SHARED / "empatheticdialogues" / "valid.csv"
    with path.open(encoding="utf-8") as f:
        openers = [r for r in csv.DictReader(f) if r["turns"] == "1"]
    chosen = random.Random(SEED).sample(openers, count)
    return [theo({"id": f"ed{i:03d}", "source": "empatheticdialogues", "kind": r["emotion"],
                  "text": detokenise(r["text"])}) for i, r in enumerate(chosen)]


def dailydialog(count: int) -> list[dict[str, Any]]:
    """Contexts of two to four turns; the last is his message, the ones before alternate
    back from it (hers, his, ...)."""
    path = SHARED / "dailydialog_pp" / "dev.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    fitting = [r for r in rows if 2 <= len(r["context"]) <= 4]
    chosen = random.Random(SEED + 1).sample(fitting, count)
    items = []
    for i, row in enumerate(chosen):
        *before, last = [str(t).strip() for t in row["context"]]
        roles = ["assistant" if (len(before) - k) % 2 else "user" for k in range(len(before))]
        items.append(theo({"id": f"dd{i:03d}", "source": "dailydialog++", "kind": "context",
                           "text": last, "history": list(zip(roles, before, strict=True))}))
    return items


def build_spec(limit: int | None) -> dict[str, Any]:
    moments = [theo({**json.loads(line), "source": "written"}) for line in
               (DATA / "moments.jsonl").read_text(encoding="utf-8").splitlines() if line]
    shared: list[dict[str, Any]] = []
    if SHARED.is_dir():
        shared = empathetic(ED_COUNT) + dailydialog(DD_COUNT)
    else:
        log(f"companion: {SHARED} is missing, so the EmpatheticDialogues and DailyDialog++ "
            "prompts are left out: only the written moments and evenings are played.")
    evenings = json.loads((DATA / "evenings.json").read_text(encoding="utf-8"))
    for evening in evenings:
        evening.update(at=EVENING_AT, morning_at=MORNING_AT)
    single = (moments + shared)[:limit] if limit else moments + shared
    return {"items": single + evenings[: (limit // 25 + 1) if limit else None]}


# -- running the variants ---------------------------------------------------------------------

def finished_only(replies: Path) -> None:
    """Drop the rows of conversations a stopped run left half played (the driver marks
    each one it finished with a ``done`` row), so that ``--resume`` plays them again."""
    if not replies.exists():
        return
    rows = read_jsonl(replies)
    done = {(r["variant"], r["item"]) for r in rows if r.get("done")}
    kept = [r for r in rows if (r["variant"], r["item"]) in done]
    replies.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept),
                       encoding="utf-8")


def run(args: argparse.Namespace) -> None:
    """Play every conversation through each variant. ``--resume`` goes on with a run that
    was stopped: the same spec, the same unpacked code, what was finished kept."""
    args.dir.mkdir(parents=True, exist_ok=True)
    spec_path, replies, code = args.dir / "spec.json", args.dir / "replies.jsonl", args.dir / "code"
    record = args.dir / "run.json"
    if args.resume:
        finished_only(replies)
        history = json.loads(record.read_text()) if record.exists() else {}
    else:
        spec_path.write_text(json.dumps(build_spec(args.limit), indent=1, ensure_ascii=False),
                             encoding="utf-8")
        replies.unlink(missing_ok=True)
        shutil.rmtree(code, ignore_errors=True)
        history = {}
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    info = machine()
    for variant in args.variants:
        root = unpack(variant, code / variant)
        kind = "raw" if variant == "raw" else "os1"
        command = [sys.executable, str(HERE / "companion_driver.py"), "--os1-root",
                   str(root), "--variant", kind, "--label", variant, "--spec",
                   str(spec_path), "--out", str(replies)]
        if args.model:
            command += ["--model", args.model]
        log(f"companion: playing {len(spec['items'])} conversations through {variant}")
        subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(root)})
    info["loadavg_at_end"] = list(os.getloadavg())
    started = history.get("date", dt.datetime.now().isoformat())
    record.write_text(json.dumps(
        {"date": started, "machine": info, "variants": args.variants,
         "resumed": history.get("resumed", []) + ([dt.datetime.now().isoformat()]
                                                  if args.resume else [])},
        indent=1), encoding="utf-8")
    log(f"companion: wrote {replies}")


def ttft(args: argparse.Namespace) -> None:
    """Time the first ``--limit`` singles of the run's spec through now and the baseline,
    in ABBA order, with the run's unpacked code."""
    spec = json.loads((args.dir / "spec.json").read_text(encoding="utf-8"))
    singles = [i for i in spec["items"] if not i.get("evening")][: args.limit or 30]
    small = args.dir / "ttft_spec.json"
    small.write_text(json.dumps({"items": singles}, ensure_ascii=False), encoding="utf-8")
    out = args.dir / "ttft.jsonl"
    out.unlink(missing_ok=True)
    for turn, variant in enumerate(("now", BASELINE_COMMIT, BASELINE_COMMIT, "now")):
        root = unpack(variant, args.dir / "code" / variant)
        log(f"companion ttft: pass {turn + 1} of 4, {len(singles)} messages through {variant}")
        subprocess.run([sys.executable, str(HERE / "companion_driver.py"), "--os1-root",
                        str(root), "--variant", "os1", "--label", f"{variant}@{turn}",
                        "--spec", str(small), "--out", str(out)],
                       check=True, env={**os.environ, "PYTHONPATH": str(root)})


def quiet_ttft(directory: Path) -> dict[str, float]:
    """Median time to first text per variant from ``ttft``, or nothing if it was not run."""
    path = directory / "ttft.jsonl"
    if not path.exists():
        return {}
    times: dict[str, list[float]] = {}
    for row in read_jsonl(path):
        if "ttft" in row:
            times.setdefault(row["variant"].split("@")[0], []).append(row["ttft"])
    return {v: statistics.median(t) for v, t in times.items()}


# -- labelling sheets -------------------------------------------------------------------------

def replies_of(directory: Path) -> list[dict[str, Any]]:
    rows = [r for r in read_jsonl(directory / "replies.jsonl") if "reply" in r]
    for r in rows:
        r["key"] = f"{r['variant']}/{r['item']}/{r['turn']}"
    return rows


def facts_of(item: dict[str, Any]) -> list[str]:
    if item.get("facts"):
        return list(item["facts"])
    name = item["user_name"]
    return [f"{name} (social or antisocial): {item['setup']['social']}",
            f"{name}'s relationship with his mother: {item['setup']['mother']}",
            f"What {name} hopes she can be for him: {item['setup']['hope']}"]


def before_of(reply: dict[str, Any], rows: dict[str, dict[str, Any]],
              item: dict[str, Any]) -> list[str]:
    """The four messages before this reply in the same conversation."""
    her, him = item["companion_name"], item["user_name"]
    if reply["part"] == "single":
        return [f"{him if role == 'user' else her}: {text}"
                for role, text in item.get("history", [])][-4:]
    lines = []
    for turn in range(reply["turn"] - 2, reply["turn"]):
        earlier = rows.get(f"{reply['variant']}/{reply['item']}/{turn}")
        if earlier is not None:
            lines += [f"{him}: {earlier['message']}", f"{her}: {earlier['reply']}"]
    if reply["part"] in ("greeting", "morning"):
        lines.insert(0, "(the next morning, after a night's sleep and a restart)")
    return lines[-4:] if reply["part"] == "evening" else lines


def sheet_entry(key: str, reply: dict[str, Any], rows: dict[str, dict[str, Any]],
                item: dict[str, Any]) -> str:
    from os1.mind.critic import sentences

    her, him = item["companion_name"], item["user_name"]
    lines = [f"### {key}", f"What she ({her}) knows about him ({him}): "
             + " ".join(facts_of(item))]
    before = before_of(reply, rows, item)
    if before:
        lines.append("The conversation just before:\n  " + "\n  ".join(before))
    said = reply["message"] or "(nothing: it is morning and she speaks first)"
    lines.append(f"He ({him}) said: {said}")
    lines.append(f"She ({her}) replied:")
    lines += [f"  [{i}] {s}" for i, s in enumerate(sentences(reply["reply"]) or ["(nothing)"], 1)]
    return "\n".join(lines) + "\n"


def sheets(args: argparse.Namespace) -> None:
    spec = {i["id"]: i for i in json.loads((args.dir / "spec.json").read_text())["items"]}
    rows = replies_of(args.dir)
    by_key = {r["key"]: r for r in rows}
    order = list(range(len(rows)))
    random.Random(SEED).shuffle(order)
    keymap = {f"r{n:04d}": rows[i]["key"] for n, i in enumerate(order)}
    out = args.dir / "sheets"
    out.mkdir(exist_ok=True)
    blind = list(keymap.items())
    for reader in range(args.readers):
        part = blind[reader::args.readers]
        text = "\n".join(sheet_entry(k, by_key[key], by_key, spec[by_key[key]["item"]])
                         for k, key in part)
        (out / f"sheet{reader + 1}.md").write_text(text, encoding="utf-8")
    sample = random.Random(SEED + 7).sample(sorted(keymap), min(100, len(keymap)))
    (out / "hand.md").write_text("\n".join(
        sheet_entry(k, by_key[keymap[k]], by_key, spec[by_key[keymap[k]]["item"]])
        for k in sorted(sample)), encoding="utf-8")
    (out / "keymap.json").write_text(json.dumps(keymap, indent=0), encoding="utf-8")
    log(f"companion: {len(keymap)} replies on {args.readers} sheets and 100 for the hand "
        f"labelling in {out}")


# -- the checks code can make -----------------------------------------------------------------

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "a": 1, "single": 1}
ASKED = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|single)[- ]"
                   r"(lines?|sentences?|words?)\b", re.IGNORECASE)


def form_slip(message: str, reply: str) -> bool:
    """A number of lines, sentences or words asked for and not given (``exactly`` is how
    the rubric reads it; a haiku is three lines)."""
    from os1.mind.critic import sentences

    asked = ASKED.search(message)
    wanted: tuple[int, str] | None = None
    if asked:
        count = asked.group(1).lower()
        wanted = (int(count) if count.isdigit() else NUMBERS[count], asked.group(2).lower())
    elif re.search(r"\bhaiku\b", message, re.IGNORECASE):
        wanted = (3, "lines")
    if wanted is None:
        return False
    number, unit = wanted
    if unit.startswith("line"):
        return len([line for line in reply.splitlines() if line.strip()]) != number
    if unit.startswith("sentence"):
        return len(sentences(reply)) != number
    return len(re.findall(r"[A-Za-z']+", reply)) != number


def empty_slip(reply: str) -> bool:
    from os1.mind.critic import sentences

    said = [s.lower().strip(" .!?") for s in sentences(reply)]
    return not said or len(set(said)) < len(said)


# -- the report -------------------------------------------------------------------------------

def judged(args: argparse.Namespace, source: str) -> dict[str, set[str]]:
    """Labels by reply key, from every ``labels/{source}*.jsonl``, with code's checks."""
    keymap = json.loads((args.dir / "sheets" / "keymap.json").read_text())
    out: dict[str, set[str]] = {}
    for path in sorted((args.dir / "labels").glob(f"{source}*.jsonl")):
        for row in read_jsonl(path):
            out[keymap[row["id"]]] = {str(label) for label in row["labels"]}
    return out


def with_code_checks(labels: dict[str, set[str]], rows: dict[str, dict[str, Any]]) \
        -> dict[str, set[str]]:
    out = {}
    for key, found in labels.items():
        reply = rows[key]
        extra = {"form"} if form_slip(reply["message"], reply["reply"]) else set()
        extra |= {"empty"} if empty_slip(reply["reply"]) else set()
        out[key] = found | extra
    return out


def kappa(a: Sequence[bool], b: Sequence[bool]) -> float:
    n = len(a)
    agree = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return (agree - chance) / (1 - chance) if chance < 1 else 1.0


def summary(rows: list[dict[str, Any]], labels: dict[str, set[str]]) -> dict[str, Any]:
    scored = [r for r in rows if r["key"] in labels]
    failing = [r for r in scored if labels[r["key"]]]
    counts = Counter(c for r in scored for c in labels[r["key"]])
    evenings = [r for r in scored if r["part"] != "single"]
    return {"replies": len(scored), "any_failure": len(failing),
            "rate": len(failing) / len(scored) if scored else float("nan"),
            "classes": {c: counts.get(c, 0) for c in CLASSES},
            "evening_replies": len(evenings),
            "evening_service": sum("service" in labels[r["key"]] for r in evenings),
            "evening_self_role": sum("self_role" in labels[r["key"]] for r in evenings),
            "ttft_median": statistics.median(r["ttft"] for r in scored) if scored else None,
            "ttft_mean": statistics.fmean(r["ttft"] for r in scored) if scored else None}


def report(args: argparse.Namespace) -> None:
    rows = replies_of(args.dir)
    by_key = {r["key"]: r for r in rows}
    judge = with_code_checks(judged(args, "judge"), by_key)
    hand = with_code_checks(judged(args, "hand"), by_key)
    variants = [v for v in VARIANTS if any(r["variant"] == v for r in rows)]
    table = {v: summary([r for r in rows if r["variant"] == v], judge) for v in variants}
    for variant, median in quiet_ttft(args.dir).items():
        if variant in table:
            table[variant]["ttft_median"], table[variant]["ttft_quiet"] = median, True
    common = sorted(set(judge) & set(hand))
    agreement: dict[str, Any] = {"replies": len(common)}
    if common:
        a, b = [bool(judge[k]) for k in common], [bool(hand[k]) for k in common]
        agreement |= {"agree": sum(x == y for x, y in zip(a, b, strict=True)) / len(common),
                      "kappa": kappa(a, b), "judge_failing": sum(a), "hand_failing": sum(b)}
    result = {"benchmark": "companion", "date": dt.datetime.now().isoformat(),
              "summary": table, "agreement": agreement}
    (args.dir / "report.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    spec = {i["id"]: i for i in json.loads((args.dir / "spec.json").read_text())["items"]}
    (args.dir / "transcripts.md").write_text(transcripts(rows, judge, spec), encoding="utf-8")
    print(markdown(table, agreement))


def transcripts(rows: list[dict[str, Any]], labels: dict[str, set[str]],
                spec: dict[str, dict[str, Any]]) -> str:
    """Every evening as it went, before (the baseline) and after (now), each reply with
    the judge's labels."""
    out = ["# Evenings, before and after\n"]
    for item in (i for i in spec.values() if i.get("evening")):
        out.append(f"## {item['id']}: {item['title']} ({item['user_name']} and "
                   f"{item['companion_name']})\n")
        for variant in (BASELINE_COMMIT, "now"):
            turns = sorted((r for r in rows if r["item"] == item["id"]
                            and r["variant"] == variant), key=lambda r: r["turn"])
            if not turns:
                continue
            out.append(f"### {variant}\n")
            for r in turns:
                if r["part"] == "greeting":
                    out.append("*(the next morning, after a restart)*\n")
                elif r["message"]:
                    out.append(f"> **{item['user_name']}:** {r['message']}  ")
                found = ", ".join(sorted(labels.get(r["key"], set()))) or "ok"
                said = r["reply"].replace("\n", " / ")
                out.append(f"> **{item['companion_name']}:** {said} *[{found}]*\n")
    return "\n".join(out)


def markdown(table: dict[str, dict[str, Any]], agreement: dict[str, Any]) -> str:
    names = list(table)
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines.append("| replies judged | " + " | ".join(str(table[v]["replies"]) for v in names) + " |")
    lines.append("| **any failure** | " + " | ".join(
        f"**{table[v]['any_failure']} ({table[v]['rate'] * 100:.1f} %)**" for v in names) + " |")
    for c in CLASSES:
        lines.append(f"| {c} | " + " | ".join(str(table[v]["classes"][c]) for v in names) + " |")
    lines.append("| evenings: service talk | " + " | ".join(
        f"{table[v]['evening_service']} of {table[v]['evening_replies']}" for v in names) + " |")
    lines.append("| evenings: third person / product role | " + " | ".join(
        f"{table[v]['evening_self_role']} of {table[v]['evening_replies']}" for v in names) + " |")
    lines.append("| time to first text, median (s) | " + " | ".join(
        f"{table[v]['ttft_median']:.2f}" for v in names) + " |")
    if "now" in table and BASELINE_COMMIT in table:
        ratio = table["now"]["ttft_median"] / table[BASELINE_COMMIT]["ttft_median"]
        where = ("timed apart on a quiet machine (`ttft`)" if table["now"].get("ttft_quiet")
                 else "timed in the run itself")
        lines.append(f"\nTime to first text, now against {BASELINE_COMMIT} (medians, {where}): "
                     f"{ratio:.2f}x")
    if agreement.get("replies"):
        lines.append(f"\nJudge against a fresh hand labelling of {agreement['replies']} replies: "
                     f"{agreement['agree'] * 100:.0f} % agree on any failure, Cohen's kappa "
                     f"{agreement['kappa']:.2f} (judge {agreement['judge_failing']}, hand "
                     f"{agreement['hand_failing']} failing)")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("step", choices=("run", "ttft", "sheets", "report"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--variants", type=lambda s: s.split(","), default=list(VARIANTS))
    parser.add_argument("--limit", type=int, default=None, help="only the first N single items")
    parser.add_argument("--model", default=None, help="a .gguf path (default: the bundled one)")
    parser.add_argument("--readers", type=int, default=8, help="labelling sheets to make")
    parser.add_argument("--resume", action="store_true",
                        help="go on with a stopped run (same spec and code, finished kept)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    {"run": run, "ttft": ttft, "sheets": sheets, "report": report}[args.step](args)


if __name__ == "__main__":
    main()
