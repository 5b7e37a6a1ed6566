"""Sorting mail into personal, work, newsletters and spam, and how much each matters.

Two parts. ``Classifier`` is a linear model over word and character n-grams of the
sender, subject, header signals and body (TF-IDF into a linear SVM with balanced class
weights): it learns from examples in seconds and classifies thousands of messages a
second on a laptop CPU, which the chat model, at several seconds a message, could not.
``Triage`` sorts a user's mailbox: by rules until the user has corrected enough of it
(a server's spam flag, mailing-list headers, the user's own domain), then by a
``Classifier`` trained on their corrections, which always win over any guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from os1.mail.parse import ParsedMail

CATEGORIES = ("personal", "work", "newsletter", "spam")
MIN_CORRECTIONS = 8  # corrections (of two kinds at least) before the learned model sorts
BODY_CHARS = 4000
FREE_MAIL = frozenset({"gmail.com", "googlemail.com", "yahoo.com", "outlook.com",
                       "hotmail.com", "live.com", "icloud.com", "me.com", "aol.com",
                       "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com",
                       "fastmail.com", "mail.com", "yandex.ru"})
PRIORITY = {"personal": 0.8, "work": 0.7, "newsletter": 0.2, "spam": 0.0}


def features(mail: ParsedMail) -> str:
    """The text a classifier reads: who, about what, what the headers say, the body."""
    domain = mail.from_addr.rpartition("@")[2]
    return "\n".join([f"from {mail.from_name} {mail.from_addr} domain {domain}",
                      f"subject {mail.subject}", " ".join(mail.signals),
                      mail.text[:BODY_CHARS]])


class Classifier:
    def __init__(self, c: float = 2.0) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion, make_pipeline
        from sklearn.svm import LinearSVC

        words = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                max_features=200_000, token_pattern=r"(?u)\b[\w$£€%-]+\b")
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                max_features=200_000)
        self._model: Any = make_pipeline(FeatureUnion([("words", words), ("chars", chars)]),
                                         LinearSVC(C=c, class_weight="balanced"))

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Classifier:
        self._model.fit(list(texts), list(labels))
        return self

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [str(label) for label in self._model.predict(list(texts))] if texts else []


@dataclass(frozen=True)
class Sorted:
    category: str
    priority: float
    by: str  # "you" (a correction), "learned", or "rules"


class Triage:
    """``own_address``: the user's, whose domain marks work mail (unless it is a free-mail
    provider's). ``corrections``: (mail, category) pairs the user has set."""

    def __init__(self, own_address: str,
                 corrections: Sequence[tuple[ParsedMail, str]] = ()) -> None:
        self.own_domain = own_address.rpartition("@")[2].lower()
        self._model: Classifier | None = None
        kinds = {category for _, category in corrections}
        if len(corrections) >= MIN_CORRECTIONS and len(kinds) >= 2:
            self._model = Classifier().fit([features(m) for m, _ in corrections],
                                           [c for _, c in corrections])

    @property
    def learned(self) -> bool:
        return self._model is not None

    def sort(self, mails: Sequence[ParsedMail]) -> list[Sorted]:
        if self._model is not None:
            guesses = self._model.predict([features(m) for m in mails])
            return [Sorted(g, self._priority(m, g), "learned")
                    for m, g in zip(mails, guesses, strict=True)]
        return [self._by_rules(m) for m in mails]

    def _by_rules(self, mail: ParsedMail) -> Sorted:
        signals = set(mail.signals)
        domain = mail.from_addr.rpartition("@")[2]
        if "spam-flagged" in signals:
            category = "spam"
        elif signals & {"list", "bulk"}:
            category = "newsletter"
        elif domain and domain == self.own_domain and domain not in FREE_MAIL:
            category = "work"
        else:
            category = "personal"
        return Sorted(category, self._priority(mail, category), "rules")

    @staticmethod
    def _priority(mail: ParsedMail, category: str) -> float:
        """Personal and work mail first, a reply to the user above a new thread."""
        bonus = 0.1 if "reply" in mail.signals and PRIORITY[category] > 0.5 else 0.0
        return min(1.0, PRIORITY.get(category, 0.5) + bonus)
