"""The default executor: each trial in its own local process, forked from a fork server."""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Sequence
from multiprocessing.connection import wait
from typing import Any

from veclift.errors import VecliftError
from veclift.cores import free_cores, limit_threads, usable_cores
from veclift.study.executors.base import OnDone, TrialFunction, TrialOutcome, call_trial
from veclift.study.executors.registry import register_executor
from veclift.study.spec import StudySpec, Trial

PRELOAD = ("torch", "torch._dynamo", "veclift.tasks", "veclift.study.trial")
"""Modules the local fork server imports once, so a trial process starts in milliseconds instead of
paying the 1-2 s torch import each time (and 1-2 s more for torch._dynamo, which the first
optimizer a process builds imports)."""


class LocalExecutor:
    """Each trial in a fresh process forked from a fork server, at most ``jobs`` at once (default:
    the cores other work leaves free; never more than the cores), each with ``free cores // jobs``
    torch threads (one, unless a trial has free cores to itself): never more threads than cores. A
    crashed or killed trial process is reported as that trial's failure; the others go on.

    Written on ``multiprocessing.Process`` rather than ``ProcessPoolExecutor``: there, one dead
    worker breaks the whole pool, and running workers cannot be stopped on Ctrl-C."""

    def __init__(self, jobs: int | None = None, preload: Sequence[str] = PRELOAD):
        free = free_cores()
        self.jobs = max(1, min(jobs or free, usable_cores()))
        self.threads = max(1, free // self.jobs)
        self.preload = list(preload)

    def run(self, trial_fn: TrialFunction, spec: StudySpec, trials: Sequence[Trial], on_done: OnDone) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(self.preload)
        pending = deque(trials)
        running: dict[Any, tuple[multiprocessing.Process, Trial]] = {}
        # SIGTERM (`kill`, a batch scheduler) stops the study as Ctrl-C does; by default it would end
        # this process alone, and the running trials, children of the fork server, would outlive it.
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    trial = pending.popleft()
                    receiver, sender = context.Pipe(duplex=False)
                    process = context.Process(
                        target=_trial_process, args=(trial_fn, spec, trial, self.threads, sender),
                        name=f"veclift-trial-{trial.id}",
                    )
                    process.start()
                    sender.close()
                    running[receiver] = (process, trial)
                for receiver in wait(list(running)):
                    process, trial = running.pop(receiver)
                    on_done(_collect(receiver, process, trial))
        finally:
            for receiver, (process, _) in running.items():
                _stop(process)
                receiver.close()
            if main_thread:
                signal.signal(signal.SIGTERM, previous)


def _local(*, jobs: int | None, address: str | None) -> LocalExecutor:
    if address:
        raise VecliftError("--address is for the ray executor (add --executor ray)")
    return LocalExecutor(jobs)


register_executor("local", _local, "the default: one process per trial, --jobs at once")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _trial_process(trial_fn: TrialFunction, spec: StudySpec, trial: Trial, threads: int, sender) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_threads(threads)
    sender.send(call_trial(trial_fn, spec, trial))
    sender.close()


def _collect(receiver, process: multiprocessing.Process, trial: Trial) -> TrialOutcome:
    try:
        metrics, error, seconds = receiver.recv()
    except EOFError:
        process.join()
        code = process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return TrialOutcome(trial, None, f"the trial process died ({how}; out of memory?)", 0.0)
    finally:
        receiver.close()
    process.join()
    return TrialOutcome(trial, metrics, error, seconds)


def _stop(process: multiprocessing.Process) -> None:
    process.terminate()
    process.join(5)
    if process.is_alive():
        process.kill()
        process.join()
