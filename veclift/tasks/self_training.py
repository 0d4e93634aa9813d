"""Self-training a tagger on raw text (`TaggerConfig.self_train`): the trained model tags the raw
sentences, those it is surest of join the training data with its tags, and a new model is trained
on both; repeated ``self_train_rounds`` times. The model kept is the last one.

A sentence's confidence is its least sure token: the smallest, over its tokens, of the highest tag
probability (the CRF marginal). Sentences without an entity are left out, so that the added data
does not teach the model to tag nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veclift.data.tagged import TaggedSentence
from veclift.data.tokenize import raw_sentences
from veclift.progress import progress as progress_bar
from veclift.tasks.model import TaskModel, open_vectors

if TYPE_CHECKING:
    from veclift.tasks.tagger import SequenceTagger


def confident_sentences(
    teacher: SequenceTagger, token_lists: Sequence[Sequence[str]], *, vectors: Any, threshold: float, limit: int
) -> tuple[list[TaggedSentence], int]:
    """The at most ``limit`` sentences of ``token_lists`` with an entity whose every token ``teacher``
    tags with probability ``threshold`` or more, surest first, with its tags; and their entity count."""
    answers = teacher.predict_entities(token_lists, vectors=vectors, marginals=True)
    confidence = [min(max(row.values()) for row in answer["marginals"]) for answer in answers]
    order = sorted(range(len(answers)), key=lambda i: -confidence[i])
    chosen = [i for i in order if confidence[i] >= threshold and answers[i]["entities"]][:limit]
    sentences = [TaggedSentence(answers[i]["tokens"], answers[i]["tags"]) for i in chosen]
    return sentences, sum(len(answers[i]["entities"]) for i in chosen)


def round_checkpoint(checkpoint: str | Path | None, number: int) -> Path | None:
    """The checkpoint file of round ``number`` (0: the first model, the file itself): ``ckpt.round1.pt``."""
    if checkpoint is None or number == 0:
        return None if checkpoint is None else Path(checkpoint)
    path = Path(checkpoint)
    return path.with_name(f"{path.stem}.round{number}{path.suffix}")


def self_train(
    model: SequenceTagger,
    train: Any,
    dev: Any = None,
    *,
    vectors: Any = None,
    seed: int = 0,
    extra_tokens: Iterable[Sequence[str]] = (),
    checkpoint: str | Path | None = None,
    progress: bool = True,
) -> SequenceTagger:
    """`TaskModel.fit` on ``train``, then the rounds of self-training on the raw text
    ``model.config.self_train``; ``model.train_result`` holds the last model's epochs, the seconds of
    every round together and a record of each round (``self_training``)."""
    config = model.config
    raw = raw_sentences(config.self_train, "self-training text")
    train, dev = model._training_sets(train, dev)
    vectors = open_vectors(vectors)
    extra = [list(tokens) for tokens in extra_tokens]
    began, rounds = time.perf_counter(), []
    fit = dict(vectors=vectors, seed=seed, extra_tokens=extra, progress=progress)
    TaskModel.fit(model, train, dev, checkpoint=round_checkpoint(checkpoint, 0), **fit)
    for number in range(1, config.self_train_rounds + 1):
        with progress_bar(f"Self-training round {number}: tagging {len(raw)} sentences", None, enabled=progress):
            added, entities = confident_sentences(model, raw, vectors=vectors, threshold=config.self_train_threshold,
                                                  limit=config.self_train_sentences)  # fmt: skip
        rounds.append({"round": number, "teacher_dev_score": model.train_result.best_score, "tagged": len(raw),
                       "added": len(added), "added_entities": entities})  # fmt: skip
        if not added:
            break
        TaskModel.fit(model, [*train, *added], dev, checkpoint=round_checkpoint(checkpoint, number), **fit)
    model.train_result = replace(model.train_result, seconds=time.perf_counter() - began, self_training=rounds)
    return model
