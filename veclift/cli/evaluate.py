"""`veclift evaluate MODEL DATA...`: score a model on labeled data, as its task lays the scores out."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer

from veclift.cli import app
from veclift.cli.console import out
from veclift.errors import VecliftError


@app.command("evaluate")
def evaluate_command(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help="A model directory written by `veclift train`."),
    data: list[Path] = typer.Argument(..., help="Labeled data in the training formats (classify: several files are one file per label)."),
    vectors: str | None = typer.Option(None, "--vectors", help="Vectors giving rows to words the model lacks."),
    tag_column: int | None = typer.Option(None, "--tag-column", help="ner: column of the tag (default last)."),
    scheme: str | None = typer.Option(None, "--scheme", help="ner: tag scheme of the files: auto | iob1 | iob2 | bioes | io (bare type tags)."),
    text_column: str | None = typer.Option(None, "--text-column", help="classify: text column (name or index) or JSONL field."),
    label_column: str | None = typer.Option(None, "--label-column", help="classify: label column (name or index) or JSONL field."),
    label_separator: str | None = typer.Option(None, "--label-separator", help="classify: split label cells (multi-label)."),
    tokens_field: str | None = typer.Option(None, "--tokens-field", help="ner: tokens field of Hugging Face data (default tokens)."),
    tags_field: str | None = typer.Option(None, "--tags-field", help="ner: tags field of Hugging Face data (default ner_tags)."),
    label_names: list[str] | None = typer.Option(None, "--label-names", help="Names of integer tags or labels in Hugging Face data, in order (O,B-PER,...)."),
    split: str | None = typer.Option(None, "--split", help="Split of a saved Hugging Face DatasetDict folder (default train)."),
    as_json: bool = typer.Option(False, "--json", help="Print all scores as one JSON object."),
) -> None:
    """Score a model on labeled data: entity F1 (ner) or accuracy/macro-F1 (classify), with the transfer view."""
    from rich.table import Table

    from veclift.tasks import load_model
    from veclift.tasks.registry import get_task

    model = load_model(model_dir)
    task = get_task(model.task)
    given = {"tag_column": tag_column, "scheme": scheme, "text_column": text_column, "label_column": label_column,
             "label_separator": label_separator, "tokens_field": tokens_field, "tags_field": tags_field,
             "label_names": label_names, "split": split}  # fmt: skip
    reader = {f.name: given[f.name] for f in dataclasses.fields(task.reader_options) if given.get(f.name) is not None}
    items = task.read_files(data, **reader)
    try:
        scores = model.evaluate(items, vectors=vectors)
    except VecliftError as exc:
        if exc.path is not None:
            raise
        raise VecliftError(exc.message, ", ".join(map(str, data))) from None
    if as_json:
        print(json.dumps(scores))
        return
    view = task.score_table(scores)
    table = Table(title=f"{', '.join(map(str, data))} ({model.task})")
    for number, column in enumerate(view.columns):
        table.add_column(column, justify="left" if number == 0 else "right")
    for row in view.rows:
        table.add_row(*row)
    if view.total is not None:
        table.add_row(*view.total, style="bold")
    out.print(table)
    for line in view.lines:
        out.print(line, highlight=False)
