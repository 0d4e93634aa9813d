"""Plain-language conclusions computed from a study's numbers: how much pre-trained vectors
helped at each training size, where that stops mattering, and on which words."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from veclift.study.plots import transfer_columns
from veclift.study.results import METRIC_LABEL, MIN_BUCKET, Cell, StudyResults
from veclift.study.significance import Difference, differences, lookup
from veclift.tasks.registry import get_task

BASELINE = "scratch"
NEGLIGIBLE = 1.0  # points: a gain at most this large (or within the seed spread) does not matter


def _size_words(results: StudyResults, cell: Cell) -> str:
    unit = f"{get_task(results.spec.task).item_noun}s"
    n = round(cell.n_train)
    return f"all {n} training {unit}" if cell.size == "all" else f"{n} training {unit}"


def _seeds(cell: Cell) -> str:
    return f"{cell.stats.n} seed{'s' if cell.stats.n != 1 else ''}"


@dataclasses.dataclass(frozen=True)
class Gain:
    """At one size: the best pre-trained cell against scratch, the gain and the larger seed spread
    (points), and the paired test of the two (None where the trials carry no per-item outcomes)."""

    best: Cell
    base: Cell
    gain: float
    spread: float
    test: Difference | None

    @property
    def verdict(self) -> int:
        """+1: pre-training helps, -1: scratch does better, 0: no difference. By the paired test
        when there is one, else (older stores) by the seed spread and NEGLIGIBLE."""
        if self.test is not None:
            return 0 if not self.test.called else 1 if self.test.mean > 0 else -1
        if abs(self.gain) <= max(self.spread, NEGLIGIBLE):
            return 0
        return 1 if self.gain > 0 else -1


def gains(results: StudyResults, tests: Sequence[Difference] | None = None) -> list[Gain]:
    """Per size with a scratch result: the best pre-trained strategy against scratch (``tests``:
    the paired tests, computed here when not given)."""
    tests = differences(results) if tests is None else tests
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
        found.append(Gain(best, base, gain, spread, lookup(tests, size, best.strategy, BASELINE)))
    return found


def conclusions(results: StudyResults, tests: Sequence[Difference] | None = None) -> list[str]:
    """Sentences for the report, each backed by the numbers it quotes (``tests``: the paired tests,
    computed here when not given)."""
    label = METRIC_LABEL.get(results.metric, results.metric)
    lines = []
    table = gains(results, tests)
    for g in table:
        lines.append(_size_line(results, g, label))
    if table:
        lines.append(_where_it_stops(results, table, label))
    elif BASELINE not in results.spec.strategies:
        for size in results.spec.sizes:
            cells = [c for c in results.cells() if c.size == size]
            if cells:
                best = max(cells, key=lambda c: c.stats.mean)
                lines.append(f"With {_size_words(results, best)}, {best.strategy} scores best: {100 * best.stats.mean:.1f} {label} ({_seeds(best)}).")
    lines.extend(_transfer_lines(results))
    if any(g.test is None for g in table):
        lines.append("These trials carry no per-item test outcomes (run by an older veclift), so no paired test: "
                     "differences are judged by the spread across seeds only.")
    return lines


def _size_line(results: StudyResults, g: Gain, label: str) -> str:
    best, base, gain, spread = g.best, g.base, g.gain, g.spread
    where = f"With {_size_words(results, best)}"
    if g.test is not None:
        t = g.test
        interval = f"95% interval {100 * t.low:+.1f} to {100 * t.high:+.1f}, {_seeds(best)}"
        if not t.called:
            return (f"{where}, no difference between {best.strategy} and {BASELINE}: {100 * best.stats.mean:.1f} vs "
                    f"{100 * base.stats.mean:.1f} {label} ({gain:+.1f} points, {interval}).")
        winner, loser = (best, base) if t.mean > 0 else (base, best)
        return (f"{where}, {winner.strategy} beats {loser.strategy} by {abs(gain):.1f} {label} points ({interval}): "
                f"{100 * winner.stats.mean:.1f} vs {100 * loser.stats.mean:.1f}.")
    note = f"({_seeds(best)}, spread {spread:.1f})" if best.stats.n > 1 else f"({_seeds(best)})"
    if gain > 0:
        verdict = f"{best.strategy} beats {BASELINE} by {gain:.1f} {label} points"
    elif gain < 0:
        verdict = f"{BASELINE} beats the best pre-trained strategy ({best.strategy}) by {-gain:.1f} {label} points"
    else:
        verdict = f"{best.strategy} and {BASELINE} score the same"
    within = " — within the spread across seeds" if abs(gain) <= spread and best.stats.n > 1 else ""
    winner, loser = (best, base) if gain >= 0 else (base, best)
    return f"{where}, {verdict} {note}{within}: {100 * winner.stats.mean:.1f} vs {100 * loser.stats.mean:.1f}."


def _where_it_stops(results: StudyResults, table: list[Gain], label: str) -> str:
    matters = [g.verdict > 0 for g in table]
    last = table[-1]
    why = "by the paired test" if last.test is not None else f"beyond the spread across seeds ({last.spread:.1f})"
    if last.verdict < 0:
        helped = [g.best for g, counts in zip(table, matters) if counts]
        start = f"Pre-trained vectors help up to {_size_words(results, helped[-1])}, but at" if helped else "At"
        return (f"{start} the largest size ({_size_words(results, last.best)}) training from {BASELINE} does better: "
                f"{-last.gain:.1f} {label} points ahead of {last.best.strategy}, {why}.")
    if not any(matters):
        if all(g.test is not None for g in table):
            return "Pre-trained vectors make no difference by the paired test at any size studied."
        return (f"Pre-trained vectors make no difference beyond the spread across seeds (or {NEGLIGIBLE:.0f} point) "
                "at any size studied.")
    if matters[-1]:
        return (f"Pre-trained vectors still help at the largest size ({_size_words(results, last.best)}): "
                f"+{last.gain:.1f} {label} points with {last.best.strategy}.")
    first = table[next(i for i in range(len(table)) if not any(matters[i:]))]
    if first.test is not None:
        return (f"Pre-training stops mattering from {_size_words(results, first.best)} on: the gain there "
                f"({first.gain:+.1f} {label} points) is no difference by the paired test.")
    return (f"Pre-training stops mattering from {_size_words(results, first.best)} on: the gain there "
            f"({first.gain:+.1f} {label} points) is no larger than the spread across seeds ({first.spread:.1f}) "
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
        where = f"{phrases[column]} (trained on {_size_words(results, best)}"
        counted = results.bucket_size(column, smallest)
        if counted is not None:
            noun = get_task(results.spec.task).scored_noun
            if counted[0] < MIN_BUCKET:
                lines.append(f"{where}): only {_count_words(counted)} test {noun}, fewer than {MIN_BUCKET}: too few "
                             "for a conclusion.")
                continue
            where += f"; {_count_words(counted)} test {noun}"
        lines.append(
            f"{where}), {best.strategy} scores {100 * best.stats.mean:.1f} vs {100 * base.stats.mean:.1f} for "
            f"{BASELINE} ({100 * (best.stats.mean - base.stats.mean):+.1f} points)."
        )
    return lines


def _count_words(counted: tuple[int, int]) -> str:
    low, high = counted
    return str(low) if low == high else f"{low}–{high}"
