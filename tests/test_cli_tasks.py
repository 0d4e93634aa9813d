"""`veclift train`, `evaluate`, `predict` round trips and their one-line errors. Every model trained
here must beat a constant predictor on its own data: a tagger answering one tag for every token, a
classifier answering one label for every text."""

from __future__ import annotations

import dataclasses
import json
import sys

import pytest
from task_fixtures import labeled_texts, tagged_sentences, tiny_vectors
from typer.testing import CliRunner

import veclift.cli
from veclift.cli.predict import PredictFormat
from veclift.data import read_conll, write_conll
from veclift.data.predictions import FORMATS
from veclift.errors import VecliftError
from veclift.tasks import TextClassifier
from veclift.tasks.metrics import ner_scores
from veclift.tasks.registry import get_task

veclift.cli._register()
runner = CliRunner()
FAST = ["--epochs", "3", "--hidden", "8", "--batch-size", "8", "--quiet"]
LEARN = ["--epochs", "15", "--lr", "0.02", "--batch-size", "4", "--quiet"]  # enough for the tiny classifiers to learn


def constant_tagger_f1(gold: list[list[str]]) -> float:
    """The best entity F1 of a tagger answering the same tag for every token (``O`` scores 0)."""
    tags = sorted({tag for row in gold for tag in row})
    return max(ner_scores(gold, [[tag] * len(row) for row in gold])["f1"] for tag in tags)


def majority_accuracy(labels: list[str]) -> float:
    """The accuracy of a classifier answering the most frequent label for every text."""
    return max(labels.count(label) for label in set(labels)) / len(labels)


def write_tsv(path, texts) -> None:
    path.write_text("\n".join(["label\ttext"] + [f"{t.label}\t{t.text}" for t in texts]) + "\n")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    vectors = tiny_vectors().save(root / "vectors")
    write_conll(tagged_sentences(16), root / "train.conll")
    write_conll(tagged_sentences(6, seed=1), root / "dev.conll")
    write_tsv(root / "train.tsv", labeled_texts(40))
    write_tsv(root / "test.tsv", labeled_texts(30, seed=1))
    return root, str(vectors)


