"""GLEU, the metric of the JFLEG corpus, computed as its authors' script computes it.

Written from the algorithm of Napoles et al. ("Ground Truth for Grammatical Error
Correction Metrics", ACL 2015; "GLEU Without Tuning", 2016), as the updated script
(cnap/gec-ranking and keisks/jfleg ``eval/gleu.py``: "Updated 2 May 2016 ... handle
multiple references more fairly", and the 2017 fix of the inverted brevity penalty) does
it, so that figures here compare with published JFLEG figures:

- Per sentence and reference, for n = 1..4: the hypothesis n-grams found in the
  reference (clipped counts) minus the hypothesis n-grams found in the *source* but not
  in the reference (the source's count clipped), floored at 0; over the hypothesis's
  n-gram count. Plus the hypothesis and reference lengths.
- Corpus GLEU sums those statistics over sentences, then takes BLEU's form: the geometric
  mean of the four precisions times exp(min(0, 1 - ref_len / hyp_len)) (the 2017 fix:
  the earlier script had the two lengths the other way round). Any zero statistic gives 0.
- With several references, each iteration picks one reference per sentence at random;
  the score is the mean over 500 iterations, reported with the standard deviation and
  the normal 95% interval the script prints. The draws replicate the script's own, which
  ran on Python 2: ``random.seed(101 * j)`` for iteration j, then ``randint(0, R-1)`` per
  sentence, which on Python 2 is ``int(random() * R)``. One reference: one iteration.

Sentence GLEU (``sentence_gleu``), for "did this change make the sentence worse": the
mean over the references of the sentence's GLEU against each one, smoothed the BLEU+1 way
(Lin and Och 2004): for n >= 2 each precision is (matches + 1) / (n-grams + 1); unigrams
and the brevity penalty are as at corpus level. Its maximum, 1.0, needs the hypothesis to
equal every reference; one equal to one of four different references scores below 1.
Not the script's own sentence score (``gleu_of(..., smooth=True)``: each zero counted as
1), because that one rewards deleting words once a precision has hit zero: 1 / (n-grams)
grows as the sentence shrinks, so "he go to yesterday" would outscore "he go to school
yesterday" against "he went to school yesterday".
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

ORDER = 4
ITERATIONS = 500
STATS = 2 + 2 * ORDER  # hypothesis length, reference length, then (matches, total) per n

Tokens = Sequence[str]
Stats = npt.NDArray[np.int64]


def ngrams(tokens: Tokens, n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) + 1 - n))


def sentence_stats(hypothesis: Tokens, source: Tokens, reference: Tokens) -> list[int]:
    """The ten statistics of one hypothesis against one reference (see the module)."""
    stats = [len(hypothesis), len(reference)]
    for n in range(1, ORDER + 1):
        hyp, src, ref = ngrams(hypothesis, n), ngrams(source, n), ngrams(reference, n)
        only_in_source = Counter({g: c for g, c in src.items() if g not in ref})
        matched = sum((hyp & ref).values()) - sum((hyp & only_in_source).values())
        stats += [max(matched, 0), max(len(hypothesis) + 1 - n, 0)]
    return stats


def gleu_of(stats: Sequence[float], smooth: bool = False) -> float:
    """GLEU from summed statistics; ``smooth`` counts each zero as 1, as the script's
    sentence-level scores do."""
    values = [s if s or not smooth else 1 for s in stats]
    if any(s == 0 for s in values):
        return 0.0
    hyp_len, ref_len = values[0], values[1]
    precision = sum(math.log(m / t) for m, t in zip(values[2::2], values[3::2], strict=True))
    return math.exp(min(0.0, 1.0 - ref_len / hyp_len) + precision / ORDER)


def gleu_rows(totals: Stats) -> npt.NDArray[np.float64]:
    """``gleu_of`` for each row of a (k, STATS) array of summed statistics, unsmoothed."""
    t = totals.astype(np.float64)
    zero = (t == 0).any(axis=1)
    safe = np.where(t == 0, 1.0, t)
    log_precision = np.log(safe[:, 2::2] / safe[:, 3::2]).sum(axis=1) / ORDER
    brevity = np.minimum(0.0, 1.0 - safe[:, 1] / safe[:, 0])
    return np.where(zero, 0.0, np.exp(brevity + log_precision))


def plus_one(stats: Sequence[int]) -> float:
    """GLEU of one sentence's statistics with BLEU+1 smoothing (see the module)."""
    if stats[0] == 0 or stats[2] == 0:
        return 0.0
    hyp_len, ref_len = stats[0], stats[1]
    precision = math.log(stats[2] / stats[3]) + sum(
        math.log((m + 1) / (t + 1)) for m, t in zip(stats[4::2], stats[5::2], strict=True))
    return math.exp(min(0.0, 1.0 - ref_len / hyp_len) + precision / ORDER)


def sentence_gleu(hypothesis: Tokens, source: Tokens, references: Sequence[Tokens]) -> float:
    """The smoothed sentence-level GLEU: the mean over references (see the module)."""
    if not references:
        raise ValueError("sentence_gleu needs at least one reference")
    return statistics.fmean(plus_one(sentence_stats(hypothesis, source, r))
                            for r in references)


