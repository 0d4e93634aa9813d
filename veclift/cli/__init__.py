"""The `veclift` command line: one module per command group, each thin (parse, call the API, print)."""

from __future__ import annotations

import os
import signal
import sys

import typer

from veclift.errors import VecliftError

try:  # typer 0.22 and later carry their own copy of click
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer uses click itself
    import click

app = typer.Typer(
    name="veclift",
    help="Pre-trained word embeddings turned into NER taggers and classifiers, with the transfer measured.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from veclift import __version__

        print(f"veclift {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Root options (``--version``), read before any command."""


def _register() -> None:
    """Attach every command group: each module of this package adds its commands to `app`."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def main() -> None:
    """Entry point: bad input and usage errors become one line on stderr and exit code 2."""
    import warnings

    from veclift.errors import VecliftWarning

    warnings.showwarning = _show_warning
    warnings.simplefilter("default", VecliftWarning)
    signal.signal(signal.SIGTERM, _terminate)
    _register()
    try:
        code = app(standalone_mode=False)
    except VecliftError as exc:
        _fail(str(exc))
    except click.exceptions.NoArgsIsHelpError as exc:
        print(exc.format_message())
        code = 0
    except click.ClickException as exc:
        _fail(_usage_message(exc))
    except typer.Abort:
        code = 130
    except OSError as exc:  # a file system refusal (permissions, disk full): name the file
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{exc.strerror or exc}")
    except MemoryError:
        _fail("out of memory (try --max-words, a smaller batch or fewer jobs)")
    except Exception as exc:
        if os.environ.get("VECLIFT_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              "(a bug in veclift: please report it; VECLIFT_DEBUG=1 shows the traceback)", code=1)  # fmt: skip
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int = 2) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


def _usage_message(exc: click.ClickException) -> str:
    """click's usage error as one line, naming the command and where to find help."""
    context = getattr(exc, "ctx", None)
    if context is None:
        return exc.format_message()
    return f"{context.command_path}: {exc.format_message()} (see `{context.command_path} --help`)"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = str(message).strip().splitlines()
    print(f"warning: {text[0] if text else category.__name__}", file=sys.stderr)


def _terminate(signum, frame) -> None:
    """SIGTERM unwinds like Ctrl-C, so temporary files are removed and stores closed."""
    raise KeyboardInterrupt
