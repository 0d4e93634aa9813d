"""What an executor is: it calls ``trial_fn(spec, trial)`` for every trial, wherever it runs them,
and hands each outcome to ``on_done`` in the calling process as soon as that trial finishes."""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from veclift.errors import VecliftError
from veclift.study.spec import StudySpec, Trial

TrialFunction = Callable[[StudySpec, Trial], Mapping[str, Any]]
"""A module-level function (it is sent to other processes by name) returning JSON-ready metrics."""


@dataclasses.dataclass(frozen=True)
class TrialOutcome:
    trial: Trial
    metrics: dict[str, Any] | None
    error: str | None
    seconds: float


OnDone = Callable[[TrialOutcome], None]


class Executor(Protocol):
    """Runs trials (in this process, other processes or other machines) and reports each outcome
    through ``on_done`` in the calling process, as it arrives; Ctrl-C stops the running ones."""

    def run(self, trial_fn: TrialFunction, spec: StudySpec, trials: Sequence[Trial], on_done: OnDone) -> None: ...


def call_trial(trial_fn: TrialFunction, spec: StudySpec, trial: Trial) -> tuple[dict | None, str | None, float]:
    """``(metrics, None, seconds)``, or ``(None, error, seconds)`` when the trial raised."""
    start = time.perf_counter()
    try:
        metrics = dict(trial_fn(spec, trial))
    except Exception as exc:
        return None, describe_error(exc), time.perf_counter() - start
    return metrics, None, time.perf_counter() - start


def describe_error(exc: BaseException) -> str:
    """One line for the user (a VecliftError as is), then the traceback for the store."""
    if isinstance(exc, VecliftError):
        return str(exc)
    detail = "".join(traceback.format_exception(exc)).rstrip()
    return f"{type(exc).__name__}: {exc}\n{detail}"