def reference_draws(sentences: int, references: int, iterations: int = ITERATIONS
                    ) -> npt.NDArray[np.int64]:
    """(iterations, sentences): which reference each iteration scores each sentence
    against, exactly as the official Python 2 script draws them."""
    if references == 1:
        return np.zeros((1, sentences), dtype=np.int64)
    draws = np.empty((iterations, sentences), dtype=np.int64)
    for j in range(iterations):
        rng = random.Random(j * 101)
        draws[j] = [int(rng.random() * references) for _ in range(sentences)]
    return draws


@dataclass(frozen=True)
class CorpusGleu:
    """The mean over iterations, their standard deviation and the script's normal 95%
    interval (mean ± 1.96 sd: the spread the reference draws cause, not sampling)."""

    mean: float
    std: float
    ci95: tuple[float, float]
    iterations: int

    def as_dict(self) -> dict[str, Any]:
        return {"gleu": round(self.mean, 6), "std": round(self.std, 6),
                "ci95": [round(c, 6) for c in self.ci95], "iterations": self.iterations}


class Gleu:
    """A test set: each sentence's source tokens and its references' tokens (the same
    number for every sentence). Scores any number of systems against it."""

    def __init__(self, sources: Sequence[Tokens], references: Sequence[Sequence[Tokens]],
                 iterations: int = ITERATIONS) -> None:
        if len(sources) != len(references):
            raise ValueError(f"{len(sources)} source sentences but {len(references)} sets"
                             " of references: one set per sentence is needed")
        counts = {len(r) for r in references}
        if len(counts) > 1 or 0 in counts:
            raise ValueError("every sentence needs the same number (at least one) of "
                             f"references; found {sorted(counts)}")
        self.sources = [list(s) for s in sources]
        self.references = [[list(r) for r in refs] for refs in references]
        self.draws = reference_draws(len(sources), counts.pop() if counts else 1, iterations)

    def stats(self, hypotheses: Sequence[Tokens]) -> Stats:
        """(sentences, references, STATS): every hypothesis against every reference."""
        self._check(hypotheses)
        return np.array([[sentence_stats(h, s, r) for r in refs] for h, s, refs in
                         zip(hypotheses, self.sources, self.references, strict=True)],
                        dtype=np.int64).reshape(len(hypotheses), -1, STATS)

    def corpus(self, hypotheses: Sequence[Tokens]) -> CorpusGleu:
        return corpus_of(self.stats(hypotheses), self.draws)

    def sentences(self, hypotheses: Sequence[Tokens]) -> list[float]:
        self._check(hypotheses)
        return [sentence_gleu(h, s, refs) for h, s, refs in
                zip(hypotheses, self.sources, self.references, strict=True)]

    def _check(self, hypotheses: Sequence[Tokens]) -> None:
        if len(hypotheses) != len(self.sources):
            raise ValueError(f"{len(hypotheses)} hypotheses for {len(self.sources)} "
                             "source sentences: one hypothesis per sentence is needed")


def corpus_of(stats: Stats, draws: npt.NDArray[np.int64]) -> CorpusGleu:
    """Corpus GLEU of precomputed statistics, one iteration per row of ``draws``."""
    if not len(stats):
        raise ValueError("corpus GLEU of no sentences")
    rows = np.arange(len(stats))
    scores = gleu_rows(stats[rows[None, :], draws[:, :len(stats)]].sum(axis=1))
    mean, std = float(scores.mean()), float(scores.std())
    z = statistics.NormalDist().inv_cdf(0.975)
    return CorpusGleu(mean, std, (mean - z * std, mean + z * std), len(draws))


def paired_bootstrap(a: Stats, b: Stats, draws: npt.NDArray[np.int64], rounds: int = 2000,
                     seed: int = 0) -> dict[str, Any]:
    """Corpus GLEU of system ``a`` minus system ``b`` on the same sentences, with a 95%
    percentile interval: each round resamples the sentences (with replacement) and scores
    both systems against the same references, those of one of the official draws (round
    r uses draw r mod iterations), so the interval holds both the sentence sampling and
    the reference choice."""
    if a.shape != b.shape:
        raise ValueError(f"paired systems must cover the same sentences: {a.shape} vs "
                         f"{b.shape}")
    n = len(a)
    rng = np.random.default_rng(seed)
    diffs: list[npt.NDArray[np.float64]] = []
    for first in range(0, rounds, 250):
        size = min(250, rounds - first)
        picks = rng.integers(0, n, (size, n))
        refs = draws[(first + np.arange(size)) % len(draws)][:, :n]
        refs = np.take_along_axis(refs, picks, axis=1)
        diffs.append(gleu_rows(a[picks, refs].sum(axis=1)) - gleu_rows(b[picks, refs].sum(axis=1)))
    spread = np.concatenate(diffs)
    point = corpus_of(a, draws).mean - corpus_of(b, draws).mean
    return {"diff": round(point, 6), "ci95": [round(float(np.percentile(spread, q)), 6)
                                              for q in (2.5, 97.5)],
            "sentences": n, "rounds": rounds}
