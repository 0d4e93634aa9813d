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

import numpy as np

from veclift import templates
from veclift.atomic import atomic_path
from veclift.study import plots
from veclift.study.conclusions import BASELINE, conclusions
from veclift.study.results import METRIC_LABEL, MIN_BUCKET, StudyResults
from veclift.study.significance import describe, differences
from veclift.study.words import WordTables, word_tables
from veclift.tasks.config import TEST_ROWS
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
    task = get_task(spec.task)
    tests = differences(results)
    words = _word_tables(results)
    return templates.render(
        "study_report.html",
        spec=spec,
        finished=len(results.rows),
        trials=len(spec.trials()),
        conclusions=conclusions(results, tests),
        label=METRIC_LABEL.get(results.metric, results.metric),
        curve=_png(curve),
        summary=_summary_table(results, results.metric),
        tests=tests,
        test_method=describe(f"{task.item_noun}s"),
        transfer=_png(transfer),
        scored_noun=task.scored_noun,
        min_bucket=MIN_BUCKET,
        transfer_tables=[(group, _summary_table(results, column, counted=True))
                         for column, group, _ in plots.transfer_columns(results)],
        words=words,
        word_note=None if words is not None else _word_note(results),
        per_type=_per_type_table(results),
        costs=_cost_tables(results),
        oov_fit=_oov_fit(results),
        number=_number,
        failures={trial: error.splitlines()[0] for trial, error in results.failures.items()},
        command=results.command,
        setup=_setup(results),
        versions=_versions(),
        platform=platform.platform(),
        written=_dt.datetime.now().isoformat(timespec="seconds"),
    )


def _summary_table(results: StudyResults, metric: str, *, counted: bool = False) -> dict[str, Any]:
    """Sizes x strategies of ``metric``'s stats over seeds; the best mean of a row (of two or more)
    marked. ``counted``: each cell also gives the number of test items its group holds, flagged
    when under MIN_BUCKET."""
    cells = {(c.size, c.strategy): c for c in results.cells(metric)}
    n_train = {c.size: c.n_train for c in results.cells(metric)}
    column = results.count_column(metric) if counted else None
    counts = results.values(column) if column else {}
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
            "cells": [None if c is None else {"stats": c.stats, "best": c.stats.mean == top and len(present) > 1,
                                              "count": _count(counts.get((size, c.strategy)))}
                      for c in row],
        })  # fmt: skip
    return {"strategies": strategies, "rows": rows, "counted": column is not None}


def _count(values: list[float] | None) -> dict[str, Any] | None:
    """A group's test items over a cell's seeds: ``{"text": "41" or "38–41", "small": fewer than MIN_BUCKET}``."""
    if not values:
        return None
    low, high = round(min(values)), round(max(values))
    return {"text": str(low) if low == high else f"{low}–{high}", "small": low < MIN_BUCKET}


def _word_tables(results: StudyResults) -> WordTables | None:
    """The unseen-entity word tables at the smallest size, for its best pre-trained strategy vs scratch."""
    strategies = [s for s in results.spec.strategies if s != BASELINE]
    if BASELINE not in results.spec.strategies or not strategies:
        return None
    for size in results.spec.sizes:
        cells = [c for c in results.cells() if c.size == size and c.strategy in strategies and c.stats.n]
        if cells:
            return word_tables(results, max(cells, key=lambda c: c.stats.mean).strategy, size)
    return None


def _word_note(results: StudyResults) -> str | None:
    """Why the report has no word table (None without any finished trial)."""
    if not results.rows:
        return None
    if not get_task(results.spec.task).token_tags:
        return (f"No word table: a {results.spec.task} study records right or wrong per test text, not per word; "
                "the paired test above uses those per-text outcomes.")
    if BASELINE not in results.spec.strategies:
        return f"No word table: it compares a pre-trained strategy with {BASELINE}, which this study does not run."
    return ("No word table: these trials carry no per-entity test outcomes (they were run by an older veclift); "
            "run the study again into a new folder to see on which words pre-training helped.")


def _per_type_table(results: StudyResults) -> dict[str, Any] | None:
    """Sizes x types (entity types, or classes) x strategies of the per-type F1, with its support."""
    columns = [c for c in results.metric_columns() if c.startswith(("per_type.", "per_class.")) and c.endswith(".f1")]
    if not columns:
        return None
    rows = []
    for size in results.spec.sizes:
        for column in columns:
            cells = {c.strategy: c for c in results.cells(column) if c.size == size}
            if not cells:
                continue
            support = [round(v) for values in results.values(column[: -len("f1")] + "support").values() for v in values]
            rows.append({"size": size, "type": column.split(".")[1], "support": max(support) if support else None,
                         "cells": [cells[s].stats if s in cells else None for s in results.spec.strategies]})  # fmt: skip
    return {"strategies": results.spec.strategies, "rows": rows}


COST_COLUMNS = {
    "train_seconds": "training time (s)",
    "epochs": "epochs trained",
    "predict_tokens_per_s": "prediction speed (tokens/s)",
    "seconds": "whole trial, with data loading and evaluation, without the one-off OOV model fit (s)",
}


def _cost_tables(results: StudyResults) -> list[dict[str, Any]]:
    """Mean training time and prediction speed per strategy and size, as the trials report them;
    the whole trial's seconds less its OOV model fit (a one-off per vector set, shown apart)."""
    present = set(results.metric_columns())
    tables = []
    for column in (c for c in COST_COLUMNS if c in present):
        if column == "seconds":
            grouped: dict[tuple[int | str, str], list[float]] = {}
            for row in results.table():
                grouped.setdefault((row["size"], row["strategy"]), []).append(row["seconds"] - (row.get("oov_seconds") or 0))
            cells = {key: float(np.mean(values)) for key, values in grouped.items()}
        else:
            cells = {(c.size, c.strategy): c.stats.mean for c in results.cells(column)}
        means = [(size, [cells.get((size, s)) for s in results.spec.strategies]) for size in results.spec.sizes]
        tables.append({"title": COST_COLUMNS[column], "rows": [(size, row) for size, row in means if any(v is not None for v in row)]})
    return tables


def _oov_fit(results: StudyResults) -> str | None:
    """The OOV model fit in words: the slowest trial's (the one that fitted it; the rest loaded it)."""
    fits = [(row.get("oov_seconds") or 0, row["trial"]) for row in results.table()]
    seconds, trial = max(fits, default=(0, None))
    if seconds < 0.05:
        return None
    return (f"Fitting the vectors' OOV model (e.g. the character n-gram one) took {seconds:.1f} s in trial {trial}; "
            "it is fitted once per vector set and cached, so it is left out of the figures above.")


def _setup(results: StudyResults) -> list[tuple[str, object]]:
    spec = results.spec
    test = spec.test or f"{spec.test_fraction:.0%} of the training file held out (seed {spec.split_seed})"
    dev = spec.dev or (f"{spec.dev_fraction:.0%} of the training pool held out (seed {spec.split_seed})"
                       if spec.dev_fraction else "none: every trial trains its full epochs")
    rows = [
        ("task", spec.task), ("train", spec.train), ("test", test), ("dev", dev), ("vectors", spec.vectors),
        ("test words never seen in training get", TEST_ROWS[spec.test_rows]),
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
