"""word2vec, fastText and continued training on tiny corpora built here."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models.fasttext import FastText

from veclift.errors import VecliftError
from veclift.pretrain.continue_training import continue_training
from veclift.pretrain.corpus import Corpus
from veclift.pretrain.fasttext import FastTextSettings, train_fasttext
from veclift.pretrain.training import negative_samples_for, prepare_corpus
from veclift.pretrain.word2vec import Word2VecSettings, train_word2vec
from veclift.vectors.core import Vectors


@pytest.fixture()
def toy_corpus(tmp_path):
    """Two topics that never share a sentence: animals and finance."""
    rng = np.random.default_rng(0)
    animals = "cat dog mouse horse cow sheep".split()
    money = "bank money loan credit stock bond".split()
    lines = []
    for _ in range(400):
        group = animals if rng.random() < 0.5 else money
        lines.append(" ".join(rng.choice(group, 8)) + " .")
    path = tmp_path / "toy.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Corpus([path])


def cosine(vectors: Vectors, a: str, b: str) -> float:
    u, v = vectors[a], vectors[b]
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


def test_negative_samples_follow_corpus_size():
    assert [negative_samples_for(n) for n in (10_000, 5_000_000, 50_000_000, 500_000_000, 2_000_000_000)] == [20, 15, 10, 5, 3]


def test_word2vec_puts_co_occurring_words_closer_and_repeats_with_a_seed(toy_corpus):
    settings = Word2VecSettings(dim=16, window=3, epochs=5, min_count=1, negative=5, sample=0, seed=3)
    vectors = train_word2vec(toy_corpus, settings, progress=False)
    assert cosine(vectors, "cat", "dog") > cosine(vectors, "cat", "bank") + 0.3
    assert cosine(vectors, "loan", "credit") > cosine(vectors, "loan", "horse") + 0.3
    again = train_word2vec(toy_corpus, settings, progress=False)
    np.testing.assert_array_equal(vectors.matrix, again.matrix)
    assert vectors.meta["options"]["negative"] == 5 and vectors.meta["training"]["corpus_tokens"] == 400 * 9


def test_word2vec_equals_gensim_trained_directly_on_the_tokenised_file(toy_corpus, tmp_path):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    prepared = prepare_corpus(toy_corpus, tmp_path / "tokens.txt", progress=False)
    ours = train_word2vec(prepared, Word2VecSettings(dim=8, epochs=2, min_count=2, negative=5, seed=7), progress=False)
    direct = Word2Vec(LineSentence(str(prepared.path)), vector_size=8, epochs=2, min_count=2, negative=5, seed=7,
                      workers=1, sg=1)
    assert ours.words == tuple(direct.wv.index_to_key)
    np.testing.assert_array_equal(ours.matrix, direct.wv.vectors)


def test_cbow_with_hierarchical_softmax_and_k_by_corpus_size(toy_corpus):
    hs = train_word2vec(toy_corpus, Word2VecSettings(dim=8, epochs=1, min_count=1, sg=False, hs=True), progress=False)
    assert hs.meta["options"]["hs"] == 1 and hs.meta["options"]["negative"] == 0
    default = train_word2vec(toy_corpus, Word2VecSettings(dim=8, epochs=1, min_count=1), progress=False)
    assert default.meta["options"]["negative"] == 20  # 3,600 tokens: a small corpus
    with pytest.raises(VecliftError, match="min-count"):
        train_word2vec(toy_corpus, Word2VecSettings(min_count=10_000), progress=False)


def test_fasttext_keeps_its_subword_model(toy_corpus, tmp_path):
    prepared = prepare_corpus(toy_corpus, tmp_path / "tokens.txt", progress=False)
    vectors = train_fasttext(prepared, FastTextSettings(dim=8, epochs=2, min_count=1, buckets=1000), progress=False)
    assert vectors.subwords is not None and vectors.subwords.bucket == 1000
    direct = FastText(vector_size=8, epochs=2, min_count=1, bucket=1000, negative=20, seed=0, workers=1, sg=1)
    direct.build_vocab_from_freq(prepared.vocabulary.counts, corpus_count=prepared.vocabulary.sentences)
    direct.train(prepared.sentences(), total_examples=prepared.vocabulary.sentences, epochs=2)
    np.testing.assert_allclose(vectors.matrix, direct.wv.vectors, rtol=1e-5, atol=1e-6)
    loaded = Vectors.load(vectors.save(tmp_path / "ft"), oov="subword")
    np.testing.assert_allclose(loaded["catlike"], direct.wv["catlike"], rtol=1e-5, atol=1e-6)


def test_continue_training_adds_words_and_moves_known_ones_a_little(toy_corpus):
    rng = np.random.default_rng(1)
    known = "cat dog mouse horse bank money loan . unrelated".split()
    initial = Vectors(known, rng.normal(size=(len(known), 16)).astype(np.float32), source="toy")
    assert initial.lowercase
    adapted, report = continue_training(
        initial, toy_corpus, Word2VecSettings(epochs=3, min_count=1, negative=5), neighbors=["cat"], topn=3, progress=False
    )
    assert adapted.words[: len(known)] == tuple(known)
    assert set(adapted.words[len(known):]) == {"cow", "sheep", "credit", "stock", "bond"}
    np.testing.assert_array_equal(adapted["unrelated"], initial["unrelated"])
    assert report.known_trained == 8 and report.new_words == 5
    assert 0.0 < report.mean_cosine_to_original < 1.0
    assert len(report.most_moved) == 3 and report.most_moved[0][1] <= report.most_moved[-1][1]
    assert [w for w, _ in report.neighbors["cat"]["before"]] != [w for w, _ in report.neighbors["cat"]["after"]]
    assert cosine(adapted, "cat", "cow") > cosine(adapted, "cat", "credit")


def test_warm_up_locks_the_known_words(toy_corpus):
    initial = Vectors(["cat", "bank"], np.eye(2, 16, dtype=np.float32), source="toy")
    adapted, report = continue_training(
        initial, toy_corpus, Word2VecSettings(epochs=0, min_count=1, negative=5), warmup_epochs=1, progress=False
    )
    np.testing.assert_array_equal(adapted.matrix[:2], initial.matrix)
    assert report.mean_cosine_to_original == pytest.approx(1.0)
