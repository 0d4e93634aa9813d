"""`veclift predict MODEL [INPUT]`: tag or classify new text, the answers as the model's task gives them."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from veclift.cli import app
from veclift.errors import VecliftError


class PredictFormat(str, Enum):  # the formats of `veclift.data.predictions.FORMATS`
    conll = "conll"
    jsonl = "jsonl"
    text = "text"


class PredictOutput(str, Enum):
    conll = "conll"
    jsonl = "jsonl"


@app.command("predict")
def predict_command(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help="A model directory written by `veclift train`, or an "
                                     "ONNX export of one (`veclift export`; run with onnxruntime)."),  # fmt: skip
    input_path: Path | None = typer.Argument(None, metavar="[INPUT]", help="Input file; standard input when omitted."),
    format: PredictFormat | None = typer.Option(
        None, "--format", help="Input: conll (token per line), jsonl ({'tokens'|'text'} per line) or text (one "
        "sentence/text per line). Default: jsonl for .jsonl/.json, conll for .conll, else text."),  # fmt: skip
    vectors: str | None = typer.Option(None, "--vectors", help="Vectors giving rows to words the model lacks."),
    output_format: PredictOutput | None = typer.Option(
        None, "--output-format", help="Output: jsonl (every field: entities with character offsets and confidences) or "
        "conll (token and tag columns, taggers). Default: conll for a tagger's conll/text input, else jsonl."),  # fmt: skip
    marginals: bool = typer.Option(False, "--marginals", help="Taggers: each token's probability of every tag (JSONL)."),
) -> None:
    """Tag or classify new text; results on stdout: CoNLL or JSONL for taggers (JSONL: entities with character
    offsets and confidences), JSONL with every class probability for classifiers."""
    from veclift.data.predictions import input_format, read_records, write_records
    from veclift.data.textfile import decode_text, read_text
    from veclift.tasks.onnx_model import load_predictor
    from veclift.tasks.registry import get_task

    model = load_predictor(model_dir)
    if input_path is not None and not input_path.is_file():
        raise VecliftError("no such file", input_path)
    source = str(input_path) if input_path is not None else "<stdin>"
    text = read_text(input_path) if input_path is not None else decode_text(sys.stdin.buffer.read(), source)
    chosen = format.value if format is not None else input_format(input_path)
    task = get_task(model.task)
    if chosen == "conll" and not task.token_tags:
        raise VecliftError(f"--format conll is for taggers; use text or jsonl for a {model.task} model", source)
    if output_format is PredictOutput.conll and not task.token_tags:
        raise VecliftError(f"--output-format conll is for taggers; a {model.task} model writes jsonl", source)
    if marginals and (not task.token_tags or output_format is PredictOutput.conll):
        raise VecliftError("--marginals is for taggers, with JSONL output", source)
    records = read_records(text, chosen, source)
    try:
        answered = task.predict_records(model, records, vectors, **({"marginals": True} if marginals else {}))
    except VecliftError as exc:
        if exc.path is not None:
            raise
        raise VecliftError(exc.message, source) from None
    columns = output_format is PredictOutput.conll or (output_format is None and chosen != "jsonl" and not marginals)
    write_records(answered, columns, sys.stdout.write)
