"""The one trainer of every task: length-bucketed minibatches, Adam/SGD, clipping, LR decay,
early stopping on a dev score with the best weights kept, seeds, progress, resumable checkpoints.

A network trained here implements ``loss(batch, targets) -> scalar``,
``collate(targets, batch) -> tensor`` and has an ``embedder`` (a `TokenEmbedder`).
"""

from __future__ import annotations

import contextlib
import copy
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from veclift.atomic import atomic_path
from veclift.errors import VecliftError
from veclift.progress import progress
from veclift.tasks.config import TaskConfig
from veclift.embeddings import TokenBatch


@dataclass
class TrainResult:
    """What training did: per-epoch history, the best dev score and its epoch, seconds spent."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_score: float | None = None
    best_epoch: int = 0
    seconds: float = 0.0
    stopped_early: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"history": self.history, "best_score": self.best_score, "best_epoch": self.best_epoch,
                "seconds": self.seconds, "stopped_early": self.stopped_early}  # fmt: skip


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Deterministic torch kernels for the duration (cheap on CPU), restoring the previous setting."""
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)


def length_buckets(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Indices grouped into batches of similar length (random order within ties), batches shuffled."""
    order = np.lexsort((rng.random(len(lengths)), np.asarray(lengths)))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def make_optimizer(network: nn.Module, config: TaskConfig) -> torch.optim.Optimizer:
    """Fine-tuned embedding rows in their own group at ``finetune_lr_ratio`` x ``lr``; a pre-trained
    encoder's parameters in another at ``contextual_lr`` (marked ``encoder`` for its schedule)."""
    tuned = network.embedder.finetuned_parameters()
    encoder = network.embedder.encoder_parameters()
    own_ids = {id(p) for p in tuned + encoder}
    rest = [p for p in network.parameters() if p.requires_grad and id(p) not in own_ids]
    groups = [{"params": rest, "lr": config.lr}]
    if tuned:
        groups.append({"params": tuned, "lr": config.lr * config.finetune_lr_ratio})
    if encoder:
        groups.append({"params": encoder, "lr": config.contextual_lr, "encoder": True})
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)


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


def train(
    network: nn.Module,
    examples: Sequence[tuple[Sequence[str], Any]],
    config: TaskConfig,
    *,
    dev_score: Callable[[], float] | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    show_progress: bool = True,
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
    optimizer = make_optimizer(network, config)
    batch_size = max(1, min(config.batch_size, len(examples) // config.min_batches))
    n_batches = -(-len(examples) // batch_size)
    schedule = step_schedule(optimizer, config, n_batches)
    result = TrainResult()
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs, start_epoch = 0, 0
    checkpoint = Path(checkpoint) if checkpoint else None
    if checkpoint is not None and checkpoint.exists():
        saved = _load_checkpoint(checkpoint, network)
        try:
            network.load_state_dict(saved["network"])
            optimizer.load_state_dict(saved["optimizer"])
            schedule.load_state_dict(saved["schedule"])
            best_state, bad_epochs, start_epoch = saved["best_state"], int(saved["bad_epochs"]), int(saved["epoch"])
            result = TrainResult(**saved["result"])
            rng.bit_generator.state = saved["numpy_rng"]
            torch.set_rng_state(saved["torch_rng"])
            random.setstate(_as_python_rng_state(saved["python_rng"]))
        except (ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise VecliftError(f"the checkpoint does not fit this model and its options ({str(exc).splitlines()[0]}); "
                               "use another --checkpoint file", checkpoint) from None  # fmt: skip

    lengths = [len(tokens) for tokens, _ in examples]
    began = time.perf_counter() - result.seconds
    with deterministic(), progress(description, config.max_epochs * n_batches, enabled=show_progress) as update:
        update(advance=start_epoch * n_batches)
        for epoch in range(start_epoch + 1, config.max_epochs + 1):
            if config.patience and bad_epochs >= config.patience:
                break
            network.train()
            epoch_began, total_loss = time.perf_counter(), 0.0
            for i, batch_index in enumerate(length_buckets(lengths, batch_size, rng)):
                chunk = [examples[j] for j in batch_index]
                batch = TokenBatch.of([tokens for tokens, _ in chunk])
                loss = network.loss(batch, network.collate([target for _, target in chunk], batch))
                loss = loss + network.embedder.penalty()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.clip > 0:
                    nn.utils.clip_grad_norm_(network.parameters(), config.clip)
                optimizer.step()
                schedule.step()
                total_loss += loss.item()
                update(advance=1, info=f"epoch {epoch} loss {total_loss / (i + 1):.4f}{_best(result)}")
            row = {"epoch": epoch, "loss": total_loss / n_batches, "seconds": time.perf_counter() - epoch_began}
            if dev_score is not None:
                network.eval()
                with torch.no_grad():
                    row["dev"] = float(dev_score())
                if result.best_score is None or row["dev"] > result.best_score:
                    result.best_score, result.best_epoch, bad_epochs = row["dev"], epoch, 0
                    best_state = copy.deepcopy(network.state_dict())
                else:
                    bad_epochs += 1
            result.history.append(row)
            result.seconds = time.perf_counter() - began
            update(info=f"epoch {epoch} loss {row['loss']:.4f}{_best(result)}", log=True)
            if checkpoint is not None:
                _save_checkpoint(checkpoint, network, optimizer, schedule, best_state, bad_epochs, epoch, result, rng)
    result.stopped_early = len(result.history) < config.max_epochs
    if best_state is not None:
        network.load_state_dict(best_state)
    network.eval()
    return result


def _best(result: TrainResult) -> str:
    if result.best_score is None:
        return ""
    last = result.history[-1].get("dev") if result.history else None
    return (f" dev {last:.4f}" if last is not None else "") + f" best {result.best_score:.4f} @{result.best_epoch}"


def _save_checkpoint(path, network, optimizer, schedule, best_state, bad_epochs, epoch, result, rng) -> None:
    state = {
        "network": network.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "best_state": best_state,
        "bad_epochs": bad_epochs,
        "epoch": epoch,
        "result": result.to_dict(),
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
    }
    with atomic_path(path, overwrite=True) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path, network: nn.Module) -> dict[str, Any]:
    """The saved training state, read without unpickling code (``weights_only``), checked against ``network``."""
    try:
        saved = torch.load(path, weights_only=True)
    except Exception as exc:  # a truncated, foreign or code-carrying file: torch refuses it, say which
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise VecliftError(f"cannot read as a veclift checkpoint ({first}); delete it to start afresh", path) from None
    wanted = {"network", "optimizer", "schedule", "best_state", "bad_epochs", "epoch", "result", "numpy_rng",
              "torch_rng", "python_rng"}  # fmt: skip
    if not isinstance(saved, dict) or not wanted <= set(saved):
        raise VecliftError("not a veclift training checkpoint (keys missing); delete it to start afresh", path)
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in saved["network"].items()} if isinstance(saved["network"], dict) else {}
    if found != expected:
        differ = sorted(set(found) ^ set(expected)) or [k for k in expected if found.get(k) != expected[k]]
        raise VecliftError(
            f"the checkpoint is of another model configuration ({differ[0]} differs); "
            "use another --checkpoint file or the options it was written with", path)  # fmt: skip
    return saved


def _as_python_rng_state(state: Any) -> tuple:
    """``random.getstate()`` as saved (torch keeps tuples, but a list may come back)."""
    version, internal, gauss = state
    return version, tuple(internal), gauss
