"""Continuing a trained tagger's training on new entity types (`veclift.tasks.update`): a base
tagger on PER only, an update with LOC only, pseudo-rehearsal against plain fine-tuning."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys

import numpy as np
import pytest
import torch
from task_fixtures import CITIES, PEOPLE, tagged_sentences, tiny_vectors
from typer.testing import CliRunner

import veclift.cli
from veclift.data import TaggedSentence, tags_from_spans, write_conll
from veclift.embeddings import TokenBatch
from veclift.errors import VecliftError
from veclift.tasks import SequenceTagger, TextClassifier, load_model
from veclift.tasks import update
from veclift.tasks.tagger import OPEN_TAG
from veclift.tasks.update import balanced_dev_score, grown_word_rows, merge_entities, open_tags, pseudo_rehearsal, restricted_tags
from veclift.vectors.core import Vectors

veclift.cli._register()
runner = CliRunner()
FAST = dict(hidden=16, char_filters=8, batch_size=8, lr=0.01, max_epochs=10)


def only(sentences: list[TaggedSentence], types: set[str]) -> list[TaggedSentence]:
    """The sentences with the entities of other types removed (tagged ``O``)."""
    return [TaggedSentence(s.tokens, tags_from_spans([e for e in s.entities() if e[0] in types], len(s))) for s in sentences]


def f1(model: SequenceTagger, data: list[TaggedSentence], kind: str) -> float:
    return model.evaluate(data)["per_type"][kind]["f1"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A tagger trained on PER only, saved; and the test data with both types."""
    directory = tmp_path_factory.mktemp("update") / "base"
    model = SequenceTagger(**FAST).fit(only(tagged_sentences(60, seed=0), {"PER"}), vectors=tiny_vectors(), progress=False)
    model.save(directory)
    return directory, model


TEST = tagged_sentences(40, seed=1)
NEW = only(tagged_sentences(40, seed=3), {"LOC"})


@pytest.fixture(scope="module")
def updated(base):
    directory, _ = base
    plain = {"rehearsal": "none", "init_pull": 0.0}  # plain fine-tuning, as documented
    return {name: SequenceTagger(init_model=str(directory), **options, **FAST).fit(NEW, progress=False)
            for name, options in (("pseudo", {}), ("none", plain))}  # fmt: skip


def test_pseudo_rehearsal_keeps_the_old_type_and_plain_fine_tuning_forgets_it(base, updated):
    _, model = base
    with pytest.warns(Warning, match="B-LOC"):
        before = model.evaluate(TEST)
    assert before["per_type"]["PER"]["f1"] > 0.9 and before["per_type"]["LOC"]["f1"] == 0
    pseudo, plain = updated["pseudo"], updated["none"]
    assert f1(pseudo, TEST, "PER") >= before["per_type"]["PER"]["f1"] - 0.05
    assert f1(pseudo, TEST, "LOC") > 0.8 and f1(plain, TEST, "LOC") > 0.8
    assert f1(plain, TEST, "PER") < f1(pseudo, TEST, "PER") - 0.5  # taught as O everywhere: forgotten


def test_labels_grow_and_the_old_weights_keep_their_place(base, updated):
    _, model = base
    for update in updated.values():
        assert update.labels == [*model.labels, "B-LOC"]
        assert update.config.hidden == model.config.hidden and update.config.init_model is not None
    network = load_model(base[0]).network
    batch = TokenBatch.of([["John", "lives", "in", "Paris", "."]])
    before = network.emissions(batch)
    raw = lambda crf: {k: getattr(crf, k).detach().numpy().copy() for k in ("transitions", "start", "end")}  # noqa: E731
    crf = raw(network.crf)
    network.add_tags([*model.labels, "B-LOC", "I-LOC", "B-ORG"])
    after = network.emissions(batch)
    # the same weights in a wider matmul: equal up to rounding
    assert after.shape[-1] == 5 and torch.allclose(after[..., :2], before, atol=1e-5) and not after[..., 2:].any()
    grown = raw(network.crf)
    assert np.array_equal(grown["transitions"][:2, :2], crf["transitions"]) and not grown["transitions"][2:].any()
    assert np.array_equal(grown["start"][:2], crf["start"]) and np.array_equal(grown["end"][:2], crf["end"])
    with pytest.raises(ValueError, match="shrink"):
        network.add_tags(model.labels[:1])


