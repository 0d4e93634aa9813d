"""Featurisation shared by both runtimes: padded id arrays, and word ids kept per sentence."""

from __future__ import annotations

import numpy as np
import pytest

from veclift.data.features import UNK, SentenceIds, filled, padded, word_ids
from veclift.errors import VecliftError
from veclift.tasks.config import ClassifierConfig, TaggerConfig
from veclift.tasks.trainer import training_batch_size

SENTENCES = [["The", "cat", "sat"], [], ["A", "dog"]]
INDEX = {"the": 2, "cat": 3, "a": 4}


def test_filled_puts_the_values_in_order_and_pads_with_zero():
    out = filled(SENTENCES, [1, 2, 3, 4, 5], 4)
    assert out.dtype == np.int64 and out.tolist() == [[1, 2, 3, 0], [0, 0, 0, 0], [4, 5, 0, 0]]
    assert padded(SENTENCES, len, 3).tolist() == [[3, 3, 3], [0, 0, 0], [1, 3, 0]]


def test_sentence_ids_are_word_ids_and_are_kept():
    ids = SentenceIds(INDEX, lowercase=True)
    first = ids(SENTENCES, 5)
    assert first.tolist() == word_ids(SENTENCES, INDEX, True, 5).tolist() == [[2, 3, UNK, 0, 0], [0] * 5, [4, UNK, 0, 0, 0]]
    assert len(ids.kept) == 3 and ids(SENTENCES[::-1], 3).tolist() == first[::-1, :3].tolist()
    assert SentenceIds(INDEX, lowercase=False)([["The", "the"]], 2).tolist() == [[UNK, 2]]
    assert ids([], 0).shape == (0, 0)


def test_a_word_embedders_ids_follow_rows_added_at_prediction():
    from veclift.embeddings import TokenBatch, WordEmbedder

    layer = WordEmbedder(["cat"], [], [], [], 2, lowercase=True)
    batch = TokenBatch.of([["cat", "zebra"]])
    assert layer.ids(batch).tolist() == [[2, UNK]]
    layer.add_fixed(["zebra"], np.ones((1, 2), np.float32), ["known"])
    assert layer.ids(batch).tolist() == [[2, 3]]  # the kept ids were of the old index
    layer.forget_added()
    assert layer.ids(batch).tolist() == [[2, UNK]]


@pytest.mark.parametrize(("n", "expected"), [(100, 4), (1600, 8), (1601, 9), (3000, 15), (14041, 71)])
def test_the_taggers_batches_grow_past_200_an_epoch(n, expected):
    assert training_batch_size(n, TaggerConfig()) == expected


@pytest.mark.parametrize(("n", "cap", "expected"), [(8600, 0, 538), (8600, 1024, 538), (51022, 1024, 1024), (51022, 0, 3189),
                                                    (2000, 1024, 200), (100, 1024, 10)])  # fmt: skip
def test_max_batch_size_caps_how_far_max_batches_grows_a_batch(n, cap, expected):
    config = ClassifierConfig(batch_size=256, max_batches=16, max_batch_size=cap)
    assert training_batch_size(n, config) == expected


def test_max_batches_below_min_batches_is_refused_and_old_models_read_as_unlimited():
    with pytest.raises(VecliftError, match="max_batches"):
        TaggerConfig(max_batches=10, min_batches=25)
    assert TaggerConfig.from_dict({**TaggerConfig.saved_before, "lr": 0.01}).max_batches == 0
