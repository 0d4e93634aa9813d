"""`veclift annotate INPUT --labels A,B --session FILE.sqlite`: a local annotation page (every answer
stored at once); `veclift annotate export FILE.sqlite --output FILE.conll|.jsonl`: the accepted
sentences, ready for `veclift train`."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer
from typer.core import TyperGroup

from veclift.cli import app, click
from veclift.cli.options import OVERWRITE


class AnnotateCommands(TyperGroup):
    """``annotate export ...`` exports; anything else (``annotate INPUT ...``) is ``annotate start``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


annotate_app = typer.Typer(
    cls=AnnotateCommands, no_args_is_help=True,
    help="Annotate sentences in a local web page (veclift annotate INPUT --labels A,B --session FILE.sqlite), "
    "and export the answers (veclift annotate export FILE.sqlite --output train.conll).",
)  # fmt: skip
app.add_typer(annotate_app, name="annotate")


@annotate_app.command("start")
def start_command(
    inputs: list[Path] | None = typer.Argument(None, metavar="INPUT", help="Sentences to annotate: raw text, a "
                                               "folder of documents, PDF, JSONL or CoNLL (tags shown as suggestions); "
                                               "leave out to resume the session."),  # fmt: skip
    session: Path = typer.Option(..., "--session", help="The session file (SQLite), created at the first start; "
                                 "every answer is stored in it at once, and a restart resumes it."),  # fmt: skip
    labels: str | None = typer.Option(None, "--labels", help="Comma-separated labels, e.g. PRODUCT,BRAND (keys 1-9 "
                                      "pick them); default: the session's."),  # fmt: skip
    patterns: Path | None = typer.Option(None, "--patterns", help="EntityRuler patterns JSONL (`veclift terms` writes "
                                         "one): their matches are suggested."),  # fmt: skip
    model: Path | None = typer.Option(None, "--model", help="A tagger (model directory or ONNX export): its entities "
                                      "are suggested with their confidence, the most uncertain sentences first."),  # fmt: skip
    vectors: str | None = typer.Option(None, "--vectors", help="Vectors giving rows to words the model lacks, and "
                                       "those retraining uses (default: the model's)."),  # fmt: skip
    update_every: int | None = typer.Option(None, "--update-every", min=1, help="Retrain a tagger on the accepted "
                                            "sentences every N answers, in the background, and use it when done."),  # fmt: skip
    dev: Path | None = typer.Option(None, "--dev", help="Dev data scoring each retrained model (default: every 5th "
                                    "accepted sentence is held out)."),  # fmt: skip
    train_args: str = typer.Option("", "--train-args", help="More `veclift train ner` options for retraining, e.g. "
                                   "'--epochs 10 --hidden 64'."),  # fmt: skip
    text_field: str = typer.Option("text", "--text-field", help="The text field of raw JSONL input."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; loopback unless you name another."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port to listen on (0: a free one)."),
    max_body_bytes: int = typer.Option(64 * 1024, "--max-body-bytes", min=1, help="Largest request body (413 beyond)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Open the annotation page of INPUT (the default command: `veclift annotate INPUT ...`).

    One sentence at a time with its suggested spans: keys 1-9 pick a label, the mouse or Shift+arrows
    select tokens, Enter accepts, X rejects, S skips, U undoes."""
    from veclift.errors import VecliftError
    from veclift.serve.annotate_server import run_annotator

    try:
        extra = shlex.split(train_args)
    except ValueError as exc:
        raise VecliftError(f"--train-args: {exc}") from None
    run_annotator(
        session, inputs or (), labels=labels.split(",") if labels is not None else None, patterns=patterns,
        model=model, vectors=vectors, update_every=update_every, dev=dev, train_args=extra,
        text_field=text_field, host=host, port=port, max_body_bytes=max_body_bytes, progress=not quiet,
    )  # fmt: skip


@annotate_app.command("export")
def export_command(
    session: Path = typer.Argument(..., metavar="SESSION", help="A session file of `veclift annotate`."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write: CoNLL (IOB2), or JSONL for .jsonl/.json."),
    format: str | None = typer.Option(None, "--format", help="conll or jsonl (default: told by the output's suffix)."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Write the accepted sentences (rejected and skipped ones are left out) for `veclift train` and `veclift study`."""
    from veclift.atomic import check_output
    from veclift.cli.console import out
    from veclift.serve.annotate_session import AnnotationSession

    check_output(output, overwrite=overwrite)
    with AnnotationSession(session, create=False) as store:
        written = store.export(output, format, overwrite=overwrite)
        state = store.progress()
    left_out = f"; {state['rejected']} rejected and {state['skipped']} skipped left out" if state["done"] > written else ""
    out.print(f"{written} accepted sentences -> {output}{left_out}", highlight=False)
