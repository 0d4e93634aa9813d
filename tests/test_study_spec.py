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


def test_held_out_test_and_dev_are_seeded_disjoint_and_class_balanced(tmp_path):
    from veclift.study.trial import split, training_set

    table = tmp_path / "texts.tsv"
    table.write_text("label\tsentence\n" + "".join(f"{'pos' if i % 2 else 'neg'}\ttext number {i}\n" for i in range(40)))
    spec = StudySpec("classify", table, sizes=[10], test_fraction=0.25, dev_fraction=0.2, seeds=1)
    pool, dev, test = split(spec)
    assert (len(pool), len(dev), len(test)) == (24, 6, 10)
    texts = [{item.text for item in part} for part in (pool, dev, test)]
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])
    assert split(spec) == (pool, dev, test)
    chosen = training_set(spec, pool, spec.trials()[0])
    assert len(chosen) == 10 and sum(item.label == "pos" for item in chosen) == 5
    assert StudySpec("classify", table, dev_fraction=0.2).fingerprint() != StudySpec("classify", table).fingerprint()
