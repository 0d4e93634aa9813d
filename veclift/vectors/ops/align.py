"""Orthogonal Procrustes alignment of one vector space onto another through anchor words.

The rotation W minimises ||X W - Y|| over orthogonal W, where the rows of X and Y are the
source and target vectors of the anchor words (scipy's ``orthogonal_procrustes``). A seeded
share of the anchors is held out of the fit and used to measure translation precision@k:
the aligned source vector of a held-out word must find its own target word among the k
nearest target words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.linalg import orthogonal_procrustes

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.normalize import normalize_rows
from veclift.vectors.wordlists import read_word_pairs

DEFAULT_MAX_ANCHORS = 20000
DEFAULT_HELD_OUT = 0.1
# Held-out evaluation needs a few anchors left for the fit, and a handful to be meaningful.
_MIN_ANCHORS_FOR_HELD_OUT = 10


@dataclass(frozen=True)
class AlignmentReport:
    anchors: int
    fit_anchors: int
    held_out: int
    anchor_source: str
    skipped_pairs: int
    center: bool
    normalize: bool
    fit_cosine: float
    precision_at_1: float | None
    precision_at_5: float | None
    search_vocab: int
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


def read_dictionary(path: str | Path) -> list[tuple[str, str]]:
    """A seed (e.g. bilingual) dictionary: one ``source_word target_word`` pair per line."""
    return read_word_pairs(path)


def anchor_pairs(
    source: Vectors,
    target: Vectors,
    dictionary: Sequence[tuple[str, str]] | None = None,
    max_anchors: int | None = DEFAULT_MAX_ANCHORS,
) -> tuple[list[tuple[int, int]], int]:
    """(source row, target row) anchor pairs and how many dictionary pairs were skipped.

    Without a dictionary the anchors are the shared words, in the source's order (the most
    frequent first for GloVe/word2vec/fastText files), limited to ``max_anchors``.
    """
    s_index, t_index = source.index, target.index
    if dictionary is None:
        rows = [(s_index[w], t_index[w]) for w in source.words if w in t_index]
        rows = list(dict.fromkeys(rows))
        if not rows:
            raise VecliftError(
                f"the source ({source.source or 'unnamed'}) and target ({target.source or 'unnamed'}) share no words: "
                "give a seed dictionary of 'source target' pairs"
            )
        return rows[:max_anchors] if max_anchors else rows, 0
    rows, skipped, seen = [], 0, set()
    for s, t in dictionary:
        if s in s_index and t in t_index:
            if s not in seen:
                rows.append((s_index[s], t_index[t]))
                seen.add(s)
        else:
            skipped += 1
    if not rows:
        raise VecliftError(f"none of the {len(dictionary)} dictionary pairs has both words in the vectors")
    return rows[:max_anchors] if max_anchors else rows, skipped


def _prepare(matrix: np.ndarray, center: bool, normalize: bool, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optionally unit-normalise, centre and re-normalise rows (Artetxe et al. 2018); also the mean removed.

    The mean is taken over the anchor ``rows`` only: the two vocabularies can differ in size and
    make-up (20k corpus words against 400k GloVe words), and only the anchors are matched.
    """
    out = np.asarray(matrix, dtype=np.float32)
    mean = np.zeros(out.shape[1], np.float32)
    if normalize:
        out = normalize_rows(out)
    if center:
        mean = out[rows].mean(axis=0)
        out = out - mean
        if normalize:
            out = normalize_rows(out)
    return out, mean


def _mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.sum(normalize_rows(a) * normalize_rows(b), axis=1)))


def align(
    source: Vectors,
    target: Vectors,
    *,
    dictionary: Sequence[tuple[str, str]] | str | Path | None = None,
    max_anchors: int | None = DEFAULT_MAX_ANCHORS,
    center: bool = False,
    normalize: bool = False,
    held_out: float = DEFAULT_HELD_OUT,
    search_vocab: int | None = None,
    seed: int = 0,
) -> tuple[Vectors, AlignmentReport]:
    """Rotate ``source`` onto ``target``; return the aligned source vectors and a report.

    ``center``/``normalize`` preprocess both spaces before the fit (centring removes each
    space's mean over the fit anchors); the aligned vectors are then shifted by the target's
    mean so they live in the target's coordinates. ``held_out``
    anchors (a seeded random share) are kept out of the fit and searched among the first
    ``search_vocab`` target words (all by default) for precision@1/@5. The source's OOV chain
    is not carried over: it was fitted in the unrotated space.
    """
    if source.dim != target.dim:
        raise VecliftError(
            f"the source has {source.dim} dimensions and the target {target.dim}: an orthogonal map needs equal "
            "dimensions; reduce the larger one first (`veclift vectors reduce --dim`)"
        )
    if not 0 <= held_out < 1:
        raise VecliftError(f"held_out must be a fraction in [0, 1), got {held_out}")
    anchor_source = "shared vocabulary"
    if isinstance(dictionary, str | Path):
        anchor_source = str(dictionary)
        dictionary = read_dictionary(dictionary)
    elif dictionary is not None:
        anchor_source = "given pairs"
    pairs, skipped = anchor_pairs(source, target, dictionary, max_anchors)

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    n_test = int(round(len(pairs) * held_out)) if len(pairs) >= _MIN_ANCHORS_FOR_HELD_OUT else 0
    test = [pairs[i] for i in order[:n_test]]
    fit = [pairs[i] for i in order[n_test:]]

    s_rows = np.array([s for s, _ in fit])
    t_rows = np.array([t for _, t in fit])
    src, _ = _prepare(source.matrix, center, normalize, s_rows)
    tgt, tgt_mean = _prepare(target.matrix, center, normalize, t_rows)
    rotation, _ = orthogonal_procrustes(src[s_rows], tgt[t_rows])
    rotation = rotation.astype(np.float32)
    mapped = src @ rotation
    fit_cosine = _mean_cosine(mapped[s_rows], tgt[t_rows])
    aligned_matrix = mapped + tgt_mean

    p1 = p5 = None
    if test:
        p1, p5 = _precision_at(aligned_matrix, target, test, search_vocab)
    meta = source.derived_meta(
        aligned_to=target.source,
        alignment={"anchors": len(pairs), "center": center, "normalize": normalize, "seed": seed},
        normalized=normalize and not center,
    )
    aligned = Vectors(source.words, aligned_matrix, oov=None, source=f"{source.source} aligned", meta=meta)
    report = AlignmentReport(
        anchors=len(pairs),
        fit_anchors=len(fit),
        held_out=len(test),
        anchor_source=anchor_source,
        skipped_pairs=skipped,
        center=center,
        normalize=normalize,
        fit_cosine=fit_cosine,
        precision_at_1=p1,
        precision_at_5=p5,
        search_vocab=min(search_vocab or len(target), len(target)),
        seed=seed,
    )
    return aligned, report


def _precision_at(
    aligned_matrix: np.ndarray, target: Vectors, test: list[tuple[int, int]], search_vocab: int | None
) -> tuple[float, float]:
    """Share of held-out anchors whose target word is the nearest (P@1) or among the 5 nearest (P@5)."""
    queries = [aligned_matrix[s] for s, _ in test]
    found = target.most_similar_many(queries, topn=5, restrict_vocab=search_vocab)
    words = target.words
    hits1 = hits5 = 0
    for (_, t), neighbors in zip(test, found):
        names = [w for w, _ in neighbors]
        hits1 += bool(names) and names[0] == words[t]
        hits5 += words[t] in names
    return hits1 / len(test), hits5 / len(test)
