"""Sorting mail into personal, work, newsletters and spam, and how much each matters.

Two parts. ``Classifier`` is a linear model over word and character n-grams of the
sender, subject, header signals and body, plus a few structure marks (TF-IDF into a
linear SVM with balanced class weights): it learns from examples in seconds and
classifies thousands of messages a second on a laptop CPU, which the chat model, at
several seconds a message, could not. Calling a real mail spam costs the user far more
than seeing one spam, so the classifier says spam only past a margin chosen on its own
training data: cross-validated scores, the cheapest cut when a ham called spam costs
``HAM_COST`` missed spams.
``Triage`` sorts a user's mailbox: by rules until the user has corrected enough of it
(a server's spam flag, mailing-list headers, the user's own domain), then by a
``Classifier`` trained on their corrections, which always win over any guess. Mail from
someone his mailbox says he knows (``Known``: people he wrote to, senders he kept) is
never called spam, and it comes first; mail that tries to trick him (``hostile_marks``)
comes after every real mail that matters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from os1.mail.hostile import hostile_marks
from os1.mail.known import Known
from os1.mail.parse import ParsedMail

CATEGORIES = ("personal", "work", "newsletter", "spam")
MIN_CORRECTIONS = 8  # corrections (of two kinds at least) before the learned model sorts
BODY_CHARS = 4000
FREE_MAIL = frozenset({"gmail.com", "googlemail.com", "yahoo.com", "outlook.com",
                       "hotmail.com", "live.com", "icloud.com", "me.com", "aol.com",
                       "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com",
                       "fastmail.com", "mail.com", "yandex.ru"})
PRIORITY = {"personal": 0.8, "work": 0.7, "newsletter": 0.2, "spam": 0.0}
KNOWN_BONUS = 0.1  # a sender he knows, above any stranger's mail of the same kind
REPLY_BONUS = 0.1  # ... and a reply of theirs above a new thread
HOSTILE_PRIORITY = 0.3  # a trick: after every real mail that matters, before newsletters
HAM_COST = 99  # a real mail called spam costs as much as this many spams let through
GUARDED = "spam"  # the one category whose false alarms cost HAM_COST
STRUCTURE = "structure:"  # the first line of ``features``: marks, not words
STRUCTURE_WEIGHT = 0.5
CV_FOLDS = 5
# What legitimate commercial mail (a shop's or a vendor's newsletter the user signed up
# for, the hardest ham to tell from spam) says and most spam does not.
_LEGIT_BODY = {
    "receiving": re.compile(r"you are receiving|you received this|you have received this"
                            r"|you subscribed|your subscription|subscribed"),
    "rights": re.compile(r"all rights reserved|copyright|\(c\) ?\d{4}|©"),
    "address": re.compile(r"\b(suite|street|st\.|ave\.?|avenue|blvd|inc\.|llc|corp)\b"),
    "newsletter": re.compile(r"newsletter|issue #?\d|weekly|monthly"),
    "unsubscribe": re.compile(r"unsubscribe"),
    "privacy": re.compile(r"privacy"),
}


def _site(domain: str) -> str:
    return ".".join(domain.lower().strip("<> ").split(".")[-2:])


def structure(mail: ParsedMail) -> list[str]:
    """Marks of how a mail was made and sent, apart from its words: whether the
    Message-ID comes from the sender's own site, a sender with no name or a numbered
    address, many recipients or none, and what a legitimate bulk sender's footer says."""
    domain = mail.from_addr.rpartition("@")[2]
    msgid = mail.message_id.strip("<> ").rpartition("@")[2]
    marks = []
    if msgid and domain and _site(msgid) == _site(domain):
        marks.append("msgid-from-site")
    if not mail.from_name:
        marks.append("from-no-name")
    if re.search(r"\d{3,}", mail.from_addr.partition("@")[0]):
        marks.append("from-digits")
    if len(mail.to) + len(mail.cc) > 3:
        marks.append("many-recipients")
    if not mail.to:
        marks.append("no-to")
    body = mail.text[:BODY_CHARS * 4].lower()
    marks += ["body-" + name for name, pattern in _LEGIT_BODY.items() if pattern.search(body)]
    return marks


