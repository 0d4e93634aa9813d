"""Transfer studies: the grid of training sizes x embedding strategies x seeds, run resumably,
one process per trial, reported as tables, learning curves and a self-contained HTML report.

The public names load their module on first use, so reading the executor registry (as the
command line does to list ``--executor`` choices) does not import torch."""

from __future__ import annotations

from veclift.lazy import lazy_attributes

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


__getattr__ = lazy_attributes(__name__, _HOMES)
