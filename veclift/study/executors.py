"""Where trials run: each in its own local process (the default), or as Ray tasks on a cluster.

An executor calls ``trial_fn(spec, trial)`` for every trial and hands each outcome to
``on_done`` in the calling process as soon as it finishes (the runner stores it there).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import wait
from typing import Any

from veclift.errors import VecliftError
from veclift.study.spec import StudySpec, Trial

TrialFunction = Callable[[StudySpec, Trial], Mapping[str, Any]]
"""A module-level function (it is sent to other processes by name) returning JSON-ready metrics."""

PRELOAD = ("torch", "veclift.tasks", "veclift.study.trial")
"""Modules the local fork server imports once (torch among them), so a trial process starts in
milliseconds instead of paying the 1-2 s torch import each time."""


@dataclasses.dataclass(frozen=True)
class TrialOutcome:
    trial: Trial
    metrics: dict[str, Any] | None
    error: str | None
    seconds: float


OnDone = Callable[[TrialOutcome], None]


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class LocalExecutor:
    """Each trial in a fresh process forked from a fork server, at most ``jobs`` at once, each
    with ``cores // jobs`` torch threads. A crashed or killed trial process is reported as that
    trial's failure; the others go on.

    Written on ``multiprocessing.Process`` rather than ``ProcessPoolExecutor``: there, one dead
    worker breaks the whole pool, and running workers cannot be stopped on Ctrl-C."""

    def __init__(self, jobs: int | None = None, preload: Sequence[str] = PRELOAD):
        self.jobs = max(1, jobs or usable_cores())
        self.threads = max(1, usable_cores() // self.jobs)
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


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _trial_process(trial_fn: TrialFunction, spec: StudySpec, trial: Trial, threads: int, sender) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_threads(threads)
    sender.send(_call(trial_fn, spec, trial))
    sender.close()


def _call(trial_fn: TrialFunction, spec: StudySpec, trial: Trial) -> tuple[dict | None, str | None, float]:
    start = time.perf_counter()
    try:
        metrics = dict(trial_fn(spec, trial))
    except Exception as exc:
        return None, describe_error(exc), time.perf_counter() - start
    return metrics, None, time.perf_counter() - start


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


def limit_threads(threads: int) -> None:
    """Cap the math libraries' threads in this process (before or after torch is imported)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def describe_error(exc: BaseException) -> str:
    """One line for the user (a VecliftError as is), then the traceback for the store."""
    if isinstance(exc, VecliftError):
        return str(exc)
    detail = "".join(traceback.format_exception(exc)).rstrip()
    return f"{type(exc).__name__}: {exc}\n{detail}"


class RayExecutor:
    """Trials as Ray tasks (``cpus`` CPUs each) on an existing cluster at ``address``, or on the
    Ray instance this process already joined. Data files and vectors must be readable at the
    same paths on every node. Ray reuses worker processes, so each worker reads data once."""

    def __init__(self, address: str | None = None, cpus: int = 1):
        self.address = address
        self.cpus = max(1, cpus)

    def run(self, trial_fn: TrialFunction, spec: StudySpec, trials: Sequence[Trial], on_done: OnDone) -> None:
        try:
            import ray
        except ImportError:
            raise VecliftError("the ray executor needs Ray: pip install 'veclift[ray]'") from None
        joined_here = not ray.is_initialized()
        if joined_here:
            try:
                # A local instance (no address) opens no dashboard: only the ports Ray itself needs.
                local = {} if self.address else {"include_dashboard": False}
                ray.init(address=self.address, logging_level="warning", log_to_driver=False, **local)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = self.address or "auto"
                raise VecliftError(f"cannot join the Ray cluster at {where}: {exc}") from None
        remote = ray.remote(num_cpus=self.cpus, max_retries=0)(_ray_trial)
        refs = {remote.remote(trial_fn, spec, trial, self.cpus): trial for trial in trials}
        try:
            while refs:
                finished, _ = ray.wait(list(refs), num_returns=1)
                for ref in finished:
                    trial = refs.pop(ref)
                    try:
                        metrics, error, seconds = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        metrics, error, seconds = None, f"the Ray task failed: {exc}", 0.0
                    on_done(TrialOutcome(trial, metrics, error, seconds))
        finally:
            for ref in refs:
                ray.cancel(ref, force=True)
            if joined_here:
                ray.shutdown()


def _ray_trial(trial_fn: TrialFunction, spec: StudySpec, trial: Trial, threads: int):
    limit_threads(threads)
    return _call(trial_fn, spec, trial)


def make_executor(name: str, *, jobs: int | None = None, address: str | None = None):
    """``local`` (``jobs`` processes) or ``ray`` (on the cluster at ``address``)."""
    if name == "local":
        if address:
            raise VecliftError("--address is for the ray executor (add --executor ray)")
        return LocalExecutor(jobs)
    if name == "ray":
        return RayExecutor(address)
    raise VecliftError(f"unknown executor {name!r} (expected local or ray)")
