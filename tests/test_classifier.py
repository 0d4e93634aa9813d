"""The classifier: every encoder learns an easy pattern; multi-label; probabilities; bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from task_fixtures import NEGATIVE, POSITIVE, constant_baseline, labeled_texts, tiny_vectors

import veclift.tasks.classifier as classifier_module
from veclift.data import LabeledText
from veclift.embeddings import TokenBatch
from veclift.errors import VecliftError, VecliftWarning
from veclift.tasks import TextClassifier
from veclift.tasks.config import CLASSIFIER_ENCODERS

FAST = dict(hidden=8, filters=8, batch_size=8, lr=0.01, max_epochs=10)


@pytest.mark.parametrize("encoder", CLASSIFIER_ENCODERS)
def test_every_encoder_learns_and_transfers_to_unseen_words(encoder):
    train, dev = labeled_texts(40), labeled_texts(10, seed=1)
    model = TextClassifier(encoder=encoder, **FAST).fit(train, dev, vectors=tiny_vectors(), progress=False)
    accuracy = model.evaluate(dev)["accuracy"]
    assert accuracy >= 0.9 and accuracy > constant_baseline(dev)
    unseen = labeled_texts(20, seed=2, positive=POSITIVE[3:], negative=NEGATIVE[3:])
    scores = model.evaluate(unseen, vectors=tiny_vectors())
    assert scores["transfer"]["unseen_known"]["count"] == 20 and scores["accuracy"] > constant_baseline(unseen)
    proba = model.predict_proba(["the day was lovely", "dreadful"])
    assert proba.shape == (2, 2) and np.allclose(proba.sum(1), 1)
    assert model.predict(["that ecstatic today"]) in (["pos"], ["neg"])


def test_multi_label_uses_sigmoid_and_returns_label_lists():
    base = labeled_texts(40)
    train = [LabeledText(t.tokens, t.labels + (("today",) if "today" in t.tokens else ()), t.text) for t in base]
    model = TextClassifier(encoder="swem-max", mlp=16, **FAST).fit(train, vectors=tiny_vectors(), progress=False)
    assert model.multi_label and model.labels == ["neg", "pos", "today"]
    predicted = model.predict(train)
    assert all(isinstance(p, list) and p for p in predicted)
    assert model.evaluate(train)["accuracy"] > constant_baseline(train)  # the most frequent label set's share


def test_bad_input_is_reported():
    model = TextClassifier(**FAST)
    with pytest.raises(VecliftError, match="one class only"):
        model.fit([LabeledText(["a"], ["x"], "a")] * 3, vectors=tiny_vectors(), progress=False)
    model.fit(labeled_texts(10), vectors=tiny_vectors(), progress=False)
    assert model.evaluate(labeled_texts(10))["accuracy"] > constant_baseline(labeled_texts(10))
    with pytest.warns(VecliftWarning, match="text 2: label 'meh' is not one the model knows.*1 text"):
        scores = model.evaluate([LabeledText(["good"], ["pos"], "good"), LabeledText(["so"], ["meh"], "so")])
    assert scores["accuracy"] <= 0.5 and scores["per_class"]["meh"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["confusion"]["labels"] == ["neg", "pos", "meh"]
    with pytest.raises(VecliftError, match="empty"):
        model.predict([""])


def test_max_pooling_ignores_padding_even_below_zero_and_sends_gradients_to_the_maxima_only():
    import torch

    from veclift.tasks.encoders import MaskedPooling

    x = torch.tensor([[[-3.0, -1.0], [-2.0, -4.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]], requires_grad=True)
    mask = torch.tensor([[True, True, False], [False, False, False]])  # the second text is empty
    pooled = MaskedPooling(2, "concat")(x, mask)
    assert pooled.tolist() == [[-2.5, -2.5, -2.0, -1.0], [0.0, 0.0, 0.0, 0.0]]
    pooled[:, 2:].sum().backward()
    assert x.grad.tolist() == [[[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]]


def test_members_are_classifiers_of_their_own_whose_answer_is_their_average_log_probability(tmp_path):
    train, dev = labeled_texts(40), labeled_texts(10, seed=1)
    model = TextClassifier(members=3, **FAST).fit(train, dev, vectors=tiny_vectors(), progress=False)
    assert model.evaluate(dev)["accuracy"] > constant_baseline(dev)
    network, batch = model.network, TokenBatch.of([list(t.tokens) for t in dev])
    network.eval()
    with torch.no_grad():
        features = network.embedder(batch)
        members = [torch.softmax(s, -1) for s in network.member_logits(features, batch.mask)]
        combined = network.probabilities_from(network.from_features(features, batch.mask))
    assert len(members) == 3 and not torch.allclose(members[0], members[1], atol=1e-3)  # other weights, other answers
    geometric = torch.stack(members).log().mean(0).exp()
    assert torch.allclose(combined, geometric / geometric.sum(1, keepdim=True), atol=1e-6)
    # each member learns on its own loss, not on the combined answer
    targets = network.collate([model._target(t) for t in dev], batch)
    with torch.no_grad():
        own = torch.stack([torch.nn.functional.cross_entropy(s, targets) for s in network.member_logits(features, batch.mask)])
        assert torch.isclose(network.loss(batch, targets), own.mean())
        assert not torch.isclose(own.mean(), torch.nn.functional.nll_loss(combined.log(), targets))
    model.save(tmp_path / "model")
    loaded = TextClassifier.load(tmp_path / "model")
    assert loaded.config.members == loaded.members == 3 and len(loaded.network.more_members) == 2
    assert np.allclose(loaded.predict_proba(dev), model.predict_proba(dev))


def test_a_one_member_network_keeps_the_parameter_names_models_were_saved_with(tmp_path):
    model = TextClassifier(members=1, **FAST).fit(labeled_texts(20), vectors=tiny_vectors(), progress=False)
    names = set(model.network.state_dict())
    assert {"output.weight", "output.bias"} <= names and not any(name.startswith("more_members") for name in names)
    model.save(tmp_path / "model")
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    del config["extra"]["members"], config["config"]["members"]  # as a model saved before members existed
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    loaded = TextClassifier.load(tmp_path / "model")
    assert loaded.members == loaded.config.members == 1 and np.allclose(loaded.predict_proba(labeled_texts(5)), model.predict_proba(labeled_texts(5)))
    with pytest.raises(VecliftError, match="members must be at least 0"):
        TextClassifier(members=-1)


def test_members_by_size_three_up_to_the_limit_one_beyond_and_saved_as_chosen(monkeypatch, tmp_path):
    monkeypatch.setattr(classifier_module, "SMALL_TRAINING_SET", 20)
    small = TextClassifier(**FAST).fit(labeled_texts(20), vectors=tiny_vectors(), progress=False)
    assert small.config.members == 0 and small.members == 3 and len(small.network.more_members) == 2
    small.save(tmp_path / "small")
    assert TextClassifier.load(tmp_path / "small").members == 3
    large = TextClassifier(**FAST).fit(labeled_texts(21), vectors=tiny_vectors(), progress=False)
    assert large.members == 1 and len(large.network.more_members) == 0
    large.save(tmp_path / "large")
    assert TextClassifier.load(tmp_path / "large").members == 1
    assert TextClassifier(members=2, **FAST).fit(labeled_texts(21), vectors=tiny_vectors(), progress=False).members == 2
    contextual = TextClassifier(embeddings="contextual-frozen")
    assert classifier_module.members_for(20, contextual.config) == 1


def test_a_multi_label_model_answers_its_members_average_score():
    train = [LabeledText(t.tokens, t.labels + (("today",) if "today" in t.tokens else ()), t.text) for t in labeled_texts(40)]
    model = TextClassifier(encoder="swem-max", members=3, **FAST).fit(train, vectors=tiny_vectors(), progress=False)
    network, batch = model.network, TokenBatch.of([list(t.tokens) for t in train])
    with torch.no_grad():
        features = network.embedder(batch)
        members = network.member_logits(features, batch.mask)
        assert not torch.allclose(members[0], members[1], atol=1e-3)
        assert torch.allclose(network.from_features(features, batch.mask), torch.stack(members).mean(0))