def features(mail: ParsedMail) -> str:
    """The text a classifier reads: a first line of structure marks, then who, about
    what, what the headers say, the body."""
    domain = mail.from_addr.rpartition("@")[2]
    return "\n".join([STRUCTURE + " " + " ".join(structure(mail)),
                      f"from {mail.from_name} {mail.from_addr} domain {domain}",
                      f"subject {mail.subject}", " ".join(mail.signals),
                      mail.text[:BODY_CHARS]])


def _content(text: str) -> str:
    """What the n-gram vectorizers read: the text without its structure line."""
    if text.startswith(STRUCTURE):
        text = text.partition("\n")[2]
    return text.lower()


def _marks(text: str) -> list[str]:
    """What the structure vectorizer reads: the marks alone ("none" when there are none,
    or for plain text)."""
    marks = text.partition("\n")[0].split()[1:] if text.startswith(STRUCTURE) else []
    return marks or ["none"]


class Classifier:
    """``ham_cost``: how many missed spams one real mail called spam is worth; the
    margin the spam score must clear is the one that costs least on cross-validated
    scores of the training data (never below the SVM's own, zero). With too few examples
    to cross-validate (under three of a kind), the margin stays zero."""

    def __init__(self, c: float = 2.0, ham_cost: float = HAM_COST) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion
        from sklearn.svm import LinearSVC

        words = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                max_features=200_000, preprocessor=_content,
                                token_pattern=r"(?u)\b[\w$£€%-]+\b")
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                max_features=200_000, preprocessor=_content)
        marks = TfidfVectorizer(analyzer=_marks, binary=True, use_idf=False)
        self._vectors: Any = FeatureUnion(
            [("words", words), ("chars", chars), ("marks", marks)],
            transformer_weights={"words": 1.0, "chars": 1.0, "marks": STRUCTURE_WEIGHT})
        self._svm: Any = LinearSVC(C=c, class_weight="balanced")
        self.ham_cost = ham_cost
        self.margin = 0.0  # what the spam score must beat the best other class's by
        self._held_out: tuple[list[float], list[bool]] = ([], [])

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Classifier:
        from sklearn.base import clone

        x = self._vectors.fit_transform(list(texts))
        y = [str(label) for label in labels]
        self._svm.fit(x, y)
        self._held_out = ([], [])
        if GUARDED in y and len(set(y)) >= 2:
            folds = min(CV_FOLDS, *(y.count(label) for label in set(y)))
            if folds >= 3:
                self._held_out = self._cross_validated(x, y, folds, clone(self._svm))
        self.margin = self.margin_for(self.ham_cost)
        return self

    @staticmethod
    def _cross_validated(x: Any, y: list[str], folds: int, svm: Any
                         ) -> tuple[list[float], list[bool]]:
        """Each training example's spam margin from a model that did not see it, and
        whether it is spam."""
        import numpy as np
        from sklearn.model_selection import StratifiedKFold

        scores = np.zeros(len(y))
        labels = np.array(y)
        for train, held in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
            svm.fit(x[train], labels[train])
            scores[held] = _spam_margin(svm, x[held])
        return [float(s) for s in scores], [label == GUARDED for label in y]

    def margin_for(self, ham_cost: float) -> float:
        """The margin at which ``ham_cost`` x (ham called spam) + (spam missed) is least
        on the cross-validated scores of the training data: the lowest such, never below
        zero (zero without them)."""
        scores, spam = self._held_out
        hams = [s for s, is_spam in zip(scores, spam, strict=True) if not is_spam]
        spams = [s for s, is_spam in zip(scores, spam, strict=True) if is_spam]
        cuts = sorted({0.0, *(s for s in hams if s >= 0)})
        costs = [ham_cost * sum(s > cut for s in hams) + sum(s <= cut for s in spams)
                 for cut in cuts]
        return cuts[costs.index(min(costs))]

    def spam_margin(self, texts: Sequence[str]) -> list[float]:
        """How far each text's spam score is above the best other class's (the guarded
        class must be among those trained on)."""
        if not texts:
            return []
        return [float(s) for s in _spam_margin(self._svm, self._vectors.transform(list(texts)))]

    def predict(self, texts: Sequence[str], never_spam: Sequence[bool] = ()) -> list[str]:
        """The likeliest class; spam only past ``margin``, else the next likeliest.
        ``never_spam``: per text, whether it may not be called spam at all (mail from
        someone he knows)."""
        if not texts:
            return []
        import numpy as np

        x = self._vectors.transform(list(texts))
        classes = [str(c) for c in self._svm.classes_]
        scores = np.asarray(self._svm.decision_function(x))
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
        if GUARDED in classes:
            spam = classes.index(GUARDED)
            others = np.delete(scores, spam, axis=1).max(axis=1)
            allowed = scores[:, spam] - others > self.margin
            if len(never_spam):
                allowed &= ~np.asarray(never_spam, dtype=bool)
            scores[:, spam] = np.where(allowed, scores[:, spam], -np.inf)
        return [classes[i] for i in scores.argmax(axis=1)]


