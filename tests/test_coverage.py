"""Coverage reports: counts, missing words, OOV recovery, case/digit warnings, file reading, CLI."""

import json

import numpy as np
from typer.testing import CliRunner

from veclift.vectors import Vectors
from veclift.vectors.coverage import coverage, coverage_of_files


def lower_vectors():
    words = ["the", "apple", "is", "red", "paris", "0000", "."]
    return Vectors(words, np.random.default_rng(0).normal(size=(len(words), 4)).astype(np.float32))


def test_counts_missing_and_recovery():
    v = lower_vectors()
    sentences = [["The", "apple", "is", "red", "."], ["Paris", "is", "1987", "."], ["zyx", "zyx"]]
    report = coverage(v, sentences, strategies=["lower", "char-ngram", "unk"])
    assert (report.tokens, report.known_tokens) == (11, 6)
    assert (report.types, report.known_types) == (8, 4)
    assert report.missing[0] == ("zyx", 2)
    assert report.recovered["lower"] == {"types": 3, "tokens": 3}
    assert report.recovered["char-ngram"] == {"types": 4, "tokens": 5}
    assert report.recovered["chain"] == {"types": 4, "tokens": 5}
    data = report.to_dict()
    assert data["token_coverage"] == 6 / 11 and data["missing"][0] == ["zyx", 2]
    flat = coverage(v, ["the", "apple", "zzz"], strategies="lower")
    assert flat.tokens == 3 and flat.known_tokens == 2 and "chain" not in flat.recovered


def test_case_and_digit_warnings():
    v = lower_vectors()
    assert v.lowercase
    report = coverage(v, ["The", "Apple", "is", "1987", "1999"] * 5, strategies="lower")
    assert any("lower-cased" in w and "'Apple' -> 'apple'" in w or "'The' -> 'the'" in w for w in report.warnings)
    assert any("digits" in w for w in report.warnings)
    assert coverage(v, ["the", "apple"] * 5, strategies="lower").warnings == []
    cased = Vectors(["Paris", "London", "the"], np.eye(3, dtype=np.float32))
    assert not cased.lowercase
    assert any("capitals" in w for w in coverage(cased, ["paris", "london", "the"], strategies="lower").warnings)


def test_files_conll_and_text(tmp_path):
    conll = tmp_path / "a.conll"
    conll.write_text("-DOCSTART- O\n\nThe O\napple B-FOOD\n\nParis B-LOC\n", encoding="utf-8")
    text = tmp_path / "b.txt"
    text.write_text("the apple, is red.\n\nParis is red\n", encoding="utf-8")
    v = lower_vectors()
    assert coverage_of_files(v, [conll], strategies="lower").tokens == 3
    report = coverage_of_files(v, [text], strategies="lower")
    assert report.tokens == 9 and dict(report.missing) == {",": 1, "Paris": 1}


def test_cli_coverage_json(tmp_path):
    import veclift.cli

    veclift.cli._register()
    path = lower_vectors().save(tmp_path / "v")
    data = tmp_path / "d.txt"
    data.write_text("the apple is purple\n", encoding="utf-8")
    result = CliRunner().invoke(veclift.cli.app, ["vectors", "coverage", str(path), str(data), "--oov", "lower", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["tokens"] == 4 and report["known_tokens"] == 3 and report["missing"] == [["purple", 1]]
    result = CliRunner().invoke(veclift.cli.app, ["vectors", "coverage", str(path), str(tmp_path / "nope.txt")])
    assert result.exit_code != 0


def test_lowercase_follows_the_metadata_else_the_first_words():
    words = [f"w{i}" for i in range(2000)]
    v = Vectors(words, np.zeros((2000, 2), np.float32))
    assert v.lowercase and "lowercase" in v.with_oov("unk").__dict__  # computed once, shared by copies
    assert not Vectors(words[:1999] + ["Paris"], np.zeros((2000, 2), np.float32)).lowercase  # one cased word
    assert Vectors(["Paris"] + [f"w{i}" for i in range(20_000)], np.zeros((20_001, 2), np.float32)).lowercase is False
    assert Vectors([f"w{i}" for i in range(20_000)] + ["Paris"], np.zeros((20_001, 2), np.float32)).lowercase
    assert not Vectors(words, np.zeros((2000, 2), np.float32), meta={"lowercase": False}).lowercase
    assert Vectors(["Paris"], np.zeros((1, 2), np.float32), meta={"lowercase": True}).lowercase
