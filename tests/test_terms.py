"""Term expansion (API and interactive CLI), EntityRuler patterns, and pattern pre-labelling."""

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from veclift.cli import _register, app
from veclift.data.tagged import read_conll, read_tagged_jsonl
from veclift.errors import VecliftError
from veclift.prelabel import PatternMatcher, prelabel, read_patterns
from veclift.vectors import Vectors
from veclift.vectors.terms import TermExpander, entity_ruler_patterns, expand


def _fruit_space() -> Vectors:
    """Fruits near axis 0 (nearer the more 'fruity'), vehicles near axis 1."""
    rows = {
        "apple": [1, 0.05, 0], "orange": [1, 0.1, 0], "banana": [1, 0, 0.05], "mango": [0.95, 0.15, 0.1],
        "cherry": [0.9, 0.2, 0.2], "plum": [0.85, 0.25, 0.3], "car": [0, 1, 0], "truck": [0.1, 1, 0.1],
        "new_york": [0, 0.1, 1],
    }
    return Vectors(list(rows), np.array(list(rows.values()), dtype=np.float32), source="toy")


def test_candidates_rank_by_centroid_and_skip_decided_words():
    expander = TermExpander(_fruit_space(), ["apple", " orange", ""])
    assert expander.seeds == ["apple", "orange"]
    first = [w for w, _ in expander.candidates(3)]
    assert first == ["banana", "mango", "cherry"]
    expander.reject("banana")
    expander.accept("mango")
    assert [w for w, _ in expander.candidates(2)] == ["cherry", "plum"]
    assert expander.terms == ["apple", "orange", "mango"]


def test_scripted_decisions_and_rounds():
    answers = iter(["accept", "reject", "accept", "stop"])
    seen = []

    def decide(word, score):
        seen.append(word)
        return next(answers)

    terms = expand(TermExpander(_fruit_space(), ["apple"]), per_round=2, rounds=3, decide=decide)
    assert seen == ["orange", "banana", "mango", "cherry"]
    assert terms == ["apple", "orange", "mango"]
    auto = expand(TermExpander(_fruit_space(), ["apple"]), per_round=2, rounds=2)
    assert auto == ["apple", "orange", "banana", "mango", "cherry"]


def test_seed_errors():
    with pytest.raises(VecliftError, match="seed list is empty"):
        TermExpander(_fruit_space(), [" ", ""])
    with pytest.raises(VecliftError, match="not in the vectors .*: kiwi"):
        TermExpander(_fruit_space(), ["apple", "kiwi"])


def test_patterns_use_lower_for_lowercased_vectors_and_split_phrases():
    patterns = entity_ruler_patterns(["apple", "new_york"], "FOOD", lowercase=True)
    assert patterns == [
        {"label": "FOOD", "pattern": [{"LOWER": "apple"}]},
        {"label": "FOOD", "pattern": [{"LOWER": "new"}, {"LOWER": "york"}]},
    ]
    assert entity_ruler_patterns(["Apple"], "ORG", lowercase=False)[0]["pattern"] == [{"ORTH": "Apple"}]


def test_interactive_cli_with_scripted_input(tmp_path):
    _fruit_space().save(tmp_path / "vec")
    _register()
    out = tmp_path / "fruit.txt"
    result = CliRunner().invoke(
        app,
        ["terms", "--vectors", str(tmp_path / "vec"), "--seed", "apple,orange", "--label", "FRUIT",
         "--candidates", "3", "--output", str(out)],
        input="y\nn\nq\n",
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().split() == ["apple", "orange", "banana"]
    lines = (tmp_path / "fruit.patterns.jsonl").read_text().splitlines()
    assert json.loads(lines[2]) == {"label": "FRUIT", "pattern": [{"LOWER": "banana"}]}


def test_cli_empty_seed_list_is_one_line_exit_2(tmp_path):
    _fruit_space().save(tmp_path / "vec")
    run = subprocess.run(
        [sys.executable, "-m", "veclift", "terms", "--vectors", str(tmp_path / "vec"), "--seed", ",", "--auto", "2",
         "--output", str(tmp_path / "t.txt")],
        capture_output=True, text=True,
    )
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "seed list is empty" in run.stderr and not (tmp_path / "t.txt").exists()


def _write_patterns(path):
    path.write_text(
        '{"label": "FRUIT", "pattern": [{"LOWER": "apple"}]}\n'
        '{"label": "CITY", "pattern": [{"LOWER": "new"}, {"LOWER": "york"}]}\n'
        '{"label": "TEAM", "pattern": [{"ORTH": "New"}, {"ORTH": "York"}, {"ORTH": "Mets"}]}\n'
        '{"label": "CITY", "pattern": "San Francisco"}\n'
    )
    return path


def test_matcher_prefers_longest_and_respects_case(tmp_path):
    matcher = PatternMatcher(read_patterns(_write_patterns(tmp_path / "p.jsonl")))
    assert matcher.match("the New York Mets and new york".split()) == [("TEAM", 1, 4), ("CITY", 5, 7)]
    assert matcher.match("new york mets".split()) == [("CITY", 0, 2)]
    assert matcher.match("APPLE san francisco San Francisco".split()) == [("FRUIT", 0, 1), ("CITY", 3, 5)]


def test_prelabel_writes_conll_and_jsonl_readable_back(tmp_path):
    patterns = _write_patterns(tmp_path / "p.jsonl")
    raw = tmp_path / "raw.txt"
    raw.write_text("I ate an Apple in New York.\n\nSan Francisco is far.\n")
    report = prelabel(patterns, raw, tmp_path / "out.conll")
    assert report.sentences == 2 and report.entities == {"FRUIT": 1, "CITY": 2}
    sentences = read_conll(tmp_path / "out.conll")
    assert sentences[0].tags == ("O", "O", "O", "B-FRUIT", "O", "B-CITY", "I-CITY", "O")
    prelabel(patterns, raw, tmp_path / "out.jsonl", format="jsonl")
    first = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert [first["text"][s["start"]:s["end"]] for s in first["spans"]] == ["Apple", "New York"]
    assert read_tagged_jsonl(tmp_path / "out.jsonl")[1].tags == ("B-CITY", "I-CITY", "O", "O", "O")


def test_bad_patterns_name_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"label": "X", "pattern": [{"LOWER": "a"}]}\n{"label": "X", "pattern": [{"LEMMA": "be"}]}\n')
    with pytest.raises(VecliftError, match=r"bad.jsonl:2: unsupported token pattern key 'LEMMA'"):
        read_patterns(path)
    path.write_text("not json\n")
    with pytest.raises(VecliftError, match=r"bad.jsonl:1: invalid JSON"):
        read_patterns(path)


def test_interactive_cli_stops_cleanly_at_end_of_input(tmp_path):
    _fruit_space().save(tmp_path / "vec")
    _register()
    out = tmp_path / "t.txt"
    result = CliRunner().invoke(
        app, ["terms", "--vectors", str(tmp_path / "vec"), "--seed", "apple", "--output", str(out)], input="y\n"
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().split() == ["apple", "orange"]
