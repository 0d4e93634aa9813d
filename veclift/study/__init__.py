"""Transfer studies: the grid of training sizes x embedding strategies x seeds, run resumably,
one process per trial, reported as tables, learning curves and a self-contained HTML report.

The public names load their module on first use, so reading the executor registry (as the
command line does to list ``--executor`` choices) does not import torch."""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "LocalExecutor": "veclift.study.executors.local",
    "RayExecutor": "veclift.study.executors.ray",
    "ResultStore": "veclift.study.store",
    "StudyResults": "veclift.study.results",
    "StudySpec": "veclift.study.spec",
    "Trial": "veclift.study.spec",
    "TransferStudy": "veclift.study.runner",
    "TrialOutcome": "veclift.study.executors.base",
    "load_spec": "veclift.study.spec",
}

__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
