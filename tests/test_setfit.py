"""contextual-setfit: SetFit's contrastive tuning of a tiny random BERT, then a probe on its frozen features."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

pytest.importorskip("setfit")

from veclift.contextual import load_backbone  # noqa: E402
from veclift.errors import VecliftError  # noqa: E402
from veclift.tasks import SequenceTagger, TextClassifier, load_model  # noqa: E402

OPTIONS = {"embeddings": "contextual-setfit", "encoder": "swem-mean", "contextual_pooling": "mean", "dropout": 0.0,
           "lr": 0.05, "max_epochs": 15, "patience": 15, "setfit_pairs": 64, "min_batches": 1, "batch_size": 8}


def texts(n: int, seed: int) -> list[tuple[str, str]]:
    """Animal sentences and fruit sentences over the tiny vocabulary, shuffled words."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words, label = (["the", "cat", "sat", "on", "mat"], "animal") if i % 2 else (["apple", "orange", "a", "b"], "fruit")
        rng.shuffle(words)
        rows.append((" ".join(words[: rng.randint(3, len(words))]), label))
    return rows


def test_setfit_tunes_the_encoder_and_the_probe_beats_a_constant_guess(tiny_model_dir, tmp_path):
    train, test = texts(24, seed=0), texts(40, seed=1)
    model = TextClassifier(contextual_model=str(tiny_model_dir), **OPTIONS).fit(train, train[:8], seed=0, progress=False)
    tuned = model.embedder.parts[1].backbone.model.state_dict()
    original = load_backbone(tiny_model_dir).model.state_dict()
    assert tuned.keys() == original.keys() and any(not torch.equal(tuned[k], original[k]) for k in tuned)  # pairs moved it
    assert not (Path(model.embedder.parts[1].scratch.name) / "encoder").exists()  # its weights live in memory
    accuracy = model.score([t for t, _ in test], [y for _, y in test])
    assert accuracy >= 0.8  # a constant guess gets 0.5
    model.save(tmp_path / "model")
    assert (tmp_path / "model" / "contextual" / "config.json").is_file()  # the tuned encoder travels with the model
    again = load_model(tmp_path / "model")
    sentences = [t for t, _ in test]
    assert again.predict(sentences) == model.predict(sentences)


def test_setfit_is_the_same_for_the_same_seed(tiny_model_dir):
    train = texts(16, seed=2)
    runs = [TextClassifier(contextual_model=str(tiny_model_dir), **{**OPTIONS, "max_epochs": 2}).fit(train, seed=3, progress=False)
            for _ in range(2)]  # fmt: skip
    probe = [t for t, _ in texts(10, seed=4)]
    assert (runs[0].predict_proba(probe) == runs[1].predict_proba(probe)).all()


def test_setfit_refuses_what_it_cannot_pair(tiny_model_dir):
    with pytest.raises(VecliftError, match="not a tagger"):
        SequenceTagger(embeddings="contextual-setfit")
    multi = [("the cat", ["animal", "fruit"]), ("apple", ["fruit"]), ("mat", ["animal"])]
    with pytest.raises(VecliftError, match="single-label"):
        TextClassifier(contextual_model=str(tiny_model_dir), **OPTIONS).fit(multi, progress=False)
    with pytest.raises(VecliftError, match="not a local directory"):
        TextClassifier(**{**OPTIONS, "contextual_model": "no/such-model"}).fit(texts(6, seed=5), progress=False)


def test_setfit_without_progress_prints_nothing(tiny_model_dir, capfd):
    TextClassifier(contextual_model=str(tiny_model_dir), **{**OPTIONS, "max_epochs": 1}).fit(texts(8, seed=6), progress=False)
    out, err = capfd.readouterr()
    assert "it/s" not in err + out and "loss" not in err + out
