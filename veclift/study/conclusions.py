"""Plain-language conclusions computed from a study's numbers: how much pre-trained vectors
helped at each training size, where that stops mattering, and on which words."""

from __future__ import annotations

import math

from veclift.study.plots import transfer_columns
from veclift.study.results import METRIC_LABEL, Cell, StudyResults
from veclift.tasks.registry import get_task

BASELINE = "scratch"
NEGLIGIBLE = 1.0  # points: a gain at most this large (or within the seed spread) does not matter


def _size_words(results: StudyResults, cell: Cell) -> str:
    unit = f"{get_task(results.spec.task).item_noun}s"
    n = round(cell.n_train)
    return f"all {n} training {unit}" if cell.size == "all" else f"{n} training {unit}"


def _seeds(cell: Cell) -> str:
    return f"{cell.stats.n} seed{'s' if cell.stats.n != 1 else ''}"


def gains(results: StudyResults) -> list[tuple[Cell, Cell, float, float]]:
    """Per size with a scratch result: ``(best pre-trained cell, scratch cell, gain in points,
    spread in points)``; the spread is the larger min..max range over seeds of the two."""
    by_size: dict[object, dict[str, Cell]] = {}
    for cell in results.cells():
        by_size.setdefault(cell.size, {})[cell.strategy] = cell
    found = []
    for size in results.spec.sizes:
        cells = by_size.get(size, {})
        base = cells.get(BASELINE)
        others = [c for s, c in cells.items() if s != BASELINE and not math.isnan(c.stats.mean)]
        if base is None or not others or math.isnan(base.stats.mean):
            continue
        best = max(others, key=lambda c: c.stats.mean)
        gain = 100 * (best.stats.mean - base.stats.mean)
        spread = 100 * max(best.stats.spread, base.stats.spread)
        found.append((best, base, gain, spread))
    return found


def conclusions(results: StudyResults) -> list[str]:
    """Sentences for the report, each backed by the numbers it quotes."""
    label = METRIC_LABEL.get(results.metric, results.metric)
    lines = []
    table = gains(results)
    for best, base, gain, spread in table:
        where = f"With {_size_words(results, best)}"
        note = f"({_seeds(best)}, spread {spread:.1f})" if best.stats.n > 1 else f"({_seeds(best)})"
        if gain > 0:
            verdict = f"{best.strategy} beats {BASELINE} by {gain:.1f} {label} points"
        elif gain < 0:
            verdict = f"{BASELINE} beats the best pre-trained strategy ({best.strategy}) by {-gain:.1f} {label} points"
        else:
            verdict = f"{best.strategy} and {BASELINE} score the same"
        within = " — within the spread across seeds" if abs(gain) <= spread and best.stats.n > 1 else ""
        winner, loser = (best, base) if gain >= 0 else (base, best)
        lines.append(f"{where}, {verdict} {note}{within}: {100 * winner.stats.mean:.1f} vs {100 * loser.stats.mean:.1f}.")
    if table:
        lines.append(_where_it_stops(results, table, label))
    elif BASELINE not in results.spec.strategies:
        for size in results.spec.sizes:
            cells = [c for c in results.cells() if c.size == size]
            if cells:
                best = max(cells, key=lambda c: c.stats.mean)
                lines.append(f"With {_size_words(results, best)}, {best.strategy} scores best: {100 * best.stats.mean:.1f} {label} ({_seeds(best)}).")
    lines.extend(_transfer_lines(results))
    return lines


def _where_it_stops(results: StudyResults, table, label: str) -> str:
    matters = [gain > max(spread, NEGLIGIBLE) for _, _, gain, spread in table]
    last, _, last_gain, last_spread = table[-1]
    if last_gain < -max(last_spread, NEGLIGIBLE):
        helped = [best for (best, *_), counts in zip(table, matters) if counts]
        start = f"Pre-trained vectors help up to {_size_words(results, helped[-1])}, but at" if helped else "At"
        return (f"{start} the largest size ({_size_words(results, last)}) training from {BASELINE} does better: "
                f"{-last_gain:.1f} {label} points ahead of {last.strategy}, beyond the spread across seeds "
                f"({last_spread:.1f}).")
    if not any(matters):
        return (f"Pre-trained vectors make no difference beyond the spread across seeds (or {NEGLIGIBLE:.0f} point) "
                "at any size studied.")
    if matters[-1]:
        return (f"Pre-trained vectors still help at the largest size ({_size_words(results, last)}): "
                f"+{last_gain:.1f} {label} points with {last.strategy}.")
    first = next(i for i in range(len(table)) if not any(matters[i:]))
    best, _, gain, spread = table[first]
    return (f"Pre-training stops mattering from {_size_words(results, best)} on: the gain there "
            f"({gain:+.1f} {label} points) is no larger than the spread across seeds ({spread:.1f}) "
            f"or {NEGLIGIBLE:.0f} point.")


def _transfer_lines(results: StudyResults) -> list[str]:
    columns = transfer_columns(results)
    if not columns or BASELINE not in results.spec.strategies:
        return []
    smallest = results.spec.sizes[0]
    cells = {(column, c.strategy): c for column, _, _ in columns for c in results.cells(column) if c.size == smallest}
    others = [s for s in results.spec.strategies if s != BASELINE]
    phrases = {c.metric: c.phrase for c in get_task(results.spec.task).transfer_columns}
    lines = []
    for column, _, _ in columns:
        base = cells.get((column, BASELINE))
        scored = [cells[column, s] for s in others if (column, s) in cells]
        scored = [c for c in scored if c.stats.n]
        if base is None or not base.stats.n or not scored:
            continue
        best = max(scored, key=lambda c: c.stats.mean)
        lines.append(
            f"{phrases[column]} (trained on {_size_words(results, best)}), {best.strategy} scores "
            f"{100 * best.stats.mean:.1f} vs {100 * base.stats.mean:.1f} for {BASELINE} "
            f"({100 * (best.stats.mean - base.stats.mean):+.1f} points)."
        )
    return lines
