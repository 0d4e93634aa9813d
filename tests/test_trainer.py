"""The training loop and its callbacks, on a tiny regression network: early stopping, checkpoints,
schedules, progress, custom callbacks, skipped steps."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from torch import nn

import veclift.tasks.callbacks as callbacks_module
from veclift.errors import VecliftError
from veclift.tasks.callbacks import Checkpoint, EarlyStopping, LRSchedule, Progress
from veclift.tasks.loop import Callback, Loop, Step, deterministic

X = torch.randn(40, 4, generator=torch.Generator().manual_seed(0))
Y = X @ torch.tensor([1.0, -2.0, 0.5, 3.0])


class Regression(nn.Module):
    """Linear -> dropout -> linear; ``loss(indices)`` is the mean squared error on those rows."""

    def __init__(self):
        super().__init__()
        self.hidden, self.dropout, self.out = nn.Linear(4, 8), nn.Dropout(0.3), nn.Linear(8, 1)

    def loss(self, index: np.ndarray) -> torch.Tensor:
        index = torch.as_tensor(index)
        return ((self.out(self.dropout(self.hidden(X[index]))).squeeze(-1) - Y[index]) ** 2).mean()


class Recorder(Callback):
    """Sees every hook: the calls in order, the learning rate after each batch, the weights after each epoch."""

    def __init__(self):
        self.calls, self.rates, self.weights = [], [], []

    def setup(self, loop):
        self.calls.append("setup")

    def on_train_start(self, loop):
        self.calls.append("start")

    def on_epoch_start(self, loop):
        self.calls.append(f"epoch {loop.epoch}")

    def on_batch_end(self, loop, step):
        self.calls.append("batch")
        self.rates.append(loop.optimizer.param_groups[0]["lr"])

    def on_epoch_end(self, loop, row):
        self.calls.append(f"end {row['epoch']}")
        self.weights.append({k: v.clone() for k, v in loop.network.state_dict().items()})

    def on_train_end(self, loop):
        self.calls.append("end")


def make_loop(max_epochs, *callbacks, validate=None, checkpoint=None, seed=0):
    """A seeded run: SGD with momentum, a per-batch decaying LambdaLR, shuffled batches of 8 rows;
    ``validate="mse"`` scores the minus mean squared error on all rows."""
    torch.manual_seed(seed)
    network = Regression()
    if validate == "mse":
        validate = lambda: -float(network.loss(np.arange(len(X))))
    optimizer = torch.optim.SGD(network.parameters(), lr=0.05, momentum=0.9)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 / (1 + 0.1 * step))
    rng = np.random.default_rng(seed)
    masks = torch.Generator().manual_seed(seed)  # drawn per batch, so a resume must restore it too
    extra = [Checkpoint(checkpoint, {"batches": rng, "masks": masks})] if checkpoint else []

    def step(index):
        keep = index[torch.rand(len(index), generator=masks).numpy() < 0.9]
        return Step(network.loss(keep), len(keep), len(index)) if len(keep) else Step(network.loss(index), 0, len(index))

    return Loop(network, optimizer, lambda: np.array_split(rng.permutation(len(X)), 5), max_epochs=max_epochs,
                step=step, clip=1.0, validate=validate, callbacks=[LRSchedule(schedule), *callbacks, *extra])  # fmt: skip


def without_seconds(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_loop_trains_and_a_custom_callback_sees_every_hook():
    recorder = Recorder()
    loop = make_loop(3, recorder)
    history = loop.run()
    assert [row["epoch"] for row in history] == [1, 2, 3] and history[-1]["loss"] < 0.5 * history[0]["loss"]
    batches = ["batch"] * 5
    assert recorder.calls == ["setup", "start", "epoch 1", *batches, "end 1", "epoch 2", *batches, "end 2",
                              "epoch 3", *batches, "end 3", "end"]  # fmt: skip
    assert recorder.rates[:3] == pytest.approx([0.05 / 1.1, 0.05 / 1.2, 0.05 / 1.3])  # the schedule stepped per batch
    assert not loop.network.training


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    scores = iter([0.1, 0.5, 0.4, 0.5, 0.3, 0.9])
    recorder, stopping = Recorder(), EarlyStopping(patience=3)
    loop = make_loop(10, stopping, recorder, validate=lambda: next(scores))
    history = loop.run()
    assert [row["dev"] for row in history] == [0.1, 0.5, 0.4, 0.5, 0.3]  # a tie is no improvement
    assert (stopping.best_score, stopping.best_epoch, loop.should_stop) == (0.5, 2, True)
    final = loop.network.state_dict()
    assert all(torch.equal(final[k], recorder.weights[1][k]) for k in final)
    assert not all(torch.equal(final[k], recorder.weights[-1][k]) for k in final)


def test_early_stopping_with_no_patience_runs_every_epoch_and_keeps_the_best():
    scores = iter([0.2, 0.6, 0.1, 0.1])
    recorder, stopping = Recorder(), EarlyStopping(patience=0)
    history = make_loop(4, stopping, recorder, validate=lambda: next(scores)).run()
    assert len(history) == 4 and stopping.best_epoch == 2 and stopping.bad_epochs == 2


def test_a_resumed_run_equals_an_uninterrupted_one_and_continues_the_schedule(tmp_path):
    straight_recorder = Recorder()
    loop = make_loop(5, EarlyStopping(patience=0), straight_recorder, validate="mse")
    straight = loop.run()
    straight_weights = loop.network.state_dict()

    checkpoint = tmp_path / "run.ckpt"
    make_loop(2, EarlyStopping(patience=0), Recorder(), validate="mse", checkpoint=checkpoint).run()
    resumed_recorder, stopping = Recorder(), EarlyStopping(patience=0)
    loop = make_loop(5, stopping, resumed_recorder, validate="mse", checkpoint=checkpoint, seed=99)  # the seed is overridden
    resumed = loop.run()
    assert without_seconds(resumed) == without_seconds(straight)
    assert resumed_recorder.calls[:3] == ["setup", "start", "epoch 3"]
    assert resumed_recorder.rates == straight_recorder.rates[10:]  # the learning rate goes on where it was
    assert stopping.best_epoch == max(range(5), key=lambda i: straight[i]["dev"]) + 1
    assert all(torch.equal(straight_weights[k], v) for k, v in loop.network.state_dict().items())


def test_a_finished_or_stopped_checkpoint_runs_no_more_epochs(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    scores = iter([0.5, 0.4])
    make_loop(5, EarlyStopping(patience=1), validate=lambda: next(scores), checkpoint=checkpoint).run()
    recorder = Recorder()
    history = make_loop(5, EarlyStopping(patience=1), recorder, validate=lambda: 1.0, checkpoint=checkpoint).run()
    assert len(history) == 2 and recorder.calls == ["setup", "start", "end"]


def test_a_checkpoint_of_another_network_or_not_a_checkpoint_is_one_error(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    make_loop(1, checkpoint=checkpoint).run()
    loop = make_loop(2, checkpoint=checkpoint)
    loop.network.out = nn.Linear(8, 2)
    with pytest.raises(VecliftError, match=r"another model configuration \(out.weight differs\)"):
        loop.run()
    torch.save({"weights": torch.zeros(2)}, checkpoint)
    with pytest.raises(VecliftError, match="not a veclift training checkpoint"):
        make_loop(2, checkpoint=checkpoint).run()
    checkpoint.write_bytes(b"not a torch file")
    with pytest.raises(VecliftError, match="cannot read as a veclift checkpoint") as error:
        make_loop(2, checkpoint=checkpoint).run()
    assert "\n" not in str(error.value) and str(checkpoint) in str(error.value)


def test_progress_shows_every_batch_and_logs_each_epoch(monkeypatch, tmp_path):
    opened, updates = [], []

    def fake_progress(description, total, *, enabled=True):
        opened.append((description, total, enabled))
        return contextlib.nullcontext(lambda advance=0, info=None, log=False: updates.append((advance, info, log)))

    monkeypatch.setattr(callbacks_module, "progress", fake_progress)
    scores = iter([0.25, 0.75, 0.5])
    stopping = EarlyStopping(patience=0)
    loop = make_loop(3, stopping, Progress("Fitting", 40, extra=stopping.progress_text), validate=lambda: next(scores))
    history = loop.run()
    assert opened == [("Fitting", 120, True)]
    assert updates[0] == (0, None, False) and [u[0] for u in updates[1:6]] == [8] * 5  # a step's size: its rows
    assert updates[1][1].startswith("epoch 1 loss ") and "best" not in updates[1][1]
    logged = [info for _, info, log in updates if log]
    assert logged == [f"epoch {r['epoch']} loss {r['loss']:.4f} dev {r['dev']:.4f} best {best} @{at}"
                      for r, best, at in zip(history, ["0.2500", "0.7500", "0.7500"], [1, 2, 2])]  # fmt: skip
    assert updates[7][1].endswith(" dev 0.2500 best 0.2500 @1")  # epoch 2's batches show epoch 1's score

    updates.clear()
    checkpoint = tmp_path / "run.ckpt"
    make_loop(2, Progress("Fitting", 40), checkpoint=checkpoint).run()
    updates.clear()
    make_loop(3, Progress("Fitting", 40), checkpoint=checkpoint).run()
    assert updates[0] == (80, None, False) and len(updates) == 1 + 5 + 1  # resumed: the bar starts at epoch 2's end


def test_a_step_of_weight_zero_makes_no_update_and_no_loss():
    torch.manual_seed(0)
    network = Regression()
    before = {k: v.clone() for k, v in network.state_dict().items()}
    optimizer = torch.optim.Adam(network.parameters(), lr=0.1)
    steps = iter([Step(network.loss(np.arange(4)), 0, 4), Step(torch.tensor(2.0, requires_grad=True), 3, 4)])
    loop = Loop(network, optimizer, lambda: [0, 1], max_epochs=1, step=lambda _: next(steps))
    history = loop.run()
    assert all(torch.equal(before[k], v) for k, v in network.state_dict().items())  # the second loss has no path to them
    assert history[0]["loss"] == 2.0 and (loop.weight, loop.size) == (3, 8)


def test_two_callbacks_of_one_class_are_refused():
    with pytest.raises(ValueError, match="two callbacks of one class"):
        make_loop(1, EarlyStopping(1), EarlyStopping(2))


def test_a_checkpoint_must_come_after_the_other_callbacks(tmp_path):
    network = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="marked last"):
        Loop(network, optimizer, lambda: [], max_epochs=1,
             callbacks=[Checkpoint(tmp_path / "c.pt"), EarlyStopping(patience=1)])  # fmt: skip


def test_deterministic_turns_the_memory_fill_off_and_restores_both_settings():
    fill = torch.utils.deterministic.fill_uninitialized_memory
    assert not torch.are_deterministic_algorithms_enabled()
    with deterministic():
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.utils.deterministic.fill_uninitialized_memory is False
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.utils.deterministic.fill_uninitialized_memory is fill
