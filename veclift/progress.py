"""Rich progress bars on stderr for long work (loading, training, pre-training)."""

from __future__ import annotations

import contextlib
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
    """Yield ``update(advance=0, **fields)``; a no-op when ``enabled`` is false."""
    if not enabled:
        yield lambda advance=0, **fields: None
        return
    columns = [TextColumn("[progress.description]{task.description}"), BarColumn(), TaskProgressColumn()]
    if unit_column:
        columns.append(MofNCompleteColumn())
    columns += [TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}")]
    with Progress(*columns, console=_console, transient=False) as bar:
        task = bar.add_task(description, total=total, info="")

        def update(advance: float = 0, info: str | None = None, **fields) -> None:
            if info is not None:
                fields["info"] = info
            bar.update(task, advance=advance, **fields)

        yield update
