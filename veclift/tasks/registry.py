"""The task registry: what the study, the report, the CLI and model loading need to know of a task,
registered once by the module that defines it (`register_task`), looked up by name (`get_task`).

A new task is one module: a `TaskModel` subclass (with its `TaskConfig`), a reader and a `Task`
entry; nothing else names it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from veclift.errors import VecliftError, warn

if TYPE_CHECKING:
    from veclift.tasks.model import TaskModel


@dataclass(frozen=True)
class ScoreTable:
    """Scores laid out for a terminal: a table (the last row a total, in bold) and lines under it."""

    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    lines: list[str]
    total: tuple[str, ...] | None = None


class TransferColumn(NamedTuple):
    """One group of the transfer view: its dotted metric, its legend label, line style and sentence opening."""

    metric: str
    label: str
    style: str
    phrase: str


@dataclass(frozen=True)
class Task:
    """One registered task."""

    name: str  # "ner": the CLI's and the study's word for it, and `TaskModel.task`
    model_class: type[TaskModel]
    read: Callable[..., list]  # read(paths, **reader_options) -> items, a one-line VecliftError on bad input
    reader_options: type  # dataclass of the reader's keyword options (name, default, help in metadata)
    primary_metric: str  # the study's metric, a key of `evaluate()` scores: "f1"
    metric_label: str  # the same in words: "entity F1"
    item_noun: str  # one training item: "sentence"
    scored_noun: str  # what the test scores count: "entities"
    transfer_columns: tuple[TransferColumn, ...]  # the groups of the transfer view
    score_table: Callable[[dict[str, Any]], ScoreTable]  # `evaluate()` scores -> terminal table
    predict_records: Callable[..., list[dict[str, Any]]]
    # (model, records with "tokens" (and maybe "text"), vectors) -> the records with the model's answers,
    # JSON-ready; a task with token tags also takes ``marginals=True`` (per-token probabilities)
    stratify: Callable[[Any], Hashable] | None = None  # class of an item, for stratified subsamples
    token_tags: bool = False  # answers one tag per token: CoNLL columns fit its input and output

    @property
    def config_class(self) -> type:
        return self.model_class.config_class

    def read_files(self, paths: Sequence[str | Path], **options: Any) -> list:
        """Items of every file in ``paths``; a missing file or no items at all is a one-line error."""
        paths = [Path(p) for p in paths]
        for path in paths:
            if not path.exists():
                raise VecliftError("no such file or directory", path)
        items = self.read(paths, **options)
        if not items:
            raise VecliftError("no examples found", paths[0] if paths else None)
        return items


MIN_BUCKET = 30
"""A transfer-view group of fewer test items is flagged, in `veclift evaluate` and the study report, and gives no conclusion."""


def group_size(count: int, noun: str) -> str:
    """``"41 gold"``; under `MIN_BUCKET` items, said to be too few to conclude from."""
    flag = f", fewer than {MIN_BUCKET}: too few to conclude from" if count < MIN_BUCKET else ""
    return f"{count} {noun}{flag}"


def fraction(value: float | None) -> str:
    """A score for a table; ``n/a`` where it is undefined (an empty group of the transfer view)."""
    return "n/a" if value is None else f"{value:.4f}"


TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Make ``task`` known under ``task.name`` (a second registration under the name replaces it)."""
    if task.model_class.task != task.name:
        raise ValueError(f"{task.model_class.__name__}.task is {task.model_class.task!r}, not {task.name!r}")
    TASKS[task.name] = task
    return task


def unregister_task(name: str) -> None:
    """Forget ``name`` (nothing happens when it is not registered)."""
    TASKS.pop(name, None)


def get_task(name: str) -> Task:
    """The registered task ``name``; the built-in ones are registered on first use."""
    _load_builtin()
    if name not in TASKS:
        raise VecliftError(f"unknown task {name!r}; choose from {', '.join(task_names())}")
    return TASKS[name]


def task_names() -> list[str]:
    """Registered task names: the built-in ones first, then others in the order they registered."""
    _load_builtin()

    def rank(name: str) -> int:
        module = TASKS[name].model_class.__module__
        return BUILTIN.index(module) if module in BUILTIN else len(BUILTIN)

    return sorted(TASKS, key=rank)  # stable: other tasks keep the order they registered in


BUILTIN = ("veclift.tasks.tagger", "veclift.tasks.classifier")
"""Modules that register the built-in tasks when imported, in the order the CLI lists them."""
ENTRY_POINTS = "veclift.tasks"
"""The entry-point group through which an installed package makes its tasks known (the module named
is imported; it registers its tasks), so `veclift evaluate` and `predict` load their models too."""
_plugins_loaded = False


def _load_builtin() -> None:
    """Import the built-in task modules and, once, the modules installed packages name."""
    global _plugins_loaded
    for module in BUILTIN:
        importlib.import_module(module)
    if not _plugins_loaded:
        _plugins_loaded = True
        for entry in importlib.metadata.entry_points(group=ENTRY_POINTS):
            try:
                entry.load()
            except Exception as exc:  # a broken plugin must not take the built-in tasks down with it
                warn(f"the task plugin {entry.name!r} ({entry.value}) failed to load: {exc}")
