"""Functions over the task models: load any saved model, and one train-and-score trial for the study."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from veclift.tasks.model import TaskModel, open_vectors
from veclift.tasks.model_dir import load_model as _load_model
from veclift.tasks.registry import get_task


def model_class(task: str) -> type[TaskModel]:
    """The model class of a registered task: `SequenceTagger` for ``"ner"``, `TextClassifier` for ``"classify"``."""
    return get_task(task).model_class


def load_model(directory: str | Path) -> TaskModel:
    """A saved model of any registered task, whichever the directory holds."""
    return _load_model(directory)


def train_and_evaluate(
    task: str,
    train: Sequence[Any],
    dev: Sequence[Any] | None,
    test: Sequence[Any],
    vectors: Any,
    strategy: str,
    seed: int = 0,
    *,
    progress: bool = False,
    **config: Any,
) -> dict[str, Any]:
    """Train one model and score it on ``test``: the metrics of ``evaluate`` (transfer view included)
    plus ``train_seconds``, ``epochs``, ``best_epoch``, ``dev_score`` and ``predict_tokens_per_s``
    (prediction and scoring of the test set, timed together).

    The test words get frozen pre-trained rows at training time, as in ``fit(extra_tokens=...)``.
    """
    vectors = open_vectors(vectors)
    model = model_class(task)(embeddings=strategy, **config)
    began = time.perf_counter()
    model.fit(train, dev, vectors=vectors, seed=seed, extra_tokens=[item.tokens for item in test], progress=progress)
    train_seconds = time.perf_counter() - began
    began = time.perf_counter()
    scores = model.evaluate(test)  # predicts once; scoring adds little to the timed seconds
    predict_seconds = time.perf_counter() - began
    result = model.train_result
    tokens = sum(len(item.tokens) for item in test)
    return {
        **scores,
        "task": task,
        "strategy": strategy,
        "seed": seed,
        "train_size": len(train),
        "train_seconds": train_seconds,
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "dev_score": result.best_score,
        "predict_tokens_per_s": tokens / predict_seconds if predict_seconds > 0 else float("inf"),
    }
