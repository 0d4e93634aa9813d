"""A study's finished trials as tables: one row per trial (results.csv, results.jsonl) and the
summary over seeds per training size x strategy (summary.csv)."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from veclift.atomic import atomic_path
from veclift.study.spec import StudySpec
from veclift.tasks.registry import MIN_BUCKET, get_task

METRIC_LABEL = {"f1": "F1", "accuracy": "accuracy", "macro_f1": "macro-F1"}
OUTCOMES = "outcomes"  # the metrics' per-test-item record (paired test, unseen words): kept out of the tables


@dataclasses.dataclass(frozen=True)
class Stats:
    """A metric over seeds; ``std`` is the sample standard deviation (0 for one seed)."""

    mean: float
    std: float
    min: float
    max: float
    n: int

    @property
    def spread(self) -> float:
        return self.max - self.min

    @classmethod
    def of(cls, values: Iterable[float]) -> Stats:
        data = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
        if data.size == 0:
            return cls(math.nan, math.nan, math.nan, math.nan, 0)
        std = float(data.std(ddof=1)) if data.size > 1 else 0.0
        return cls(float(data.mean()), std, float(data.min()), float(data.max()), int(data.size))


@dataclasses.dataclass(frozen=True)
class Cell:
    """One point of a learning curve: a training size and strategy over its seeds."""

    size: int | str
    strategy: str
    n_train: float  # mean number of training items actually used (the trials' train_size)
    stats: Stats


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metric dicts as dotted columns: ``{"oov": {"f1": 1}}`` -> ``{"oov.f1": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = ";".join(str(v) for v in value)
        else:
            flat[name] = value
    return flat


@dataclasses.dataclass
class StudyResults:
    """The finished trials of a study (``rows`` as the store gives them) and its failed ones."""

    spec: StudySpec
    rows: list[dict[str, Any]]
    failures: dict[str, str] = dataclasses.field(default_factory=dict)
    command: str | None = None
    wall_seconds: float | None = None

    @property
    def metric(self) -> str:
        return get_task(self.spec.task).primary_metric

    def table(self) -> list[dict[str, Any]]:
        """One flat dict per trial in grid order: id, size, strategy, seed, seconds, then metrics."""
        order = {t.id: i for i, t in enumerate(self.spec.trials())}
        rows = sorted(self.rows, key=lambda r: order.get(r["id"], len(order)))
        return [
            {"trial": r["id"], "size": r["size"], "strategy": r["strategy"], "seed": r["seed"],
             "seconds": round(r["seconds"], 3), **flatten({k: v for k, v in r["metrics"].items() if k != OUTCOMES})}
            for r in rows
        ]

    def outcomes(self, size: int | str, strategy: str) -> dict[int, dict[str, Any]]:
        """``seed -> the trial's per-test-item outcomes`` of one cell; trials without them (older
        stores, other tasks) are left out."""
        return {
            r["seed"]: r["metrics"][OUTCOMES]
            for r in self.rows
            if r["size"] == size and r["strategy"] == strategy and r["metrics"].get(OUTCOMES)
        }

    def values(self, metric: str | None = None) -> dict[tuple[int | str, str], list[float]]:
        """``(size, strategy) -> [value per seed]`` of a (dotted) metric, grid order."""
        metric = metric or self.metric
        grouped: dict[tuple[int | str, str], list[float]] = {}
        for row in self.table():
            value = row.get(metric)
            if isinstance(value, (int, float)):
                grouped.setdefault((row["size"], row["strategy"]), []).append(float(value))
        return grouped

    def cells(self, metric: str | None = None) -> list[Cell]:
        """The summary over seeds for every (size, strategy) with results, sizes in spec order."""
        n_train: dict[tuple[int | str, str], list[float]] = {}
        for row in self.table():
            n_train.setdefault((row["size"], row["strategy"]), []).append(float(row.get("train_size", math.nan)))
        grouped = self.values(metric)
        return [
            Cell(size, strategy, float(np.mean(n_train[size, strategy])), Stats.of(grouped[size, strategy]))
            for size in self.spec.sizes
            for strategy in self.spec.strategies
            if (size, strategy) in grouped
        ]

    def count_column(self, metric: str) -> str | None:
        """The column counting what a transfer-view group ``metric`` scores (``transfer.known.f1`` ->
        ``transfer.known.gold``; a classifier's ``.count``), None when the trials do not report it."""
        present = set(self.metric_columns())
        group = metric.rsplit(".", 1)[0]
        return next((f"{group}.{name}" for name in ("gold", "count") if f"{group}.{name}" in present), None)

    def bucket_size(self, metric: str, size: int | str) -> tuple[int, int] | None:
        """``(fewest, most)`` items of the transfer-view group ``metric`` at ``size`` over its trials
        (the training vocabulary, so the group, changes with the seed); None when not reported."""
        column = self.count_column(metric)
        counts = [round(v) for (s, _), values in self.values(column).items() if s == size for v in values] if column else []
        return (min(counts), max(counts)) if counts else None

    def metric_columns(self) -> list[str]:
        """The numeric metric columns present in the results."""
        names: dict[str, None] = {}
        for row in self.table():
            for key, value in row.items():
                if key not in ("seed", "size") and isinstance(value, (int, float)) and not isinstance(value, bool):
                    names.setdefault(key, None)
        return list(names)

    def write_csv(self, path: str | Path) -> Path:
        rows = self.table()
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with atomic_path(path, overwrite=True) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return Path(path)

    def write_jsonl(self, path: str | Path) -> Path:
        """One JSON object per trial, metrics nested as the trial returned them."""
        order = {t.id: i for i, t in enumerate(self.spec.trials())}
        with atomic_path(path, overwrite=True) as tmp, tmp.open("w", encoding="utf-8") as handle:
            for row in sorted(self.rows, key=lambda r: order.get(r["id"], len(order))):
                handle.write(json.dumps({"trial": row["id"], "size": row["size"], "strategy": row["strategy"],
                                         "seed": row["seed"], "seconds": row["seconds"], "metrics": row["metrics"]}) + "\n")
        return Path(path)

    def write_summary(self, path: str | Path) -> Path:
        """mean, std, min, max, n over seeds of every metric, per size x strategy."""
        fields = ["size", "strategy", "metric", "mean", "std", "min", "max", "n"]
        with atomic_path(path, overwrite=True) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(fields)
            for metric in self.metric_columns():
                for cell in self.cells(metric):
                    s = cell.stats
                    writer.writerow([cell.size, cell.strategy, metric, *(_round(v) for v in (s.mean, s.std, s.min, s.max)), s.n])
        return Path(path)

    def report(self, output_dir: str | Path) -> Path:
        """Write results.csv, summary.csv, the plots and report.html into ``output_dir``; return
        the report's path."""
        from veclift.study.report import write_report

        return write_report(self, Path(output_dir))


def _round(value: float) -> float:
    return round(value, 6)
