"""Running studies: every trial once, in its own process; failures, crashes, Ctrl-C and SIGTERM;
executors chosen by their registered name."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import study_fakes
from study_fakes import calls, write_conll

from veclift.errors import VecliftError
from veclift.study import LocalExecutor, StudySpec, TransferStudy, TrialOutcome
from veclift.study.executors import executor_names, register_executor, unregister_executor

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


class InlineExecutor:
    """A toy executor: every trial in the calling process, one after another."""

    def __init__(self, jobs: int | None):
        self.jobs = jobs

    def run(self, trial_fn, spec, trials, on_done) -> None:
        for trial in trials:
            on_done(TrialOutcome(trial, dict(trial_fn(spec, trial)), None, 0.0))


def test_a_registered_executor_runs_a_study_by_name(spec, tmp_path):
    made = []

    def inline(*, jobs, address):
        made.append(InlineExecutor(jobs))
        return made[-1]

    register_executor("inline", inline, "in the calling process")
    try:
        results = TransferStudy(spec, tmp_path / "out", trial=study_fakes.fake_scores).run(executor="inline", jobs=3, progress=False)
        with pytest.raises(ValueError, match="already registered"):
            register_executor("inline", inline, "twice")
    finally:
        unregister_executor("inline")
    assert [executor.jobs for executor in made] == [3]
    assert len(results.rows) == 12 and {r["metrics"]["pid"] for r in results.rows} == {os.getpid()}
    assert executor_names() == ["local", "ray"]
    with pytest.raises(VecliftError, match=r"unknown executor 'inline' \(expected local or ray\)"):
        TransferStudy(spec, tmp_path / "out", trial=study_fakes.fake_scores).run("inline", progress=False)


RUN_UNTIL_STOPPED = """
import sys
sys.path.insert(0, {tests!r})
import study_fakes
from veclift.study import LocalExecutor, StudySpec, TransferStudy
spec = StudySpec("ner", {train!r}, test={test!r}, sizes=[5, 10, "all"], strategies=["scratch", "finetune"], seeds=2)
TransferStudy(spec, {out!r}, trial=study_fakes.hang_on_all).run(LocalExecutor(jobs=1, preload=("veclift.study.trial",)), progress=False)
"""
WAIT = 60  # seconds: a broken test fails after this instead of hanging


@pytest.fixture
def hung_study(spec, tmp_path):
    """Start a study in its own process, one trial at a time; once its 8 trials on 5 and 10 items
    are done and the first on all the data runs (and hangs), return the study's process and a pidfd
    of that trial's process. A trial process still alive at the end is killed."""
    fifo = spec.train.parent / study_fakes.STARTED
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDWR)  # a writer too: reads wait for a line, never see end of file
    script = RUN_UNTIL_STOPPED.format(tests=str(Path(__file__).parent), train=str(spec.train), test=str(spec.test),
                                      out=str(tmp_path / "out"))
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    trial_process = None
    try:
        assert select.select([reader], [], [], WAIT)[0], f"no trial on all the data started within {WAIT} s"
        trial_id, pid = os.read(reader, 200).decode().split()
        assert trial_id == "nall-scratch-s0"
        trial_process = os.pidfd_open(int(pid))
        yield process, trial_process
    finally:  # the trial first: the study's exit waits for it, and it holds the study's stderr
        os.close(reader)
        if trial_process is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(trial_process, signal.SIGKILL)
            os.close(trial_process)
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=WAIT)


def _ended(pidfd: int) -> bool:
    """Whether the process of ``pidfd`` has ended, waiting for it up to ``WAIT`` seconds."""
    return bool(select.select([pidfd], [], [], WAIT)[0])


def test_ctrl_c_keeps_finished_trials_and_the_next_run_does_only_the_rest(spec, tmp_path, hung_study):
    process, trial_process = hung_study
    out = tmp_path / "out"
    assert _finished(out) == 8
    process.send_signal(signal.SIGINT)
    assert _ended(trial_process), "the running trial outlived the study"
    _, stderr = process.communicate(timeout=WAIT)
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr
    assert _finished(out) == 8
    before = calls(spec.train)
    results = TransferStudy(spec, out, trial=study_fakes.fake_scores).run(FAST, progress=False)
    rerun = calls(spec.train)[len(before):]
    assert len(results.rows) == 12
    assert sorted(rerun) == sorted(t.id for t in spec.trials() if t.size == "all")


def test_sigterm_stops_the_running_trials_too(tmp_path, hung_study):
    process, trial_process = hung_study
    process.terminate()
    assert _ended(trial_process), "the running trial outlived the study"
    process.communicate(timeout=WAIT)
    assert process.returncode != 0
    assert _finished(tmp_path / "out") == 8


def _finished(out: Path) -> int:
    try:
        with sqlite3.connect(out / "results.sqlite") as db:
            return db.execute("SELECT count(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
