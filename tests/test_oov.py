"""OOV strategies: case/digit fallbacks, UNK, char n-grams (spelling neighbors), save/load."""

import numpy as np
import pytest

from veclift.errors import VecliftError
from veclift.vectors import Vectors
from veclift.vectors.charngram import CharNgramModel, ngram_matrix
from veclift.vectors.oov import LowerFallback, OOVChain


def clustered_vectors():
    """Two spelling families pointing in two directions, plus unrelated words."""
    rng = np.random.default_rng(0)
    fruit = ["apple", "apples", "applesauce", "applet", "pineapple", "appleby", "apply", "applied"]
    rail = ["train", "trains", "trainer", "training", "retrain", "trainee", "strain", "trained"]
    other = ["zebra", "quartz", "mountain", "river", "ocean", "violin", "guitar", "coffee"]
    words = fruit + rail + other
    directions = np.eye(8, dtype=np.float32)
    rows = [directions[0] + 0.2 * rng.normal(size=8) for _ in fruit]
    rows += [directions[1] + 0.2 * rng.normal(size=8) for _ in rail]
    rows += [directions[2 + i % 6] + 0.2 * rng.normal(size=8) for i in range(len(other))]
    return Vectors(words, np.array(rows, np.float32))


def test_lower_variants_and_numbers():
    v = Vectors(["apple", "0000", "#.#", "paris", "Berlin"], np.eye(5, dtype=np.float32))
    chain = OOVChain.build("lower", v)
    assert chain.resolve("Apple")[1] == "lower"
    assert np.array_equal(chain.vector("APPLE"), v["apple"])
    assert np.array_equal(chain.vector("1987"), v["0000"])
    assert np.array_equal(chain.vector("3.5"), v["#.#"])
    assert np.array_equal(chain.vector("berlin"), v["Berlin"])
    assert chain.vector("London") is None
    assert LowerFallback.variants("A1") == ["A1", "a1", "A0", "A#", "a0", "a#"]


def test_none_raises_keyerror_and_unk_is_the_mean():
    v = Vectors(["a", "b"], np.array([[1, 0], [0, 3]], np.float32))
    with pytest.raises(KeyError, match="no OOV strategy"):
        v.with_oov("none")["zzz"]
    unk = v.with_oov("unk")
    assert np.allclose(unk["zzz"], [0.5, 1.5])
    _, how = unk.lookup(["a", "zzz"])
    assert how == ["known", "unk"]


def test_spec_errors_and_subword_requirement():
    v = Vectors(["a"], np.ones((1, 2), np.float32))
    with pytest.raises(VecliftError, match="unknown OOV strategy 'bogus'"):
        OOVChain.build("lower,bogus", v)
    with pytest.raises(VecliftError, match="listed twice"):
        OOVChain.build("lower,lower", v)
    with pytest.raises(VecliftError, match="subword"):
        OOVChain.build("subword", v)
    assert OOVChain.build(" lower , unk ", v).spec == "lower,unk"
    assert OOVChain.build("none", v).spec == "none"


def test_ngram_hashing_is_seeded_and_deterministic():
    a = ngram_matrix(["apple", "é"], 1024, seed=3)
    b = ngram_matrix(["apple", "é"], 1024, seed=3)
    c = ngram_matrix(["apple", "é"], 1024, seed=4)
    assert (a != b).nnz == 0 and (a != c).nnz > 0
    assert np.allclose(np.asarray(a.sum(axis=1)).ravel(), 1.0)
    # "<é>" has only one 3-gram: itself.
    assert a[1].nnz == 1


def test_char_ngram_puts_appleton_near_apple():
    v = clustered_vectors()
    model = CharNgramModel.fit(v.words, v.matrix, buckets=2**12, progress=False)
    guess = model.vector("appleton")
    neighbors = [w for w, _ in v.most_similar(guess, topn=3)]
    assert set(neighbors) <= {"apple", "apples", "applesauce", "applet", "pineapple", "appleby", "apply", "applied"}
    assert v.similarity(guess, "apple") > v.similarity(guess, "train") + 0.3
    rail = {"train", "trains", "trainer", "training", "retrain", "trainee", "strain", "trained"}
    assert v.most_similar(model.vector("trainers"), topn=1)[0][0] in rail


def test_char_ngram_chain_fits_lazily_once_and_round_trips(tmp_path):
    v = clustered_vectors()
    first = v.with_oov("lower,char-ngram")
    found = first.oov.resolve("Appleton")
    assert found is not None and found[1] == "char-ngram"
    second = v.with_oov("char-ngram")
    assert second.oov.strategies[0].model is first.oov.strategies[1].model
    first.oov.save(tmp_path / "model")
    restored = OOVChain.load(tmp_path / "model", v)
    assert restored.spec == "lower,char-ngram"
    assert np.array_equal(restored.vector("Appleton"), first.oov.vector("Appleton"))
    assert np.array_equal(restored.vector("Apple"), v["apple"])


def test_unk_round_trip_keeps_the_vector(tmp_path):
    v = Vectors(["a", "b"], np.array([[1, 0], [0, 3]], np.float32))
    OOVChain.build("unk", v).save(tmp_path)
    subset = v.subset(["a"])
    assert np.allclose(OOVChain.load(tmp_path, subset).vector("q"), [0.5, 1.5])
    with pytest.raises(VecliftError, match="cannot read the OOV chain"):
        OOVChain.load(tmp_path / "missing", v)


def test_char_ngram_fit_is_cached_per_machine_for_native_vectors(tmp_path, monkeypatch):
    monkeypatch.setenv("VECLIFT_HOME", str(tmp_path / "home"))
    clustered_vectors().save(tmp_path / "native")
    first = Vectors.load(tmp_path / "native", oov="char-ngram")
    fitted = first["appleton"]
    assert len(list((tmp_path / "home" / "char-ngram").iterdir())) == 1
    monkeypatch.setattr(CharNgramModel, "fit", lambda *a, **k: pytest.fail("refitted instead of loaded"))
    again = Vectors.load(tmp_path / "native", oov="char-ngram")
    np.testing.assert_array_equal(again["appleton"], fitted)
