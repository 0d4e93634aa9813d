"""The callbacks of the training loop, each with its own state for resuming: early stopping on a
dev score, the per-batch learning-rate schedule, progress, and the checkpoint that saves them all."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler

from veclift.atomic import atomic_path
from veclift.errors import VecliftError
from veclift.progress import progress
from veclift.tasks.loop import Callback, Loop, Step


class EarlyStopping(Callback):
    """Keeps the weights of the epoch with the best ``monitor`` score (higher is better), loads them
    when training ends, and stops after ``patience`` epochs without a better one (0: never stops)."""

    def __init__(self, patience: int, monitor: str = "dev"):
        self.patience, self.monitor = patience, monitor
        self.best_score: float | None = None
        self.best_epoch, self.bad_epochs = 0, 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def on_train_start(self, loop: Loop) -> None:
        self._stop_if_patience_ran_out(loop)

    def on_epoch_end(self, loop: Loop, row: dict[str, float]) -> None:
        score = row[self.monitor]
        if self.best_score is None or score > self.best_score:
            self.best_score, self.best_epoch, self.bad_epochs = score, loop.epoch, 0
            self.best_state = copy.deepcopy(loop.network.state_dict())
        else:
            self.bad_epochs += 1
        self._stop_if_patience_ran_out(loop)

    def _stop_if_patience_ran_out(self, loop: Loop) -> None:
        if self.patience and self.bad_epochs >= self.patience:
            loop.should_stop = True

    def on_train_end(self, loop: Loop) -> None:
        if self.best_state is not None:
            loop.network.load_state_dict(self.best_state)

    def progress_text(self, loop: Loop) -> str:
        """' dev 0.8123 best 0.8456 @3' (the last epoch's score and the best), '' before any epoch."""
        if self.best_score is None:
            return ""
        last = loop.history[-1].get(self.monitor) if loop.history else None
        return (f" {self.monitor} {last:.4f}" if last is not None else "") + f" best {self.best_score:.4f} @{self.best_epoch}"

    def state_dict(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs,
                "best_state": self.best_state}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_score = None if state["best_score"] is None else float(state["best_score"])
        self.best_epoch, self.bad_epochs = int(state["best_epoch"]), int(state["bad_epochs"])
        self.best_state = state["best_state"]


class LRSchedule(Callback):
    """Steps a learning-rate ``scheduler`` (a per-batch ``LambdaLR``) after every optimizer step."""

    def __init__(self, scheduler: LRScheduler):
        self.scheduler = scheduler

    def on_batch_end(self, loop: Loop, step: Step) -> None:
        if step.weight:
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state)


class Progress(Callback):
    """The rich bar over all epochs (plain lines in a log, one per epoch with ``log_epochs``), showing
    'epoch N loss X' and what ``extra(loop)`` appends; ``per_epoch`` is an epoch's work in `Step` sizes."""

    def __init__(
        self, description: str, per_epoch: int, *, extra: Callable[[Loop], str] | None = None,
        enabled: bool = True, log_epochs: bool = True,
    ):  # fmt: skip
        self.description, self.per_epoch, self.extra = description, per_epoch, extra
        self.enabled, self.log_epochs = enabled, log_epochs
        self.update: Callable[..., None] = lambda advance=0, **fields: None

    def on_train_start(self, loop: Loop) -> None:
        bar = progress(self.description, loop.max_epochs * self.per_epoch, enabled=self.enabled)
        self.update = loop.context.enter_context(bar)
        self.update(advance=loop.epoch * self.per_epoch)

    def on_batch_end(self, loop: Loop, step: Step) -> None:
        self.update(advance=step.size, info=self.text(loop))

    def on_epoch_end(self, loop: Loop, row: dict[str, float]) -> None:
        if self.log_epochs:
            self.update(info=self.text(loop), log=True)

    def text(self, loop: Loop) -> str:
        return f"epoch {loop.epoch} loss {loop.mean_loss:.4f}" + (self.extra(loop) if self.extra else "")


Generator = np.random.Generator | torch.Generator


class Checkpoint(Callback):
    """After every epoch, writes the whole training state to ``path`` (atomically): network,
    optimizer, the loop with every callback's state, and the random generators (torch's and
    Python's global ones and ``generators``); training resumes from it when the file exists.

    The file is read without unpickling code (``weights_only``) and checked against the network:
    a foreign, damaged or mismatched file is one `VecliftError`.
    """

    last = True

    def __init__(self, path: str | Path, generators: Mapping[str, Generator] | None = None):
        self.path = Path(path)
        self.generators = dict(generators or {})

    def setup(self, loop: Loop) -> None:
        if not self.path.exists():
            return
        saved = _read_checkpoint(self.path, loop.network)
        try:
            loop.network.load_state_dict(saved["network"])
            loop.optimizer.load_state_dict(saved["optimizer"])
            loop.load_state_dict(saved["loop"])
            self._restore_generators(saved["generators"])
        except (ValueError, RuntimeError, KeyError, TypeError, AttributeError) as exc:
            raise VecliftError(f"the checkpoint does not fit this model and its options ({str(exc).splitlines()[0]}); "
                               "use another --checkpoint file", self.path) from None  # fmt: skip

    def on_epoch_end(self, loop: Loop, row: dict[str, float]) -> None:
        generators = {name: _generator_state(g) for name, g in self.generators.items()}
        state = {
            "network": loop.network.state_dict(),
            "optimizer": loop.optimizer.state_dict(),
            "loop": loop.state_dict(),
            "generators": {"torch": torch.get_rng_state(), "python": random.getstate(), "own": generators},
        }
        with atomic_path(self.path, overwrite=True) as tmp:
            torch.save(state, tmp)

    def _restore_generators(self, saved: dict[str, Any]) -> None:
        for name, generator in self.generators.items():
            if isinstance(generator, torch.Generator):
                generator.set_state(saved["own"][name])
            else:
                generator.bit_generator.state = saved["own"][name]
        torch.set_rng_state(saved["torch"])
        version, internal, gauss = saved["python"]  # torch keeps tuples, but a list may come back
        random.setstate((version, tuple(internal), gauss))


def _generator_state(generator: Generator) -> Any:
    return generator.get_state() if isinstance(generator, torch.Generator) else generator.bit_generator.state


CHECKPOINT_KEYS = frozenset({"network", "optimizer", "loop", "generators"})


def _read_checkpoint(path: Path, network: torch.nn.Module) -> dict[str, Any]:
    """The saved training state, read without unpickling code (``weights_only``), checked against ``network``."""
    try:
        saved = torch.load(path, weights_only=True)
    except Exception as exc:  # a truncated, foreign or code-carrying file: torch refuses it, say which
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise VecliftError(f"cannot read as a veclift checkpoint ({first}); delete it to start afresh", path) from None
    if not isinstance(saved, dict) or not CHECKPOINT_KEYS <= set(saved):
        raise VecliftError("not a veclift training checkpoint (keys missing); delete it to start afresh", path)
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    weights = saved["network"]
    tensors = isinstance(weights, dict) and all(isinstance(v, torch.Tensor) for v in weights.values())
    found = {k: tuple(v.shape) for k, v in weights.items()} if tensors else {}
    if found != expected:
        differ = sorted(set(found) ^ set(expected)) or [k for k in expected if found.get(k) != expected[k]]
        raise VecliftError(
            f"the checkpoint is of another model configuration ({differ[0]} differs); "
            "use another --checkpoint file or the options it was written with", path)  # fmt: skip
    return saved
