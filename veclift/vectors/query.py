"""Exact nearest-neighbour queries on a `Vectors` object: similarity, most_similar, analogies.

Cosines come from the raw rows and ``Vectors.norms`` (stored with the native format, else computed
once per object) with float32 BLAS products: no normalized copy of the matrix is built, so the first
query after opening costs what the next ones do. A single ``most_similar`` divides the products by the
norms; the chunked searches normalize each chunk of rows as they go. Semantics follow gensim's
``KeyedVectors``: query words are excluded from the answers, ``restrict_vocab=N`` searches only the
first N rows (the most frequent words for GloVe/word2vec).
Words unknown to the vectors go through the OOV chain when one is set, else ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from veclift.vectors.normalize import normalize_rows

if TYPE_CHECKING:
    from veclift.vectors.core import Vectors

Query = str | np.ndarray
ANALOGY_METHODS = ("3cosadd", "3cosmul")
_CHUNK_ROWS = 16384
# 3CosMul (Levy & Goldberg 2014) shifts cosines to [0, 1] and divides by this guard, as gensim does.
_COSMUL_EPS = 1e-6


def unit_vector(vectors: Vectors, item: Query) -> tuple[np.ndarray, int | None]:
    """The unit vector of a word (known or OOV-resolved) or of a raw vector, and its row if known."""
    if isinstance(item, str):
        row = vectors.index.get(item)
        if row is not None:
            return vectors.unit_rows(row), row
        return normalize_rows(np.asarray(vectors.get_vector(item), dtype=np.float32)), None
    return normalize_rows(np.asarray(item, dtype=np.float32)), None


def _limit(vectors: Vectors, restrict_vocab: int | None) -> int:
    return len(vectors) if restrict_vocab is None else max(0, min(int(restrict_vocab), len(vectors)))


def similarity(vectors: Vectors, w1: Query, w2: Query) -> float:
    """Cosine similarity of two words (or vectors)."""
    return float(np.dot(unit_vector(vectors, w1)[0], unit_vector(vectors, w2)[0]))


def _as_list(items: Query | Sequence[Query]) -> list[Query]:
    if isinstance(items, str | np.ndarray):
        return [items]
    return list(items)


def _combined_query(vectors: Vectors, positive: Sequence[Query], negative: Sequence[Query]) -> tuple[np.ndarray, list[int]]:
    """gensim's query: the normalised mean of +unit(positive) and -unit(negative); rows to exclude."""
    parts, exclude = [], []
    for sign, items in ((1.0, positive), (-1.0, negative)):
        for item in items:
            vec, row = unit_vector(vectors, item)
            parts.append(sign * vec)
            if row is not None:
                exclude.append(row)
    if not parts:
        raise ValueError("most_similar needs at least one positive or negative word")
    return normalize_rows(np.mean(parts, axis=0)), exclude


def _top_of_scores(scores: np.ndarray, topn: int, exclude: Sequence[int]) -> np.ndarray:
    """Indices of the ``topn`` highest scores, best first, skipping ``exclude``.

    Instead of partitioning all scores, a threshold from the first rows (frequent words, which
    hold most neighbours) selects a handful of candidates: same answer, a fraction of the time.
    """
    want = min(topn + len(exclude), len(scores))
    if want <= 0:
        return np.zeros(0, dtype=np.int64)
    head = scores[: max(want, min(len(scores), 20000))]
    threshold = np.partition(head, len(head) - want)[len(head) - want]
    candidates = np.flatnonzero(scores >= threshold)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    if exclude:
        order = order[~np.isin(order, np.asarray(exclude))]
    return order[:topn]


def _cosines(vectors: Vectors, query: np.ndarray, limit: int) -> np.ndarray:
    """Cosine of a unit ``query`` with each of the first ``limit`` rows: one product, divided by the norms."""
    norms = vectors.norms[:limit]
    return np.divide(vectors.matrix[:limit] @ query, norms, out=np.zeros(limit, np.float32), where=norms > 0)


def most_similar(
    vectors: Vectors,
    positive: Query | Sequence[Query] = (),
    negative: Query | Sequence[Query] = (),
    topn: int = 10,
    restrict_vocab: int | None = None,
) -> list[tuple[str, float]]:
    """The ``topn`` words closest (cosine) to mean(positive) - mean(negative), query words excluded."""
    query, exclude = _combined_query(vectors, _as_list(positive), _as_list(negative))
    limit = _limit(vectors, restrict_vocab)
    scores = _cosines(vectors, query, limit)
    best = _top_of_scores(scores, topn, [r for r in exclude if r < limit])
    return [(vectors.words[i], float(scores[i])) for i in best]


