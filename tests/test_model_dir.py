"""The model directory: identical predictions after reload, without the original vectors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from task_fixtures import labeled_texts, tagged_sentences, tiny_vectors

from veclift.errors import VecliftError
from veclift.tasks import SequenceTagger, TextClassifier, load_model
from veclift.embeddings import TokenBatch

FAST = dict(hidden=8, char_filters=6, batch_size=8, max_epochs=2)


def emissions(model, token_lists):
    model.embedder.prepare(token_lists)
    with torch.no_grad():
        return model.network.emissions(TokenBatch.of(token_lists)).numpy()


@pytest.mark.parametrize("strategy", ["scratch", "frozen", "finetune"])
def test_tagger_reloads_bit_for_bit(tmp_path, strategy):
    vectors_dir = tiny_vectors().save(tmp_path / "vectors")
    train = tagged_sentences(12)
    model = SequenceTagger(embeddings=strategy, oov="lower", **FAST)
    model.fit(train, train[:3], vectors=str(vectors_dir), progress=False)
    model.save(tmp_path / "model")
    loaded = SequenceTagger.load(tmp_path / "model")
    probe = [["Lucy", "met", "PAUL", "in", "Vienna", "1996"], ["John", "lives", "in", "Nowhere-Land"]]
    assert np.array_equal(emissions(model, probe), emissions(loaded, probe))
    assert model.predict(probe) == loaded.predict(probe)
    assert loaded.evaluate(train)["f1"] == model.evaluate(train)["f1"]
    meta = json.loads((tmp_path / "model" / "config.json").read_text())
    assert meta["task"] == "ner" and meta["config"]["embeddings"] == strategy and meta["labels"][0] == "O"
    assert meta["vectors"]["source"] and (tmp_path / "model" / "weights.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp dirs left


def test_tagger_with_the_default_spelling_model_reloads_bit_for_bit(tmp_path):
    train = tagged_sentences(12)
    model = SequenceTagger(**FAST).fit(train, vectors=tiny_vectors(), progress=False)
    assert model.config.oov == "lower,char-ngram"
    model.save(tmp_path / "model")
    loaded = SequenceTagger.load(tmp_path / "model")
    probe = [["Lucy", "met", "Madridd", "in", "Vienna"]]  # a misspelling neither vectors nor training know
    assert np.array_equal(emissions(model, probe), emissions(loaded, probe))
    row = loaded.words.index.get("madridd")  # a row from the saved n-gram model, not UNK
    assert row is not None and not loaded.words.knows("Madridd")
    assert model.predict(probe) == loaded.predict(probe)


def test_classifier_reloads_bit_for_bit_and_load_model_picks_the_class(tmp_path):
    train = labeled_texts(20)
    model = TextClassifier(encoder="bilstm-attention", hidden=8, batch_size=8, max_epochs=2).fit(train, vectors=tiny_vectors(), progress=False)
    model.save(tmp_path / "clf")
    loaded = load_model(tmp_path / "clf")
    assert isinstance(loaded, TextClassifier) and loaded.labels == model.labels
    texts = ["the day was lovely", "dreadful weather in London"]
    assert np.array_equal(model.predict_proba(texts), loaded.predict_proba(texts))
    with pytest.raises(VecliftError, match="not a ner model"):
        SequenceTagger.load(tmp_path / "clf")


def test_unseen_word_rows_come_from_vectors_given_at_predict_time(tmp_path):
    train = tagged_sentences(12)
    model = SequenceTagger(keep_vectors=0, oov="lower", **FAST).fit(train, vectors=tiny_vectors(), progress=False)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    loaded.predict([["Madrid"]])  # no spelling model: an unknown word stays unknown
    assert not loaded.words.knows("Madrid")
    loaded.predict([["Madrid"]], vectors=tiny_vectors())
    assert loaded.words.knows("Madrid")
    np.testing.assert_array_equal(loaded.words.fixed[loaded.words.index["madrid"] - loaded.words.n_new - loaded.words.n_tuned].numpy(),
                                  tiny_vectors()["madrid"])  # fmt: skip


def test_bad_model_directories(tmp_path):
    with pytest.raises(VecliftError, match="no such directory"):
        load_model(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VecliftError, match="config.json is missing"):
        load_model(tmp_path / "empty")
    with pytest.raises(VecliftError, match="not trained"):
        SequenceTagger().save(tmp_path / "untrained")