def invoke(*args, input=None):
    result = runner.invoke(veclift.cli.app, [str(a) for a in args], input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_baselines_are_what_a_constant_predictor_scores():
    gold = [["B-PER", "O", "B-LOC"], ["O", "O"]]
    assert constant_tagger_f1(gold) == pytest.approx(ner_scores(gold, [["B-PER"] * 3, ["B-PER"] * 2])["f1"])
    assert ner_scores(gold, [["O"] * 3, ["O"] * 2])["f1"] == 0
    assert majority_accuracy(["a", "b", "a", "a"]) == 0.75


def test_ner_train_evaluate_predict(files):
    root, vectors = files
    model = root / "ner-model"
    summary = json.loads(invoke("train", "ner", "--train", root / "train.conll", "--dev", root / "dev.conll",
                                "--vectors", vectors, "--embeddings", "frozen", "--output", model, "--json", "--char", "lstm", *FAST))  # fmt: skip
    assert summary["epochs"] == 3 and summary["train_size"] == 16
    gold = [list(s.tags) for s in read_conll(root / "dev.conll")]
    baseline = constant_tagger_f1(gold)
    scores = json.loads(invoke("evaluate", model, root / "dev.conll", "--json"))
    assert scores["f1"] > baseline + 0.3 and "transfer" in scores, (scores["f1"], baseline)
    table = invoke("evaluate", model, root / "dev.conll")
    assert "PER" in table
    counts = {group: s["gold"] for group, s in scores["transfer"].items()}
    for group, count in counts.items():  # 6 dev sentences: every group is too small to conclude from
        line = next(line for line in table.splitlines() if line.strip().startswith(f"{group} entities"))
        assert f"({count} gold, fewer than 30: too few to conclude from)" in line, line
    conll = invoke("predict", model, root / "dev.conll", "--format", "conll")
    predicted = [[line.split("\t")[1] for line in block.splitlines()] for block in conll.strip().split("\n\n")]
    assert len(predicted) == 6 and ner_scores(gold, predicted)["f1"] > baseline + 0.3
    (root / "in.txt").write_text("Mary lives in Rome .\n\nJohn met Anna\n")
    tagged = invoke("predict", model, root / "in.txt")
    blocks = [[line.split("\t") for line in block.splitlines()] for block in tagged.strip().split("\n\n")]
    assert [token for token, _ in blocks[0]] == ["Mary", "lives", "in", "Rome", "."] and len(blocks) == 2
    assert [tag for _, tag in blocks[0]] == ["B-PER", "O", "O", "B-LOC", "O"]
    (root / "in.jsonl").write_text(json.dumps({"tokens": ["Mary", "lives", "in", "Rome"], "id": 7}) + "\n")
    record = json.loads(invoke("predict", model, root / "in.jsonl"))
    assert record["id"] == 7 and record["tags"] == ["B-PER", "O", "O", "B-LOC"]
    assert [{k: e[k] for k in ("label", "start", "end", "token_start", "token_end", "text")} for e in record["entities"]] == [
        {"label": "PER", "start": 0, "end": 4, "token_start": 0, "token_end": 1, "text": "Mary"},
        {"label": "LOC", "start": 14, "end": 18, "token_start": 3, "token_end": 4, "text": "Rome"}]  # fmt: skip
    assert all(0 < e["score"] <= 1 for e in record["entities"]) and record["text"] == "Mary lives in Rome"


def test_classify_train_evaluate_and_predict_with_probabilities(files):
    root, vectors = files
    model = root / "clf-model"
    invoke("train", "classify", "--train", root / "train.tsv", "--vectors", vectors, "--embeddings", "finetune",
           "--encoder", "swem-concat", "--output", model, "--max-sentences", "30", *LEARN)  # fmt: skip
    test = labeled_texts(30, seed=1)
    baseline = majority_accuracy([t.label for t in test])
    scores = json.loads(invoke("evaluate", model, root / "test.tsv", "--json"))
    assert {"accuracy", "macro_f1", "transfer"} <= set(scores)
    assert scores["accuracy"] > baseline + 0.25, (scores["accuracy"], baseline)
    assert "unseen_known" in invoke("evaluate", model, root / "test.tsv")
    lines = [json.loads(line) for line in invoke("predict", model, input="".join(f"{t.text}\n" for t in test)).splitlines()]
    assert [line["text"] for line in lines] == [t.text for t in test]
    assert all(set(line["probabilities"]) == {"neg", "pos"} for line in lines)
    accuracy = sum(line["label"] == t.label for line, t in zip(lines, test)) / len(test)
    assert accuracy == pytest.approx(scores["accuracy"]) and accuracy > baseline + 0.25


def test_train_says_how_many_members_a_classifier_has(files):
    root, vectors = files
    base = ["train", "classify", "--train", root / "train.tsv", "--vectors", vectors, "--encoder", "swem-mean",
            "--max-sentences", "30", *LEARN]  # fmt: skip
    record = json.loads(invoke(*base, "--output", root / "by-size", "--json"))
    assert record["members"] == 3 and TextClassifier.load(root / "by-size").members == 3  # 30 texts: three by size
    assert "members" not in json.loads(invoke(*base, "--output", root / "one", "--members", "1", "--json"))
    result = runner.invoke(veclift.cli.app, [str(a) for a in [*base, "--output", root / "two", "--members", "2"]])
    assert result.exit_code == 0 and "trained classify model (2 members) on 30 examples" in result.stderr


def test_user_errors(files):
    root, vectors = files
    with pytest.raises(VecliftError, match="no such file"):
        invoke("train", "ner", "--train", root / "nope.conll", "--vectors", vectors, "--output", root / "x", *FAST)
    with pytest.raises(VecliftError, match="--head does not apply to classify"):
        invoke("train", "classify", "--train", root / "train.tsv", "--head", "crf", "--output", root / "x", *FAST)
    with pytest.raises(VecliftError, match="--text-column does not apply to ner"):
        invoke("train", "ner", "--train", root / "train.conll", "--text-column", "1", "--output", root / "x", *FAST)
    with pytest.raises(VecliftError, match="needs --vectors"):
        invoke("train", "ner", "--train", root / "train.conll", "--output", root / "x", *FAST)
    (root / "empty.conll").write_text("")
    with pytest.raises(VecliftError, match="empty.conll: no sentences found"):
        invoke("train", "ner", "--train", root / "empty.conll", "--embeddings", "scratch", "--output", root / "x", *FAST)
    assert not (root / "x").exists()


def test_a_classifier_takes_token_lists_and_refuses_conll_input(files):
    root, vectors = files
    model = root / "clf-tokens"
    invoke("train", "classify", "--train", root / "train.tsv", "--vectors", vectors, "--embeddings", "frozen",
           "--encoder", "swem-mean", "--output", model, *LEARN)  # fmt: skip
    test = labeled_texts(20, seed=2)
    (root / "texts.jsonl").write_text("".join(json.dumps({"tokens": list(t.tokens)}) + "\n" for t in test))
    lines = [json.loads(line) for line in invoke("predict", model, root / "texts.jsonl").splitlines()]
    assert [line["tokens"] for line in lines] == [list(t.tokens) for t in test]
    accuracy = sum(line["label"] == t.label for line, t in zip(lines, test)) / len(test)
    assert accuracy > majority_accuracy([t.label for t in test]) + 0.25
    (root / "texts.conll").write_text("".join("".join(f"{token}\n" for token in t.tokens) + "\n" for t in test))
    with pytest.raises(VecliftError, match="--format conll is for taggers"):
        invoke("predict", model, root / "texts.conll")
    (root / "empty.jsonl").write_text('{"text": "good day"}\n{"tokens": []}\n')
    with pytest.raises(VecliftError, match=r"empty.jsonl: text 2 is empty"):
        invoke("predict", model, root / "empty.jsonl")


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
           "--output", model, *LEARN)  # fmt: skip
    scores = json.loads(invoke("evaluate", model, pos, neg, "--json"))
    assert set(scores["per_class"]) == {"pos", "neg"} and scores["accuracy"] > majority_accuracy(["pos"] * 12 + ["neg"] * 12) + 0.25


def test_evaluate_takes_the_reader_options_of_every_builtin_task():
    """`evaluate` declares the reader options by hand (its module must import no task): they must
    be the options of the built-in tasks' readers; `predict`'s formats those the input reader reads."""
    import typer

    command = typer.main.get_command(veclift.cli.app).commands["evaluate"]
    declared = {param.name for param in command.params} - {"model_dir", "data", "vectors", "as_json"}
    readers = {f.name for name in ("ner", "classify") for f in dataclasses.fields(get_task(name).reader_options)}
    assert declared == readers
    assert [f.value for f in PredictFormat] == list(FORMATS)