def test_the_pull_holds_the_features_and_leaves_the_head_free(base, updated):
    network = load_model(base[0]).network
    assert not updated["pseudo"].network.anchors  # dropped once trained: as the model loads again
    network.anchor(2.0)
    assert network.pull() == 0 and network.anchors and not any(n.startswith(("output.", "crf.")) for n in network.anchors)
    with torch.no_grad():
        next(network.encoder.parameters()).add_(0.5)
        network.output.bias.add_(10.0)  # not pulled
    moved = network.pull()
    assert moved > 0
    network.add_tags([*load_model(base[0]).labels, "B-LOC", "I-LOC"])  # grown parameters are compared on their leading rows
    assert network.pull() == moved
    network.anchor(0.0)
    assert network.pull() == 0


def test_merge_lets_gold_entities_win():
    sentence = TaggedSentence(["John", "Smith", "in", "Paris", "and", "Rome"], ["O", "O", "O", "B-LOC", "O", "O"])
    predicted = ["B-PER", "I-PER", "O", "B-PER", "O", "B-ORG"]  # PER over the gold LOC loses; ORG not asked
    merged = merge_entities(sentence, predicted, {"PER"})
    assert merged.tags == ("B-PER", "I-PER", "O", "B-LOC", "O", "O")
    assert merge_entities(sentence, ["O"] * 6, {"PER"}) is sentence
    assert restricted_tags(["B-PER", "I-PER", "B-LOC", "I-LOC"], {"LOC"}) == ["O", "O", "B-LOC", "I-LOC"]


def test_the_dev_score_weighs_the_new_types_as_much_as_the_rehearsed_ones(updated):
    model = updated["pseudo"]
    dev = TEST[:10]
    perfect = [TaggedSentence(s.tokens, tags) for s, tags in zip(dev, model.predict(dev))]
    assert balanced_dev_score(model, perfect, [{"LOC"}, {"PER"}]) == 1.0
    no_loc = only(perfect, {"PER"})  # every LOC the model finds is now a false positive: LOC F1 0
    assert balanced_dev_score(model, no_loc, [{"LOC"}, {"PER"}]) == 0.5
    assert balanced_dev_score(model, no_loc, [{"PER"}, set()]) == 1.0


def test_the_updated_model_saves_and_loads_bit_identically(updated, tmp_path):
    model = updated["pseudo"]
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    a, b = model.network.state_dict(), again.network.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert again.labels == model.labels and again.config == model.config
    texts = ["Lucy lives in Vienna .", "Peter met Anna in Rome today"]
    assert again.predict_entities(texts) == model.predict_entities(texts)
    if importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None:
        from veclift.tasks.onnx_export import export_onnx
        from veclift.tasks.onnx_model import OnnxModel

        export_onnx(again, tmp_path / "onnx")
        assert OnnxModel(tmp_path / "onnx", threads=1).predict([t.split() for t in texts]) == model.predict(texts)


def test_word_rows_are_kept_and_new_words_get_rows(tmp_path):
    train = only(tagged_sentences(30), {"PER"})
    base = SequenceTagger(embeddings="scratch", oov=None, **FAST).fit(train, progress=False)
    words = base.words
    new = only(tagged_sentences(20, seed=4, people=PEOPLE[4:], cities=CITIES[4:]), {"LOC"})
    grown = grown_word_rows(words, [s.tokens for s in new], base.config, np.random.default_rng(0))
    assert torch.equal(grown.new[: words.n_new], words.new) and grown.new_words[: len(words.new_words)] == words.new_words
    assert {"Vienna", "Lucy"} <= set(grown.new_words[len(words.new_words) :]) and "Vienna" in grown.train_words
    assert grown.new[words.n_new :].abs().sum() > 0  # drawn, not zero
    # a finetune model takes the rows of the given vectors for words it lacks, frozen
    vectors = tiny_vectors()
    extra = Vectors([*vectors.words, "zanzibar"], np.vstack([vectors.matrix, np.full((1, vectors.dim), 0.5, np.float32)]),
                    meta={"lowercase": True}, source="tiny+")  # fmt: skip
    SequenceTagger(**FAST).fit(train, vectors=vectors, progress=False).save(tmp_path / "ft")
    update = SequenceTagger(init_model=str(tmp_path / "ft"), **{**FAST, "max_epochs": 2})
    update.fit([TaggedSentence(["John", "visited", "Zanzibar"], ["B-PER", "O", "B-LOC"])] * 8, vectors=extra, progress=False)
    row = update.words.index["zanzibar"]
    assert row >= update.words.n_new + update.words.n_tuned
    assert torch.all(update.words.fixed[row - update.words.n_new - update.words.n_tuned] == 0.5)


