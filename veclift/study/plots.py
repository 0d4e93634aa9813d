"""Learning curves and the unseen-word view of a study, as PNG and SVG (matplotlib, Agg).

Every line is the mean over seeds; the band around it spans the lowest to the highest seed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

from veclift.atomic import atomic_path  # noqa: E402
from veclift.study.results import METRIC_LABEL, StudyResults  # noqa: E402
from veclift.tasks.registry import get_task  # noqa: E402

_FORMATS = ("png", "svg")


def learning_curve(results: StudyResults, stem: Path) -> list[Path]:
    """Score vs training size (log x-axis), one line per strategy: mean over seeds, band min..max."""
    metric = results.metric
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for index, strategy in enumerate(results.spec.strategies):
        cells = [c for c in results.cells(metric) if c.strategy == strategy]
        if not cells:
            continue
        x = [c.n_train for c in cells]
        color = f"C{index}"
        ax.plot(x, [100 * c.stats.mean for c in cells], marker="o", color=color, label=strategy)
        ax.fill_between(x, [100 * c.stats.min for c in cells], [100 * c.stats.max for c in cells], color=color, alpha=0.18, linewidth=0)
    _size_axis(ax, results)
    ax.set_ylabel(f"test {METRIC_LABEL.get(metric, metric)} (%)")
    ax.set_title(f"Learning curves ({results.spec.task}, vectors {Path(results.spec.vectors).name}; band: min..max over seeds)", fontsize=10)
    ax.legend(title="embeddings")
    return _save(fig, stem)


def transfer_columns(results: StudyResults) -> list[tuple[str, str, str]]:
    """The transfer-view metric columns present in the results: ``(column, label, line style)``."""
    columns = set(results.metric_columns())
    return [(c.metric, c.label, c.style) for c in get_task(results.spec.task).transfer_columns if c.metric in columns]


def transfer_view(results: StudyResults, stem: Path) -> list[Path]:
    """Score on test words never seen in training, known vs unknown to the vectors, per strategy
    (solid: known, dashed: unknown); empty when the trials report no transfer view."""
    groups = transfer_columns(results)
    if not groups:
        return []
    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    for index, strategy in enumerate(results.spec.strategies):
        for column, _, style in groups:
            cells = [c for c in results.cells(column) if c.strategy == strategy]
            if cells:
                ax.plot([c.n_train for c in cells], [100 * c.stats.mean for c in cells], style, marker="o", color=f"C{index}")
    _size_axis(ax, results)
    ax.set_ylabel(f"test {get_task(results.spec.task).metric_label} (%)")
    ax.set_title("Words never seen in training, by whether the vectors know them (mean over seeds)", fontsize=10)
    strategies = [Line2D([], [], color=f"C{i}", marker="o", label=s) for i, s in enumerate(results.spec.strategies)]
    styles = [Line2D([], [], color="0.3", linestyle=style, label=label) for _, label, style in groups]
    fig.legend(handles=strategies + styles, loc="outside right center", fontsize=8)
    return _save(fig, stem)


def _size_axis(ax, results: StudyResults) -> None:
    sizes = sorted({round(c.n_train) for c in results.cells()})
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel(f"training {get_task(results.spec.task).item_noun}s (log scale)")
    ax.grid(True, alpha=0.3)


def _save(fig, stem: Path) -> list[Path]:
    paths = []
    for fmt in _FORMATS:
        path = stem.with_suffix(f".{fmt}")
        with atomic_path(path, overwrite=True) as tmp:
            fig.savefig(tmp, format=fmt, dpi=120)
        paths.append(path)
    plt.close(fig)
    return paths
