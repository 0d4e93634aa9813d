"""Orthogonal Procrustes alignment: a known rotation is recovered exactly; bad anchors fail clearly."""

import subprocess
import sys

import numpy as np
import pytest

from veclift.errors import VecliftError
from veclift.vectors import Vectors
from veclift.vectors.ops.align import align, read_dictionary


def _space(n=300, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    return Vectors([f"w{i}" for i in range(n)], rng.normal(size=(n, dim)).astype(np.float32), source="src")


def _rotation(dim=8, seed=1):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return q.astype(np.float32)


def test_known_rotation_is_recovered_exactly():
    source = _space()
    q = _rotation()
    target = Vectors(source.words, source.matrix @ q, source="tgt")
    aligned, report = align(source, target, seed=3)
    np.testing.assert_allclose(aligned.matrix, target.matrix, atol=1e-4)
    assert report.fit_cosine == pytest.approx(1.0, abs=1e-5)
    assert report.held_out == 30 and report.fit_anchors == 270
    assert report.precision_at_1 == 1.0 and report.precision_at_5 == 1.0


def test_centring_recovers_a_rotation_plus_shift():
    source = _space()
    shift = np.full(8, 3.0, np.float32)
    target = Vectors(source.words, source.matrix @ _rotation() + shift, source="tgt")
    _, plain = align(source, target)
    aligned, centred = align(source, target, center=True)
    assert centred.fit_cosine == pytest.approx(1.0, abs=1e-5)
    assert plain.fit_cosine < 0.99
    np.testing.assert_allclose(aligned.matrix, target.matrix, atol=1e-3)


def test_held_out_split_is_seeded_and_noise_lowers_precision():
    source = _space()
    noisy = source.matrix @ _rotation() + np.random.default_rng(5).normal(scale=1.0, size=source.matrix.shape)
    target = Vectors(source.words, noisy.astype(np.float32), source="tgt")
    a = align(source, target, seed=7)[1]
    b = align(source, target, seed=7)[1]
    assert a == b
    assert a.precision_at_1 < 1.0 and a.precision_at_1 <= a.precision_at_5


def test_dictionary_anchors_and_skipped_pairs(tmp_path):
    source = _space(50)
    target = Vectors([f"t{i}" for i in range(50)], source.matrix @ _rotation(), source="tgt")
    path = tmp_path / "dict.txt"
    path.write_text("".join(f"w{i} t{i}\n" for i in range(40)) + "w1 unknown\n")
    aligned, report = align(source, target, dictionary=path)
    assert report.anchors == 40 and report.skipped_pairs == 1
    np.testing.assert_allclose(aligned.matrix, target.matrix, atol=1e-4)


def test_anchor_errors(tmp_path):
    source = _space(20)
    other = Vectors([f"x{i}" for i in range(20)], source.matrix, source="other")
    with pytest.raises(VecliftError, match="share no words"):
        align(source, other)
    with pytest.raises(VecliftError, match="none of the"):
        align(source, other, dictionary=[("w1", "nope")])
    with pytest.raises(VecliftError, match="equal dimensions"):
        align(source, Vectors(source.words, source.matrix[:, :4]))
    bad = tmp_path / "bad.txt"
    bad.write_text("w1 x1\nw2 x2 extra\n")
    with pytest.raises(VecliftError, match=r"bad.txt:2: expected two words"):
        read_dictionary(bad)


def test_cli_no_overlap_is_one_line_exit_2(tmp_path):
    _space(20).save(tmp_path / "a")
    Vectors([f"x{i}" for i in range(20)], _space(20).matrix, source="b").save(tmp_path / "b")
    run = subprocess.run(
        [sys.executable, "-m", "veclift", "vectors", "align", str(tmp_path / "a"), str(tmp_path / "b"), "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("error:") and run.stderr.count("\n") == 1
    assert "share no words" in run.stderr
    assert not (tmp_path / "out").exists()