def test_early_stopping_and_raw_rehearsal_text(base, tmp_path):
    directory, _ = base
    raw = tmp_path / "raw.txt"
    raw.write_text("Mary said that Anna visited the city .\n\nPeter met John today\n")
    dev = only(tagged_sentences(10, seed=6), {"LOC"})
    model = SequenceTagger(init_model=str(directory), rehearse=str(raw), patience=2, **{**FAST, "max_epochs": 30})
    model.fit(NEW, dev, progress=False)
    result = model.train_result
    assert result.best_score is not None and result.best_score > 0.8 and result.best_epoch >= 1
    assert "city" in model.words.train_words  # the rehearsal sentences are training data
    assert f1(model, TEST, "PER") > 0.9 and f1(model, TEST, "LOC") > 0.8


def test_bad_updates_are_one_line_errors(base, tmp_path):
    directory, _ = base
    with pytest.raises(VecliftError, match="--init-model: not a model directory") as info:
        SequenceTagger(init_model=str(tmp_path / "missing")).fit(NEW, progress=False)
    assert "\n" not in str(info.value)
    classifier = tmp_path / "clf"
    TextClassifier(embeddings="scratch", max_epochs=1, word_dim=4).fit([(["good"], "pos"), (["bad"], "neg")] * 4,
                                                                       progress=False).save(classifier)  # fmt: skip
    with pytest.raises(VecliftError, match="needs a ner model to continue; this directory holds a classify model"):
        SequenceTagger(init_model=str(classifier)).fit(NEW, progress=False)
    with pytest.raises(VecliftError, match="hidden is 32 here but 16"):
        SequenceTagger(init_model=str(directory), **{**FAST, "hidden": 32}).fit(NEW, progress=False)
    (tmp_path / "blank.txt").write_text("\n \n")
    with pytest.raises(VecliftError, match="no sentence in the rehearsal text"):
        SequenceTagger(init_model=str(directory), rehearse=str(tmp_path / "blank.txt")).fit(NEW, progress=False)
    with pytest.raises(VecliftError, match="needs pseudo rehearsal"):
        SequenceTagger(init_model=str(directory), rehearsal="none", rehearse="x.txt").fit(NEW, progress=False)
    with pytest.raises(VecliftError, match="applies only when training continues"):
        SequenceTagger(rehearse="x.txt").fit(NEW, progress=False)
    with pytest.raises(VecliftError, match="unknown rehearsal 'replay'"):
        SequenceTagger(rehearsal="replay")


def test_the_cli_continues_training(base, tmp_path, monkeypatch, capsys):
    directory, _ = base
    write_conll(NEW, tmp_path / "new.conll")
    output = tmp_path / "updated"
    args = ["train", "ner", "--init-model", directory, "--train", tmp_path / "new.conll", "--output", output,
            "--epochs", "10", "--lr", "0.01", "--batch-size", "8", "--quiet"]  # fmt: skip
    result = runner.invoke(veclift.cli.app, [str(a) for a in args])  # no --vectors: the model's rows serve
    assert result.exit_code == 0, result.output
    model = load_model(output)
    assert model.labels[-1] == "B-LOC" and model.config.rehearsal == "pseudo"
    assert f1(model, TEST, "PER") > 0.9 and f1(model, TEST, "LOC") > 0.8
    assert "--rehearse" in runner.invoke(veclift.cli.app, ["train", "ner", "--help"]).output
    monkeypatch.setattr(sys, "argv", ["veclift", "train", "ner", "--init-model", str(tmp_path / "none"), "--train",
                                      str(tmp_path / "new.conll"), "--output", str(tmp_path / "x")])  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        veclift.cli.main()
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2 and stderr.startswith("error: ") and len(stderr.strip().splitlines()) == 1
    assert "--init-model" in stderr and not (tmp_path / "x").exists()


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="transformers is not installed")
def test_a_contextual_model_continues_training(tiny_model_dir, tmp_path):  # noqa: F811
    options = dict(char="none", casing=False, hidden=16, max_epochs=30, patience=0, lr=0.01, dropout=0.0,
                   embed_dropout=0.0, batch_size=4)  # fmt: skip
    train = only(tagged_sentences(16), {"PER"})
    base = SequenceTagger(embeddings="contextual-frozen", contextual_model=str(tiny_model_dir),
                          contextual_cache=str(tmp_path / "cache"), **options).fit(train, progress=False)  # fmt: skip
    base.save(tmp_path / "base")
    update = SequenceTagger(init_model=str(tmp_path / "base"), **options).fit(only(tagged_sentences(16, seed=3), {"LOC"}),
                                                                              progress=False)  # fmt: skip
    assert update.labels == ["O", "B-PER", "B-LOC"] and update.config.embeddings == "contextual-frozen"
    assert update.words.dim == 0 and not update.words.new_words
    update.save(tmp_path / "updated")
    again = load_model(tmp_path / "updated")
    texts = [["John", "lives", "in", "Paris", "."]]
    assert again.predict(texts) == update.predict(texts)
    assert f1(update, TEST, "LOC") > 0


