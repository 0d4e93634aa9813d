"""The classifier: every encoder learns an easy pattern; multi-label; probabilities; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from task_fixtures import NEGATIVE, POSITIVE, constant_baseline, labeled_texts, tiny_vectors

from veclift.data import LabeledText
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
