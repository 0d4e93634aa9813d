"""The one training loop of veclift (task models and encoder pre-training): epochs of batches, an
optimizer step per batch, gradient clipping, an optional dev score per epoch, and hooks for
callbacks (`veclift.tasks.callbacks`: early stopping, checkpoints, schedules, progress).

Every hook runs the callbacks in the order given; a callback marked ``last`` (a `Checkpoint`) must
come last, so that it saves what the others did in the same epoch, and restores all of it in
``setup``, before anything starts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn


class Step(NamedTuple):
    """What one batch gave: its loss, the number of items that loss is a mean over (0: nothing to
    learn from, no update) and the batch's size in units of progress (1 a batch, or its words)."""

    loss: torch.Tensor
    weight: int = 1
    size: int = 1


class Callback:
    """Hooks into a `Loop`, each a no-op here; ``state_dict`` is what a `Checkpoint` saves of it."""

    last: ClassVar[bool] = False  # must follow every other callback (it saves their state)

    def setup(self, loop: Loop) -> None:
        """Before training starts, in the order given (a `Checkpoint` restores the saved state here)."""

    def on_train_start(self, loop: Loop) -> None:
        """After every callback's ``setup``, inside ``loop.context``."""

    def on_epoch_start(self, loop: Loop) -> None:
        """``loop.epoch`` is the epoch about to run (from 1)."""

    def on_batch_end(self, loop: Loop, step: Step) -> None:
        """After the optimizer step of a batch (none when ``step.weight`` is 0)."""

    def on_epoch_end(self, loop: Loop, row: dict[str, float]) -> None:
        """``row`` is the epoch's line of ``loop.history`` (epoch, loss, seconds, dev)."""

    def on_train_end(self, loop: Loop) -> None:
        """After the last epoch (or a stop), inside ``loop.context``."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Deterministic torch kernels for the duration (cheap on CPU), restoring the previous settings.
    New tensors are not filled first: no kernel reads memory it has not written, and filling every
    ``torch.empty`` was a fill per tensor (with the casing cache and the CRF's unbind, an epoch on
    all of CoNLL-2003 takes 0.95x the time for the same losses: bench/results/tree_epoch_bench.md)."""
    before = torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0])
        torch.utils.deterministic.fill_uninitialized_memory = before[1]


class Loop:
    """Train ``network`` for up to ``max_epochs`` over the batches ``batches()`` yields each epoch.

    ``step(batch)`` gives the batch's loss, a tensor or a `Step` (default: ``network.loss(batch)``);
    ``validate()``, when given, scores the network after each epoch (in eval mode, without
    gradients) as the row's ``dev``. A callback sets ``should_stop`` to end training after an epoch.
    """

    def __init__(
        self,
        network: nn.Module,
        optimizer: torch.optim.Optimizer,
        batches: Callable[[], Iterable[Any]],
        *,
        max_epochs: int,
        step: Callable[[Any], Step | torch.Tensor] | None = None,
        clip: float = 0.0,
        validate: Callable[[], float] | None = None,
        callbacks: Sequence[Callback] = (),
    ):
        names = [type(callback).__name__ for callback in callbacks]
        if len(set(names)) < len(names):
            raise ValueError(f"two callbacks of one class ({', '.join(names)}): their saved states would clash")
        if any(callback.last for callback in callbacks[:-1]):
            raise ValueError(f"{', '.join(names)}: a callback marked last must come after all the others")
        self.network, self.optimizer, self.batches = network, optimizer, batches
        self.max_epochs, self.step, self.clip, self.validate = max_epochs, step, clip, validate
        self.callbacks = list(callbacks)
        self.epoch, self.seconds, self.should_stop = 0, 0.0, False
        self.history: list[dict[str, float]] = []
        self.loss_sum, self.weight, self.size, self.epoch_began = 0.0, 0, 0, 0.0
        self.context = contextlib.ExitStack()  # context managers callbacks open for the whole run

    @property
    def mean_loss(self) -> float:
        """The weighted mean loss of the epoch so far."""
        return self.loss_sum / max(self.weight, 1)

    @property
    def epoch_seconds(self) -> float:
        return time.perf_counter() - self.epoch_began

    def run(self) -> list[dict[str, float]]:
        """Train (resuming where a callback's ``setup`` put the loop) and return the history."""
        self._call("setup")
        began = time.perf_counter() - self.seconds
        with deterministic(), self.context:
            self._call("on_train_start")
            while self.epoch < self.max_epochs and not self.should_stop:
                self._run_epoch(began)
            self._call("on_train_end")
        self.network.eval()
        return self.history

    def _run_epoch(self, began: float) -> None:
        self.epoch += 1
        self._call("on_epoch_start")
        self.network.train()
        self.epoch_began, self.loss_sum, self.weight, self.size = time.perf_counter(), 0.0, 0, 0
        for batch in self.batches():
            step = self.step(batch) if self.step is not None else self.network.loss(batch)
            step = step if isinstance(step, Step) else Step(step)
            if step.weight:
                self.optimizer.zero_grad(set_to_none=True)
                step.loss.backward()
                if self.clip > 0:
                    nn.utils.clip_grad_norm_(self.network.parameters(), self.clip)
                self.optimizer.step()
                self.loss_sum += step.loss.item() * step.weight
                self.weight += step.weight
            self.size += step.size
            self._call("on_batch_end", step)
        row = {"epoch": self.epoch, "loss": self.mean_loss, "seconds": self.epoch_seconds}
        if self.validate is not None:
            self.network.eval()
            with torch.no_grad():
                row["dev"] = float(self.validate())
        self.history.append(row)
        self.seconds = time.perf_counter() - began
        self._call("on_epoch_end", row)

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def state_dict(self) -> dict[str, Any]:
        """The epochs done, their history and time, and every callback's state by its class name."""
        states = {type(c).__name__: c.state_dict() for c in self.callbacks}
        return {"epoch": self.epoch, "history": self.history, "seconds": self.seconds, "callbacks": states}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict``; a callback whose class has no saved state keeps its own."""
        self.epoch, self.seconds = int(state["epoch"]), float(state["seconds"])
        self.history = [dict(row) for row in state["history"]]
        for callback in self.callbacks:
            saved = state["callbacks"].get(type(callback).__name__)
            if saved is not None:
                callback.load_state_dict(saved)
