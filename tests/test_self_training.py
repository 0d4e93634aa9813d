"""Self-training on raw text (`--self-train`, `veclift.tasks.self_training`): which answered
sentences and texts join the training data, the rounds, their checkpoints, the CLI and the bad inputs."""

from __future__ import annotations

import json
import sys

import pytest
import torch
from task_fixtures import CITIES, NEGATIVE, PEOPLE, POSITIVE, constant_baseline, labeled_texts, tagged_sentences, tiny_vectors
from typer.testing import CliRunner

import veclift.cli
import veclift.tasks.classifier as classifier_module
from veclift.data import LabeledText, write_conll
from veclift.errors import VecliftError
from veclift.tasks import SequenceTagger, TextClassifier, load_model
from veclift.tasks.self_training import round_checkpoint

veclift.cli._register()
runner = CliRunner()
FAST = dict(hidden=16, char_filters=8, batch_size=8, lr=0.01, max_epochs=10)
TRAIN = tagged_sentences(30, seed=0)  # people and cities of the first four of each
DEV = tagged_sentences(10, seed=2)
NEW_NAMES = dict(people=PEOPLE[4:], cities=CITIES[4:])  # never in TRAIN or DEV
RAW = tagged_sentences(50, seed=5, **NEW_NAMES)
TEST = tagged_sentences(40, seed=3, **NEW_NAMES)


@pytest.fixture
def raw(tmp_path):
    """RAW as raw text, one sentence a line, with a blank line and a sentence without an entity."""
    path = tmp_path / "raw.txt"
    path.write_text("".join(" ".join(s.tokens) + "\n" for s in RAW) + "\nthe a today .\n")
    return path


def test_the_confident_tagged_sentences_with_an_entity_join_the_training_data(raw):
    model = SequenceTagger(self_train=str(raw), self_train_threshold=0.6, **FAST)
    model.fit(TRAIN, DEV, vectors=tiny_vectors(), progress=False)
    (done,) = model.train_result.self_training
    assert done["raw"] == 51 and done["added"] == 50  # the sentence without an entity stays out
    assert done["added_entities"] == sum(len(s.entities()) for s in RAW)
    assert done["teacher_dev_score"] is not None and done["teacher_dev_score"] > 0.9
    assert {"lucy", "vienna", "madrid"} <= {w.lower() for w in model.words.train_words}
    scores = model.evaluate(TEST)
    assert scores["f1"] > 0.9 and scores["accuracy"] > constant_baseline(TEST)


def test_rounds_take_the_surest_sentences_up_to_the_limit(raw):
    model = SequenceTagger(self_train=str(raw), self_train_threshold=0.6, self_train_sentences=20, self_train_rounds=2, **FAST)
    model.fit(TRAIN, DEV, vectors=tiny_vectors(), progress=False)
    assert [(r["round"], r["added"]) for r in model.train_result.self_training] == [(1, 20), (2, 20)]
    assert model.train_result.seconds > 0
    raw_tokens = [list(tokens) for tokens in dict.fromkeys(tuple(s.tokens) for s in RAW)]  # each sentence once
    answers = model.predict_entities(raw_tokens, vectors=tiny_vectors(), marginals=True)
    sureness = [min(row[tag] for row, tag in zip(a["marginals"], a["tags"])) for a in answers]
    added, _ = model._confident(raw_tokens, vectors=tiny_vectors(), threshold=0.0, limit=5, train=TRAIN)
    chosen = [raw_tokens.index(list(s.tokens)) for s in added]
    others = [s for i, s in enumerate(sureness) if i not in chosen and answers[i]["entities"]]  # without one: never
    assert len(added) == 5 and all(answers[i]["entities"] for i in chosen) and min(sureness[i] for i in chosen) >= max(others)
    assert [list(s.tags) for s in added] == [answers[i]["tags"] for i in chosen]  # joined with the decoded tags


def test_a_threshold_no_sentence_reaches_leaves_the_plain_model(raw):
    vectors = tiny_vectors()
    model = SequenceTagger(self_train=str(raw), self_train_threshold=1.0, **FAST).fit(TRAIN, DEV, vectors=vectors, progress=False)
    plain = SequenceTagger(**FAST).fit(TRAIN, DEV, vectors=vectors, progress=False)
    assert [r["added"] for r in model.train_result.self_training] == [0]
    assert not plain.train_result.self_training
    for (name, ours), theirs in zip(model.network.state_dict().items(), plain.network.state_dict().values()):
        assert torch.equal(ours, theirs), name
    assert model.words.fixed_words == plain.words.fixed_words  # the raw text's rows are not kept
    assert model.predict(TEST) == plain.predict(TEST)


