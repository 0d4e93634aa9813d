"""GloVe (Pennington et al. 2014): distance-weighted co-occurrence counts, then weighted least squares.

Written by hand because no maintained PyPI package trains GloVe on current Python; the
counting is vectorised with numpy/scipy and the fitting runs in PyTorch.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
import torch

from veclift.errors import VecliftError
from veclift.pretrain.corpus import Corpus
from veclift.pretrain.training import PreparedCorpus, as_prepared
from veclift.progress import progress as progress_bar
from veclift.vectors.core import Vectors


@dataclass(frozen=True)
class GloveSettings:
    """GloVe's hyperparameters: vector size, context words on each side (weighted 1/distance), passes over
    the co-occurring pairs, the fewest occurrences of a kept word, the count that gets full weight and the
    weighting exponent, AdaGrad's step size, pairs per update, seed, and torch threads while fitting (the
    per-batch operations are small: on a busy machine extra threads mostly add waiting, 12x slower with 2
    threads on a loaded 2-core box)."""

    dim: int = 100
    window: int = 10
    epochs: int = 25
    min_count: int = 5
    x_max: float = 10.0
    alpha: float = 0.75
    learning_rate: float = 0.05
    batch_size: int = 8192
    seed: int = 0
    threads: int = 1


def count_cooccurrences(
    sentences: Iterable[list[str]],
    index: dict[str, int],
    *,
    window: int = 10,
    chunk_tokens: int = 500_000,
    total_tokens: int | None = None,
    progress: bool = False,
) -> sp.csr_matrix:
    """Symmetric co-occurrence matrix: a pair ``d`` words apart adds ``1/d`` to X[i, j] and X[j, i].

    As in GloVe's ``cooccur``, words outside ``index`` are dropped before windowing and windows
    stop at sentence ends. The sentences stream in chunks of about ``chunk_tokens`` tokens, so
    memory holds one chunk's pairs (``window * chunk_tokens``) plus the matrix itself.
    """
    size = len(index)
    total = sp.csr_matrix((size, size), dtype=np.float64)
    ids: list[np.ndarray] = []
    pending = 0
    with progress_bar("Counting co-occurrences", total_tokens, enabled=progress) as update:
        for sentence in sentences:
            row = np.fromiter((index[w] for w in sentence if w in index), dtype=np.int64)
            if len(row) > 1:
                ids.append(row)
                pending += len(row)
            update(advance=len(sentence))
            if pending >= chunk_tokens:
                total = total + _count_chunk(ids, size, window)
                ids, pending = [], 0
                update(info=f"{total.nnz:,} non-zero cells")
        if ids:
            total = total + _count_chunk(ids, size, window)
        update(info=f"{total.nnz:,} non-zero cells")
    return (total + total.T).tocsr()


def _count_chunk(sentences: list[np.ndarray], size: int, window: int) -> sp.csr_matrix:
    """Pairs (earlier word, later word) at each distance, summed by scipy's duplicate merging."""
    ids = np.concatenate(sentences)
    sentence_of = np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])
    rows, cols, weights = [], [], []
    for distance in range(1, window + 1):
        same = sentence_of[:-distance] == sentence_of[distance:]
        rows.append(ids[:-distance][same])
        cols.append(ids[distance:][same])
        weights.append(np.full(int(same.sum()), 1.0 / distance))
    return sp.coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    ).tocsr()