def test_the_model_keeps_training_sentences_to_rehearse_on(base, tmp_path):
    directory, model = base
    train = only(tagged_sentences(60, seed=0), {"PER"})
    sentences = {tuple(s.tokens) for s in train}
    kept = load_model(directory).rehearsal_tokens
    assert len(kept) == len(train) and {tuple(t) for t in kept} == sentences  # fewer than 500: all of them
    few = SequenceTagger(**{**FAST, "max_epochs": 1}, rehearsal_sentences=5).fit(train, vectors=tiny_vectors(), progress=False)
    assert len(few.rehearsal_tokens) == 5 and {tuple(t) for t in few.rehearsal_tokens} <= sentences
    assert SequenceTagger(**{**FAST, "max_epochs": 1}, rehearsal_sentences=0).fit(train, vectors=tiny_vectors(), progress=False).rehearsal_tokens == []
    broken = tmp_path / "broken"
    shutil.copytree(directory, broken)
    config = json.loads((broken / "config.json").read_text())
    config["extra"]["rehearsal_tokens"] = [["Mary", 3]]
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(VecliftError, match="rehearsal_tokens must be a list of token lists"):
        load_model(broken)
    del config["extra"]["rehearsal_tokens"]  # a model saved before veclift kept them
    (broken / "config.json").write_text(json.dumps(config))
    assert load_model(broken).rehearsal_tokens == []


def test_updates_rehearse_on_the_kept_sentences_unless_told(base, tmp_path, monkeypatch):
    directory, model = base
    seen = []
    original = update.pseudo_rehearsal
    monkeypatch.setattr(update, "pseudo_rehearsal", lambda base, train, dev, raw: seen.append(raw) or original(base, train, dev, raw))
    options = {**FAST, "max_epochs": 1}
    raw = tmp_path / "raw.txt"
    raw.write_text("Mary went home\n")
    for rehearse in (None, "none", str(raw)):
        SequenceTagger(init_model=str(directory), rehearse=rehearse, **options).fit(NEW, progress=False)
    assert seen == [model.rehearsal_tokens, [], [["Mary", "went", "home"]]]


def test_raw_text_is_rehearsed_with_the_new_types_left_open(base):
    _, model = base
    new = [TaggedSentence(["we", "visited", "Paris"], ["O", "O", "B-LOC"])]
    raw = [["Mary", "lives", "in", "Rome"]]
    model.embedder.prepare([*(s.tokens for s in new), *raw], None)
    rehearsed, _, _ = pseudo_rehearsal(model, new, [], raw)
    assert rehearsed[0] == new[0] and rehearsed[1].tags == ("B-PER", OPEN_TAG, OPEN_TAG, OPEN_TAG)
    assert open_tags(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], {"LOC"}) == [0, 3, 4]


def test_a_softmax_tagger_learns_from_partial_targets(tmp_path):
    train = only(tagged_sentences(60, seed=0), {"PER"})
    SequenceTagger(head="softmax", **FAST).fit(train, vectors=tiny_vectors(), progress=False).save(tmp_path / "base")
    model = SequenceTagger(init_model=str(tmp_path / "base"), **FAST).fit(NEW, progress=False)  # kept sentences: open tags
    assert f1(model, TEST, "LOC") > 0.8 and f1(model, TEST, "PER") > 0.9
