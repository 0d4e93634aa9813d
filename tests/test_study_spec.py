"""Study specs: the grid and its trial ids, TOML files, CLI-style overrides, bad input."""

from __future__ import annotations

import pytest
from study_fakes import write_conll

from veclift.errors import VecliftError
from veclift.study import StudySpec, load_spec
from veclift.study.spec import parse_sizes


@pytest.fixture
def train(tmp_path):
    return write_conll(tmp_path / "train.txt", 30, 0)


def test_grid_has_stable_ids_smallest_size_first(train):
    spec = StudySpec("ner", train, sizes=[10, "all"], strategies=["scratch", "finetune"], seeds=2)
    ids = [t.id for t in spec.trials()]
    assert ids == [
        "n10-scratch-s0", "n10-scratch-s1", "n10-finetune-s0", "n10-finetune-s1",
        "nall-scratch-s0", "nall-scratch-s1", "nall-finetune-s0", "nall-finetune-s1",
    ]


def test_fingerprint_ignores_the_grid_but_not_data_or_options(train, tmp_path):
    base = StudySpec("ner", train, sizes=[10], seeds=1)
    assert base.fingerprint() == StudySpec("ner", train, sizes=[10, 20], seeds=3).fingerprint()
    assert base.fingerprint() != StudySpec("ner", train, sizes=[10], options={"max_epochs": 2}).fingerprint()
    other = write_conll(tmp_path / "other.txt", 30, 1)
    assert base.fingerprint()["train"] != StudySpec("ner", other).fingerprint()["train"]


def test_toml_spec_with_relative_paths_options_and_overrides(train, tmp_path):
    write_conll(tmp_path / "test.txt", 10, 1)
    config = tmp_path / "study.toml"
    config.write_text(
        'task = "ner"\ntrain = "train.txt"\ntest = "test.txt"\nsizes = [10, 20, "all"]\n'
        'strategies = ["scratch", "frozen"]\nseeds = 2\n[options]\nmax_epochs = 3\nhidden = 20\n'
    )
    spec = load_spec(config, seeds=1, options={"hidden": 30})
    assert spec.train == train and spec.test == tmp_path / "test.txt"
    assert spec.sizes == (10, 20, "all") and spec.strategies == ("scratch", "frozen")
    assert spec.seeds == 1 and spec.options == {"max_epochs": 3, "hidden": 30}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('task = "ner"\ntrain = "train.txt"\nsizes = [10 20]\n', "not valid TOML", 3),
        ('task = "ner"\ntrain = "train.txt"\nsize = [10]\n', "unknown study setting(s) size", None),
        ('task = "pos"\ntrain = "train.txt"\n', "unknown task 'pos'", None),
        ('task = "ner"\ntrain = "missing.txt"\n', "train data not found", None),
        ('task = "ner"\ntrain = "train.txt"\nsizes = [0]\n', "bad training size 0", None),
        ('task = "ner"\ntrain = "train.txt"\nseeds = 0\n', "seeds must be", None),
    ],
)
def test_bad_toml_names_file_and_problem(train, tmp_path, text, message, line):
    config = tmp_path / "study.toml"
    config.write_text(text)
    with pytest.raises(VecliftError) as caught:
        load_spec(config)
    assert message in caught.value.message
    assert caught.value.path is not None
    if line is not None:
        assert caught.value.line == line


def test_parse_sizes():
    assert parse_sizes("50, 100,ALL") == (50, 100, "all")
    with pytest.raises(VecliftError, match="bad training size"):
        parse_sizes("50,lots")
