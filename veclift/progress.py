"""Progress of long work (loading, training, pre-training) on stderr: a rich bar in a terminal, and
plain lines in a log (one per step a caller marks with ``log=True``, such as an epoch, and one now
and then for long steps)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_console = Console(stderr=True)


@contextlib.contextmanager
def progress(
    description: str, total: float | None, *, enabled: bool = True, unit_column: bool = False
) -> Iterator[Callable[..., None]]:
    """Yield ``update(advance=0, info=None, log=False, **fields)``; a no-op when ``enabled`` is false."""
    if not enabled:
        yield lambda advance=0, **fields: None
        return
    if not _console.is_terminal:
        log = _LineLog(description, total)
        yield log
        log.finish()
        return
    columns = [TextColumn("[progress.description]{task.description}"), BarColumn(), TaskProgressColumn()]
    if unit_column:
        columns.append(MofNCompleteColumn())
    columns += [TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}")]
    with Progress(*columns, console=_console, transient=False) as bar:
        task = bar.add_task(description, total=total, info="")

        def update(advance: float = 0, info: str | None = None, log: bool = False, **fields) -> None:
            if info is not None:
                fields["info"] = info
            bar.update(task, advance=advance, **fields)

        yield update


class _LineLog:
    """The bar's stand-in when stderr is not a terminal: a line per step a caller marks (an epoch),
    a line per tenth done when the last line is more than ``QUIET_SECONDS`` old, and a last line."""

    QUIET_SECONDS = 10.0

    def __init__(self, description: str, total: float | None):
        self.description, self.total = description, total
        self.done, self.info, self.tenths, self.shown = 0.0, "", 0, -1.0
        self.started = self.last = time.perf_counter()

    def __call__(self, advance: float = 0, info: str | None = None, log: bool = False, **fields) -> None:
        self.done += advance
        if info is not None:
            self.info = info
        tenths = int(10 * self.done / self.total) if self.total else 0
        if log or (tenths > self.tenths and time.perf_counter() - self.last > self.QUIET_SECONDS):
            self.tenths = max(tenths, self.tenths)
            self._line()

    def finish(self) -> None:
        """The last state, unless it was shown already or the work was too short to need a line."""
        if self.done != self.shown and (self.shown >= 0 or time.perf_counter() - self.started > 1.0):
            self._line()

    def _line(self) -> None:
        self.last, self.shown = time.perf_counter(), self.done
        share = f" {100 * self.done / self.total:.0f}%" if self.total else ""
        info = f" · {self.info}" if self.info else ""
        print(f"{self.description}:{share}{info} · {self.last - self.started:.1f} s", file=sys.stderr, flush=True)
