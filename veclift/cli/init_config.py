"""`veclift init config TASK`: the full training config of a task, every default with its help."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from veclift.cli import app
from veclift.cli.options import OVERWRITE

init_app = typer.Typer(no_args_is_help=True, help="Write starting files: a training config.")
app.add_typer(init_app, name="init")


@init_app.command("config")
def init_config(
    task: str = typer.Argument(..., help="The task: ner, classify or another registered one."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Print (or write) a TOML training config for `veclift train TASK --config FILE`: every setting and its default."""
    from veclift.tasks.config_file import config_toml
    from veclift.tasks.registry import get_task

    text = config_toml(get_task(task))
    if output is None:
        sys.stdout.write(text)
        return
    from veclift.atomic import atomic_path, check_output

    check_output(output, overwrite=overwrite)
    with atomic_path(output, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(f"config written to {output}", file=sys.stderr)
