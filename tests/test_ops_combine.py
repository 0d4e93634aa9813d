"""Concatenation of vector sets: vocabularies, OOV filling, normalisation and the raw-input refusal."""

import numpy as np
import pytest

from veclift.errors import VecliftError
from veclift.vectors import Vectors
from veclift.vectors.ops.combine import combine, is_normalized


def _set(words, dim, seed, scale=1.0, source="s"):
    rng = np.random.default_rng(seed)
    return Vectors(words, (rng.normal(size=(len(words), dim)) * scale).astype(np.float32), source=source)


def test_union_fills_missing_rows_with_zeros_and_reports_them():
    a = _set(["x", "y", "z"], 4, 0, source="a")
    b = _set(["y", "w"], 3, 1, source="b")
    combined, report = combine([a, b])
    assert combined.words == ("x", "y", "z", "w") and combined.dim == 7
    assert report.sets[0].zero_filled == 1 and report.sets[1].zero_filled == 2
    np.testing.assert_allclose(np.linalg.norm(combined["y"][:4]), 1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(combined["y"][4:]), 1, atol=1e-6)
    assert not combined["x"][4:].any()


def test_intersection_and_oov_chain():
    a = _set(["apple", "pear", "fig"], 4, 0, source="a")
    b = _set(["Apple", "pear"], 3, 1, source="b").with_oov("lower")
    combined, _ = combine([a, b], vocab="intersection")
    assert combined.words == ("pear",)
    cased = _set(["apple", "pear"], 3, 1, source="c")
    upper = _set(["Apple", "pear"], 4, 2, source="d")
    combined, report = combine([upper, cased.with_oov("lower")])
    assert report.sets[1].recovered == {"lower": 1} and report.sets[1].zero_filled == 0
    np.testing.assert_allclose(combined["Apple"][4:], cased.unit_matrix[0], atol=1e-6)


def test_raw_concatenation_is_refused_unless_forced():
    a = _set(["x", "y"], 4, 0, scale=5.0, source="glove-like")
    b = _set(["x", "y"], 4, 1, source="other")
    with pytest.raises(VecliftError, match="refusing to concatenate raw vectors: glove-like"):
        combine([a, b], normalize=False)
    combined, report = combine([a, b], normalize=False, force=True)
    assert report.forced and combined.dim == 8
    unit = [Vectors(s.words, s.unit_matrix, source=s.source) for s in (a, b)]
    assert all(is_normalized(s) for s in unit)
    assert combine(unit, normalize=False)[1].forced is False


def test_align_option_rotates_onto_the_first_set():
    a = _set([f"w{i}" for i in range(40)], 5, 0, source="a")
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(5, 5)))
    b = Vectors(a.words, a.matrix @ q.astype(np.float32), source="b")
    combined, _ = combine([a, b], align=True)
    np.testing.assert_allclose(combined.matrix[:, :5], combined.matrix[:, 5:], atol=1e-4)


def test_reduce_option_and_errors():
    a = _set([f"w{i}" for i in range(30)], 6, 0, source="a")
    b = _set([f"w{i}" for i in range(30)], 8, 1, source="b")
    combined, report = combine([a, b], reduce_to=3)
    assert combined.dim == 6 and report.reduced_to == 3
    with pytest.raises(VecliftError, match="at least two"):
        combine([a])
    with pytest.raises(VecliftError, match="intersection vocabulary is empty"):
        combine([a, _set(["other"], 4, 2)], vocab="intersection")
    with pytest.raises(VecliftError, match="cannot align"):
        combine([a, b], align=True)
    with pytest.raises(VecliftError, match="unknown vocabulary"):
        combine([a, b], vocab="all")
