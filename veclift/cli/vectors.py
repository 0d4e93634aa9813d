"""`veclift vectors ...`: open, inspect, convert and download vector sets."""

from __future__ import annotations

import typer

from veclift.cli import app

vectors_app = typer.Typer(help="Inspect, query, evaluate and convert word vectors.", no_args_is_help=True)
app.add_typer(vectors_app, name="vectors")
