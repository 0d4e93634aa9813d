"""`veclift train`, `evaluate`, `predict` round trips and their one-line errors."""

from __future__ import annotations

import json
import sys

import pytest
from task_fixtures import labeled_texts, tagged_sentences, tiny_vectors
from typer.testing import CliRunner

import veclift.cli
from veclift.data import write_conll
from veclift.errors import VecliftError

veclift.cli._register()
runner = CliRunner()
FAST = ["--epochs", "3", "--hidden", "8", "--batch-size", "8", "--quiet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    vectors = tiny_vectors().save(root / "vectors")
    write_conll(tagged_sentences(16), root / "train.conll")
    write_conll(tagged_sentences(6, seed=1), root / "dev.conll")
    rows = ["label\ttext"] + [f"{t.label}\t{t.text}" for t in labeled_texts(20)]
    (root / "train.tsv").write_text("\n".join(rows) + "\n")
    return root, str(vectors)


def invoke(*args):
    result = runner.invoke(veclift.cli.app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.stdout


def test_ner_train_evaluate_predict(files):
    root, vectors = files
    model = root / "ner-model"
    summary = json.loads(invoke("train", "ner", "--train", root / "train.conll", "--dev", root / "dev.conll",
                                "--vectors", vectors, "--embeddings", "frozen", "--output", model, "--json", "--char", "lstm", *FAST))  # fmt: skip
    assert summary["epochs"] == 3 and summary["train_size"] == 16
    scores = json.loads(invoke("evaluate", model, root / "dev.conll", "--json"))
    assert 0 <= scores["f1"] <= 1 and "transfer" in scores
    assert "PER" in invoke("evaluate", model, root / "dev.conll")
    (root / "in.txt").write_text("Mary lives in Rome .\n\nJohn met Anna\n")
    tagged = invoke("predict", model, root / "in.txt")
    assert tagged.split("\n\n")[0].splitlines()[0].split("\t")[0] == "Mary" and len(tagged.strip().split("\n\n")) == 2
    (root / "in.jsonl").write_text(json.dumps({"tokens": ["Mary", "lives", "in", "Rome"], "id": 7}) + "\n")
    record = json.loads(invoke("predict", model, root / "in.jsonl"))
    assert record["id"] == 7 and len(record["tags"]) == 4 and "entities" in record
    conll = invoke("predict", model, root / "dev.conll", "--format", "conll")
    assert len(conll.strip().split("\n\n")) == 6


def test_classify_train_and_predict_with_probabilities(files):
    root, vectors = files
    model = root / "clf-model"
    invoke("train", "classify", "--train", root / "train.tsv", "--vectors", vectors, "--embeddings", "finetune",
           "--encoder", "swem-concat", "--output", model, "--max-sentences", "12", *FAST)  # fmt: skip
    result = runner.invoke(veclift.cli.app, ["predict", str(model)], input="the day was good\nawful\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["the day was good", "awful"]
    assert set(lines[0]["probabilities"]) == {"neg", "pos"} and lines[0]["label"] in ("neg", "pos")
    scores = json.loads(invoke("evaluate", model, root / "train.tsv", "--json"))
    assert {"accuracy", "macro_f1", "transfer"} <= set(scores)
    assert "unseen_known" in invoke("evaluate", model, root / "train.tsv")


def test_user_errors(files):
    root, vectors = files
    with pytest.raises(VecliftError, match="no such file"):
        invoke("train", "ner", "--train", root / "nope.conll", "--vectors", vectors, "--output", root / "x", *FAST)
    with pytest.raises(VecliftError, match="--head does not apply to classify"):
        invoke("train", "classify", "--train", root / "train.tsv", "--head", "crf", "--output", root / "x", *FAST)
    with pytest.raises(VecliftError, match="needs --vectors"):
        invoke("train", "ner", "--train", root / "train.conll", "--output", root / "x", *FAST)
    (root / "empty.conll").write_text("")
    with pytest.raises(VecliftError):
        invoke("train", "ner", "--train", root / "empty.conll", "--embeddings", "scratch", "--output", root / "x", *FAST)
    with pytest.raises(VecliftError, match="--format conll is for taggers"):
        invoke("train", "classify", "--train", root / "train.tsv", "--embeddings", "scratch", "--output", root / "c", *FAST)
        invoke("predict", root / "c", root / "dev.conll", "--format", "conll")


def test_errors_are_one_line_with_exit_code_2(files, monkeypatch, capsys):
    root, _ = files
    write_conll([tagged_sentences(1)[0].__class__(["EU"], ["B-ORG"])], root / "org.conll")
    invoke("train", "ner", "--train", root / "train.conll", "--embeddings", "scratch", "--output", root / "s", *FAST)
    (root / "empty.conll").write_text("")
    for args in (["evaluate", root / "missing-model", root / "dev.conll"], ["evaluate", root / "s", root / "empty.conll"]):
        monkeypatch.setattr(sys, "argv", ["veclift", *map(str, args)])
        with pytest.raises(SystemExit) as exit_info:
            veclift.cli.main()
        assert exit_info.value.code == 2
        stderr = capsys.readouterr().err
        assert stderr.startswith("error: ") and len(stderr.strip().splitlines()) == 1
    monkeypatch.setattr(sys, "argv", ["veclift", "evaluate", str(root / "s"), str(root / "org.conll")])
    with pytest.raises(SystemExit) as exit_info:
        veclift.cli.main()  # a type the model never learned: its entities are missed, with a warning
    stderr = capsys.readouterr().err
    assert exit_info.value.code in (0, None) and stderr.startswith("warning: ") and "'B-ORG' is not one the model knows" in stderr


def test_classifier_trains_from_one_file_per_label(tmp_path):
    pos, neg = tmp_path / "reviews.pos", tmp_path / "reviews.neg"
    pos.write_text("a great film\nwonderful and moving\nsuperb acting\n" * 4)
    neg.write_text("a dull film\nboring and slow\nawful acting\n" * 4)
    model = tmp_path / "model"
    invoke("train", "classify", "--train", pos, "--train", neg, "--embeddings", "scratch", "--encoder", "swem-mean",
           "--output", model, *FAST)  # fmt: skip
    scores = json.loads(invoke("evaluate", model, pos, neg, "--json"))
    assert set(scores["per_class"]) == {"pos", "neg"} and 0 <= scores["accuracy"] <= 1
