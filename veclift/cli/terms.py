"""`veclift terms` (expand a term list from seed words) and `veclift label` (pre-annotate text with patterns)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from veclift.atomic import check_output
from veclift.cli import app
from veclift.cli.options import OVERWRITE


@app.command("terms")
def terms_command(
    vectors_source: str = typer.Option(..., "--vectors", help="Built-in name, native directory or vector file."),
    seed: str = typer.Option(..., "--seed", help="Comma-separated seed terms, e.g. 'apple,orange,banana'."),
    output: Path = typer.Option(..., "--output", "-o", help="Term list to write (one term per line)."),
    label: str = typer.Option("TERM", "--label", help="Entity label of the patterns."),
    auto: int | None = typer.Option(None, "--auto", min=1, help="Accept the top N candidates per round without asking."),
    candidates: int = typer.Option(10, "--candidates", min=1, help="Candidates shown per round (interactive)."),
    rounds: int = typer.Option(1, "--rounds", min=1, help="Rounds; accepted terms join the seeds for the next round."),
    restrict: int | None = typer.Option(None, "--restrict", min=1, help="Search only the first N (most frequent) words."),
    patterns: Path | None = typer.Option(None, "--patterns", help="EntityRuler patterns JSONL (default: OUTPUT stem + .patterns.jsonl)."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Grow a term list from seed terms: candidates near the seeds' centroid, accepted or rejected in the terminal."""
    from rich.prompt import Prompt

    from veclift.cli.console import err, out
    from veclift.vectors import Vectors
    from veclift.vectors.terms import TermExpander, entity_ruler_patterns, expand, patterns_path, write_patterns, write_terms

    pattern_file = patterns or patterns_path(output)
    check_output(output, overwrite=overwrite)
    check_output(pattern_file, overwrite=overwrite)
    vectors = Vectors.load(vectors_source)
    expander = TermExpander(vectors, seed.split(","), restrict_vocab=restrict)
    decide = None
    if auto is None:
        err.print("accept each candidate: [bold]y[/bold]es, [bold]n[/bold]o, [bold]q[/bold]uit", highlight=False)
        answers = {"y": "accept", "n": "reject", "q": "stop"}

        def decide(word: str, score: float) -> str:
            try:
                choice = Prompt.ask(f"{word} ({score:.3f})", choices=list(answers), default="n", console=err)
            except EOFError:
                return "stop"
            return answers[choice]

    terms = expand(expander, per_round=auto or candidates, rounds=rounds, decide=decide)
    write_terms(terms, output, overwrite=overwrite)
    write_patterns(entity_ruler_patterns(terms, label, lowercase=vectors.lowercase), pattern_file, overwrite=overwrite)
    out.print(f"{len(terms)} terms ({len(expander.accepted)} added) -> {output}, patterns -> {pattern_file}", highlight=False)


@app.command("label")
def label_command(
    input_path: Path = typer.Argument(..., help="Raw text, one sentence per line."),
    patterns: Path = typer.Option(..., "--patterns", help="EntityRuler patterns JSONL (e.g. from `veclift terms`)."),
    output: Path = typer.Option(..., "--output", "-o", help="Pre-annotated output to correct."),
    format: str = typer.Option("conll", "--format", help="conll (IOB2) or jsonl (text + character spans)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Pre-annotate raw text with term patterns, as CoNLL or JSONL for correction."""
    from veclift.cli.console import out
    from veclift.prelabel import prelabel

    report = prelabel(patterns, input_path, output, format=format, overwrite=overwrite)
    if json_output:
        print(json.dumps({"output": str(output), **report.__dict__}))
        return
    found = ", ".join(f"{k} {v:,}" for k, v in sorted(report.entities.items())) or "no matches"
    out.print(f"{report.sentences:,} sentences, {report.tokens:,} tokens: {found} -> {output}", highlight=False)
