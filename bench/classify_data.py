"""The sentence-level test sets of the classification benchmarks: MR in 10 folds, and SST-2 sentences
held out of SST-2's phrase file so that no part of a test sentence is in training.

SST-2's train.tsv (GLUE) holds 67,349 rows: the 6,920 training sentences of the Stanford Sentiment
Treebank and every phrase of their parse trees. A row is taken as a **whole sentence** when

1. no other row contains it (at word boundaries): phrases are parts of their sentence's row, so the
   rows left are the sentences (6,886 of them: a few sentences recur inside longer ones), and
2. its last token ends a sentence: ``.``, ``!``, ``?``, ``...``, or a closing quote or bracket
   after one (6,733 rows: the 153 others are titles and fragments such as "surprisingly insightful").

Seeded stratified samples of those sentences are the test and dev sets; the training pool is every
other row that is not part of a held-out sentence (no held-out sentence contains it), so that a
model never sees a test sentence, nor any of its phrases, in training.
"""

from __future__ import annotations

from collections.abc import Sequence

from common import DATA

from veclift.data import LabeledText, kfold, read_label_files, read_table, train_test_split

SENTENCE_ENDS = (".", "!", "?", "...", "'", "''", ")", '"')
LABELS = lambda item: item.labels  # noqa: E731  (stratification key)


def whole_sentences(texts: Sequence[str]) -> list[str]:
    """The texts no other text contains (at word boundaries) that end as a sentence ends."""
    # By substring search in one joined string, longest text first (a text can only be inside one
    # kept before it): `str.__contains__` scans the 700 kB of sentences in under a millisecond,
    # where an index of every n-gram of 67k phrases would be far larger.
    unique = sorted(set(texts), key=lambda t: (-len(t), t))
    kept: list[str] = []
    joined, pending = "", []
    for text in unique:
        probe = f" {text} "
        if probe in joined or any(probe in other for other in pending):
            continue
        kept.append(text)
        pending.append(probe)
        if len(pending) >= 100:
            joined += "\n".join(pending) + "\n"
            pending = []
    return sorted(t for t in kept if t.split()[-1].endswith(SENTENCE_ENDS))


def sst2_rows() -> list[LabeledText]:
    return read_table(DATA / "classify" / "sst2" / "train.tsv")


def sst2_sentence_split(rows: Sequence[LabeledText], *, test: int = 1000, dev: int = 500,
                        seed: int = 0) -> tuple[list[LabeledText], list[LabeledText], list[LabeledText]]:  # fmt: skip
    """(training pool, dev sentences, test sentences): ``test`` and ``dev`` whole sentences drawn
    (seeded, stratified), and the rows that are no part of any of them."""
    text_of = {row: " ".join(row.tokens) for row in rows}
    sentences = set(whole_sentences([text_of[row] for row in rows]))
    candidates = list({text_of[row]: row for row in rows if text_of[row] in sentences}.values())
    rest, held_test = train_test_split(candidates, test / len(candidates), seed=seed, stratify=LABELS)
    _, held_dev = train_test_split(rest, dev / len(rest), seed=seed, stratify=LABELS)
    held = [text_of[row] for row in held_test + held_dev]
    joined = "\n".join(f" {text} " for text in held)
    pool = [row for row in rows if f" {text_of[row]} " not in joined]
    return pool, held_dev, held_test


def mr_items() -> list[LabeledText]:
    files = [DATA / "classify" / "mr" / "rt-polarity.pos", DATA / "classify" / "mr" / "rt-polarity.neg"]
    return read_label_files(files)


def mr_folds(items: Sequence[LabeledText], k: int = 10, seed: int = 0,
             dev_fraction: float = 0.1) -> list[tuple[list[LabeledText], list[LabeledText], list[LabeledText]]]:  # fmt: skip
    """``k`` stratified folds as (train, dev, test): each fold's test is one tenth, and ``dev_fraction``
    of the rest is the dev set (early stopping only; the baselines train on train alone)."""
    folds = []
    for rest, test in kfold(items, k, seed=seed, stratify=LABELS):
        train, dev = train_test_split(rest, dev_fraction, seed=seed, stratify=LABELS)
        folds.append((train, dev, test))
    return folds
