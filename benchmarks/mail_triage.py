"""How well and how fast she sorts mail, against the triage as it was before issue 25
(its code, loaded from git and run on the same folds) and a TF-IDF + naive Bayes
baseline, in the same run.

Data, read at run time from ``../shared/evalsets`` and never copied:

- SpamAssassin (easy-ham, hard-ham, spam): raw messages, parsed by os1's parser.
  Cross-validated over the whole set (5 folds, stratified by folder, fixed seed), so
  every one of the 127 hard-ham messages is scored once by a model that did not see it:
  hard-ham and easy-ham false positives (ham called spam) and spam precision, recall and
  F1, on the same folds for every variant. Then, as before, a stratified 70/30 split
  (fixed seed) by folder, reported on the test half, with the trade-off as the margin
  moves (reported only, never used to choose).
- The annotated Enron set: coarse genre (the folder, 8 classes, very uneven), the same
  kind of split; macro-F1.

os1's triage is ``os1.mail.triage.Classifier`` on ``features(parse_mail(raw))``: word
1-2-grams and character 3-5-grams, TF-IDF, plus structure marks, into a linear SVM
with balanced class weights, which says spam only past a margin it chose itself on
cross-validated scores of its training data (a ham called spam costing ``HAM_COST``
missed spams), and never for mail from a sender he knows. What his mailbox knows is
simulated from the training part alone: each ham sender there counts as someone he kept
mail from (or wrote to: more than "replied to" would give him), each spam sender as
someone he called a spammer; nothing from the part being scored. "before" is
``os1/mail/triage.py`` at ``BEFORE``: the same classifier, knowing nobody. Reported
beside them, never used to choose: os1 with the mailing lists of his kept mail (List-Id,
else List-Post) vouching too, how many messages of each kind came from a sender he
knew, and the naive Bayes baseline (``TfidfVectorizer`` words into ``MultinomialNB`` on
os1's text). Throughput: messages a second through parse + classify (os1) and through
the baseline's classify alone.

Sync throughput: a real Dovecot (as the tests start it) holding ``--sync`` messages;
os1's ``sync_folder`` (fetch, parse, store) against a bare imaplib loop fetching the same
messages and doing nothing with them, as messages a second and their ratio.

Run: python benchmarks/mail_triage.py [--sync 1000]   (~10 min on 2 cores)
Writes benchmarks/results/mail_triage.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import email
import imaplib
import json
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from common import log, machine, os1_revision

from os1.mail.imap import ImapServer
from os1.mail.known import Known
from os1.mail.mailboxes import MailAccount, MailStore
from os1.mail.parse import ParsedMail, parse_mail
from os1.mail.sync import sync_folder
from os1.mail.triage import HAM_COST, Classifier, features
from os1.storage.db import Database

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "evalsets"
DEFAULT_OUT = HERE / "results" / "mail_triage.json"
SEED = 8316
BEFORE = "119cd80"  # the last commit of os1/mail/triage.py before issue 25
FOLDS = 5


def split(items: Sequence[tuple[str, Any]], test_share: float = 0.3
          ) -> tuple[list[int], list[int]]:
    """Stratified by the item's group (its folder): indices of train and test."""
    from sklearn.model_selection import train_test_split

    indices = list(range(len(items)))
    train, test = train_test_split(indices, test_size=test_share, random_state=SEED,
                                   stratify=[group for group, _ in items])
    return sorted(train), sorted(test)


def baseline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(sublinear_tf=True), MultinomialNB(alpha=0.1))


