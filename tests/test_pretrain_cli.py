"""`veclift pretrain ...` end to end on a tiny corpus."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import veclift.cli
from veclift.vectors.core import Vectors

veclift.cli._register()
runner = CliRunner()


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("The cat sat on the mat. The dog sat on the rug.\n" * 20, encoding="utf-8")
    return path


@pytest.mark.parametrize("trainer", ["word2vec", "fasttext", "glove"])
def test_each_trainer_writes_native_vectors(trainer, corpus, tmp_path):
    out = tmp_path / trainer
    extra = ["--buckets", "500"] if trainer == "fasttext" else []
    result = runner.invoke(
        veclift.cli.app,
        ["pretrain", trainer, str(corpus), "--output", str(out), "--dim", "8", "--epochs", "2", "--min-count", "2",
         "--lowercase", "--json", *extra],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    vectors = Vectors.load(out)
    assert summary["count"] == len(vectors) == 8 and vectors.dim == 8
    assert "the" in vectors and "The" not in vectors
    assert (vectors.subwords is not None) == (trainer == "fasttext")


def test_init_continues_training_and_reports_neighbors(corpus, tmp_path):
    words = ["the", "cat", "dog", "sat", "on", "mat", "."]
    initial = Vectors(words, np.random.default_rng(0).normal(size=(7, 8)).astype(np.float32))
    initial.save(tmp_path / "initial")
    result = runner.invoke(
        veclift.cli.app,
        ["pretrain", "word2vec", str(corpus), "-o", str(tmp_path / "adapted"), "--init", str(tmp_path / "initial"),
         "--epochs", "1", "--min-count", "1", "--neighbors", "cat,dog"],
    )
    assert result.exit_code == 0, result.output
    assert "mean cosine to their original vector" in result.stdout and "neighbours of 'cat'" in result.stdout
    adapted = Vectors.load(tmp_path / "adapted")
    assert adapted.words == (*words, "rug") and adapted.dim == 8


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "veclift", "pretrain", "word2vec", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o")],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'missing.txt'}: no such file or directory"
    assert not (tmp_path / "o").exists()