def test_each_round_resumes_from_its_own_checkpoint(raw, tmp_path):
    checkpoint = tmp_path / "run.pt"
    options = dict(self_train=str(raw), self_train_threshold=0.6, self_train_rounds=2, **FAST)
    first = SequenceTagger(**options).fit(TRAIN, DEV, vectors=tiny_vectors(), checkpoint=checkpoint, progress=False)
    assert round_checkpoint(checkpoint, 1) == tmp_path / "run.round1.pt"
    assert sorted(p.name for p in tmp_path.glob("run*.pt")) == ["run.pt", "run.round1.pt", "run.round2.pt"]
    again = SequenceTagger(**options).fit(TRAIN, DEV, vectors=tiny_vectors(), checkpoint=checkpoint, progress=False)
    assert again.predict(TEST) == first.predict(TEST)
    assert again.train_result.self_training == first.train_result.self_training
    (tmp_path / "run.round1.pt").write_bytes(b"not a checkpoint")  # round 1 resumes from its own file
    with pytest.raises(VecliftError, match="run.round1.pt"):
        SequenceTagger(**options).fit(TRAIN, DEV, vectors=tiny_vectors(), checkpoint=checkpoint, progress=False)


def test_a_classifier_self_trains_on_raw_texts_with_the_classes_shared_as_in_training(tmp_path):
    raw = tmp_path / "texts.txt"
    unseen = labeled_texts(60, seed=7, positive=POSITIVE[3:], negative=NEGATIVE[3:])  # words never in training
    raw.write_text("".join(f"{text.text}\n" for text in unseen))
    train = labeled_texts(30, seed=0)  # 15 of each label
    options = dict(embeddings="finetune", encoder="swem-mean", max_epochs=15, lr=0.02, batch_size=8)
    model = TextClassifier(self_train=str(raw), self_train_threshold=0.5, self_train_sentences=20, **options)
    model.fit(train, labeled_texts(10, seed=2), vectors=tiny_vectors(), progress=False)
    (done,) = model.train_result.self_training
    shares = {label: sum(t.labels[0] == label for t in train) for label in ("neg", "pos")}
    assert done["raw"] == 60 and done["added"] == 20
    assert done["added_labels"] == {label: round(20 * n / len(train)) for label, n in shares.items()}
    assert set(POSITIVE[3:] + NEGATIVE[3:]) & set(model.words.train_words)  # the raw texts are training data
    test = labeled_texts(40, seed=3, positive=POSITIVE[3:], negative=NEGATIVE[3:])
    assert model.score(test, [t.labels[0] for t in test]) > max(0.8, constant_baseline(test))


def test_a_multi_label_classifier_adds_only_texts_with_a_label():
    train = [LabeledText(t.tokens, [*t.labels, *(["loud"] if i % 3 == 0 else [])], t.text)
             for i, t in enumerate(labeled_texts(30, seed=0))]  # fmt: skip
    model = TextClassifier(embeddings="finetune", encoder="swem-mean", max_epochs=3, lr=0.02, batch_size=8,
                           members=1)  # one member is unsure enough that some texts get no label
    model.fit(train, vectors=tiny_vectors(), progress=False)
    raw = [t.tokens for t in labeled_texts(40, seed=7)]
    proba = model.predict_proba(raw, vectors=tiny_vectors())
    added, record = model._confident(raw, vectors=tiny_vectors(), threshold=0.0, limit=100, train=train)
    assert model.multi_label and len(added) == int((proba.max(1) >= 0.5).sum()) < len(raw)
    columns = {label: j for j, label in enumerate(model.labels)}
    for text in added:
        row = proba[raw.index(text.tokens)]
        assert text.labels and all(row[columns[label]] >= 0.5 for label in text.labels)
    assert sum(record["added_labels"].values()) == sum(len(text.labels) for text in added)


def test_a_task_that_cannot_self_train_says_so_before_training(raw, monkeypatch):
    import toy_task

    def never(*args, **kwargs):
        raise AssertionError("trained before refusing")

    monkeypatch.setattr(toy_task.ToyTopicModel, "_fit", never)
    with pytest.raises(VecliftError, match="toy-topic models do not self-train"):
        toy_task.ToyTopicModel(self_train=str(raw)).fit([], progress=False)


