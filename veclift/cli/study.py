"""`veclift study ner|classify ...`: run a transfer study and write its report."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import typer

from veclift.cli import app
from veclift.cli.console import err, out
from veclift.errors import VecliftError
from veclift.study.executors import executors_help


@app.command(
    "study",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog="Any other --name VALUE is a model option (e.g. --hidden 100 --encoder cnn --lr 0.002).",
)
def study(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="ner or classify"),
    train: Path = typer.Option(None, "--train", help="Labeled training data: sizes are drawn from it."),
    test: Path = typer.Option(None, "--test", help="Test data (default: hold out --test-fraction of --train)."),
    dev: Path = typer.Option(None, "--dev", help="Dev data for early stopping."),
    vectors: str = typer.Option(None, "--vectors", help="Built-in name, native directory or vector file (default: glove-6b-50d)."),
    sizes: str = typer.Option(None, "--sizes", help="Training sizes, e.g. 50,100,500,1000,all."),
    strategies: str = typer.Option(None, "--strategies", help="Embedding strategies, e.g. scratch,frozen,finetune."),
    seeds: int = typer.Option(None, "--seeds", min=1, help="Seeds per size and strategy (default: 3)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output folder: results store, CSV, plots, report.html (resumed when it holds this study)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over: empty an output folder veclift wrote."),
    config: Path = typer.Option(None, "--config", help="Study TOML file; options given here win."),
    jobs: int = typer.Option(None, "--jobs", "-j", min=1, help="Trials run at once (local executor; at most one per core) (default: the cores other work leaves free)."),
    executor: str = typer.Option("local", "--executor", help=f"Where trials run: {executors_help()}."),
    address: str = typer.Option(None, "--address", help="Ray cluster address HOST:PORT (with --executor ray; none: a local Ray instance)."),
    epochs: int = typer.Option(None, "--epochs", min=1, help="Most training epochs per trial (early stopping may end sooner)."),
    test_fraction: float = typer.Option(None, "--test-fraction", min=0.0, max=0.95, help="Part of --train held out as test when no --test (default: 0.2)."),
    dev_fraction: float = typer.Option(None, "--dev-fraction", min=0.0, max=0.95, help="Part of --train held out as dev (early stopping) when no --dev (default: 0, none)."),
    test_rows: str = typer.Option(None, "--test-rows", help="Rows for test words never seen in training: model (the "
                                  "trained model's own, as `veclift predict MODEL`; the default) | vectors (their "
                                  "--vectors rows, as `veclift predict MODEL --vectors V`)."),  # fmt: skip
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the summary."),
) -> None:
    """Run the grid (sizes x strategies x seeds), resumably, one process per trial, and write the report."""
    from veclift.study import StudySpec, TransferStudy, load_spec
    from veclift.study.conclusions import conclusions
    from veclift.study.spec import parse_names, parse_sizes

    options = parse_model_options(ctx.args)
    if epochs is not None:
        options["max_epochs"] = epochs
    settings: dict[str, Any] = {
        "task": task, "train": train, "test": test, "dev": dev, "vectors": vectors, "seeds": seeds,
        "test_fraction": test_fraction, "dev_fraction": dev_fraction, "test_rows": test_rows,
        "sizes": parse_sizes(sizes) if sizes is not None else None,
        "strategies": parse_names(strategies) if strategies is not None else None,
    }
    if config is not None:
        spec = load_spec(config, options=options, **settings)
    else:
        if train is None:
            raise VecliftError("give --train (or a --config file naming it)")
        spec = StudySpec(**{k: v for k, v in settings.items() if v is not None}, options=options)
    command = shlex.join(["veclift", *sys.argv[1:]])
    runner = TransferStudy(spec, output, command=command, overwrite=overwrite)
    try:
        results = runner.run(executor, jobs=jobs, address=address, progress=not quiet)
    except KeyboardInterrupt:
        err.print(f"interrupted: finished trials are kept in {output}; run the same command again to resume")
        raise typer.Exit(130) from None
    report = runner.report(results)
    lines = conclusions(results)
    if as_json:
        cells = [
            {"size": c.size, "strategy": c.strategy, "n_train": c.n_train, "mean": c.stats.mean, "std": c.stats.std,
             "min": c.stats.min, "max": c.stats.max, "n": c.stats.n}
            for c in results.cells()
        ]
        out.print_json(json.dumps({
            "report": str(report), "metric": results.metric, "trials": len(spec.trials()),
            "finished": len(results.rows), "failed": len(results.failures), "wall_seconds": results.wall_seconds,
            "summary": cells, "conclusions": lines,
        }))
    else:
        for line in lines:
            out.print(f"- {line}", highlight=False)
        out.print(f"report: {report}", highlight=False)
    if results.failures:
        first, error = next(iter(results.failures.items()))
        raise VecliftError(
            f"{len(results.failures)} trial(s) failed (first, {first}: {error.splitlines()[0]}); "
            "the report covers the others; run the same command again to retry them",
            output,
        )


def parse_model_options(args: list[str]) -> dict[str, Any]:
    """``["--hidden", "100", "--head=softmax", "--casing", "false"]`` -> ``{"hidden": 100, ...}``;
    values are read as JSON where they parse (numbers, true/false), else kept as text."""
    options: dict[str, Any] = {}
    items = iter(args)
    for item in items:
        if not item.startswith("--") or len(item) < 3:
            raise VecliftError(f"unexpected argument {item!r} (model options are --name VALUE)")
        name, has_value, value = item[2:].partition("=")
        if not has_value:
            value = next(items, None)
            if value is None:
                raise VecliftError(f"model option --{name} needs a value")
        options[name.replace("-", "_")] = _value(value)
    return options


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
