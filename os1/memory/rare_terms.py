"""BM25 for a big memory, without its most common words.

Why: a word found in thousands of memories says little about which one is meant, and
BM25 over every memory holding it took 0.6 s at a million memories (BENCHMARKS 3c, p95).
SQLite's BM25 is a sum over the query's words, so the per-word sums rank as the one query
would (PostgreSQL's ts_rank nearly so).

Why each word is counted before it is scored: scoring is what costs. FTS5's ``bm25()``
counts every row holding the word before it scores the first one (its IDF), so scoring
even one row past ``COMMON_TERM_MATCHES`` of a word in a fifth of a million memories took
5 ms; counting the active memories holding it, stopping one past the limit, with no score
asked for, takes 0.1-0.8 ms. Only a word found rare is then scored.
"""

from __future__ import annotations

from collections.abc import Sequence

from os1.storage.db import Database

# A word found in more active memories than this (1% of them at 50k) is left out.
COMMON_TERM_MATCHES = 500
# What every search adds to the backend's text search: this user's active memories.
# "+user_id": with a LIMIT and no ORDER BY, SQLite would otherwise walk every active
# memory and look each up in the FTS index (0.6 s at 100k memories).
_ACTIVE = " AND +user_id = ? AND m.superseded_by IS NULL"


def rare_term_scores(db: Database, user_id: str, terms: Sequence[str], limit: int,
                     context_weight: float) -> list[tuple[int, float]]:
    """The ``limit`` best (memory id, BM25 summed over the rare ``terms``) among the
    user's active memories, best first (lower id first among equals)."""
    scores: dict[int, float] = {}
    for term in rare_terms(db, user_id, terms, context_weight):
        sql, params = db.text_search("m.id", [term], context_weight)
        rows = db.execute(sql + _ACTIVE + " LIMIT ?",
                          (*params, user_id, COMMON_TERM_MATCHES + 1)).fetchall()
        if len(rows) <= COMMON_TERM_MATCHES:  # still rare (another process may write)
            for row in rows:
                scores[int(row[0])] = scores.get(int(row[0]), 0.0) + float(row["rank"])
    best = sorted(scores, key=lambda i: (-scores[i], i))[:limit]
    return [(i, scores[i]) for i in best]


def rare_terms(db: Database, user_id: str, terms: Sequence[str],
               context_weight: float) -> list[str]:
    """The ``terms`` found in at most ``COMMON_TERM_MATCHES`` of the user's active
    memories, in their order."""
    return [term for term in terms
            if _matches(db, user_id, term, context_weight) <= COMMON_TERM_MATCHES]


def _matches(db: Database, user_id: str, term: str, context_weight: float) -> int:
    """How many of the user's active memories hold ``term``, counted up to one past
    ``COMMON_TERM_MATCHES``: the backend's text search (its word matching and quoting
    kept in one place) with the score it selects left out, as no score is read here."""
    sql, params = db.text_search("m.id", [term], context_weight)
    _, unscored, found = sql.partition(" AS rank FROM ")
    hits = f"SELECT m.id FROM {found}" if unscored else sql
    row = db.execute(
        f"SELECT COUNT(*) FROM ({hits}{_ACTIVE} LIMIT ?) AS hits",
        (*params, user_id, COMMON_TERM_MATCHES + 1)).fetchone()
    return int(row[0])
