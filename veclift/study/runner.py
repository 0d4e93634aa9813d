"""Run a transfer study: plan the grid against the data, skip finished trials, run the rest on an
executor and store each result as it arrives."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from veclift.errors import VecliftError, warn
from veclift.progress import progress as progress_bar
from veclift.study.executors import Executor, TrialFunction, TrialOutcome, make_executor
from veclift.study.results import StudyResults
from veclift.study.spec import StudySpec
from veclift.study.store import ResultStore
from veclift.study.trial import load_vectors, run_trial, split, with_task_module
from veclift.tasks.registry import get_task


class TransferStudy:
    """A study bound to its output directory (which holds the results store).

    ``trial`` is the function each trial runs (module-level, as it is sent to other processes);
    the default trains and evaluates a model with ``veclift.tasks``."""

    def __init__(self, spec: StudySpec, output_dir: str | Path, *, trial: TrialFunction = run_trial,
                 command: str | None = None, overwrite: bool = False):  # fmt: skip
        self.spec = spec
        self.output_dir = Path(output_dir)
        self.overwrite = overwrite
        self.trial = trial
        self.command = command

    def plan(self) -> StudySpec:
        """The spec with its sizes checked against the data: reads the data (and the vectors) here
        once, so bad input fails before any trial starts, and drops sizes the pool cannot fill."""
        _check_options(self.spec)
        pool, _, test = split(self.spec)
        if self.spec.vectors:
            load_vectors(self.spec.vectors)  # a bad vector file fails here, not in every trial
        if not pool or not test:
            raise VecliftError("no training items left" if not pool else "empty test set", self.spec.train)
        sizes = [s for s in self.spec.sizes if s == "all" or s < len(pool)]
        dropped = [s for s in self.spec.sizes if s not in sizes]
        if dropped:
            if "all" not in sizes:
                sizes.append("all")
            warn(f"training size(s) {', '.join(map(str, dropped))} not below the {len(pool)} training items: "
                 "run as 'all'", self.spec.train)
        return self.spec.with_sizes(sizes)

    def run(self, executor: str | Executor = "local", *, jobs: int | None = None,
            address: str | None = None, progress: bool = True) -> StudyResults:
        """Run every trial not yet in the store, on ``executor`` (a registered name, made with
        ``jobs`` and ``address``, or an executor); return all finished results of the grid.
        Ctrl-C stops the running trials and keeps what finished: run again to resume."""
        runner = make_executor(executor, jobs=jobs, address=address) if isinstance(executor, str) else executor
        spec = self.plan()
        started = time.perf_counter()
        with ResultStore(self.output_dir, spec, overwrite=self.overwrite) as store:
            self.overwrite = False  # emptied once: a second run() resumes
            if self.command:
                store.set_meta("command", self.command)
            done = store.done()
            todo = [t for t in spec.trials() if t.id not in done]
            metric = get_task(spec.task).primary_metric
            with progress_bar("Study", total=len(todo), enabled=progress and bool(todo), unit_column=True) as update:

                def record(outcome: TrialOutcome) -> None:
                    if outcome.error is None:
                        store.add(outcome.trial, outcome.metrics, outcome.seconds)
                        score = outcome.metrics.get(metric)
                        shown = f" {metric} {100 * score:.1f}" if isinstance(score, (int, float)) else ""
                        update(advance=1, info=f"{outcome.trial.id}{shown}", log=True)
                    else:
                        store.add_failure(outcome.trial, outcome.error)
                        update(advance=1, info=f"{outcome.trial.id} FAILED", log=True)

                if todo:
                    module = get_task(spec.task).model_class.__module__
                    runner.run(functools.partial(with_task_module, module, self.trial), spec, todo, record)
            return self._results(spec, store, time.perf_counter() - started)

    def results(self) -> StudyResults:
        """The finished results in the store, without running anything."""
        spec = self.plan()
        with ResultStore(self.output_dir, spec) as store:
            return self._results(spec, store, None)

    def _results(self, spec: StudySpec, store: ResultStore, wall: float | None) -> StudyResults:
        grid = {t.id for t in spec.trials()}
        return StudyResults(
            spec,
            [row for row in store.rows() if row["id"] in grid],
            {k: v for k, v in store.failures().items() if k in grid},
            self.command or store.meta("command"),
            wall,
        )

    def report(self, results: StudyResults | None = None) -> Path:
        """Write results.csv, summary.csv, plots and report.html into the output directory."""
        return (results or self.results()).report(self.output_dir)


def _check_options(spec: StudySpec) -> None:
    """Model options and strategy names as the task's config accepts them (before any trial)."""
    for strategy in spec.strategies:
        get_task(spec.task).config_class.from_dict({**spec.options, "embeddings": strategy})

