"""gensim's names on `Vectors` give what gensim's own KeyedVectors give for the same rows; conversion both
ways; ``word in v`` agrees with ``v[word]``; the CLI's ``--version`` and its hint towards ``--oov lower``."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import FastText, KeyedVectors
from gensim.models.fasttext import FastTextKeyedVectors
from test_cli_errors import run_cli

import veclift
from veclift.errors import VecliftError
from veclift.vectors import Vectors

WORDS = ["apple", "pear", "fig", "plum", "paris", "london", "1995", "the"]


@pytest.fixture
def rows() -> np.ndarray:
    return np.random.default_rng(3).normal(size=(len(WORDS), 6)).astype(np.float32)


@pytest.fixture
def pair(rows) -> tuple[Vectors, KeyedVectors]:
    """The same rows as veclift `Vectors` and as gensim's own KeyedVectors (built by gensim, not by to_gensim)."""
    kv = KeyedVectors(rows.shape[1])
    kv.add_vectors(WORDS, rows)
    return Vectors(WORDS, rows), kv


def test_aliases_give_what_gensim_gives(pair):
    v, kv = pair
    assert v.key_to_index == kv.key_to_index and v.index_to_key == kv.index_to_key
    assert v.vector_size == kv.vector_size == 6
    np.testing.assert_allclose(v.vectors, kv.vectors, atol=1e-6)
    for word in WORDS:
        for norm in (False, True):
            np.testing.assert_allclose(v.get_vector(word, norm=norm), kv.get_vector(word, norm=norm), atol=1e-6)
    assert np.linalg.norm(v.get_vector("fig", norm=True)) == pytest.approx(1, abs=1e-6)
    for ws1, ws2 in [(["apple", "pear"], ["fig"]), (["paris", "london", "the"], ["plum", "1995"]), (["fig"], ["fig"])]:
        assert v.n_similarity(ws1, ws2) == pytest.approx(float(kv.n_similarity(ws1, ws2)), abs=1e-6)
    assert v.n_similarity("apple", ["apple"]) == pytest.approx(1, abs=1e-6)  # a string is one word, not letters
    assert v.has_index_for("fig") and not v.has_index_for("Fig") and not kv.has_index_for("Fig")


def test_n_similarity_refuses_empty_lists_and_unknown_words(pair):
    v, _ = pair
    with pytest.raises(ValueError):
        v.n_similarity([], ["fig"])
    with pytest.raises(KeyError):
        v.n_similarity(["apple", "nosuchword"], ["fig"])  # gensim would silently skip it
    assert v.with_oov("lower").n_similarity(["Apple"], ["apple"]) == pytest.approx(1, abs=1e-6)


def test_unit_vector_of_an_oov_word_and_of_a_zero_row():
    v = Vectors(["zero", "one"], np.array([[0, 0], [3, 4]], np.float32)).with_oov("lower")
    np.testing.assert_allclose(v.get_vector("ONE", norm=True), [0.6, 0.8], atol=1e-6)
    np.testing.assert_array_equal(v.get_vector("zero", norm=True), [0, 0])  # stays zero, no NaN


def test_to_gensim_and_back(pair, rows):
    v, kv = pair
    out = v.to_gensim()
    assert type(out) is KeyedVectors and out.index_to_key == WORDS
    np.testing.assert_array_equal(out.vectors, rows)
    assert out.most_similar("apple", topn=3) == kv.most_similar("apple", topn=3)
    back = Vectors.from_gensim(out)
    assert back.words == v.words and back.meta["format"] == "gensim"
    np.testing.assert_array_equal(back.matrix, rows)
    out.vectors[0] = 0  # a copy: writing to gensim's rows leaves the Vectors alone
    assert v.matrix[0].any()
    again = Vectors.from_gensim(kv).to_gensim()
    assert again.index_to_key == kv.index_to_key and np.array_equal(again.vectors, kv.vectors)


def test_to_gensim_keeps_the_first_row_of_a_duplicated_word():
    v = Vectors(["a", "b", "a"], np.array([[1, 0], [0, 1], [5, 5]], np.float32))
    kv = v.to_gensim()
    assert kv.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(kv["a"], v["a"])


