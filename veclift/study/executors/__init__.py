"""Where trials run, one module per executor (each registers itself): ``local`` (each trial in its
own local process, the default) and ``ray`` (Ray tasks on a cluster)."""

from __future__ import annotations

import importlib
import pkgutil

from veclift.study.executors.base import Executor, OnDone, TrialFunction, TrialOutcome
from veclift.study.executors.registry import (
    ExecutorFactory,
    executor_names,
    executors_help,
    make_executor,
    register_executor,
    unregister_executor,
)

__all__ = [
    "Executor",
    "ExecutorFactory",
    "OnDone",
    "TrialFunction",
    "TrialOutcome",
    "executor_names",
    "executors_help",
    "make_executor",
    "register_executor",
    "unregister_executor",
]


def _load_executors() -> None:
    """Import every module of this package: the executor modules register themselves."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_load_executors()
