"""Downstream tasks: the task registry, tagger, classifier, encoders, heads, training loop, metrics,
model directory.

The public names load their module on first use, so the command line can read a task's settings
(`veclift.tasks.config`, `veclift.tasks.registry`) without importing torch."""

from __future__ import annotations

from veclift.lazy import lazy_attributes

_HOMES = {
    "ClassifierConfig": "veclift.tasks.config",
    "TaggerConfig": "veclift.tasks.config",
    "TaskConfig": "veclift.tasks.config",
    "ScoreTable": "veclift.tasks.registry",
    "Task": "veclift.tasks.registry",
    "TransferColumn": "veclift.tasks.registry",
    "get_task": "veclift.tasks.registry",
    "register_task": "veclift.tasks.registry",
    "task_names": "veclift.tasks.registry",
    "SequenceTagger": "veclift.tasks.tagger",
    "TextClassifier": "veclift.tasks.classifier",
    "TrainResult": "veclift.tasks.trainer",
    "Callback": "veclift.tasks.loop",
    "Loop": "veclift.tasks.loop",
    "load_model": "veclift.tasks.api",
    "model_class": "veclift.tasks.api",
    "train_and_evaluate": "veclift.tasks.api",
}

__all__ = list(_HOMES)


__getattr__ = lazy_attributes(__name__, _HOMES)
