"""Thread policy: trials and training use the cores other work leaves free, never more threads than cores."""

from __future__ import annotations

import os

import pytest

from veclift import cores
from veclift.study import LocalExecutor


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """A machine of ``cores`` usable cores under ``load`` (1-minute load average)."""
    def set_machine(n_cores: int, load: float, cpu_max: str | None = None) -> None:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(n_cores)), raising=False)
        monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
        path = tmp_path / "cpu.max"
        if cpu_max is not None:
            path.write_text(cpu_max)
        monkeypatch.setattr(cores, "CPU_MAX", path)

    return set_machine


@pytest.mark.parametrize(("cpu_max", "usable", "free"), [
    (None, 8, 6),            # no cgroup file: affinity and load
    ("max 100000\n", 8, 6),  # no quota
    ("250000 100000\n", 3, 3),  # --cpus 2.5: three cores, the host's load not counted
    ("50000 100000\n", 1, 1),
    ("garbage", 8, 6),
])  # fmt: skip
def test_a_container_quota_caps_the_cores(machine, cpu_max, usable, free):
    machine(8, 2.0, cpu_max)
    assert (cores.usable_cores(), cores.free_cores()) == (usable, free)


@pytest.mark.parametrize(("n_cores", "load", "free"), [(2, 0.0, 2), (2, 0.9, 1), (2, 4.0, 1), (8, 2.6, 5), (8, 0.2, 8)])
def test_free_cores_are_the_cores_the_load_leaves(machine, n_cores, load, free):
    machine(n_cores, load)
    assert cores.free_cores() == free


def test_no_load_average_counts_every_core_free(machine, monkeypatch):
    machine(4, 0.0)

    def unavailable():
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", unavailable)
    assert cores.free_cores() == 4


@pytest.mark.parametrize(("n_cores", "load", "jobs", "expected"), [
    (2, 0.0, None, (2, 1)),   # an idle machine: a trial per core, one thread each
    (2, 1.0, None, (1, 1)),   # another job on one core: one trial, one thread
    (2, 0.0, 1, (1, 2)),      # one trial with the machine to itself: both cores
    (2, 1.0, 1, (1, 1)),      # ...but not while another job runs
    (2, 0.0, 4, (2, 1)),      # more trials than cores asked: one per core
    (16, 4.0, None, (12, 1)),
    (16, 0.0, 4, (4, 4)),
])  # fmt: skip
def test_a_study_never_runs_more_threads_than_cores(machine, n_cores, load, jobs, expected):
    machine(n_cores, load)
    executor = LocalExecutor(jobs)
    assert (executor.jobs, executor.threads) == expected
    assert executor.jobs * executor.threads <= n_cores


def test_train_takes_the_free_cores_unless_told(machine, monkeypatch, tmp_path):
    import torch
    from task_fixtures import tagged_sentences
    from typer.testing import CliRunner

    import veclift.cli
    from veclift.data import write_conll

    data = tmp_path / "train.txt"
    write_conll(tagged_sentences(10), data)
    seen = []
    monkeypatch.setattr(cores, "limit_threads", seen.append)
    machine(2, 1.2)
    before = torch.get_num_threads()
    veclift.cli._register()
    for extra in ([], ["--threads", "2"]):
        result = CliRunner().invoke(veclift.cli.app, [
            "train", "ner", "--train", str(data), "--embeddings", "scratch", "--trainer.max_epochs", "1", "--hidden", "8",
            "--output", str(tmp_path / f"m{len(extra)}"), "--quiet", *extra])  # fmt: skip
        assert result.exit_code == 0, result.output
    assert seen == [1, 2] and torch.get_num_threads() == before