def test_bad_self_training_settings_are_one_line_errors(tmp_path):
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n")
    with pytest.raises(VecliftError, match="no sentence in the self-training text") as info:
        SequenceTagger(self_train=str(blank), **FAST).fit(TRAIN, progress=False)
    assert "\n" not in str(info.value)
    with pytest.raises(VecliftError, match="cannot read file: No such file"):
        SequenceTagger(self_train=str(tmp_path / "missing.txt"), **FAST).fit(TRAIN, progress=False)
    with pytest.raises(VecliftError, match="self_train_threshold must be between 0 and 1"):
        SequenceTagger(self_train_threshold=1.5)
    with pytest.raises(VecliftError, match="self_train_rounds must be above 0"):
        SequenceTagger(self_train_rounds=0)
    with pytest.raises(VecliftError, match="does not apply with --init-model"):
        SequenceTagger(self_train=str(blank), init_model=str(tmp_path))


def test_train_ner_self_trains_from_the_command_line(raw, tmp_path, monkeypatch, capsys):
    write_conll(TRAIN, tmp_path / "train.conll")
    write_conll(DEV, tmp_path / "dev.conll")
    output = tmp_path / "model"
    args = ["train", "ner", "--train", tmp_path / "train.conll", "--dev", tmp_path / "dev.conll", "--embeddings", "scratch",
            "--self-train", raw, "--self-train-threshold", "0", "--output", output, "--epochs", "3", "--hidden", "16",
            "--quiet", "--json"]  # fmt: skip
    result = runner.invoke(veclift.cli.app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    (done,) = summary["self_training"]
    assert done["raw"] == 51 and done["added"] >= 50  # threshold 0: every sentence the model finds an entity in
    model = load_model(output)
    assert model.train_result.self_training == summary["self_training"]
    assert {"lucy", "vienna"} <= {w.lower() for w in model.words.train_words}
    assert "--self-train-rounds" in runner.invoke(veclift.cli.app, ["train", "ner", "--help"]).output

    result = runner.invoke(veclift.cli.app, [str(a) for a in args[:-1]] + ["--overwrite"])  # the summary in words
    assert "self-training round 1: " in result.stderr and "raw items joined the training data (" in result.stderr

    monkeypatch.setattr(sys, "argv", ["veclift", "train", "ner", "--train", str(tmp_path / "train.conll"), "--self-train",
                                      str(tmp_path / "none.txt"), "--embeddings", "scratch", "--output", str(tmp_path / "x")])  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        veclift.cli.main()
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert "none.txt" in stderr and "No such file" in stderr and not (tmp_path / "x").exists()


def test_train_classify_self_trains_from_the_command_line(tmp_path):
    (tmp_path / "train.tsv").write_text("sentence\tlabel\n" + "".join(f"{t.text}\t{t.labels[0]}\n" for t in labeled_texts(30, seed=0)))
    (tmp_path / "raw.txt").write_text("".join(f"{t.text}\n" for t in labeled_texts(40, seed=5)))
    args = ["train", "classify", "--train", tmp_path / "train.tsv", "--embeddings", "scratch", "--self-train",
            tmp_path / "raw.txt", "--self-train-threshold", "0", "--self-train-sentences", "10", "--epochs", "2",
            "--output", tmp_path / "model"]  # fmt: skip
    result = runner.invoke(veclift.cli.app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    (done,) = load_model(tmp_path / "model").train_result.self_training
    held = ", ".join(f"{label} {n}" for label, n in done["added_labels"].items())
    assert f"self-training round 1: {done['added']} of 40 raw items joined the training data ({held})" in result.stderr
    assert 0 < done["added"] <= 10 and sum(done["added_labels"].values()) == done["added"]


def test_the_rounds_keep_the_members_the_labelled_texts_chose(tmp_path, monkeypatch):
    monkeypatch.setattr(classifier_module, "SMALL_TRAINING_SET", 25)  # 20 labelled texts: three members
    raw = tmp_path / "texts.txt"
    raw.write_text("".join(" ".join(t.tokens) + "\n" for t in labeled_texts(40, seed=5)))
    model = TextClassifier(encoder="swem-mean", max_epochs=3, lr=0.02, batch_size=8, self_train=str(raw),
                           self_train_threshold=0.0)  # fmt: skip
    model.fit(labeled_texts(20), vectors=tiny_vectors(), progress=False)
    assert model.train_result.self_training[0]["added"] > 5  # the last model trained on more than 25 texts
    assert model.members == 3 and len(model.network.more_members) == 2 and model.config.members == 0
