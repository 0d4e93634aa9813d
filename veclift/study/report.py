"""The study's output folder: results.csv and .jsonl, summary.csv, the plots (PNG, SVG) and one
self-contained report.html (plots inlined as base64 PNG, no outside resources)."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import importlib.metadata
import math
import platform
from pathlib import Path

from veclift.atomic import atomic_path
from veclift.study import plots
from veclift.study.conclusions import conclusions
from veclift.study.results import METRIC_LABEL, StudyResults

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f3f3f3; }
td.best { font-weight: bold; } img.plot { max-width: 100%; height: auto; display: block; margin: .5em 0; }
code, pre { background: #f6f6f6; padding: .1em .3em; } pre { padding: .6em; white-space: pre-wrap; word-break: break-all; }
.conclusions li { margin: .3em 0; } .muted { color: #666; font-size: .9em; }
"""


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
    spec = results.spec
    label = METRIC_LABEL.get(results.metric, results.metric)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>veclift transfer study: {_e(spec.task)} on {_e(spec.train.name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>How much did pre-trained embeddings help? <span class='muted'>{_e(spec.task)}, "
        f"{_e(spec.train.name)}, vectors {_e(spec.vectors)}</span></h1>",
        f"<p class='muted'>{len(results.rows)} of {len(spec.trials())} trials finished "
        f"({len(spec.sizes)} sizes x {len(spec.strategies)} strategies x {spec.seeds} seeds). "
        "Scores are on the test set, in percent; means over seeds, spread = highest minus lowest seed.</p>",
        "<h2>Conclusions</h2><ul class='conclusions'>",
        *(f"<li>{_e(line)}</li>" for line in conclusions(results) or ["No finished trials yet."]),
        "</ul>",
    ]
    if curve:
        parts += [f"<h2>Learning curves ({_e(label)})</h2>", _img(curve, "learning curves"),
                  "<p class='muted'>Line: mean over seeds; band: lowest to highest seed.</p>"]
    parts += [f"<h2>Test {_e(label)} by training size</h2>", _summary_table(results, results.metric)]
    if transfer:
        parts += ["<h2>Words never seen in training</h2>",
                  "<p>How the models do on test " + ("entities" if spec.task == "ner" else "texts")
                  + " whose words never occur in the training set, split by whether the vectors know them: "
                  "the part where pre-trained embeddings can transfer.</p>",
                  _img(transfer, "unseen-word view")]
        for column, group, _ in plots.transfer_columns(results):
            parts += [f"<h3>{_e(group)}</h3>", _summary_table(results, column)]
    parts += _cost_tables(results)
    if results.failures:
        parts += ["<h2>Failed trials</h2><p>Run the same command again to retry them.</p><table><tr><th>trial</th><th>error</th></tr>",
                  *(f"<tr><td>{_e(t)}</td><td style='text-align:left'>{_e(e.splitlines()[0])}</td></tr>" for t, e in results.failures.items()),
                  "</table>"]
    parts += _setup(results)
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary_table(results: StudyResults, metric: str) -> str:
    cells = {(c.size, c.strategy): c for c in results.cells(metric)}
    n_train = {c.size: c.n_train for c in results.cells(metric)}
    strategies = results.spec.strategies
    rows = ["<table><tr><th>training size</th>" + "".join(f"<th>{_e(s)}</th>" for s in strategies) + "</tr>"]
    for size in results.spec.sizes:
        if size not in n_train:
            continue
        present = [cells[size, s].stats.mean for s in strategies if (size, s) in cells]
        top = max(present) if present else math.nan
        row = [f"<td>{_e(size)} ({round(n_train[size])})</td>" if size == "all" else f"<td>{size}</td>"]
        for strategy in strategies:
            cell = cells.get((size, strategy))
            if cell is None:
                row.append("<td>–</td>")
                continue
            s = cell.stats
            best = " class='best'" if s.mean == top and len(present) > 1 else ""
            row.append(f"<td{best}>{100 * s.mean:.1f} <span class='muted'>± {100 * s.std:.1f} "
                       f"[{100 * s.min:.1f}–{100 * s.max:.1f}] n={s.n}</span></td>")
        rows.append("<tr>" + "".join(row) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


COST_COLUMNS = {
    "train_seconds": "training time (s)",
    "epochs": "epochs trained",
    "predict_tokens_per_s": "prediction speed (tokens/s)",
    "seconds": "whole trial, with data loading and evaluation (s)",
}


def _cost_tables(results: StudyResults) -> list[str]:
    """Mean training time and prediction speed per strategy and size, as the trials report them."""
    present = set(results.metric_columns())
    wanted = [c for c in COST_COLUMNS if c in present]
    if not wanted:
        return []
    parts = ["<h2>Cost</h2>"]
    for column in wanted:
        cells = {(c.size, c.strategy): c for c in results.cells(column)}
        parts.append(f"<h3>{_e(COST_COLUMNS[column])} <span class='muted'>(mean over seeds)</span></h3>")
        parts.append("<table><tr><th>training size</th>" + "".join(f"<th>{_e(s)}</th>" for s in results.spec.strategies) + "</tr>")
        for size in results.spec.sizes:
            values = [cells.get((size, s)) for s in results.spec.strategies]
            if any(values):
                parts.append(f"<tr><td>{_e(size)}</td>" + "".join(
                    f"<td>{_number(v.stats.mean)}</td>" if v else "<td>–</td>" for v in values) + "</tr>")
        parts.append("</table>")
    return parts


def _setup(results: StudyResults) -> list[str]:
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
    versions = {"python": platform.python_version()}
    for package in ("veclift", "torch", "numpy", "matplotlib"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    parts = ["<h2>Setup</h2>"]
    if results.command:
        parts.append(f"<p>Command:</p><pre>{_e(results.command)}</pre>")
    parts.append("<table>" + "".join(f"<tr><th>{_e(k)}</th><td style='text-align:left'>{_e(v)}</td></tr>" for k, v in rows) + "</table>")
    parts.append("<p class='muted'>" + ", ".join(f"{k} {_e(v)}" for k, v in versions.items())
                 + f"; {_e(platform.platform())}; report written {_dt.datetime.now().isoformat(timespec='seconds')}. "
                 "Files: <a href='results.csv'>results.csv</a>, <a href='results.jsonl'>results.jsonl</a>, "
                 "<a href='summary.csv'>summary.csv</a>, "
                 "plots as SVG beside this report.</p>")
    return parts


def _img(paths: list[Path], alt: str) -> str:
    png = next(p for p in paths if p.suffix == ".png")
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return f"<img class='plot' alt='{_e(alt)}' src='data:image/png;base64,{data}'>"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.2f}"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