def top_k_chunked(
    score_chunk: Callable[[int, int], np.ndarray],
    n_queries: int,
    n_rows: int,
    k: int,
    exclude: Sequence[Sequence[int]] = (),
    chunk_rows: int = _CHUNK_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """Running top-k over vocabulary chunks: ``score_chunk(start, stop)`` gives (n_queries, stop-start).

    Returns (indices, scores), each (n_queries, k), best first; ``exclude[q]`` lists rows never
    returned for query q. A per-query threshold (the current k-th best) keeps only the few
    entries of each new chunk that can enter the top k, so the full score matrix is never
    partitioned. Missing answers (k > rows) have index -1 and score -inf.
    """
    top_scores = np.full((n_queries, k), -np.inf, dtype=np.float32)
    top_index = np.full((n_queries, k), -1, dtype=np.int64)
    ex_rows = np.repeat(np.arange(len(exclude), dtype=np.int64), [len(e) for e in exclude]) if exclude else None
    ex_cols = np.concatenate([np.asarray(e, dtype=np.int64) for e in exclude]) if exclude else None
    # A small first chunk (the most frequent words) sets good thresholds cheaply.
    bounds = [0, *range(min(2048, chunk_rows), n_rows, chunk_rows), n_rows]
    for start, stop in zip(bounds[:-1], bounds[1:]):
        scores = np.asarray(score_chunk(start, stop), dtype=np.float32)
        if scores.base is not None:  # a view of the caller's data: never write into it
            scores = scores.copy()
        if ex_rows is not None:
            hit = (ex_cols >= start) & (ex_cols < stop)
            scores[ex_rows[hit], ex_cols[hit] - start] = -np.inf
        if k == 1:  # the best answer only (analogy evaluation): one argmax pass per chunk
            best = scores.argmax(axis=1) if scores.shape[1] else np.zeros(n_queries, np.int64)
            value = scores[np.arange(n_queries), best] if scores.shape[1] else top_scores[:, 0]
            better = value > top_scores[:, 0]
            top_scores[better, 0] = value[better]
            top_index[better, 0] = best[better] + start
            continue
        passing = scores > top_scores[:, -1:]
        if np.count_nonzero(passing) > 4 * k * n_queries and scores.shape[1] > k:
            cols = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            rows = np.repeat(np.arange(n_queries), k)
            cols = cols.ravel()
            keep = np.isfinite(scores[rows, cols])
            rows, cols = rows[keep], cols[keep]
        else:
            rows, cols = np.divmod(np.flatnonzero(passing), scores.shape[1])
        if not len(rows):
            continue
        all_rows = np.concatenate([np.repeat(np.arange(n_queries), k), rows])
        all_scores = np.concatenate([top_scores.ravel(), scores[rows, cols]])
        all_index = np.concatenate([top_index.ravel(), cols + start])
        order = np.lexsort((-all_scores, all_rows))
        first = np.searchsorted(all_rows[order], np.arange(n_queries))
        pick = order[(first[:, None] + np.arange(k)).ravel()]
        top_scores = all_scores[pick].reshape(n_queries, k)
        top_index = np.where(np.isfinite(top_scores), all_index[pick].reshape(n_queries, k), -1)
    return top_index, top_scores


def most_similar_many(
    vectors: Vectors,
    queries: Sequence[Query | Sequence[Query]],
    topn: int = 10,
    restrict_vocab: int | None = None,
) -> list[list[tuple[str, float]]]:
    """``most_similar`` for many queries at once (each a word, a vector, or a list of positive words)."""
    if not queries:
        return []
    built = [_combined_query(vectors, _as_list(q), ()) for q in queries]
    matrix = np.stack([q for q, _ in built]).astype(np.float32)
    limit = _limit(vectors, restrict_vocab)
    index, scores = top_k_chunked(
        lambda a, b: matrix @ vectors.unit_rows(slice(a, b)).T, len(matrix), limit, topn, [ex for _, ex in built]
    )
    words = vectors.words
    return [[(words[i], float(s)) for i, s in zip(ix, sc) if i >= 0] for ix, sc in zip(index, scores)]


def analogy_scorer(
    vectors: Vectors, a: np.ndarray, b: np.ndarray, c: np.ndarray, method: str = "3cosadd"
) -> Callable[[int, int], np.ndarray]:
    """A ``score_chunk`` for ``top_k_chunked`` over ``vectors``: rows of unit vectors a, b, c; a is to b as c is to ?"""
    if method == "3cosadd":
        query = b - a + c
        query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
        return lambda start, stop: query @ vectors.unit_rows(slice(start, stop)).T
    if method == "3cosmul":

        def cosmul(start: int, stop: int) -> np.ndarray:
            # ((1+cos_b)/2 * (1+cos_c)/2) / ((1+cos_a)/2 + eps)
            # = (1 + cos_b)(1 + cos_c) / (2 (1 + cos_a + 2 eps)), computed in place
            block = vectors.unit_rows(slice(start, stop)).T
            score = b @ block
            score += 1.0
            other = c @ block
            other += 1.0
            score *= other
            other = a @ block
            other += 1.0 + 2.0 * _COSMUL_EPS
            other *= 2.0
            score /= other
            return score

        return cosmul
    raise ValueError(f"unknown analogy method {method!r}; use one of {', '.join(ANALOGY_METHODS)}")


def analogy(
    vectors: Vectors,
    a: Query,
    b: Query,
    c: Query,
    topn: int = 5,
    method: str = "3cosadd",
    restrict_vocab: int | None = None,
) -> list[tuple[str, float]]:
    """a is to b as c is to ?: the ``topn`` answers (a, b, c excluded) by 3CosAdd or 3CosMul."""
    method = method.lower()
    (ua, ra), (ub, rb), (uc, rc) = (unit_vector(vectors, w) for w in (a, b, c))
    limit = _limit(vectors, restrict_vocab)
    scorer = analogy_scorer(vectors, ua[None], ub[None], uc[None], method)
    exclude = [[r for r in (ra, rb, rc) if r is not None and r < limit]]
    index, scores = top_k_chunked(scorer, 1, limit, topn, exclude)
    return [(vectors.words[i], float(s)) for i, s in zip(index[0], scores[0]) if i >= 0]


def doesnt_match(vectors: Vectors, words: Sequence[str]) -> str:
    """The word farthest (cosine) from the mean of the others' unit vectors, as gensim does."""
    if len(words) < 2:
        raise ValueError("doesnt_match needs at least two words")
    unit = np.stack([unit_vector(vectors, w)[0] for w in words])
    mean = normalize_rows(unit.mean(axis=0))
    return words[int(np.argmin(unit @ mean))]
