"""The trainer of every task: length-bucketed minibatches, Adam/SGD, clipping, LR decay, early
stopping on a dev score with the best weights kept, seeds, progress, resumable checkpoints; run by
the one training loop (`veclift.tasks.loop`) with its callbacks.

A network trained here implements ``loss(batch, targets) -> scalar``,
``collate(targets, batch) -> tensor`` and has an ``embedder`` (a `TokenEmbedder`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from veclift.embeddings import TokenBatch
from veclift.errors import VecliftError
from veclift.tasks.callbacks import Checkpoint, EarlyStopping, LRSchedule, Progress
from veclift.tasks.config import TaskConfig
from veclift.tasks.loop import Loop


@dataclass
class TrainResult:
    """What training did: per-epoch history, the best dev score and its epoch, seconds spent (and
    the rounds of self-training that led to it)."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_score: float | None = None
    best_epoch: int = 0
    seconds: float = 0.0
    stopped_early: bool = False
    self_training: list[dict[str, Any]] = field(default_factory=list)  # per round (veclift.tasks.self_training)

    def to_dict(self) -> dict[str, Any]:
        rounds = {"self_training": self.self_training} if self.self_training else {}  # older versions load the rest
        return {"history": self.history, "best_score": self.best_score, "best_epoch": self.best_epoch,
                "seconds": self.seconds, "stopped_early": self.stopped_early, **rounds}  # fmt: skip


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def length_buckets(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Indices grouped into batches of similar length (random order within ties), batches shuffled."""
    order = np.lexsort((rng.random(len(lengths)), np.asarray(lengths)))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def batch_lr(batch_size: int, config: TaskConfig) -> float:
    """``lr`` for batches of ``batch_size``: grown per ``lr_scaling`` where ``max_batches`` made them
    larger than ``config.batch_size`` (the square root is Adam's scaling rule, linear SGD's)."""
    ratio = max(1.0, batch_size / config.batch_size)
    return config.lr * {"none": 1.0, "sqrt": ratio**0.5, "linear": ratio}[config.lr_scaling]


def make_optimizer(network: nn.Module, config: TaskConfig, batch_size: int | None = None) -> torch.optim.Optimizer:
    """Fine-tuned embedding rows in their own group at ``finetune_lr_ratio`` x the learning rate of
    ``batch_size`` (`batch_lr`); a pre-trained encoder's parameters in another at ``contextual_lr``
    (marked ``encoder`` for its schedule)."""
    lr = batch_lr(batch_size or config.batch_size, config)
    tuned = network.embedder.finetuned_parameters()
    encoder = network.embedder.encoder_parameters()
    own_ids = {id(p) for p in tuned + encoder}
    rest = [p for p in network.parameters() if p.requires_grad and id(p) not in own_ids]
    groups = [{"params": rest, "lr": lr}]
    if tuned:
        groups.append({"params": tuned, "lr": lr * config.finetune_lr_ratio})
    if encoder:
        groups.append({"params": encoder, "lr": config.contextual_lr, "encoder": True})
    # One fused kernel over all tensors instead of a loop of small per-tensor ops: on CPU, a SWEM step
    # spends most of its time in Adam's update of the embedding rows.
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=config.momentum, weight_decay=config.weight_decay, foreach=True)
    try:
        return torch.optim.Adam(groups, lr=lr, weight_decay=config.weight_decay, fused=True)
    except RuntimeError:  # torch < 2.4 fuses on CUDA only
        return torch.optim.Adam(groups, lr=lr, weight_decay=config.weight_decay)


def linear_warmup_decay(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """Learning-rate factor for ``torch.optim.lr_scheduler.LambdaLR``: rises linearly over
    ``warmup_steps``, then falls linearly to 0 at ``total_steps`` (the BERT fine-tuning schedule)."""
    warmup_steps = max(0, int(warmup_steps))
    total_steps = max(1, int(total_steps))

    # transformers' get_linear_schedule_with_warmup sets one schedule for every parameter group;
    # the encoder needs its own, beside the task layers' schedule, hence a LambdaLR factor.
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


def step_schedule(optimizer: torch.optim.Optimizer, config: TaskConfig, n_batches: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Stepped per batch: ``lr / (1 + lr_decay * epoch)`` for every group but an encoder's, which
    warms up over ``contextual_warmup`` of all steps and then decays linearly to zero."""

    def per_epoch(step: int) -> float:
        return 1.0 / (1.0 + config.lr_decay * (step // n_batches))

    factors = []
    for group in optimizer.param_groups:
        if group.get("encoder"):
            total = config.max_epochs * n_batches
            factors.append(linear_warmup_decay(round(config.contextual_warmup * total), total))
        else:
            factors.append(per_epoch)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factors)


def training_batch_size(n_examples: int, config: TaskConfig) -> int:
    """``batch_size``, smaller where ``n_examples`` would make fewer than ``min_batches`` batches and
    larger where they would make more than ``max_batches`` (when set), up to ``max_batch_size`` (when set)."""
    size = max(1, min(config.batch_size, n_examples // config.min_batches))
    if not config.max_batches:
        return size
    grown = max(size, -(-n_examples // config.max_batches))
    return max(size, min(grown, config.max_batch_size)) if config.max_batch_size else grown


def train(
    network: nn.Module,
    examples: Sequence[tuple[Sequence[str], Any]],
    config: TaskConfig,
    *,
    dev_score: Callable[[], float] | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    description: str = "Training",
) -> TrainResult:
    """Train ``network`` in place on (tokens, target) pairs; the best dev weights are loaded at the end.

    Without ``dev_score`` all ``max_epochs`` run and the last weights are kept. With ``checkpoint``,
    the full state is written after every epoch and training resumes from it when it exists.
    """
    if not examples:
        raise VecliftError("no training examples")
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    batch_size = training_batch_size(len(examples), config)
    optimizer = make_optimizer(network, config, batch_size)
    n_batches = -(-len(examples) // batch_size)
    lengths = [len(tokens) for tokens, _ in examples]
    stopping = EarlyStopping(config.patience) if dev_score is not None else None
    callbacks = [
        *([stopping] if stopping else []),
        LRSchedule(step_schedule(optimizer, config, n_batches)),
        Progress(description, n_batches, extra=stopping.progress_text if stopping else None, enabled=progress),
        *([Checkpoint(checkpoint, {"batches": rng})] if checkpoint else []),
    ]

    def batches() -> Iterator[list[tuple[Sequence[str], Any]]]:
        for index in length_buckets(lengths, batch_size, rng):
            yield [examples[j] for j in index]

    def step(chunk: list[tuple[Sequence[str], Any]]) -> torch.Tensor:
        batch = TokenBatch.of([tokens for tokens, _ in chunk])
        loss = network.loss(batch, network.collate([target for _, target in chunk], batch))
        return loss + network.embedder.penalty()

    loop = Loop(network, optimizer, batches, max_epochs=config.max_epochs, step=step, clip=config.clip,
                validate=dev_score, callbacks=callbacks)  # fmt: skip
    history = loop.run()
    return TrainResult(
        history, stopping.best_score if stopping else None, stopping.best_epoch if stopping else 0,
        loop.seconds, stopped_early=len(history) < config.max_epochs,
    )  # fmt: skip
