"""Running studies: every trial once, in its own process; failures, crashes, Ctrl-C and SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import study_fakes
from study_fakes import calls, write_conll

from veclift.study import LocalExecutor, StudySpec, TransferStudy

# The fork server preloads what the fake trials import (not torch: they do not need it). Python
# 3.11's fork server ignores the parent's sys.path, so it cannot preload study_fakes itself.
FAST = LocalExecutor(jobs=2, preload=("veclift.study.trial",))


@pytest.fixture
def spec(tmp_path):
    train = write_conll(tmp_path / "data" / "train.txt", 40, 0)
    test = write_conll(tmp_path / "data" / "test.txt", 10, 1)
    return StudySpec("ner", train, test=test, sizes=[5, 10, "all"], strategies=["scratch", "finetune"], seeds=2)


def test_runs_every_trial_once_each_in_its_own_process(spec, tmp_path):
    results = TransferStudy(spec, tmp_path / "out", trial=study_fakes.fake_scores).run(FAST, progress=False)
    assert sorted(calls(spec.train)) == sorted(t.id for t in spec.trials())
    assert len(results.rows) == 12 and not results.failures
    assert {r["metrics"]["pid"] for r in results.rows}.isdisjoint({os.getpid()})
    assert len({r["metrics"]["pid"] for r in results.rows}) == 12
    again = TransferStudy(spec, tmp_path / "out", trial=study_fakes.fake_scores).run(FAST, progress=False)
    assert len(calls(spec.train)) == 12 and len(again.rows) == 12


def test_failed_trials_are_recorded_and_only_they_rerun(spec, tmp_path):
    study = TransferStudy(spec, tmp_path / "out", trial=study_fakes.fail_on_seed_1)
    first = study.run(FAST, progress=False)
    assert len(first.rows) == 6 and len(first.failures) == 6
    assert all("RuntimeError: boom in" in error for error in first.failures.values())
    done_before = set(calls(spec.train))
    second = TransferStudy(spec, tmp_path / "out", trial=study_fakes.fake_scores).run(FAST, progress=False)
    rerun = calls(spec.train)[len(done_before):]
    assert sorted(rerun) == sorted(first.failures) and len(second.rows) == 12 and not second.failures


def test_a_dead_trial_process_is_a_failure_not_a_broken_study(spec, tmp_path):
    spec = StudySpec("ner", spec.train, test=spec.test, sizes=[5], strategies=["scratch", "frozen"], seeds=1)
    results = TransferStudy(spec, tmp_path / "out", trial=study_fakes.die_on_frozen).run(FAST, progress=False)
    assert [r["id"] for r in results.rows] == ["n5-scratch-s0"]
    assert "died (exit code 9" in results.failures["n5-frozen-s0"]


def test_sizes_the_pool_cannot_fill_run_as_all(spec, tmp_path):
    spec = StudySpec("ner", spec.train, test=spec.test, sizes=[5, 100], strategies=["scratch"], seeds=1)
    with pytest.warns(UserWarning, match="training size.*100 not below the 40 training items"):
        results = TransferStudy(spec, tmp_path / "out", trial=study_fakes.fake_scores).run(FAST, progress=False)
    assert sorted(r["id"] for r in results.rows) == ["n5-scratch-s0", "nall-scratch-s0"]


RUN_SLOWLY = """
import sys
sys.path.insert(0, {tests!r})
import study_fakes
from veclift.study import LocalExecutor, StudySpec, TransferStudy
spec = StudySpec("ner", {train!r}, test={test!r}, sizes=[5, 10, "all"], strategies=["scratch", "finetune"], seeds=2)
TransferStudy(spec, {out!r}, trial=study_fakes.slow_scores).run(LocalExecutor(jobs=1, preload=("veclift.study.trial",)), progress=False)
"""


def _slow_study_after(spec, out: Path, finished: int) -> subprocess.Popen:
    """A slow study in its own process, returned once ``finished`` trials are stored (or after 60 s)."""
    script = RUN_SLOWLY.format(tests=str(Path(__file__).parent), train=str(spec.train), test=str(spec.test), out=str(out))
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _finished(out) < finished and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    return process


def test_ctrl_c_keeps_finished_trials_and_the_next_run_does_only_the_rest(spec, tmp_path):
    out = tmp_path / "out"
    process = _slow_study_after(spec, out, 3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr
    kept = _finished(out)
    assert 3 <= kept < 12
    before = calls(spec.train)
    results = TransferStudy(spec, out, trial=study_fakes.fake_scores).run(FAST, progress=False)
    rerun = calls(spec.train)[len(before):]
    assert len(results.rows) == 12
    assert len(rerun) == 12 - kept
    assert not set(rerun) & {r["id"] for r in results.rows[:kept]}


def test_sigterm_stops_the_running_trials_too(spec, tmp_path):
    out = tmp_path / "out"
    process = _slow_study_after(spec, out, 2)
    time.sleep(0.1)  # into the next trial's 0.4 s
    process.terminate()
    process.communicate(timeout=30)
    started = len(calls(spec.train))
    time.sleep(1.0)  # a trial left running would log its call within 0.4 s
    assert process.returncode != 0 and len(calls(spec.train)) == started == _finished(out)


def _finished(out: Path) -> int:
    try:
        with sqlite3.connect(out / "results.sqlite") as db:
            return db.execute("SELECT count(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
