"""The default trial: read the data (once per process), draw the seeded training subset, train a
model with one embedding strategy and evaluate it on the test set."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from veclift.data import subsample, train_test_split
from veclift.study.spec import StudySpec, Trial
from veclift.tasks.registry import get_task
from veclift.vectors import Vectors


@functools.lru_cache(maxsize=8)
def read_items(task: str, path: Path) -> tuple:
    """The task's items (tagged sentences, labeled texts...) of a file, read once per process."""
    return tuple(get_task(task).read_files([path]))


def split(spec: StudySpec) -> tuple[Sequence, Sequence | None, Sequence]:
    """``(pool, dev, test)``: the items training sets are drawn from, the dev set (or None) and the
    test set: the files given, else seeded held-out parts of the training file."""
    stratify = get_task(spec.task).stratify
    pool = read_items(spec.task, spec.train)
    if spec.test is not None:
        test = read_items(spec.task, spec.test)
    else:
        pool, test = _held_out(pool, spec.test_fraction, spec.split_seed, stratify)
    if spec.dev is not None:
        dev = read_items(spec.task, spec.dev)
    elif spec.dev_fraction:
        pool, dev = _held_out(pool, spec.dev_fraction, spec.split_seed, stratify)
    else:
        dev = None
    return pool, dev, test


@functools.lru_cache(maxsize=4)
def _held_out(items: tuple, fraction: float, seed: int, stratify) -> tuple[tuple, tuple]:
    pool, test = train_test_split(items, fraction, seed, stratify=stratify)
    return tuple(pool), tuple(test)


def training_set(spec: StudySpec, pool: Sequence, trial: Trial) -> list:
    """The trial's training items: nested across sizes for one seed, class-balanced where the task has classes."""
    n = len(pool) if trial.size == "all" else int(trial.size)
    return subsample(pool, n, trial.seed, stratify=get_task(spec.task).stratify)


@functools.lru_cache(maxsize=2)
def load_vectors(source: str) -> Vectors:
    return Vectors.load(source, progress=False)


def run_trial(spec: StudySpec, trial: Trial) -> dict[str, Any]:
    """Train and evaluate one trial: the metrics of ``veclift.tasks.train_and_evaluate``."""
    from veclift.tasks import train_and_evaluate

    pool, dev, test = split(spec)
    train = training_set(spec, pool, trial)
    return train_and_evaluate(
        spec.task, train, dev, test, load_vectors(spec.vectors), trial.strategy, trial.seed, test_rows=spec.test_rows,
        **spec.options,
    )


def with_task_module(module: str, trial_fn: Callable[[StudySpec, Trial], Mapping[str, Any]], spec: StudySpec,
                     trial: Trial) -> Mapping[str, Any]:  # fmt: skip
    """``trial_fn(spec, trial)`` after importing ``module``, the one that registers the spec's task:
    a trial process started elsewhere knows only the built-in tasks until it has."""
    importlib.import_module(module)
    return trial_fn(spec, trial)
