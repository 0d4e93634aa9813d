"""Dimension reduction (PCA) and "all-but-the-top" post-processing (Mu & Viswanath 2018)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.decomposition import PCA

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors


@dataclass(frozen=True)
class ReduceReport:
    input_dim: int
    output_dim: int
    removed_top: int
    explained_variance: float | None
    removed_variance: float | None
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


def all_but_the_top(matrix: np.ndarray, remove_top: int, *, seed: int = 0) -> tuple[np.ndarray, float]:
    """Subtract the mean, then the projections on the top ``remove_top`` principal components.

    Returns the processed matrix and the share of variance the removed components carried.
    """
    centred = np.asarray(matrix, dtype=np.float32) - matrix.mean(axis=0, dtype=np.float64).astype(np.float32)
    if remove_top == 0:
        return centred, 0.0
    pca = PCA(n_components=remove_top, random_state=seed).fit(centred)
    top = pca.components_.astype(np.float32)
    return centred - (centred @ top.T) @ top, float(pca.explained_variance_ratio_.sum())


def reduce(
    vectors: Vectors, dim: int | None = None, *, remove_top: int = 0, seed: int = 0
) -> tuple[Vectors, ReduceReport]:
    """PCA to ``dim`` dimensions, after removing the top ``remove_top`` components if asked.

    With ``remove_top`` the steps are Mu & Viswanath's post-processing (mean and dominant
    directions removed) followed by PCA; with ``dim`` None only the post-processing runs.
    The OOV chain is dropped: it was fitted in the original space.
    """
    if dim is None and remove_top == 0:
        raise VecliftError("nothing to do: give a target dimension, components to remove, or both")
    if dim is not None and not 1 <= dim <= vectors.dim:
        raise VecliftError(f"the target dimension must be between 1 and {vectors.dim}, got {dim}")
    if not 0 <= remove_top < vectors.dim:
        raise VecliftError(f"the components to remove must be between 0 and {vectors.dim - 1}, got {remove_top}")
    if len(vectors) < 2:
        raise VecliftError("PCA needs at least two words")
    matrix, removed = all_but_the_top(vectors.matrix, remove_top, seed=seed)
    explained = None
    if dim is not None:
        pca = PCA(n_components=dim, random_state=seed)
        matrix = pca.fit_transform(matrix)
        explained = float(pca.explained_variance_ratio_.sum())
    meta = vectors.derived_meta(reduced={"dim": dim, "remove_top": remove_top, "seed": seed}, normalized=False)
    reduced = Vectors(vectors.words, matrix.astype(np.float32), source=f"{vectors.source} reduced", meta=meta)
    report = ReduceReport(
        input_dim=vectors.dim,
        output_dim=reduced.dim,
        removed_top=remove_top,
        explained_variance=explained,
        removed_variance=removed if remove_top else None,
        seed=seed,
    )
    return reduced, report