def glove_loss_terms(
    w: torch.Tensor, c: torch.Tensor, bw: torch.Tensor, bc: torch.Tensor, log_x: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """Per-cell GloVe cost ``f(X_ij) (w_i . c_j + b_i + b~_j - log X_ij)^2 / 2``."""
    diff = (w * c).sum(1) + bw + bc - log_x
    return 0.5 * weight * diff * diff


def fit_glove(
    cooccurrences: sp.spmatrix, settings: GloveSettings = GloveSettings(), *, progress: bool = True
) -> tuple[np.ndarray, list[float], list[float]]:
    """Fit GloVe with AdaGrad over shuffled batches of the non-zero cells (``window`` and ``min_count`` were
    the counting's).

    Returns ``W + W~`` (the word plus context vectors, as GloVe reports them), the mean cost
    per cell after each epoch and the seconds each epoch took. Parameters start uniform in
    ``(-0.5, 0.5) / dim`` and AdaGrad's squared-gradient sums start at 1, as in GloVe's C code.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        return _fit(cooccurrences, settings, progress)
    finally:
        torch.set_num_threads(previous)


def _fit(cooccurrences: sp.spmatrix, settings: GloveSettings, progress: bool) -> tuple[np.ndarray, list[float], list[float]]:
    dim, epochs, batch_size = settings.dim, settings.epochs, settings.batch_size
    coo = cooccurrences.tocoo()
    if coo.nnz == 0:
        raise VecliftError("no word pairs co-occur: the corpus is too small for this --min-count and --window")
    size = coo.shape[0]
    generator = torch.Generator().manual_seed(settings.seed)
    rows = torch.from_numpy(coo.row.astype(np.int64))
    cols = torch.from_numpy(coo.col.astype(np.int64))
    counts = torch.from_numpy(coo.data.astype(np.float32))
    log_x = counts.log()
    weight = torch.clamp(counts / settings.x_max, max=1.0) ** settings.alpha

    def table(width: int) -> torch.nn.Embedding:
        emb = torch.nn.Embedding(size, width, sparse=True)
        with torch.no_grad():
            emb.weight.copy_((torch.rand(size, width, generator=generator) - 0.5) / dim)
        return emb

    words, contexts, word_bias, context_bias = table(dim), table(dim), table(1), table(1)
    parameters = [p for t in (words, contexts, word_bias, context_bias) for p in t.parameters()]
    optimizer = torch.optim.Adagrad(parameters, lr=settings.learning_rate, initial_accumulator_value=1.0)
    losses, seconds = [], []
    # Adagrad builds sparse tensors from the embeddings' valid indices: skip torch's re-checking.
    with torch.sparse.check_sparse_tensor_invariants(enable=False), progress_bar(
        "GloVe", epochs * coo.nnz, enabled=progress
    ) as update:
        for epoch in range(epochs):
            started = time.perf_counter()
            order = torch.randperm(coo.nnz, generator=generator)
            total = 0.0
            for start in range(0, coo.nnz, batch_size):
                batch = order[start : start + batch_size]
                i, j = rows[batch], cols[batch]
                cost = glove_loss_terms(
                    words(i), contexts(j), word_bias(i).squeeze(1), context_bias(j).squeeze(1), log_x[batch], weight[batch]
                ).sum()
                optimizer.zero_grad()
                cost.backward()
                optimizer.step()
                total += cost.item()
                update(advance=len(batch))
            losses.append(total / coo.nnz)
            seconds.append(time.perf_counter() - started)
            update(info=f"epoch {epoch + 1}/{epochs} · cost {losses[-1]:.4f} · {coo.nnz / seconds[-1]:,.0f} cells/s", log=True)
    matrix = (words.weight + contexts.weight).detach().numpy().astype(np.float32)
    return matrix, losses, seconds


def train_glove(
    corpus: Corpus | PreparedCorpus, settings: GloveSettings = GloveSettings(), *, progress: bool = True
) -> Vectors:
    """Count co-occurrences of the words seen ``min_count`` times, then fit GloVe; rows by frequency."""
    if settings.epochs < 1:
        raise VecliftError("--epochs must be at least 1")
    if settings.x_max <= 0 or settings.learning_rate <= 0:
        raise VecliftError(f"--x-max and --learning-rate must be above 0, got {settings.x_max} and {settings.learning_rate}")
    prepared = as_prepared(corpus, progress)
    try:
        kept = prepared.vocabulary.kept(settings.min_count)
        if not kept:
            raise VecliftError(f"no word occurs {settings.min_count} times or more: lower --min-count")
        words = list(kept)
        index = {w: i for i, w in enumerate(words)}
        started = time.perf_counter()
        matrix_x = count_cooccurrences(
            prepared.sentences(), index, window=settings.window, total_tokens=prepared.vocabulary.tokens, progress=progress
        )
        counting_seconds = time.perf_counter() - started
    finally:
        if prepared is not corpus:
            prepared.close()
    vectors, losses, seconds = fit_glove(matrix_x, settings, progress=progress)
    options = {k: v for k, v in asdict(settings).items() if k != "threads"}
    stats = {
        "corpus_tokens": prepared.vocabulary.tokens,
        "vocabulary": len(words),
        "nonzero_cells": int(matrix_x.nnz),
        "counting_seconds": round(counting_seconds, 3),
        "epoch_seconds": [round(s, 3) for s in seconds],
        "cost_per_epoch": [round(c, 6) for c in losses],
    }
    return Vectors(words, vectors, source="glove", meta={"trainer": "glove", "options": options, "training": stats})
