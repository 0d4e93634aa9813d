"""Row lengths and unit-length rows: the one place veclift normalizes vectors."""

from __future__ import annotations

import numpy as np

CHUNK_ROWS = 1 << 16  # rows measured at once, so a large matrix needs little extra memory


def row_norms(matrix: np.ndarray) -> np.ndarray:
    """The Euclidean length of each row of a matrix, or of one vector (a scalar)."""
    if matrix.ndim == 1:
        return np.linalg.norm(matrix)
    if len(matrix) <= CHUNK_ROWS:
        return np.linalg.norm(matrix, axis=1)
    return np.concatenate([np.linalg.norm(matrix[start : start + CHUNK_ROWS], axis=1) for start in range(0, len(matrix), CHUNK_ROWS)])


def normalize_rows(matrix: np.ndarray, norms: np.ndarray | None = None) -> np.ndarray:
    """Rows (or one vector) scaled to unit length, zero rows left zero; ``norms``: their `row_norms`, when known."""
    norms = row_norms(matrix) if norms is None else norms
    divisor = np.where(norms == 0, 1, norms)
    return matrix / (divisor[:, None] if matrix.ndim == 2 else divisor)
