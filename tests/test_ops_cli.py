"""The space-operation commands end to end on tiny vectors (CliRunner), and their one-line errors."""

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from veclift.cli import _register, app
from veclift.errors import VecliftError
from veclift.vectors import Vectors

WORDS = ["he", "she", "man", "woman", "king", "queen", "doctor", "nurse", "apple", "pear", "car", "bus"]


@pytest.fixture(scope="module")
def vec_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("vec")
    matrix = np.random.default_rng(0).normal(size=(len(WORDS), 6)).astype(np.float32)
    Vectors(WORDS, matrix, source="tiny").save(root / "a")
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(6, 6)))
    Vectors(WORDS, matrix @ q.astype(np.float32), source="tiny-rotated").save(root / "b")
    _register()
    return root


def _run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_align_reduce_combine_json(vec_dir, tmp_path):
    report = json.loads(_run("vectors", "align", vec_dir / "b", vec_dir / "a", "--output", tmp_path / "al", "--json"))
    assert report["fit_cosine"] == pytest.approx(1.0, abs=1e-5) and report["precision_at_1"] == 1.0
    assert Vectors.load(tmp_path / "al").dim == 6
    report = json.loads(_run("vectors", "reduce", vec_dir / "a", "--dim", 3, "--remove-top", 1, "--output", tmp_path / "r", "--json"))
    assert report["output_dim"] == 3 and Vectors.load(tmp_path / "r").dim == 3
    report = json.loads(_run("vectors", "combine", vec_dir / "a", tmp_path / "r", "--output", tmp_path / "c", "--json"))
    assert report["dim"] == 9 and report["words"] == len(WORDS)
    with pytest.raises(VecliftError, match="refusing to concatenate raw vectors"):
        _run("vectors", "combine", vec_dir / "a", vec_dir / "b", "--no-normalize", "--output", tmp_path / "raw")
    assert not (tmp_path / "raw").exists()


def test_debias_with_user_lists(vec_dir, tmp_path):
    (tmp_path / "pairs.txt").write_text("she he\nwoman man\n")
    (tmp_path / "neutral.txt").write_text("doctor nurse apple\n")
    (tmp_path / "sim.txt").write_text("doctor nurse 8\napple pear 9\ncar bus 7\nking queen 8\n")
    weat = {"name": "toy", "targets": {"X": ["doctor", "car"], "Y": ["nurse", "bus"]}, "attributes": {"A": ["he", "man"], "B": ["she", "woman"]}}
    (tmp_path / "weat.json").write_text(json.dumps(weat))
    report = json.loads(_run(
        "vectors", "debias", vec_dir / "a", "--output", tmp_path / "d", "--pairs", tmp_path / "pairs.txt",
        "--neutral", tmp_path / "neutral.txt", "--weat", tmp_path / "weat.json", "--similarity", tmp_path / "sim.txt", "--json",
    ))
    assert report["direct_bias"]["after"] == pytest.approx(0, abs=1e-6)
    assert report["weat"]["toy"]["before"]["exact"] is True
    assert report["similarity"]["sim"]["before"]["pairs"] == 4
    text = _run("vectors", "debias", vec_dir / "a", "--output", tmp_path / "d2", "--pairs", tmp_path / "pairs.txt",
                "--neutral", tmp_path / "neutral.txt", "--weat", tmp_path / "weat.json", "--similarity", tmp_path / "sim.txt")
    assert "direct bias" in text and "toy" in text


def test_plot_and_parallelogram(vec_dir, tmp_path):
    (tmp_path / "groups.txt").write_text("people: he she man woman\nthings: apple pear car bus\n")
    _run("vectors", "plot", vec_dir / "a", "king", "queen", "--groups", tmp_path / "groups.txt", "--method", "pca", "--output", tmp_path / "m.html")
    assert (tmp_path / "m.html").read_text().count("<circle") == 10
    _run("vectors", "plot", vec_dir / "a", "--neighbors-of", "king", "--topn", 6, "--output", tmp_path / "n.png")
    assert (tmp_path / "n.png").stat().st_size > 0
    out = _run("vectors", "parallelogram", vec_dir / "a", "man", "woman", "king", "queen", "--output", tmp_path / "p.png")
    assert "man : woman :: king : queen" in out


def test_absent_plot_words_are_one_line_exit_2(vec_dir, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "veclift", "vectors", "plot", str(vec_dir / "a"), "king", "unicorn", "--method", "pca",
         "--output", str(tmp_path / "x.png")],
        capture_output=True, text=True,
    )
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "unicorn" in run.stderr and not (tmp_path / "x.png").exists()
