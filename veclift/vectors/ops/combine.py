"""Concatenate several vector sets into one, word by word, over a shared or joint vocabulary.

What counts as *raw*: a set whose non-zero rows are not unit length (any row norm off 1 by
more than ``UNIT_TOLERANCE``). Concatenating raw sets as they are (``normalize=False``) is
refused unless ``force=True``: the cosine of two concatenated vectors is a norm-weighted mix
of each set's cosine, so the set with the larger norms (GloVe's rows are ~5 long, word2vec's
~2-3, and norms grow with word frequency) silently dominates every similarity and the other
sets contribute next to nothing. Unit-normalising each set first makes the combined cosine the
plain average of the per-set cosines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.linalg import orthogonal_procrustes
from sklearn.decomposition import PCA

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.normalize import normalize_rows

VOCABULARIES = ("union", "intersection")
UNIT_TOLERANCE = 0.01


@dataclass(frozen=True)
class SetReport:
    source: str
    dim: int
    known: int
    recovered: dict[str, int]
    zero_filled: int
    mean_norm: float


@dataclass(frozen=True)
class CombineReport:
    vocab: str
    words: int
    dim: int
    normalized: bool
    aligned: bool
    reduced_to: int | None
    forced: bool
    sets: list[SetReport] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def mean_row_norm(vectors: Vectors) -> float:
    norms = vectors.norms
    return float(norms.mean()) if len(norms) else 0.0


def is_normalized(vectors: Vectors, tolerance: float = UNIT_TOLERANCE) -> bool:
    """True when every non-zero row has unit length (within ``tolerance``)."""
    norms = vectors.norms[vectors.norms > 0]
    return bool(np.all(np.abs(norms - 1.0) <= tolerance))


def combined_vocabulary(sets: Sequence[Vectors], vocab: str) -> list[str]:
    """``union``: every word of every set (first set's order, then new words); ``intersection``: words in all."""
    if vocab == "union":
        return list(dict.fromkeys(w for s in sets for w in s.words))
    if vocab == "intersection":
        return [w for w in dict.fromkeys(sets[0].words) if all(w in s.index for s in sets[1:])]
    raise VecliftError(f"unknown vocabulary {vocab!r}: choose {' or '.join(VOCABULARIES)}")


def _refuse_raw(sets: Sequence[Vectors]) -> None:
    raw = [s for s in sets if not is_normalized(s)]
    if raw:
        listed = ", ".join(f"{s.source or 'unnamed'} (mean row norm {mean_row_norm(s):.2f})" for s in raw)
        raise VecliftError(
            f"refusing to concatenate raw vectors: {listed} are not unit-normalised, so the set with the larger "
            "norms would dominate every cosine of the combined vectors and the others would barely count; "
            "keep normalisation on (the default) or force it"
        )


def combine(
    sets: Sequence[Vectors],
    *,
    vocab: str = "union",
    normalize: bool = True,
    align: bool = False,
    reduce_to: int | None = None,
    force: bool = False,
    seed: int = 0,
) -> tuple[Vectors, CombineReport]:
    """Concatenate ``sets`` row by row over the ``union`` or ``intersection`` vocabulary.

    Per set, in order: rows for every word (known, else the set's OOV chain, else zeros —
    counted in the report); optional PCA to ``reduce_to`` dimensions (fitted on the set's
    known rows); optional rotation onto the first set (orthogonal Procrustes on the words both
    know; needs equal dimensions); unit normalisation unless ``normalize=False``.
    """
    if len(sets) < 2:
        raise VecliftError("combining needs at least two vector sets")
    if not normalize and not force:
        _refuse_raw(sets)
    words = combined_vocabulary(sets, vocab)
    if not words:
        raise VecliftError("the vector sets share no words: the intersection vocabulary is empty")
    blocks, reports, known_masks = [], [], []
    for i, vectors in enumerate(sets):
        block, how = vectors.lookup(words)
        known = np.array([h == "known" for h in how])
        filled = np.array([h is not None for h in how])
        if reduce_to is not None:
            block = _reduce_block(vectors, block, filled, reduce_to, seed)
        if align and i > 0:
            block = _rotate_onto(block, known & known_masks[0], blocks[0], vectors, sets[0])
        blocks.append(normalize_rows(block) if normalize else block)
        known_masks.append(known)
        recovered = Counter(h for h in how if h not in (None, "known"))
        reports.append(
            SetReport(
                source=vectors.source,
                dim=block.shape[1],
                known=int(known.sum()),
                recovered=dict(recovered),
                zero_filled=int((~filled).sum()),
                mean_norm=mean_row_norm(vectors),
            )
        )
    matrix = np.hstack(blocks).astype(np.float32)
    meta = {
        "combined": [s.source for s in sets],
        "vocab": vocab,
        "normalized": False,
    }
    combined = Vectors(words, matrix, source="+".join(s.source for s in sets), meta=meta)
    report = CombineReport(
        vocab=vocab,
        words=len(words),
        dim=combined.dim,
        normalized=normalize,
        aligned=align,
        reduced_to=reduce_to,
        forced=force and not normalize,
        sets=reports,
    )
    return combined, report


def _reduce_block(vectors: Vectors, block: np.ndarray, filled: np.ndarray, dim: int, seed: int) -> np.ndarray:
    if not 1 <= dim <= vectors.dim:
        raise VecliftError(f"cannot reduce {vectors.source or 'a set'} of {vectors.dim} dimensions to {dim}")
    pca = PCA(n_components=dim, random_state=seed)
    pca.fit(vectors.matrix)
    out = np.zeros((len(block), dim), np.float32)
    out[filled] = pca.transform(block[filled])
    return out


def _rotate_onto(
    block: np.ndarray, shared: np.ndarray, reference: np.ndarray, vectors: Vectors, first: Vectors
) -> np.ndarray:
    if block.shape[1] != reference.shape[1]:
        raise VecliftError(
            f"cannot align {vectors.source or 'a set'} ({block.shape[1]} dimensions) onto {first.source or 'the first set'} "
            f"({reference.shape[1]}): give a common reduced dimension"
        )
    if not shared.any():
        raise VecliftError(f"{vectors.source or 'a set'} shares no known word with {first.source or 'the first set'}")
    rotation, _ = orthogonal_procrustes(normalize_rows(block[shared]), normalize_rows(reference[shared]))
    return block @ rotation.astype(np.float32)
