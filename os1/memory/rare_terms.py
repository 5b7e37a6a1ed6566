"""BM25 for a big memory, without its most common words.

Why: a word found in thousands of memories says little about which one is meant, and
BM25 over every memory holding it took 0.6 s at a million memories (BENCHMARKS 3c, p95).
Finding that a word is that common costs ~1 ms: each word is searched on its own, the
query stopping one row past ``COMMON_TERM_MATCHES``. SQLite's BM25 is a sum over the
query's words, so the per-word sums rank as the one query would (PostgreSQL's ts_rank
nearly so).
"""

from __future__ import annotations

from collections.abc import Sequence

from os1.storage.db import Database

# A word found in more active memories than this (1% of them at 50k) is left out.
COMMON_TERM_MATCHES = 500


def rare_term_scores(db: Database, user_id: str, terms: Sequence[str], limit: int,
                     context_weight: float) -> list[tuple[int, float]]:
    """The ``limit`` best (memory id, BM25 summed over the rare ``terms``) among the
    user's active memories, best first (lower id first among equals)."""
    scores: dict[int, float] = {}
    for term in terms:
        sql, params = db.text_search("m.id", [term], context_weight)
        # "+user_id": with a LIMIT and no ORDER BY, SQLite would otherwise walk every
        # active memory and look each up in the FTS index (0.6 s at 100k memories).
        rows = db.execute(
            sql + " AND +user_id = ? AND m.superseded_by IS NULL LIMIT ?",
            (*params, user_id, COMMON_TERM_MATCHES + 1)).fetchall()
        if len(rows) <= COMMON_TERM_MATCHES:
            for row in rows:
                scores[int(row[0])] = scores.get(int(row[0]), 0.0) + float(row["rank"])
    best = sorted(scores, key=lambda i: (-scores[i], i))[:limit]
    return [(i, scores[i]) for i in best]