def spam_scores(truth: list[str], guess: list[str], groups: list[str]) -> dict[str, float]:
    tp = sum(t == g == "spam" for t, g in zip(truth, guess, strict=True))
    fp = sum(t != "spam" and g == "spam" for t, g in zip(truth, guess, strict=True))
    fn = sum(t == "spam" and g != "spam" for t, g in zip(truth, guess, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def fpr(kind: str) -> float:
        hams = [g for g, group in zip(guess, groups, strict=True) if group.startswith(kind)]
        return sum(g == "spam" for g in hams) / len(hams) if hams else 0.0

    def called_spam(kind: str) -> int:
        return sum(g == "spam" for g, group in zip(guess, groups, strict=True)
                   if group.startswith(kind))

    return {"precision": precision, "recall": recall, "f1": f1,
            "fpr_easy_ham": fpr("easy-ham"), "fpr_hard_ham": fpr("hard-ham"),
            "easy_ham_fp": called_spam("easy-ham"), "hard_ham_fp": called_spam("hard-ham"),
            "test_spam": sum(t == "spam" for t in truth),
            "test_easy_ham": sum(g.startswith("easy-ham") for g in groups),
            "test_hard_ham": sum(g.startswith("hard-ham") for g in groups)}


def cut(margins: Sequence[float], at: float) -> list[str]:
    return ["spam" if m > at else "ham" for m in margins]


def tradeoff(truth: list[str], margins: Sequence[float], groups: list[str]
             ) -> list[dict[str, float]]:
    """Reported only, never used to choose: the spam scores on the test half with the
    margin just above the k-th highest hard ham's, for k = 0, 1, 2, 3, 4, 6, 8."""
    hard = sorted((m for m, g in zip(margins, groups, strict=True)
                   if g.startswith("hard-ham")), reverse=True)
    rows = []
    for k in (0, 1, 2, 3, 4, 6, 8):
        at = hard[k] if k < len(hard) else min(margins) - 1.0
        rows.append({**spam_scores(truth, cut(margins, at), groups), "hard_ham_fp": k,
                     "margin": at})
    return rows


@dataclass(frozen=True)
class Corpus:
    """The SpamAssassin set, parsed once: per message its folder, label ("spam" or
    "ham"), parsed mail, mailing list, and the text today's and the old triage read."""

    groups: list[str]
    labels: list[str]
    mails: list[ParsedMail]
    lists: list[str]
    texts: list[str]
    old_texts: list[str]
    raws: list[bytes]
    parse_s: float


def load_spamassassin(data: Path, before: Any) -> Corpus:
    folders = sorted(p for p in (data / "spamassassin").iterdir() if p.is_dir())
    raws = [(folder.name, path.read_bytes()) for folder in folders
            for path in sorted(folder.iterdir()) if path.is_file()]
    log(f"SpamAssassin: {len(raws):,} messages in {len(folders)} folders")
    start = time.perf_counter()
    mails = [parse_mail(raw) for _, raw in raws]
    texts = [features(m) for m in mails]
    parse_s = time.perf_counter() - start
    return Corpus([g for g, _ in raws], ["spam" if g.startswith("spam") else "ham"
                                         for g, _ in raws], mails,
                  [list_id(raw) for _, raw in raws], texts,
                  [before.features(m) for m in mails], [raw for _, raw in raws], parse_s)


def triage_at(commit: str) -> Any:
    """``os1/mail/triage.py`` as it was at ``commit``, loaded beside today's (it reads
    the same ``ParsedMail``): the baseline, run on the same folds in the same run."""
    source = subprocess.run(["git", "show", f"{commit}:os1/mail/triage.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType(f"triage_{commit}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{commit}:os1/mail/triage.py", "exec"), module.__dict__)
    return module


def list_id(raw: bytes) -> str:
    """The mailing list a message came through: its List-Id, else its List-Post ('')."""
    message = email.message_from_bytes(raw)
    for name in ("List-Id", "List-Post"):
        value = str(message.get(name) or "").strip().lower()
        if value:
            return value.rpartition("<")[2].partition(">")[0] or value
    return ""


def mailbox(corpus: Corpus, train: Sequence[int]) -> Known:
    """What his mailbox would know from the training part alone: each ham sender there
    as one he kept mail from, each spam sender as one he called a spammer."""
    return Known.of([], [], [(corpus.mails[i], "personal" if corpus.labels[i] == "ham"
                              else "spam") for i in train])


def fold_guesses(corpus: Corpus, before: Any, train: Sequence[int], test: Sequence[int]
                 ) -> tuple[dict[str, list[str]], list[bool]]:
    """Each variant's guesses for ``test``, trained on ``train`` alone, and which of
    ``test`` came from a sender he knew."""
    labels = [corpus.labels[i] for i in train]
    old = before.Classifier().fit([corpus.old_texts[i] for i in train], labels)
    ours = Classifier().fit([corpus.texts[i] for i in train], labels)
    known = mailbox(corpus, train)
    read = {corpus.lists[i] for i in train if corpus.labels[i] == "ham"} - {""}
    vouched = [known.vouches_for(corpus.mails[i]) for i in test]
    listed = [v or corpus.lists[i] in read for v, i in zip(vouched, test, strict=True)]
    texts = [corpus.texts[i] for i in test]
    return {"before": [str(g) for g in old.predict([corpus.old_texts[i] for i in test])],
            "os1": ours.predict(texts, vouched),
            "os1_lists_vouch_too": ours.predict(texts, listed)}, vouched


def cross_validated(corpus: Corpus, before: Any) -> dict[str, Any]:
    """Every message scored once, by models trained on the other folds (stratified by
    folder, fixed seed): the same folds for every variant."""
    from sklearn.model_selection import StratifiedKFold

    guesses: dict[str, list[str]] = {}
    known: dict[str, int] = {}
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    for n, (train, test) in enumerate(folds.split(corpus.texts, corpus.groups), 1):
        log(f"SpamAssassin cross-validation: fold {n} of {FOLDS}")
        fold, vouched = fold_guesses(corpus, before, list(train), list(test))
        for name, guess in fold.items():
            kept = guesses.setdefault(name, [""] * len(corpus.texts))
            for i, g in zip(test, guess, strict=True):
                kept[i] = g
        for i, v in zip(test, vouched, strict=True):
            kind = corpus.groups[i].rsplit("-", 1)[0]
            known[kind] = known.get(kind, 0) + v
    return {name: spam_scores(corpus.labels, guess, corpus.groups)
            for name, guess in guesses.items()} | {"folds": FOLDS, "from_known_sender": known}


def on_test_half(corpus: Corpus, before: Any) -> dict[str, Any]:
    """The 70/30 split, scored on the test half; the margins and the mailbox knowledge
    come from the training half alone."""
    train, test = split(list(zip(corpus.groups, corpus.raws, strict=True)))
    labels = [corpus.labels[i] for i in train]
    groups = [corpus.groups[i] for i in test]
    truth = [corpus.labels[i] for i in test]
    texts = [corpus.texts[i] for i in test]
    ours = Classifier().fit([corpus.texts[i] for i in train], labels)
    old = before.Classifier().fit([corpus.old_texts[i] for i in train], labels)
    known = mailbox(corpus, train)
    start = time.perf_counter()
    mails = [parse_mail(corpus.raws[i]) for i in test]
    guess = ours.predict([features(m) for m in mails], [known.vouches_for(m) for m in mails])
    ours_s = time.perf_counter() - start
    vouched = [known.vouches_for(corpus.mails[i]) for i in test]
    start = time.perf_counter()
    ours.predict(texts, vouched)
    classify_s = time.perf_counter() - start
    margins = [-1e9 if v else m for m, v in zip(ours.spam_margin(texts), vouched,
                                                 strict=True)]
    nb = baseline().fit([corpus.texts[i] for i in train], labels)
    start = time.perf_counter()
    nb_guess = [str(g) for g in nb.predict(texts)]
    nb_s = time.perf_counter() - start
    return {"os1": spam_scores(truth, guess, groups),
            "before": spam_scores(truth, [str(g) for g in old.predict(
                [corpus.old_texts[i] for i in test])], groups),
            "before_margin": old.margin,
            "baseline": spam_scores(truth, nb_guess, groups),
            "os1_margin": ours.margin, "ham_cost": HAM_COST,
            "os1_vouched_test_mail": sum(vouched),
            "os1_margin_0": spam_scores(truth, cut(margins, 0.0), groups),
            "os1_cost_9_margin": ours.margin_for(9),
            "os1_cost_9": spam_scores(truth, cut(margins, ours.margin_for(9)), groups),
            "tradeoff": tradeoff(truth, margins, groups),
            "os1_messages_per_s": len(test) / ours_s,
            "os1_classify_messages_per_s": len(test) / classify_s,
            "baseline_messages_per_s": len(test) / nb_s,
            "parse_messages_per_s": len(corpus.raws) / corpus.parse_s,
            "train": len(train), "test": len(test)}


def spamassassin(data: Path) -> dict[str, Any]:
    before = triage_at(BEFORE)
    corpus = load_spamassassin(data, before)
    return {"cross_validated": cross_validated(corpus, before), "before_commit": BEFORE,
            **on_test_half(corpus, before)}


def enron(data: Path) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    root = data / "enron_categories" / "enron_with_categories"
    raws = [(folder.name, path.read_bytes()) for folder in sorted(root.iterdir())
            if folder.is_dir() for path in sorted(folder.glob("*.txt"))]
    log(f"Enron: {len(raws):,} messages in {len({g for g, _ in raws})} genres")
    train, test = split(raws)
    texts = [features(parse_mail(raw)) for _, raw in raws]
    labels = [group for group, _ in raws]
    truth = [labels[i] for i in test]
    ours = Classifier().fit([texts[i] for i in train], [labels[i] for i in train])
    nb = baseline().fit([texts[i] for i in train], [labels[i] for i in train])
    guess = ours.predict([texts[i] for i in test])
    nb_guess = [str(g) for g in nb.predict([texts[i] for i in test])]
    return {"os1_macro_f1": f1_score(truth, guess, average="macro", zero_division=0),
            "baseline_macro_f1": f1_score(truth, nb_guess, average="macro", zero_division=0),
            "os1_accuracy": sum(a == b for a, b in zip(truth, guess, strict=True)) / len(test),
            "baseline_accuracy": sum(a == b for a, b in zip(truth, nb_guess, strict=True))
            / len(test), "train": len(train), "test": len(test)}


def sync_throughput(count: int) -> dict[str, Any]:
    from tests.mail_servers import Dovecot

    server = Dovecot().start()
    try:
        server.add_user("bench", "bench password")
        mails = []
        for n in range(count):
            mail = EmailMessage()
            mail["From"], mail["To"] = f"Sender {n % 13} <s{n % 13}@example.org>", "b@x.org"
            mail["Subject"] = f"Message {n} about the quarterly plan"
            mail.set_content(f"Hello,\n\nthis is message {n}. " + "Some words. " * 60)
            mails.append(mail)
        log(f"sync: putting {count:,} messages in Dovecot")
        server.append("bench", mails)
        account = MailAccount("bench", "bench@example.org", "bench", "127.0.0.1",
                              server.port, "none", "127.0.0.1", 25, "none")
        bare = _bare_fetch(server.port, count)
        with tempfile.TemporaryDirectory() as home:
            db = Database.open(Path(home) / "os1.db")
            store = MailStore(db, "bench")
            saved = store.add_account(account)
            imap = ImapServer(saved, "bench password")
            start = time.perf_counter()
            result = sync_folder(store, saved, imap)
            ours = time.perf_counter() - start
            imap.close()
            db.close()
        assert result.new == count, result
        return {"messages": count, "os1_messages_per_s": count / ours,
                "bare_imaplib_messages_per_s": count / bare, "ratio": bare / ours,  # < 1
                "note": "ratio: os1's rate as a share of the bare fetch's"}
    finally:
        server.stop()


def _bare_fetch(port: int, count: int) -> float:
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login("bench", "bench password")
    imap.select("INBOX", readonly=True)
    start = time.perf_counter()
    fetched = 0
    for first in range(1, count + 1, 100):
        _, data = imap.uid("FETCH", f"{first}:{min(count, first + 99)}", "(UID BODY.PEEK[])")
        fetched += sum(isinstance(item, tuple) for item in data)
    elapsed = time.perf_counter() - start
    imap.logout()
    assert fetched == count, fetched
    return elapsed


CV_ROWS = (("os1", "os1"), ("before (the triage at BEFORE)", "before"),
           ("os1, the lists of kept mail vouching too", "os1_lists_vouch_too"))
RATIOS = (("hard-ham false-positive rate", "fpr_hard_ham"),
          ("easy-ham false-positive rate", "fpr_easy_ham"), ("spam precision", "precision"),
          ("spam recall", "recall"), ("spam F1", "f1"))


def _scores_row(who: str, s: dict[str, Any], tail: str = "") -> str:
    return (f"| {who} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |"
            f" {s['fpr_easy_ham']:.2%} ({s['easy_ham_fp']} of {s['test_easy_ham']}) |"
            f" {s['fpr_hard_ham']:.2%} ({s['hard_ham_fp']} of {s['test_hard_ham']}) |{tail}")


def _ratio(now: float, before: float) -> str:
    return f"{now / before:.2f}x" if before else ("1.00x" if not now else "new")


def cross_validated_report(sa: dict[str, Any]) -> list[str]:
    cv, half = sa["cross_validated"], sa
    rows = [f"Cross-validated, {cv['folds']} folds over all {cv['os1']['test_spam']} spam,"
            f" {cv['os1']['test_easy_ham']} easy ham and {cv['os1']['test_hard_ham']}"
            " hard ham:", "",
            "| | spam precision | recall | F1 | FPR easy ham | FPR hard ham |",
            "|---|---:|---:|---:|---:|---:|"]
    rows += [_scores_row(who.replace("BEFORE", sa["before_commit"]), cv[key])
             for who, key in CV_ROWS]
    rows += ["", "From a sender he knew (his kept mail in the other folds): " + ", ".join(
        f"{count} {kind}" for kind, count in sorted(cv["from_known_sender"].items())) + "."]
    rows += ["", "| os1 / before | cross-validated | test half |", "|---|---:|---:|"]
    rows += [f"| {what} | {_ratio(cv['os1'][key], cv['before'][key])} |"
             f" {_ratio(half['os1'][key], half['before'][key])} |" for what, key in RATIOS]
    return [*rows, ""]


def report(results: dict[str, Any]) -> str:
    sa, en, sync = results["spamassassin"], results["enron"], results["sync"]
    rows = cross_validated_report(sa)
    rows += ["Test half:", "", "| | spam precision | recall | F1 | FPR easy ham |"
             " FPR hard ham | classify messages/s |", "|---|---:|---:|---:|---:|---:|---:|"]
    for who, speed in (("os1", "os1_classify_messages_per_s"),
                       ("baseline", "baseline_messages_per_s")):
        rows.append(_scores_row(who, sa[who], f" {sa[speed]:,.0f} |"))
    rows.append(_scores_row(f"before ({sa['before_commit']}, margin"
                            f" {sa['before_margin']:.3f})", sa["before"], " |"))
    for who, key in (("os1 at ham cost 9 (margin from training too)", "os1_cost_9"),
                     ("os1 at margin 0 (the SVM's own cut)", "os1_margin_0")):
        s = sa[key]
        rows.append(f"| {who} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |"
                    f" {s['fpr_easy_ham']:.2%} | {s['fpr_hard_ham']:.2%} | |")
    rows.append(f"\nos1's spam margin, chosen on the training half (ham cost {sa['ham_cost']}):"
                f" {sa['os1_margin']:.3f}; at ham cost 9: {sa['os1_cost_9_margin']:.3f}."
                f" Test mail from a sender the training half's ham knew:"
                f" {sa['os1_vouched_test_mail']}.")
    rows += ["", "| trade-off on the test half (reported only) | margin | spam precision |"
             " recall | F1 | FPR hard ham | FPR easy ham |", "|---|---:|---:|---:|---:|---:|---:|"]
    rows += [f"| {t['hard_ham_fp']} hard ham called spam | {t['margin']:.3f} |"
             f" {t['precision']:.3f} | {t['recall']:.3f} | {t['f1']:.3f} |"
             f" {t['fpr_hard_ham']:.2%} | {t['fpr_easy_ham']:.2%} |" for t in sa["tradeoff"]]
    rows.append(f"\nos1 parse + classify: {sa['os1_messages_per_s']:,.0f} messages/s; "
                f"parse alone {sa['parse_messages_per_s']:,.0f} messages/s.")
    rows += ["", "| Enron coarse genre | macro-F1 | accuracy |", "|---|---:|---:|",
             f"| os1 | {en['os1_macro_f1']:.3f} | {en['os1_accuracy']:.3f} |",
             f"| baseline | {en['baseline_macro_f1']:.3f} | {en['baseline_accuracy']:.3f} |",
             "", "| sync | messages/s |", "|---|---:|",
             f"| os1 sync_folder (fetch, parse, store) | {sync['os1_messages_per_s']:,.0f} |",
             f"| bare imaplib fetch | {sync['bare_imaplib_messages_per_s']:,.0f} |",
             f"| os1 as a share of bare | {sync['ratio']:.2f} |"]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sync", type=int, default=1000, help="messages for the sync test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not (args.data / "spamassassin").is_dir():
        sys.exit(f"No evaluation data at {args.data}: these benchmarks read the shared data "
                 "sets at run time (../shared/evalsets beside the repository); pass --data.")
    results = {"machine": machine(), "os1": os1_revision(),
               "spamassassin": spamassassin(args.data), "enron": enron(args.data),
               "sync": sync_throughput(args.sync)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(report(results))


if __name__ == "__main__":
    main()
