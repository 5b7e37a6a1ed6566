"""GLEU as the JFLEG script computes it (benchmarks/gleu.py): hand-computed cases, the
script's reference draws and brevity penalty, the paired bootstrap, and, where the shared
JFLEG data is on this machine, the published dev figure for the unchanged source."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from gleu import (
    Gleu,
    gleu_of,
    paired_bootstrap,
    reference_draws,
    sentence_gleu,
    sentence_stats,
)


def words(text: str) -> list[str]:
    return text.split()


JFLEG_DEV = Path(__file__).resolve().parents[3] / "shared" / "evalsets" / "jfleg" / "dev"
SRC = words("the cat sat on mat")
REF = words("the cat sat on the mat")


def test_stats_of_an_uncorrected_sentence_by_hand() -> None:
    # 1-grams: 5 of 5 in the reference. 2-grams: 3 in the reference, "on mat" is in the
    # source and not the reference: 3 - 1. 3-grams: 2 - 1. 4-grams: 1 - 1. Lengths 5, 6.
    assert sentence_stats(SRC, SRC, REF) == [5, 6, 5, 5, 2, 4, 1, 3, 0, 2]


def test_smoothed_sentence_gleu_by_hand() -> None:
    # BLEU+1: (matches + 1) / (n-grams + 1) from 2-grams up; the hypothesis is shorter
    # than the reference: exp(1 - 6/5)
    want = math.exp(-0.2) * (5 / 5 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert sentence_gleu(SRC, SRC, [REF]) == pytest.approx(want, rel=1e-12)
    # the script's own sentence smoothing counts each zero as 1 instead
    official = math.exp(-0.2) * (5 / 5 * 2 / 4 * 1 / 3 * 1 / 2) ** 0.25
    assert gleu_of(sentence_stats(SRC, SRC, REF), smooth=True) == pytest.approx(official)


def test_dropping_a_right_word_is_worse_at_sentence_level() -> None:
    """Where the script's own smoothing rewards it (its 1 / n-grams grows as the sentence
    shrinks), the sentence score used for "made worse" does not."""
    source, ref = words("he go to school yesterday"), words("he went to school yesterday")
    dropped = words("he go to yesterday")
    assert sentence_gleu(dropped, source, [ref]) < sentence_gleu(source, source, [ref])
    assert gleu_of(sentence_stats(dropped, source, ref), smooth=True) > \
        gleu_of(sentence_stats(source, source, ref), smooth=True)


def test_keeping_a_source_error_scores_below_fixing_it() -> None:
    source, ref = words("a b c d"), words("a b x d")
    assert sentence_stats(source, source, ref)[2] == 2  # 3 unigrams match, "c" costs 1
    assert sentence_gleu(source, source, [ref]) < sentence_gleu(ref, source, [ref]) == 1.0


def test_brevity_penalty_punishes_short_hypotheses_only() -> None:
    """The 2017 fix: exp(min(0, 1 - ref_len / hyp_len)), not the lengths inverted."""
    ones = [1] * 8
    assert gleu_of([10, 5, *ones]) == 1.0
    assert gleu_of([5, 10, *ones]) == pytest.approx(math.exp(-1.0))


def test_a_zero_statistic_gives_zero_unless_smoothed() -> None:
    stats = [4, 4, 4, 4, 3, 3, 2, 2, 0, 1]
    assert gleu_of(stats) == 0.0
    assert gleu_of(stats, smooth=True) == 1.0


def perfect_corpus() -> tuple[float, float]:
    refs = [words("one two three four five"), words("six seven eight nine")]
    sources = [["one", "too", "three"], ["sics", "seven"]]
    return Gleu(sources, [[r, r, r, r] for r in refs]).corpus(refs).mean, 1.0


def two_sentence_corpus() -> tuple[float, float]:
    # sentence one perfect (5 words, no source error), sentence two as SRC/REF above:
    # lengths 10 and 11; precisions 10/10, 6/8, 4/6, 2/4
    perfect = words("a b c d e")
    got = Gleu([perfect, SRC], [[perfect], [REF]]).corpus([perfect, SRC]).mean
    return got, math.exp(1 - 11 / 10) * (1.0 * 6 / 8 * 4 / 6 * 2 / 4) ** 0.25


def jfleg_dev_source() -> tuple[float, float]:
    """The unchanged dev source: 38.21 in the JFLEG README's leader board."""
    def read(name: str) -> list[list[str]]:
        return [line.split() for line in (JFLEG_DEV / name).read_text().splitlines()]
    src = read("dev.src")
    refs = [list(r) for r in zip(*(read(f"dev.ref{k}") for k in range(4)), strict=True)]
    return Gleu(src, refs).corpus(src).mean, 0.3821


