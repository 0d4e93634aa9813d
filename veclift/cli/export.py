"""`veclift export MODEL --to onnx OUTPUT`: a trained model as a graph other runtimes run."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from veclift.cli import app
from veclift.cli.options import OVERWRITE


class ExportFormat(str, Enum):
    onnx = "onnx"


@app.command("export")
def export_command(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help="A model directory written by `veclift train`."),
    output: Path = typer.Argument(..., metavar="OUTPUT", help="The export directory to write."),
    to: ExportFormat = typer.Option(..., "--to", help="onnx: the network and its word rows as an ONNX graph, the "
                                    "decoder beside it in NumPy (`veclift predict` and `serve` run it)."),  # fmt: skip
    overwrite: bool = OVERWRITE,
) -> None:
    """Export a trained tagger or classifier (static word, character and casing features) to ONNX."""
    from veclift.atomic import check_output
    from veclift.errors import VecliftError
    from veclift.tasks import load_model

    try:
        import onnx  # noqa: F401 - the TorchScript exporter needs it
    except ImportError:
        raise VecliftError("ONNX export needs the onnx package: pip install 'veclift[onnx]'") from None
    from veclift.tasks.onnx_export import export_onnx

    source, target = model_dir.resolve(), output.resolve()
    if source == target or source in target.parents or target in source.parents:
        raise VecliftError("the export would replace or sit inside the model it is made from: choose another OUTPUT", output)
    check_output(output, overwrite=overwrite, directory=True)
    model = load_model(model_dir)
    export_onnx(model, output, overwrite=overwrite)
    typer.echo(f"wrote {output} ({model.task}, {len(model.labels)} labels, {to.value})", err=True)