def _spam_margin(svm: Any, x: Any) -> Any:
    import numpy as np

    scores = np.asarray(svm.decision_function(x))
    classes = [str(c) for c in svm.classes_]
    if scores.ndim == 1:
        return scores if classes[1] == GUARDED else -scores
    spam = classes.index(GUARDED)
    return scores[:, spam] - np.delete(scores, spam, axis=1).max(axis=1)


@dataclass(frozen=True)
class Sorted:
    category: str
    priority: float
    by: str  # "you" (a correction), "learned", or "rules"


class Triage:
    """``own_address``: the user's, whose domain marks work mail (unless it is a free-mail
    provider's). ``corrections``: (mail, category) pairs the user has set. ``known``: who
    his mailbox says he knows (by default, from the corrections alone)."""

    def __init__(self, own_address: str,
                 corrections: Sequence[tuple[ParsedMail, str]] = (),
                 known: Known | None = None) -> None:
        self.own_address = own_address.strip().lower()
        self.own_domain = self.own_address.rpartition("@")[2]
        self.known = known if known is not None else Known.of([own_address], [], corrections)
        self._model: Classifier | None = None
        kinds = {category for _, category in corrections}
        if len(corrections) >= MIN_CORRECTIONS and len(kinds) >= 2:
            self._model = Classifier().fit([features(m) for m, _ in corrections],
                                           [c for _, c in corrections])

    @property
    def learned(self) -> bool:
        return self._model is not None

    def sort(self, mails: Sequence[ParsedMail]) -> list[Sorted]:
        vouched = [self.known.vouches_for(m) for m in mails]
        if self._model is not None:
            guesses = self._model.predict([features(m) for m in mails], vouched)
            return [Sorted(g, self._priority(m, g, v), "learned")
                    for m, g, v in zip(mails, guesses, vouched, strict=True)]
        return [self._by_rules(m, v) for m, v in zip(mails, vouched, strict=True)]

    def _by_rules(self, mail: ParsedMail, vouched: bool) -> Sorted:
        signals = set(mail.signals)
        domain = mail.from_addr.rpartition("@")[2]
        if "spam-flagged" in signals and not vouched:
            category = "spam"
        elif signals & {"list", "bulk"}:
            category = "newsletter"
        elif domain and domain == self.own_domain and domain not in FREE_MAIL:
            category = "work"
        else:
            category = "personal"
        return Sorted(category, self._priority(mail, category, vouched), "rules")

    def _priority(self, mail: ParsedMail, category: str, vouched: bool) -> float:
        """Personal and work mail first: from people he knows (a reply of theirs above a
        new thread), then from strangers; a mail that tries to trick him after all of
        them. A "Re:" proves nothing from a stranger, so only a known sender's counts."""
        priority = PRIORITY.get(category, 0.5)
        if priority <= 0.5:
            return priority
        if hostile_marks(mail, self.own_address):
            return HOSTILE_PRIORITY
        if vouched:
            priority += KNOWN_BONUS + (REPLY_BONUS if "reply" in mail.signals else 0.0)
        return min(1.0, priority)
