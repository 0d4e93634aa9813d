"""Bias direction, direct bias, WEAT (hand-built sets with known answers) and hard debiasing."""

import json

import numpy as np
import pytest

from veclift.errors import VecliftError
from veclift.vectors import Vectors
from veclift.vectors.ops.debias import (
    WeatTest,
    bias_direction,
    debias,
    default_weat_tests,
    direct_bias,
    read_pairs,
    read_weat_tests,
    weat,
)


def _vectors(rows: dict[str, list[float]]) -> Vectors:
    return Vectors(list(rows), np.array(list(rows.values()), dtype=np.float32), source="toy")


def test_weat_on_hand_built_sets_has_the_known_effect_and_exact_p_value():
    # s(x) = +a for X, -a for Y  =>  effect = 2a / std([a, a, -a, -a], ddof=1) = sqrt(3); only 1 of 6 partitions is as extreme.
    v = _vectors({"x1": [1, 0], "x2": [1, 0], "y1": [0, 1], "y2": [0, 1], "a1": [1, 0], "b1": [0, 1]})
    test = WeatTest("toy", {"X": ["x1", "x2"], "Y": ["y1", "y2"]}, {"A": ["a1"], "B": ["b1"]})
    result = weat(v, test)
    assert result.effect_size == pytest.approx(np.sqrt(3))
    assert result.exact and result.permutations == 6
    assert result.p_value == pytest.approx(1 / 6)
    swapped = WeatTest("toy", {"X": ["y1", "y2"], "Y": ["x1", "x2"]}, {"A": ["a1"], "B": ["b1"]})
    assert weat(v, swapped).effect_size == pytest.approx(-np.sqrt(3))


def test_weat_sampled_permutations_are_seeded():
    rng = np.random.default_rng(0)
    rows = {f"x{i}": rng.normal(size=4) + [2, 0, 0, 0] for i in range(10)}
    rows |= {f"y{i}": rng.normal(size=4) - [2, 0, 0, 0] for i in range(10)}
    rows |= {"a": [1, 0, 0, 0], "b": [-1, 0, 0, 0], "Unused": [0, 1, 0, 0]}
    v = _vectors(rows)
    test = WeatTest("t", {"X": [f"x{i}" for i in range(10)], "Y": [f"Y{i}" for i in range(10)]}, {"A": ["a"], "B": ["b", "zzz"]})
    first = weat(v, test, permutations=500, seed=4)
    assert not first.exact and first.permutations == 500
    assert first == weat(v, test, permutations=500, seed=4)
    assert first.p_value == pytest.approx(1 / 501)  # nothing beats a perfect separation
    assert first.missing == ["zzz"]  # "Y0".."Y9" resolve to lower case
    with pytest.raises(VecliftError, match="no word of"):
        weat(v, WeatTest("t", {"X": ["nope"], "Y": ["y1"]}, {"A": ["a"], "B": ["b"]}))


def _gendered_space():
    # axis 0 is gender; professions lean one way or the other on it.
    return _vectors({
        "he": [1, 1, 0, 0], "she": [-1, 1, 0, 0], "man": [1, 0.8, 0.2, 0], "woman": [-1, 0.8, 0.2, 0],
        "king": [0.8, 0, 1, 0.1], "queen": [-0.8, 0, 1, 0.1],
        "doctor": [0.3, 0.2, 0, 1], "nurse": [-0.4, 0.2, 0.1, 1], "engineer": [0.5, 0, 0.3, 1],
    })


def test_bias_direction_points_from_second_to_first_word():
    d = bias_direction(_gendered_space(), [("she", "he"), ("woman", "man")])
    assert d.vector[0] < -0.99
    assert d.explained_variance[0] > 0.99
    assert bias_direction(_gendered_space(), [("she", "he"), ("x", "y")]).pairs_missing == [("x", "y")]
    with pytest.raises(VecliftError, match="none of the 1 definitional pairs"):
        bias_direction(_gendered_space(), [("x", "y")])


def test_hard_debias_neutralises_and_equalises():
    v = _gendered_space()
    neutral = ["doctor", "nurse", "engineer"]
    debiased, report = debias(
        v,
        definitional=[("she", "he"), ("woman", "man")],
        equalize=[("king", "queen")],
        specific=["king", "queen"],
        neutral=neutral,
        weat_tests=[],
    )
    assert report.direct_bias["before"] > 0.1
    assert report.direct_bias["after"] == pytest.approx(0, abs=1e-6)
    assert report.equalized == 1 and report.neutralized == 3
    for word in neutral:
        assert debiased.similarity(word, "king") == pytest.approx(debiased.similarity(word, "queen"), abs=1e-6)
    np.testing.assert_allclose(np.linalg.norm(debiased.matrix, axis=1), 1, atol=1e-5)
    before, count = direct_bias(v, bias_direction(v, [("she", "he")]).vector, neutral + ["absent"])
    assert count == 3 and before > 0


def test_similarity_before_and_after(tmp_path):
    sim = tmp_path / "toy-sim.txt"
    sim.write_text("doctor nurse 8\ndoctor engineer 7\nnurse engineer 5\nking queen 9\n")
    _, report = debias(
        _gendered_space(), definitional=[("she", "he"), ("woman", "man")], equalize=[], specific=[],
        neutral=["doctor"], weat_tests=[], similarity_files=[sim],
    )
    assert set(report.similarity["toy-sim"]) == {"before", "after"}
    assert report.similarity["toy-sim"]["before"]["pairs"] == 4


def test_shipped_lists_and_file_readers(tmp_path):
    tests = default_weat_tests()
    assert [len(t.targets["male names"]) for t in tests[:1]] == [8]
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("she he\n# comment\nwoman man\n")
    assert read_pairs(pairs) == [("she", "he"), ("woman", "man")]
    (tmp_path / "p.json").write_text('[["a", "b"]]')
    assert read_pairs(tmp_path / "p.json") == [("a", "b")]
    pairs.write_text("she he\nwoman\n")
    with pytest.raises(VecliftError, match="pairs.txt:2"):
        read_pairs(pairs)
    weat_file = tmp_path / "w.json"
    weat_file.write_text(json.dumps({"name": "mine", "targets": {"X": ["a"], "Y": ["b"]}, "attributes": {"A": ["c"]}}))
    with pytest.raises(VecliftError, match="two named word lists"):
        read_weat_tests(weat_file)
    weat_file.write_text(json.dumps({"name": "mine", "targets": {"X": ["a"], "Y": ["b"]}, "attributes": {"A": ["c"], "B": ["d"]}}))
    assert read_weat_tests(weat_file)[0].name == "mine"


@pytest.mark.slow
def test_glove_debias_removes_direct_bias_at_little_similarity_cost():
    from veclift.vectors.evaluate import shared_data_dir

    ws353 = shared_data_dir() / "wordsim" / "EN-WS-353-ALL.txt"
    if not ws353.is_file():
        pytest.skip("shared word-similarity data not found")
    _, report = debias(Vectors.load("glove-6b-50d"), similarity_files=[ws353], permutations=2000)
    assert report.direct_bias["before"] > 0.1 and report.direct_bias["after"] < 1e-6
    career = report.weat["WEAT 6: career vs family, male vs female names"]
    assert career["before"]["effect_size"] > 1.5 and career["after"]["effect_size"] < career["before"]["effect_size"]
    sim = report.similarity["EN-WS-353-ALL"]
    assert sim["before"]["spearman"] == pytest.approx(0.503, abs=0.002)
    assert abs(sim["after"]["spearman"] - sim["before"]["spearman"]) < 0.01
