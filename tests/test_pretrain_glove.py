"""GloVe: co-occurrence counts against a brute-force count, and a cost that decreases."""

from __future__ import annotations

import numpy as np

from veclift.pretrain.corpus import Corpus
from veclift.pretrain.glove import GloveSettings, count_cooccurrences, fit_glove, train_glove


def brute_force(sentences: list[list[str]], index: dict[str, int], window: int) -> np.ndarray:
    counts = np.zeros((len(index), len(index)))
    for sentence in sentences:
        ids = [index[w] for w in sentence if w in index]
        for i in range(len(ids)):
            for j in range(i + 1, min(i + window + 1, len(ids))):
                counts[ids[i], ids[j]] += 1.0 / (j - i)
                counts[ids[j], ids[i]] += 1.0 / (j - i)
    return counts


def test_counts_equal_a_brute_force_count_across_chunks():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    sentences = [[words[k] for k in rng.integers(0, 12, rng.integers(1, 15))] for _ in range(60)]
    index = {w: i for i, w in enumerate(words[:10])}  # w10, w11 are out of vocabulary and dropped
    expected = brute_force(sentences, index, window=4)
    for chunk in (7, 100_000):
        counted = count_cooccurrences(sentences, index, window=4, chunk_tokens=chunk).toarray()
        np.testing.assert_allclose(counted, expected)


def test_cost_decreases_and_seed_repeats(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("the cat sat on the mat .\nthe dog sat on the rug .\n" * 30, encoding="utf-8")
    settings = GloveSettings(dim=8, epochs=15, min_count=1, window=3, batch_size=16)
    vectors = train_glove(Corpus([path]), settings, progress=False)
    cost = vectors.meta["training"]["cost_per_epoch"]
    assert all(later < earlier for earlier, later in zip(cost, cost[1:]))
    assert cost[-1] < cost[0] / 3
    again = train_glove(Corpus([path]), settings, progress=False)
    np.testing.assert_array_equal(vectors.matrix, again.matrix)
    assert vectors.words[0] == "the" and len(vectors) == 8


def test_fit_returns_word_plus_context_vectors_for_each_row():
    index = {w: i for i, w in enumerate("abcd")}
    counts = count_cooccurrences([list("abcdab"), list("dcba")], index, window=2)
    matrix, cost, seconds = fit_glove(counts, GloveSettings(dim=4, epochs=3, seed=1), progress=False)
    assert matrix.shape == (4, 4) and matrix.dtype == np.float32
    assert len(cost) == len(seconds) == 3