def test_fasttext_round_trip_keeps_the_subword_model():
    sentences = [["apple", "pear", "pineapple", "applesauce", "peach"]] * 20
    model = FastText(sentences, vector_size=8, min_count=1, epochs=1, bucket=2000, seed=1, workers=1)
    v = Vectors.from_gensim(model)  # a whole model: its .wv is taken
    assert v.subwords is not None and v.words == tuple(model.wv.index_to_key)
    np.testing.assert_allclose(v.with_oov("subword")["appleton"], model.wv["appleton"], atol=1e-6)
    assert "appleton" not in v and "appleton" in v.with_oov("subword")
    kv = v.to_gensim()
    assert isinstance(kv, FastTextKeyedVectors)
    np.testing.assert_allclose(kv["appleton"], model.wv["appleton"], atol=1e-6)
    np.testing.assert_allclose(kv["pear"], model.wv["pear"], atol=1e-6)


def test_from_gensim_refuses_nonfinite_rows_unless_dropped(rows):
    kv = KeyedVectors(rows.shape[1])
    bad = rows.copy()
    bad[2, 0] = np.nan
    kv.add_vectors(WORDS, bad)
    with pytest.raises(VecliftError, match="NaN"):
        Vectors.from_gensim(kv)
    with pytest.warns(UserWarning):
        kept = Vectors.from_gensim(kv, nonfinite="drop")
    assert "fig" not in kept and len(kept) == len(WORDS) - 1
    with pytest.raises(VecliftError, match="KeyedVectors"):
        Vectors.from_gensim({"apple": rows[0]})


@pytest.mark.parametrize("binary", [False, True])
def test_save_word2vec_format_reads_back_in_gensim_and_veclift(pair, rows, tmp_path, binary):
    v, _ = pair
    path = v.save_word2vec_format(tmp_path / "out.w2v", binary=binary)
    theirs = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert theirs.index_to_key == WORDS
    np.testing.assert_allclose(theirs.vectors, rows, atol=1e-6)
    ours = Vectors.load(path, progress=False)
    assert ours.words == v.words and ours.meta["format"] == ("word2vec-binary" if binary else "word2vec")
    np.testing.assert_allclose(ours.matrix, rows, atol=1e-6)
    with pytest.raises(VecliftError, match="already exists"):
        v.save_word2vec_format(path, binary=binary)
    v.save_word2vec_format(path, binary=binary, overwrite=True)


PROBES = ["apple", "Apple", "APPLE", "1995", "1996", "Paris", "nosuch", "", "The"]


@pytest.mark.parametrize("spec", [None, "lower", "unk", "lower,unk"])
def test_contains_is_true_exactly_when_getitem_gives_a_vector(pair, spec):
    v = pair[0].with_oov(spec)
    for word in PROBES:
        try:
            v[word]
            found = True
        except KeyError:
            found = False
        assert (word in v) == found, (spec, word)
        assert v.has_row(word) == (word in v.key_to_index) == (word in WORDS)
    assert 3 not in v and None not in v


def test_contains_follows_the_chain(pair):
    v = pair[0]
    assert "apple" in v and "Apple" not in v
    lower = v.with_oov("lower")
    assert "Apple" in lower and "PARIS" in lower and "nosuch" not in lower and "1996" not in lower
    assert not lower.has_row("Apple")
    assert "nosuch" in v.with_oov("unk")


def test_version(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "--version")
    assert code == 0 and out == f"veclift {veclift.__version__}\n" and err == ""


@pytest.fixture
def lower_glove(tmp_path):
    path = tmp_path / "lower.txt"
    path.write_text("apple 1 0 0\npear 0.9 0.1 0\nfig 0 1 0\nplum 0 0 1\n", encoding="utf-8")
    return str(path)


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def test_neighbors_of_a_capitalised_word_suggests_oov_lower(monkeypatch, capsys, lower_glove):
    code, out, err = run_cli(monkeypatch, capsys, "vectors", "neighbors", lower_glove, "Apple", "--json")
    line = _error_line(err)
    assert code == 2 and out == "" and "'Apple'" in line and "lower-cased" in line and "--oov lower" in line
    code, out, err = run_cli(monkeypatch, capsys, "vectors", "neighbors", lower_glove, "Apple", "--oov", "lower", "--json")
    assert code == 0 and '"pear"' in out


def test_unknown_words_without_a_case_variant_get_another_hint(monkeypatch, capsys, lower_glove):
    code, _, err = run_cli(monkeypatch, capsys, "vectors", "similarity", lower_glove, "apple", "Zebra")
    line = _error_line(err)
    assert code == 2 and "'Zebra'" in line and "--oov lower" not in line and "--oov char-ngram" in line
    code, _, err = run_cli(monkeypatch, capsys, "vectors", "analogy", lower_glove, "apple", "Zebra", "fig", "--oov", "lower")
    line = _error_line(err)
    assert code == 2 and "'Zebra'" in line and "try --oov" not in line  # a strategy was chosen: no hint
