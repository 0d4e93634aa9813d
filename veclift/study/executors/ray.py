"""Trials as Ray tasks on a cluster. Ray is an optional extra, imported only when a study runs here."""

from __future__ import annotations

from collections.abc import Sequence

from veclift.errors import VecliftError
from veclift.cores import limit_threads
from veclift.study.executors.base import OnDone, TrialFunction, TrialOutcome, call_trial
from veclift.study.executors.registry import register_executor
from veclift.study.spec import StudySpec, Trial


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


def _ray(*, jobs: int | None, address: str | None) -> RayExecutor:
    return RayExecutor(address)


register_executor("ray", _ray, "Ray tasks on the cluster at --address; pip install 'veclift[ray]'")


def _ray_trial(trial_fn: TrialFunction, spec: StudySpec, trial: Trial, threads: int):
    limit_threads(threads)
    return call_trial(trial_fn, spec, trial)
