"""PCA reduction and all-but-the-top post-processing."""

import numpy as np
import pytest

from veclift.errors import VecliftError
from veclift.vectors import Vectors
from veclift.vectors.ops.reduce import all_but_the_top, reduce


def _vectors(n=200, dim=10):
    rng = np.random.default_rng(0)
    scales = np.linspace(5, 0.5, dim)
    return Vectors([f"w{i}" for i in range(n)], (rng.normal(size=(n, dim)) * scales + 2.0).astype(np.float32), source="v")


def test_pca_keeps_the_leading_variance():
    reduced, report = reduce(_vectors(), 3)
    assert reduced.dim == 3 and len(reduced) == 200 and reduced.words == _vectors().words
    assert 0.6 < report.explained_variance < 1.0
    assert reduce(_vectors(), 3, seed=1)[0].matrix.shape == (200, 3)


def test_all_but_the_top_removes_mean_and_top_directions():
    matrix = _vectors().matrix
    processed, removed = all_but_the_top(matrix, 2)
    np.testing.assert_allclose(processed.mean(axis=0), 0, atol=1e-4)
    centred = matrix - matrix.mean(axis=0)
    top = np.linalg.svd(centred, full_matrices=False)[2][:2]
    np.testing.assert_allclose(processed @ top.T, 0, atol=1e-3)
    assert 0 < removed < 1


def test_post_processing_only_keeps_the_dimension():
    reduced, report = reduce(_vectors(), None, remove_top=1)
    assert reduced.dim == 10 and report.removed_top == 1 and report.explained_variance is None


def test_bad_arguments():
    with pytest.raises(VecliftError, match="nothing to do"):
        reduce(_vectors())
    with pytest.raises(VecliftError, match="between 1 and 10"):
        reduce(_vectors(), 11)
    with pytest.raises(VecliftError, match="components to remove"):
        reduce(_vectors(), 2, remove_top=10)


def test_reduced_vectors_do_not_keep_the_source_digest():
    """Caches keyed on the matrix digest (the char n-gram fit) must not serve the reduced rows."""
    source = _vectors()
    source.meta.update(sha256="0" * 64, count=200, lowercase=True)
    reduced, _ = reduce(source, 3)
    assert "sha256" not in reduced.meta and "count" not in reduced.meta
    assert reduced.meta["lowercase"] is True and reduced.meta["reduced"]["dim"] == 3
