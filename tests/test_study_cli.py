"""`veclift study`: a real (tiny) study end to end, model-option passthrough, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from study_fakes import write_conll
from typer.testing import CliRunner

from veclift.cli import _register, app
from veclift.cli.study import parse_model_options
from veclift.errors import VecliftError

_register()
WORDS = ["alice", "bob", "paris", "berlin", "apple", "orange", "carol", "rome", "went", "home"]


def _veclift(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "veclift", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def data(tmp_path):
    train = write_conll(tmp_path / "train.txt", 24, 0)
    test = write_conll(tmp_path / "test.txt", 6, 1)
    rng = np.random.default_rng(0)
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("".join(f"{w} " + " ".join(f"{x:.4f}" for x in rng.normal(size=8)) + "\n" for w in WORDS))
    return train, test, vectors


@pytest.mark.slow  # trains real models in trial processes: about 15 s on an idle machine, a minute on a busy one
def test_a_tiny_study_end_to_end(data, tmp_path):
    train, test, vectors = data
    out = tmp_path / "out"
    args = ["study", "ner", "--train", str(train), "--test", str(test), "--vectors", str(vectors), "--sizes", "8",
            "--strategies", "scratch,finetune", "--seeds", "1", "--epochs", "1", "--jobs", "2", "--output", str(out),
            "--hidden", "8", "--char", "none", "--json", "--quiet"]
    done = _veclift(*args)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["trials"] == summary["finished"] == 2 and summary["failed"] == 0 and summary["metric"] == "f1"
    assert {(c["size"], c["strategy"]) for c in summary["summary"]} == {(8, "scratch"), (8, "finetune")}
    assert all(0 <= c["mean"] <= 1 for c in summary["summary"])
    html = (out / "report.html").read_text()
    assert "--hidden 8 --char none" in html and "max_epochs=1" in html
    again = _veclift(*args)
    assert again.returncode == 0 and json.loads(again.stdout)["finished"] == 2
    changed = _veclift(*[a if a != "--hidden" else "--layers" for a in args])
    assert changed.returncode == 2
    assert changed.stderr.strip().splitlines() == [f"error: {out}: this output directory holds results of a different study (options changed); use another --output directory, or pass --overwrite to start over"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sizes", "0,10"], "bad training size 0"),
        (["--strategies", "scratch,word2vec"], "unknown embedding strategy 'word2vec'"),
        (["--hidden-units", "5"], "unknown ner option(s): hidden_units"),
        (["--address", "127.0.0.1:6379"], "--address is for the ray executor"),
        (["--executor", "slurm"], "unknown executor 'slurm'"),
    ],
)
def test_bad_input_is_a_veclift_error(data, tmp_path, extra, message):
    train, test, _ = data
    result = CliRunner().invoke(app, ["study", "ner", "--train", str(train), "--test", str(test), "--sizes", "5",
                                      "--output", str(tmp_path / "o"), *extra])
    assert isinstance(result.exception, VecliftError) and str(result.exception).startswith(message)
    assert not (tmp_path / "o").exists()


def test_errors_are_one_line_with_exit_code_2(tmp_path):
    done = _veclift("study", "ner", "--train", str(tmp_path / "nope.txt"), "--output", str(tmp_path / "o"))
    assert done.returncode == 2 and done.stderr.strip() == f"error: {tmp_path / 'nope.txt'}: train data not found"


def test_the_default_trial_trains_and_scores_a_model(data):
    from veclift.study import StudySpec
    from veclift.study.trial import run_trial

    train, test, vectors = data
    spec = StudySpec("ner", train, test=test, vectors=str(vectors), sizes=[8], strategies=["finetune"], seeds=1,
                     options={"max_epochs": 1, "hidden": 8, "char": "none"})
    metrics = run_trial(spec, spec.trials()[0])
    assert metrics["train_size"] == 8 and metrics["epochs"] == 1 and 0 <= metrics["f1"] <= 1
    assert {"known", "unknown"} <= set(metrics["transfer"])


def test_model_options_pass_through():
    assert parse_model_options(["--hidden", "100", "--head=softmax", "--casing", "false", "--kernel-sizes", "[3,5]"]) == {
        "hidden": 100, "head": "softmax", "casing": False, "kernel_sizes": [3, 5]}
    with pytest.raises(VecliftError, match="needs a value"):
        parse_model_options(["--hidden"])
    with pytest.raises(VecliftError, match="unexpected argument"):
        parse_model_options(["stray"])
