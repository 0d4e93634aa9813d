"""On which words pre-training helped: the test entities never seen in training that one strategy
tags right and the other wrong, each with its nearest training-set word in the vector space.

The neighbours are computed here, once per report, rather than in every trial: the vectors are
loaded once (not once per trial process), old stores get them without rerunning anything, and the
trials keep only what they alone know (which unseen entity each got right). A study of
classifiers has no word table (its trials record right/wrong per text, not per word).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import numpy as np

from veclift.data.schemes import spans
from veclift.errors import VecliftError
from veclift.study.conclusions import BASELINE
from veclift.study.results import StudyResults
from veclift.study.spec import Trial
from veclift.study.trial import load_vectors, split, training_set

MAX_ROWS = 40  # per table; the count says how many there are in all


@dataclasses.dataclass(frozen=True)
class WordRow:
    """One unseen test entity (its text and type, all its occurrences together): how often each
    strategy got it right (``(right, tries)``: its test occurrences times the seeds whose training
    set lacks its words) and its nearest training word."""

    text: str
    type: str
    right: dict[str, tuple[int, int]]
    neighbour: str | None = None
    similarity: float | None = None
    neighbour_type: str | None = None  # the type the neighbour mostly had in training ("O": outside entities)


@dataclasses.dataclass(frozen=True)
class WordTables:
    """At one size: ``pretrained`` vs ``scratch``; ``helped`` lists the entities ``pretrained`` tags
    right and scratch wrong (each in more than half of its tries), ``hurt`` the reverse."""

    size: int | str
    pretrained: str
    unseen: int  # distinct unseen test entities (text and type) over the seeds
    helped: list[WordRow]  # at most MAX_ROWS of them
    hurt: list[WordRow]
    helped_count: int
    hurt_count: int
    note: str | None = None  # why the neighbours are missing, when they are


def word_tables(results: StudyResults, pretrained: str, size: int | str) -> WordTables | None:
    """The word tables of ``pretrained`` vs scratch at ``size``; None when the trials lack the
    per-entity outcomes (older stores, classifiers) or one of the two strategies."""
    by_strategy = {s: results.outcomes(size, s) for s in (pretrained, BASELINE)}
    seeds = sorted(set.intersection(*(set(o) for o in by_strategy.values())))
    seeds = [s for s in seeds if all("unseen" in by_strategy[k][s] for k in by_strategy)]
    if not seeds:
        return None
    tally: dict[tuple, dict[str, list[int]]] = {}
    for seed in seeds:
        for strategy, per_seed in by_strategy.items():
            for _, _, text, kind, right, _ in per_seed[seed]["unseen"]:  # every occurrence of the entity
                tally.setdefault((text, kind), {}).setdefault(strategy, []).append(right)
    rows = []
    for (text, kind), marks in tally.items():
        n = min(len(marks.get(s, [])) for s in by_strategy)
        if n:
            rows.append(WordRow(text, kind, {s: (sum(marks[s][:n]), n) for s in by_strategy}))

    def majority(row: WordRow, strategy: str, right: bool) -> bool:
        k, n = row.right[strategy]
        return 2 * k > n if right else 2 * k < n

    helped = [r for r in rows if majority(r, pretrained, True) and majority(r, BASELINE, False)]
    hurt = [r for r in rows if majority(r, BASELINE, True) and majority(r, pretrained, False)]
    helped, hurt = (sorted(t, key=lambda r: (r.type, r.text.lower())) for t in (helped, hurt))
    note = None
    try:
        found = nearest_training_words(results, size, seeds, [r.text.split() for r in helped[:MAX_ROWS] + hurt[:MAX_ROWS]])
    except VecliftError as exc:  # the vectors may be gone since the trials ran: the table stays, without them
        found, note = {}, f"nearest training words not shown: {str(exc).splitlines()[0]}"

    def complete(table: list[WordRow]) -> list[WordRow]:
        return [dataclasses.replace(r, **found.get(r.text, {})) for r in table[:MAX_ROWS]]

    return WordTables(size, pretrained, len(rows), complete(helped), complete(hurt), len(helped), len(hurt), note)


def nearest_training_words(results: StudyResults, size: int | str, seeds: Sequence[int],
                           entities: Sequence[Sequence[str]]) -> dict[str, dict]:  # fmt: skip
    """``entity text -> {neighbour, similarity, neighbour_type}``: the training word (of the
    training sets of ``size`` for ``seeds``, words with a vector of their own) closest by cosine to
    the mean unit vector of the entity's words; the entity's own words are never their neighbour."""
    spec = results.spec
    vectors = load_vectors(spec.vectors)
    pool, _, _ = split(spec)
    key = str.lower if vectors.lowercase else str
    types: dict[str, Counter] = {}
    for seed in seeds:
        for item in training_set(spec, pool, Trial(size, BASELINE, seed)):
            inside = {i: kind for kind, start, end in spans(item.tags) for i in range(start, end)}
            for i, token in enumerate(item.tokens):
                types.setdefault(key(token), Counter())[inside.get(i, "O")] += 1
    words = sorted(w for w in types if vectors.has_row(w))
    if not words:
        return {}
    index = vectors.index
    unit = vectors.unit_rows(np.array([index[w] for w in words]))
    found = {}
    for tokens in entities:
        keys = [key(t) for t in tokens]
        rows = [index[k] for k in keys if vectors.has_row(k)]
        if not rows:
            continue
        query = vectors.unit_rows(np.array(rows)).mean(axis=0)
        similarity = unit @ query / max(float(np.linalg.norm(query)), 1e-12)
        similarity[[i for i, w in enumerate(words) if w in keys]] = -np.inf
        best = int(np.argmax(similarity))
        if np.isfinite(similarity[best]):
            found[" ".join(tokens)] = {"neighbour": words[best], "similarity": float(similarity[best]),
                                       "neighbour_type": types[words[best]].most_common(1)[0][0]}  # fmt: skip
    return found
