"""Self-training on raw text (`TaskConfig.self_train`): the trained model answers the raw sentences
or texts, those it is surest of join the training data with its answers, and a new model is trained
on both; repeated ``self_train_rounds`` times. The model kept is the last one. Which items count as
sure is the task's (`TaskModel._confident`): a tagger's least sure token, a classifier's label.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from veclift.data.tokenize import raw_sentences
from veclift.errors import VecliftError
from veclift.progress import progress as progress_bar
from veclift.tasks.model import TaskModel, open_vectors


def round_checkpoint(checkpoint: str | Path | None, number: int) -> Path | None:
    """The checkpoint file of round ``number`` (0: the first model, the file itself): ``ckpt.round1.pt``."""
    if checkpoint is None or number == 0:
        return None if checkpoint is None else Path(checkpoint)
    path = Path(checkpoint)
    return path.with_name(f"{path.stem}.round{number}{path.suffix}")


def self_train(model: TaskModel, train: Any, dev: Any, *, vectors: Any, checkpoint: str | Path | None, **fit: Any) -> TaskModel:
    """`TaskModel.fit` without self-training on ``train``, then the rounds of self-training on the
    raw text ``model.config.self_train``; ``fit``: the rest of `TaskModel.fit`'s options (seed,
    extra_tokens, progress). ``model.train_result`` holds the last model's epochs, the seconds of
    every round together and a record of each round (``self_training``)."""
    config = model.config
    if type(model)._confident is TaskModel._confident:  # said before training, not after
        raise VecliftError(f"{model.task} models do not self-train (--self-train)")
    raw = raw_sentences(config.self_train, "self-training text")
    train, dev = model._training_sets(train, dev)
    fit = {**fit, "vectors": open_vectors(vectors), "extra_tokens": [list(tokens) for tokens in fit.get("extra_tokens", ())]}
    began, rounds = time.perf_counter(), []
    model._fit(train, dev, checkpoint=round_checkpoint(checkpoint, 0), **fit)
    model.config = model._settled_config()  # the rounds' larger training sets choose nothing by size
    try:
        for number in range(1, config.self_train_rounds + 1):
            answering = f"Self-training round {number}: answering {len(raw)} raw items"
            with progress_bar(answering, None, enabled=fit.get("progress", True)):
                added, record = model._confident(raw, vectors=fit["vectors"], threshold=config.self_train_threshold,
                                                 limit=config.self_train_sentences, train=train)  # fmt: skip
            model.words.forget_added()  # the raw text's rows: a model kept as it is must not hold them
            rounds.append({"round": number, "teacher_dev_score": model.train_result.best_score, "raw": len(raw),
                           "added": len(added), **record})  # fmt: skip
            if not added:
                break
            model._fit([*train, *added], dev, checkpoint=round_checkpoint(checkpoint, number), **fit)
    finally:
        model.config = config
    model.train_result = replace(model.train_result, seconds=time.perf_counter() - began, self_training=rounds)
    return model
