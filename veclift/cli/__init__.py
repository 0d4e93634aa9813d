"""The `veclift` command line: one module per command group, each thin (parse, call the API, print)."""

from __future__ import annotations

import sys

import typer

from veclift.errors import VecliftError

app = typer.Typer(
    name="veclift",
    help="Pre-trained word embeddings turned into NER taggers and classifiers, with the transfer measured.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Attach every command group: each module of this package adds its commands to `app`."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    import warnings

    from veclift.errors import VecliftWarning

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {message}", file=sys.stderr)

    warnings.showwarning = show
    warnings.simplefilter("default", VecliftWarning)
    _register()
    try:
        app()
    except VecliftError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
