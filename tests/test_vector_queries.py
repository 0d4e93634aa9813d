"""Queries on tiny vectors: most_similar (single and batched), analogies, doesnt_match, CLI."""

import json

import numpy as np
import pytest
from gensim.models import KeyedVectors
from typer.testing import CliRunner

from veclift.vectors import Vectors
from veclift.vectors.query import top_k_chunked


def random_vectors(n=300, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    return Vectors([f"w{i}" for i in range(n)], rng.normal(size=(n, dim)).astype(np.float32))


def as_gensim(vectors):
    kv = KeyedVectors(vectors.dim)
    kv.add_vectors(list(vectors.words), np.asarray(vectors.matrix))
    return kv


def names(result):
    return [w for w, _ in result]


def test_most_similar_matches_gensim():
    v = random_vectors()
    kv = as_gensim(v)
    for word in ("w0", "w17", "w299"):
        ours, theirs = v.most_similar(word, topn=7), kv.most_similar(word, topn=7)
        assert names(ours) == names(theirs)
        assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    ours = v.most_similar(positive=["w1", "w2"], negative=["w3"], topn=5, restrict_vocab=100)
    theirs = kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=5, restrict_vocab=100)
    assert names(ours) == names(theirs)
    assert all(int(w[1:]) < 100 for w in names(ours))


def test_batched_equals_single_and_excludes_queries():
    v = random_vectors(n=5000, dim=6, seed=1)
    queries = [f"w{i}" for i in range(0, 5000, 97)]
    batched = v.most_similar_many(queries, topn=10)
    for q, res in zip(queries, batched):
        assert q not in names(res)
        assert names(res) == names(v.most_similar(q, topn=10))
    restricted = v.most_similar_many(queries[:3], topn=4, restrict_vocab=50)
    single = v.most_similar(queries[0], topn=4, restrict_vocab=50)
    assert names(restricted[0]) == names(single)  # scores: one product divided by the norms vs normalized rows
    np.testing.assert_allclose([s for _, s in restricted[0]], [s for _, s in single], rtol=0, atol=1e-6)


def test_top_k_chunked_small_chunks_agree_with_sort():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(7, 1000)).astype(np.float32)
    expected = np.argsort(-scores, axis=1)[:, :5]
    index, top = top_k_chunked(lambda a, b: scores[:, a:b], 7, 1000, 5, [[int(np.argmax(scores[0]))]] + [[]] * 6, 64)
    assert (index[1:] == expected[1:]).all()
    assert index[0].tolist() == np.argsort(-scores[0])[1:6].tolist()
    assert np.isfinite(scores).all()
    best, _ = top_k_chunked(lambda a, b: scores[:, a:b], 7, 1000, 1, [[int(np.argmax(scores[0]))]] + [[]] * 6, 64)
    assert best[:, 0].tolist() == [int(index[0, 0])] + expected[1:, 0].tolist()
    assert np.allclose(top, np.take_along_axis(scores, index, 1))


@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
def test_analogy_parallelogram_and_cosmul_matches_gensim():
    words = ["man", "woman", "king", "queen", "apple", "car"]
    matrix = np.array(
        [[1, 0, 0, 0.1], [1, 1, 0, 0.1], [1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 1], [0, -1, 0.2, 0.3]], np.float32
    )
    v = Vectors(words, matrix)
    assert v.analogy("man", "woman", "king", topn=1)[0][0] == "queen"
    assert v.analogy("man", "woman", "king", topn=1, method="3cosmul")[0][0] == "queen"
    kv = as_gensim(random_vectors(n=200))
    rv = random_vectors(n=200)
    ours = rv.analogy("w1", "w2", "w3", topn=5, method="3cosmul")
    theirs = kv.most_similar_cosmul(positive=["w2", "w3"], negative=["w1"], topn=5)
    assert names(ours) == names(theirs)
    assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-4)
    ours = rv.analogy("w1", "w2", "w3", topn=5)
    theirs = kv.most_similar(positive=["w2", "w3"], negative=["w1"], topn=5)
    assert names(ours) == names(theirs)
    with pytest.raises(ValueError, match="unknown analogy method"):
        v.analogy("man", "woman", "king", method="3cosfoo")


def test_similarity_doesnt_match_and_unknown_words():
    v = Vectors(["a", "b", "c", "z"], np.array([[1, 0], [0.9, 0.1], [1, 0.2], [-1, 1]], np.float32))
    assert v.similarity("a", "a") == pytest.approx(1.0)
    assert v.similarity("a", "z") == pytest.approx(-1 / np.sqrt(2), abs=1e-6)
    assert v.doesnt_match(["a", "b", "c", "z"]) == "z"
    with pytest.raises(KeyError, match="'nope'"):
        v.most_similar("nope")
    assert v.with_oov("unk").most_similar("nope", topn=1)


@pytest.fixture
def cli(tmp_path):
    import veclift.cli

    veclift.cli._register()
    v = Vectors(["king", "queen", "man", "woman", "apple"],
                np.array([[1, 0, 1], [1, 1, 1], [1, 0, 0], [1, 1, 0], [0, 0.2, -1]], np.float32))
    path = v.save(tmp_path / "tiny")
    return CliRunner(), veclift.cli.app, str(path)


def test_cli_neighbors_analogy_similarity(cli):
    runner, app, path = cli
    result = runner.invoke(app, ["vectors", "neighbors", path, "king", "apple", "--topn", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["king", "apple"] and len(data["king"]) == 2 and data["king"][0][0] == "queen"
    result = runner.invoke(app, ["vectors", "analogy", path, "man", "woman", "king", "--json"])
    assert json.loads(result.stdout)["answers"][0][0] == "queen"
    result = runner.invoke(app, ["vectors", "similarity", path, "king", "king"])
    assert result.stdout.strip() == "1.0000"
    result = runner.invoke(app, ["vectors", "neighbors", path, "King", "--oov", "lower", "--json"])
    assert json.loads(result.stdout)["King"][0][0] == "king"


def test_cli_unknown_word_is_one_line_error(cli, tmp_path):
    import subprocess
    import sys

    _, _, path = cli
    proc = subprocess.run([sys.executable, "-m", "veclift", "vectors", "neighbors", path, "zebra"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "zebra" in proc.stderr
