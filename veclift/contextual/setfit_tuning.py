"""SetFit's contrastive fine-tuning of a sentence encoder on a few labelled texts, done by the
`setfit` library: pairs of texts with one label are pulled together, pairs with two labels pushed
apart (cosine-similarity loss). The classifier then trains on the tuned encoder's frozen features
(`contextual-setfit` in `veclift.tasks.config`)."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from veclift.contextual.backbone import resolve_model
from veclift.data.sampling import subsample
from veclift.errors import VecliftError

T = TypeVar("T")

PAIR_BATCH = 16  # SetFit's default batch of sentence pairs
# SetFit enumerates every pair of the texts it is given (memory grows with their square: 2,000 texts
# make 2 million pairs, tens of MB; 50,000 would need tens of GB), and a few thousand pairs are drawn.
MAX_PAIR_TEXTS = 2000


def pair_sample(items: Sequence[T], seed: int, label: Callable[[T], Any]) -> list[T]:
    """The texts SetFit draws its pairs from: all of ``items``, or a seeded class-proportional sample
    of `MAX_PAIR_TEXTS` of them."""
    return subsample(items, MAX_PAIR_TEXTS, seed=seed, stratify=label)


def contrastive_tune(
    model: str | None, texts: Sequence[str], labels: Sequence[int], output: Path, *,
    pairs: int, seed: int, progress: bool = True,
) -> Path:  # fmt: skip
    """Tune the encoder ``model`` (a local directory or the packaged MiniLM) on ``pairs`` sentence
    pairs (rounded down to whole batches of 16) drawn from ``texts`` and their single ``labels``; the
    tuned encoder (Hugging Face files) goes to ``output``, which is returned."""
    try:
        from setfit import SetFitModel, Trainer, TrainingArguments
    except ImportError as exc:
        raise VecliftError("contextual-setfit needs the setfit library (pip install 'veclift[setfit]')") from exc
    if len(set(labels)) < 2:
        raise VecliftError("contextual-setfit needs texts of at least two labels to make pairs of")
    source, local = resolve_model(model)
    if not local:
        raise VecliftError(f"contextual model {source!r} is not a local directory", source)
    try:
        encoder = SetFitModel.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise VecliftError(f"cannot load the contextual model for SetFit: {str(exc).splitlines()[0]}", source) from exc
    with tempfile.TemporaryDirectory(prefix="veclift-setfit-") as scratch:
        arguments = TrainingArguments(
            output_dir=scratch, batch_size=PAIR_BATCH, num_epochs=1, max_steps=max(1, pairs // PAIR_BATCH), seed=seed,
            save_strategy="no", report_to="none", show_progress_bar=progress, logging_strategy="steps" if progress else "no",
        )  # fmt: skip
        trainer = Trainer(model=encoder, args=arguments)
        if not progress:  # the step bar of the transformers Trainer underneath follows no SetFit argument
            from transformers.trainer_callback import ProgressCallback

            trainer.st_trainer.remove_callback(ProgressCallback)
        with warnings.catch_warnings():  # torch's DataLoader warns on every CPU-only run that it cannot pin memory
            warnings.filterwarnings("ignore", message=".*pin_memory.*")
            trainer.train_embeddings(list(texts), list(labels), args=arguments)
    encoder.model_body.save(str(output))
    return output
