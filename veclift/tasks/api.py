"""Functions over the task models: load any saved model, and one train-and-score trial for the study."""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from veclift.errors import VecliftError
from veclift.tasks.config import TEST_ROWS
from veclift.tasks.metrics import sentence_counts, text_outcomes, unseen_entities
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
    test_rows: str = "model",
    progress: bool = False,
    **config: Any,
) -> dict[str, Any]:
    """Train one model and score it on ``test``: the metrics of ``evaluate`` (transfer view included)
    plus ``train_seconds``, ``epochs``, ``best_epoch``, ``dev_score``, ``predict_tokens_per_s`` (the
    test set's prediction alone, timed), ``oov_seconds`` (fitting the vectors' OOV model, such as the
    character n-gram one, before training: a one-off cost per vector set, kept out of
    ``train_seconds``), ``outcomes``: what a paired test and the unseen-word table need, per test
    item (see `item_outcomes`), and with ``self_train`` the rounds of self-training (``self_training``).

    The test is scored as `predict` and ``veclift evaluate`` score a saved model, one code path:
    ``test_rows`` says which rows words never seen in training get (`TEST_ROWS`).
    """
    if test_rows not in TEST_ROWS:
        raise VecliftError(f"unknown test_rows {test_rows!r} (expected one of {', '.join(TEST_ROWS)})")
    vectors = open_vectors(vectors)
    model = model_class(task)(embeddings=strategy, **config)
    oov_seconds = prepare_oov(vectors, model.config.oov) if strategy != "scratch" else 0.0
    began = time.perf_counter()
    model.fit(train, dev, vectors=vectors, seed=seed, progress=progress)
    train_seconds = time.perf_counter() - began
    began = time.perf_counter()
    pred = model.predict(test, vectors=vectors if test_rows == "vectors" else None)
    predict_seconds = time.perf_counter() - began
    if "predictions" in inspect.signature(model.evaluate).parameters:
        scores = model.evaluate(test, predictions=pred)
    else:  # a task plugin written before `TaskModel.evaluate` took the predictions: it tags the test again
        scores = model.evaluate(test, vectors=vectors if test_rows == "vectors" else None)
    result = model.train_result
    tokens = sum(len(item.tokens) for item in test)
    return {
        **scores,
        "task": task,
        "strategy": strategy,
        "seed": seed,
        "train_size": len(train),
        "train_seconds": train_seconds,
        "oov_seconds": oov_seconds,
        "epochs": len(result.history),
        "best_epoch": result.best_epoch,
        "dev_score": result.best_score,
        "predict_tokens_per_s": tokens / predict_seconds if predict_seconds > 0 else float("inf"),
        "outcomes": item_outcomes(model, test, pred),
        **({"self_training": result.self_training} if result.self_training else {}),
    }


def prepare_oov(vectors: Any, oov: str | None) -> float:
    """Fit the lazily fitted parts of ``vectors``' OOV chain ``oov`` now (the character n-gram
    model is kept per `Vectors` object and cached on disk, so a model trained on the same object
    reuses it); return the seconds it took (about 0 once fitted)."""
    if vectors is None or not oov:
        return 0.0
    began = time.perf_counter()
    for strategy in vectors.with_oov(oov).oov.strategies:
        strategy.vector("veclift")  # any word: the first call fits what the strategy needs
    return time.perf_counter() - began


def item_outcomes(model: TaskModel, test: Sequence[Any], pred: Sequence[Any]) -> dict[str, list]:
    """Per test item, compactly: for a tagger ``sentences`` (``[correct, predicted, gold]`` entity
    counts per sentence) and ``unseen`` (each test entity never seen in training: sentence index,
    start token, text, type, right, known to the vectors); for a classifier ``texts`` (1 right, 0 wrong);
    nothing for a task whose items have neither tags nor labels."""
    if get_task(model.task).token_tags:
        vocab, knows, key = model.transfer_helpers()
        return {
            "sentences": sentence_counts([item.tags for item in test], pred),
            "unseen": unseen_entities(test, pred, vocab, knows, key),
        }
    if all(hasattr(item, "labels") for item in test):
        return {"texts": text_outcomes([item.labels for item in test], pred)}
    return {}
