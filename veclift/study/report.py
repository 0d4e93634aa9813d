"""The study's output folder: results.csv and .jsonl, summary.csv, the plots (PNG, SVG) and one
self-contained report.html (plots inlined as base64 PNG, no outside resources)."""

from __future__ import annotations

import base64
import datetime as _dt
import importlib.metadata
import math
import platform
from pathlib import Path
from typing import Any

from veclift import templates
from veclift.atomic import atomic_path
from veclift.study import plots
from veclift.study.conclusions import conclusions
from veclift.study.results import METRIC_LABEL, StudyResults
from veclift.tasks.registry import get_task


def write_report(results: StudyResults, output_dir: Path) -> Path:
    """Write every output of the study into ``output_dir`` and return report.html's path."""
    output_dir.mkdir(parents=True, exist_ok=True)
    results.write_csv(output_dir / "results.csv")
    results.write_jsonl(output_dir / "results.jsonl")
    results.write_summary(output_dir / "summary.csv")
    curve = plots.learning_curve(results, output_dir / "learning_curve") if results.rows else []
    transfer = plots.transfer_view(results, output_dir / "transfer_view") if results.rows else []
    target = output_dir / "report.html"
    with atomic_path(target, overwrite=True) as tmp:
        tmp.write_text(render(results, curve, transfer), encoding="utf-8")
    return target


def render(results: StudyResults, curve: list[Path], transfer: list[Path]) -> str:
    """report.html: the study_report.html template filled with the study's tables, plots and conclusions."""
    spec = results.spec
    return templates.render(
        "study_report.html",
        spec=spec,
        finished=len(results.rows),
        trials=len(spec.trials()),
        conclusions=conclusions(results),
        label=METRIC_LABEL.get(results.metric, results.metric),
        curve=_png(curve),
        summary=_summary_table(results, results.metric),
        transfer=_png(transfer),
        scored_noun=get_task(spec.task).scored_noun,
        transfer_tables=[(group, _summary_table(results, column)) for column, group, _ in plots.transfer_columns(results)],
        costs=_cost_tables(results),
        number=_number,
        failures={trial: error.splitlines()[0] for trial, error in results.failures.items()},
        command=results.command,
        setup=_setup(results),
        versions=_versions(),
        platform=platform.platform(),
        written=_dt.datetime.now().isoformat(timespec="seconds"),
    )


def _summary_table(results: StudyResults, metric: str) -> dict[str, Any]:
    """Sizes x strategies of ``metric``'s stats over seeds; the best mean of a row (of two or more) marked."""
    cells = {(c.size, c.strategy): c for c in results.cells(metric)}
    n_train = {c.size: c.n_train for c in results.cells(metric)}
    strategies = results.spec.strategies
    rows = []
    for size in results.spec.sizes:
        if size not in n_train:
            continue
        present = [cells[size, s].stats.mean for s in strategies if (size, s) in cells]
        top = max(present) if present else math.nan
        row = [cells.get((size, strategy)) for strategy in strategies]
        rows.append({
            "size": f"{size} ({round(n_train[size])})" if size == "all" else size,
            "cells": [None if c is None else {"stats": c.stats, "best": c.stats.mean == top and len(present) > 1} for c in row],
        })
    return {"strategies": strategies, "rows": rows}


COST_COLUMNS = {
    "train_seconds": "training time (s)",
    "epochs": "epochs trained",
    "predict_tokens_per_s": "prediction speed (tokens/s)",
    "seconds": "whole trial, with data loading and evaluation (s)",
}


def _cost_tables(results: StudyResults) -> list[dict[str, Any]]:
    """Mean training time and prediction speed per strategy and size, as the trials report them."""
    present = set(results.metric_columns())
    tables = []
    for column in (c for c in COST_COLUMNS if c in present):
        cells = {(c.size, c.strategy): c.stats.mean for c in results.cells(column)}
        means = [(size, [cells.get((size, s)) for s in results.spec.strategies]) for size in results.spec.sizes]
        tables.append({"title": COST_COLUMNS[column], "rows": [(size, row) for size, row in means if any(v is not None for v in row)]})
    return tables


def _setup(results: StudyResults) -> list[tuple[str, object]]:
    spec = results.spec
    test = spec.test or f"{spec.test_fraction:.0%} of the training file held out (seed {spec.split_seed})"
    dev = spec.dev or (f"{spec.dev_fraction:.0%} of the training pool held out (seed {spec.split_seed})"
                       if spec.dev_fraction else "none: every trial trains its full epochs")
    rows = [
        ("task", spec.task), ("train", spec.train), ("test", test), ("dev", dev), ("vectors", spec.vectors),
        ("sizes", ", ".join(map(str, spec.sizes))), ("strategies", ", ".join(spec.strategies)), ("seeds", spec.seeds),
        ("model options", ", ".join(f"{k}={v}" for k, v in sorted(spec.options.items())) or "defaults"),
    ]
    if results.wall_seconds is not None:
        rows.append(("wall time of the last run", f"{results.wall_seconds:.1f} s"))
    return rows


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("veclift", "torch", "numpy", "matplotlib"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _png(paths: list[Path]) -> str | None:
    """The PNG among a plot's files as a data URI (the report inlines its plots); None without a plot."""
    png = next((p for p in paths if p.suffix == ".png"), None)
    return None if png is None else "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.2f}"
