"""The embedding layer: row segments per strategy, unseen words, fine-tuning rate, stacking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from task_fixtures import tagged_sentences, tiny_vectors

from veclift.errors import VecliftError
from veclift.embeddings import StackedEmbedder, TokenBatch
from veclift.tasks import SequenceTagger, TaggerConfig
from veclift.embeddings.words import UNK, build_word_embedder
from veclift.data.features import casing
from veclift.embeddings.casing import CasingEmbedder
from veclift.embeddings.chars import CharCNNEmbedder
import veclift.tasks.trainer as trainer_module
from veclift.tasks.trainer import make_optimizer
from veclift.vectors.core import Vectors

FAST = dict(max_epochs=3, hidden=8, char_filters=6, batch_size=8)


def build(strategy, train, extra=(), **options):
    config = TaggerConfig(embeddings=strategy, **options)
    return build_word_embedder([s.tokens for s in train], extra, tiny_vectors(), config, np.random.default_rng(0))


def row_of(embedder, word):
    return embedder(TokenBatch.of([[word]]))[0, 0].detach().numpy()


def test_frozen_rows_are_the_vectors_and_nothing_word_level_trains():
    train = tagged_sentences(10)
    words = build("frozen", train)
    assert words.n_tuned == 0 and words.n_new == 2
    np.testing.assert_allclose(row_of(words, "Paris"), tiny_vectors()["paris"], rtol=1e-6)
    model = SequenceTagger(embeddings="frozen", **FAST).fit(train, train[:3], vectors=tiny_vectors(), progress=False)
    np.testing.assert_array_equal(row_of(model.words, "Paris"), tiny_vectors()["paris"])


def test_a_batch_mixing_tuned_new_and_fixed_rows_gets_each_its_own_and_zero_padding():
    train = tagged_sentences(10)
    words = build("finetune", train, extra=[["Madrid"]])
    assert "paris" in words.tuned_words and "madrid" in words.fixed_words
    out = words(TokenBatch.of([["Paris", "zzzunseen", "Madrid"], ["Madrid"]])).detach().numpy()
    np.testing.assert_allclose(out[0, 0], tiny_vectors()["paris"], rtol=1e-6)
    np.testing.assert_array_equal(out[0, 1], words.new[UNK].detach().numpy())
    np.testing.assert_allclose(out[0, 2], tiny_vectors()["madrid"], rtol=1e-6)
    np.testing.assert_allclose(out[1, 0], tiny_vectors()["madrid"], rtol=1e-6)
    assert not out[1, 1:].any()


def test_finetune_rows_move_at_their_own_rate():
    train = tagged_sentences(20)
    model = SequenceTagger(embeddings="finetune", lr=0.01, finetune_lr_ratio=0.1, **FAST)
    model.fit(train, train[:3], vectors=tiny_vectors(), progress=False)
    words = model.words
    groups = make_optimizer(model.network, model.config).param_groups
    assert [g["lr"] for g in groups] == [0.01, pytest.approx(0.001)]
    assert groups[1]["params"] == [words.tuned]
    moved = (words.tuned - words.anchor).abs().max().item()
    steps = 3 * -(-20 // max(1, min(8, 20 // model.config.min_batches)))  # small sets get smaller batches
    assert 0 < moved <= steps * 0.001 * 1.01  # Adam moves each weight by at most ~lr per step
    np.testing.assert_array_equal(words.anchor.numpy(), tiny_vectors()[words.tuned_words])


@pytest.mark.parametrize(("scaling", "factor"), [("none", 1.0), ("sqrt", 2.0), ("linear", 4.0)])
def test_batches_grown_by_max_batches_train_at_a_scaled_rate(scaling, factor):
    model = SequenceTagger(embeddings="finetune", lr=0.01, finetune_lr_ratio=0.1, lr_scaling=scaling, **FAST)
    model.fit(tagged_sentences(20), vectors=tiny_vectors(), progress=False)
    grown = make_optimizer(model.network, model.config, 32).param_groups  # batches of 32 for a batch_size of 8
    assert [g["lr"] for g in grown] == [pytest.approx(0.01 * factor), pytest.approx(0.001 * factor)]
    assert [g["lr"] for g in make_optimizer(model.network, model.config, 4).param_groups] == [0.01, pytest.approx(0.001)]


def test_training_scales_the_rate_to_the_batches_it_makes(monkeypatch):
    built = []
    real = trainer_module.make_optimizer
    monkeypatch.setattr(trainer_module, "make_optimizer", lambda *args: built.append(real(*args)) or built[-1])
    # 300 sentences in at most 25 batches: batches of 12 instead of 8, the rate x sqrt(1.5)
    options = {**FAST, "max_epochs": 1, "max_batches": 25, "lr": 0.01, "lr_scaling": "sqrt"}
    SequenceTagger(embeddings="finetune", **options).fit(tagged_sentences(300), vectors=tiny_vectors(), progress=False)
    assert built[0].param_groups[0]["initial_lr"] == pytest.approx(0.01 * 1.5**0.5)


def test_l2_pull_penalises_distance_from_the_original_rows():
    words = build("finetune", tagged_sentences(5), l2_pull=0.5)
    assert words.penalty() == 0.0
    with torch.no_grad():
        words.tuned[0] += 1.0
    assert words.penalty().item() == pytest.approx(0.5 * words.dim)


def test_unseen_word_gets_its_pretrained_vector_not_unk():
    train = tagged_sentences(10)  # cities Paris..Rome only
    words = build("finetune", train, keep_vectors=0, oov="lower")  # no spelling model: unknown stays unknown
    assert "madrid" not in words.index
    words.prepare([["Madrid"]])  # not in the kept rows, no vectors given: stays unknown
    assert "madrid" not in words.index
    words.prepare([["Madrid", "Xyzzy"]], tiny_vectors())
    np.testing.assert_array_equal(row_of(words, "Madrid"), tiny_vectors()["madrid"])
    assert words.knows("Madrid") and not words.knows("Xyzzy")
    np.testing.assert_array_equal(row_of(words, "Xyzzy"), words.new[UNK].detach().numpy())


def test_dev_words_and_top_vectors_are_kept_as_fixed_rows():
    train = tagged_sentences(10)
    words = build("finetune", train, extra=[["Vienna"]], keep_vectors=6)
    assert words.fixed_words == ["vienna", "paul", "lucy"]  # dev word, then top rows not trained
    assert "paris" in words.tuned_words and words.n_new == 2


def test_scratch_uses_no_pretrained_rows():
    train = tagged_sentences(10)
    words = build("scratch", train)
    assert words.n_tuned == 0 and len(words.fixed_words) == 0
    assert not np.allclose(row_of(words, "Paris"), tiny_vectors()["paris"])
    words.prepare([["Madrid"]], tiny_vectors())
    assert "madrid" not in words.index
    assert words.knows("Madrid") and words.knows("Paris") and not words.knows("Xyzzy")  # same transfer split as the others


def test_lowercase_keys_for_lowercase_vectors_and_detection():
    assert tiny_vectors().lowercase
    cased = Vectors(["Paris", "paris"], np.zeros((2, 3), np.float32))
    assert not cased.lowercase
    words = build("frozen", tagged_sentences(5))
    np.testing.assert_array_equal(row_of(words, "PARIS"), row_of(words, "paris"))


def test_strategies_need_vectors_except_scratch():
    config = TaggerConfig(embeddings="frozen")
    with pytest.raises(VecliftError, match="needs pre-trained vectors"):
        build_word_embedder([["a"]], [], None, config, np.random.default_rng(0))
    with pytest.raises(VecliftError, match="unknown embedding strategy"):
        TaggerConfig(embeddings="thawed")


def test_stack_concatenates_and_zeroes_padding():
    words = build("frozen", tagged_sentences(5))
    stack = StackedEmbedder([words, CharCNNEmbedder(list("abcdefghijklmnopqrstuvwxyzJMPAR"), 5, 7), CasingEmbedder(4)])
    batch = TokenBatch.of([["John", "lives"], ["Paris"]])
    out = stack(batch)
    assert stack.dim == words.dim + 7 + 4
    assert out.shape == (2, 2, stack.dim)
    assert torch.all(out[1, 1] == 0)


def test_casing_classes():
    assert [casing(t) for t in ["1996", "12-3a", "paris", "EU", "Paris", "-2-", "."]] == [1, 2, 3, 4, 5, 6, 7]