# the JFLEG case is added only where ../shared holds the data (a fresh clone has none)
CORPUS_CASES = [perfect_corpus, two_sentence_corpus,
                *([jfleg_dev_source] if (JFLEG_DEV / "dev.src").is_file() else [])]


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda case: case.__name__)
def test_corpus_gleu_known_values(case: Callable[[], tuple[float, float]]) -> None:
    got, want = case()
    assert got == pytest.approx(want, abs=5e-5)


def test_reference_draws_are_the_python_2_scripts() -> None:
    draws = reference_draws(8, 4, 3)
    # random.seed(101 * j), then int(random() * 4) per sentence (Python 2's randint)
    assert draws.tolist() == [[3, 3, 1, 1, 2, 1, 3, 1], [2, 0, 3, 3, 1, 2, 0, 0],
                              [3, 2, 1, 0, 2, 3, 1, 3]]
    assert reference_draws(3, 4, 3).tolist() == draws[:, :3].tolist()
    assert reference_draws(5, 1).shape == (1, 5)  # one reference: one iteration


def test_corpus_gleu_is_the_mean_over_the_drawn_references() -> None:
    other = words("a cat sat on that mat")
    metric = Gleu([SRC], [[REF, other]], iterations=40)
    picked_first = float((metric.draws[:, 0] == 0).mean())
    scores = [Gleu([SRC], [[r]]).corpus([REF]).mean for r in (REF, other)]
    result = metric.corpus([REF])
    assert 0 < picked_first < 1
    assert result.mean == pytest.approx(picked_first * scores[0] + (1 - picked_first) * scores[1])
    assert result.std > 0 and result.ci95[0] < result.mean < result.ci95[1]


def test_sentence_gleu_is_the_mean_over_references() -> None:
    other = words("a cat sat on that mat")
    both = sentence_gleu(REF, SRC, [REF, other])
    assert both == pytest.approx((1.0 + sentence_gleu(REF, SRC, [other])) / 2)


def test_mismatched_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="2 source sentences but 1 sets of references"):
        Gleu([SRC, SRC], [[REF]])
    with pytest.raises(ValueError, match="same number"):
        Gleu([SRC, SRC], [[REF], [REF, REF]])
    with pytest.raises(ValueError, match="1 hypotheses for 2 source sentences"):
        Gleu([SRC, SRC], [[REF], [REF]]).corpus([SRC])
    with pytest.raises(ValueError, match="at least one reference"):
        sentence_gleu(SRC, SRC, [])


def test_paired_bootstrap_of_a_real_gain_and_of_no_difference() -> None:
    refs = [REF, words("a dog ran in the park"), words("she has two small cats")] * 4
    sources = [SRC, words("a dog run in park"), words("she have two small cat")] * 4
    metric = Gleu(sources, [[r] for r in refs])
    fixed, kept = metric.stats(refs), metric.stats(sources)
    gain = paired_bootstrap(fixed, kept, metric.draws, rounds=300)
    assert gain["diff"] > 0 and 0 < gain["ci95"][0] <= gain["ci95"][1]
    same = paired_bootstrap(kept, kept, metric.draws, rounds=300)
    assert same["diff"] == 0 and same["ci95"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="same sentences"):
        paired_bootstrap(fixed, kept[:2], metric.draws)
    assert np.array_equal(fixed[0, 0], sentence_stats(REF, SRC, REF))
