"""The results store: one row per finished trial, never twice, and no mixing of two studies."""

from __future__ import annotations

import pytest
from study_fakes import write_conll

from veclift.errors import VecliftError
from veclift.study import ResultStore, StudySpec, Trial


@pytest.fixture
def spec(tmp_path):
    return StudySpec("ner", write_conll(tmp_path / "train.txt", 20, 0), sizes=[5], seeds=1)


def test_rows_survive_reopening_and_are_never_added_twice(spec, tmp_path):
    trial = Trial(5, "scratch", 0)
    with ResultStore(tmp_path / "out", spec) as store:
        assert store.add(trial, {"f1": 0.5, "transfer": {"known": {"f1": 0.25}}}, 1.5)
        assert not store.add(trial, {"f1": 0.9}, 1.0)
    with ResultStore(tmp_path / "out", spec) as store:
        assert store.done() == {"n5-scratch-s0"}
        (row,) = store.rows()
    assert row["size"] == 5 and row["strategy"] == "scratch" and row["seed"] == 0
    assert row["metrics"] == {"f1": 0.5, "transfer": {"known": {"f1": 0.25}}} and row["seconds"] == 1.5


def test_a_failure_is_retried_and_cleared_by_success(spec, tmp_path):
    trial = Trial(5, "frozen", 0)
    with ResultStore(tmp_path / "out", spec) as store:
        store.add_failure(trial, "RuntimeError: boom")
        assert store.failures() == {trial.id: "RuntimeError: boom"} and trial.id not in store.done()
        store.add(trial, {"f1": 0.4}, 1.0)
        assert store.failures() == {} and store.done() == {trial.id}


def test_store_uses_wal_journal(spec, tmp_path):
    ResultStore(tmp_path / "out", spec).close()
    assert (tmp_path / "out" / "results.sqlite").exists()
    import sqlite3

    assert sqlite3.connect(tmp_path / "out" / "results.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_different_study_in_the_same_folder_is_refused(spec, tmp_path):
    ResultStore(tmp_path / "out", spec).close()
    changed = StudySpec("ner", spec.train, sizes=[5], seeds=1, options={"max_epochs": 2})
    with pytest.raises(VecliftError, match=r"different study \(options changed\)") as caught:
        ResultStore(tmp_path / "out", changed)
    assert caught.value.path == str(tmp_path / "out")
    ResultStore(tmp_path / "out", StudySpec("ner", spec.train, sizes=[5, 10], seeds=3)).close()
