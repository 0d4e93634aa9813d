"""`veclift demo`: the transfer story end to end, offline, on the built-in GloVe."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from veclift.cli import app
from veclift.cli.console import out

TAG_STYLE = {"PER": "bold cyan", "LOC": "bold green", "FOOD": "bold magenta"}


@app.command("demo")
def demo(
    output: Path = typer.Option(Path("veclift-demo"), "--output", "-o", help="Folder for the study and report.html (resumed when it holds the demo)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start over: empty an output folder veclift wrote."),
    vectors: str = typer.Option("glove-6b-50d", "--vectors", help="Vector source for the pre-trained strategies."),
    seeds: int = typer.Option(2, "--seeds", min=1, help="Seeds per training size and strategy."),
    jobs: int = typer.Option(None, "--jobs", "-j", min=1, help="Trials run at once (at most one per core) [the cores other work leaves free]."),
) -> None:
    """Scratch vs frozen vs fine-tuned GloVe on a small NER sample whose test entities are unseen in training."""
    from veclift.demo import run_demo

    out.rule("[bold]veclift demo: does pre-training help a tagger recognise words it never saw?")
    out.print("Sample: short sentences tagging people (PER), places (LOC) and food (FOOD). Every test entity "
              "is absent from training (training has 'orange', test has 'apple'), and half the sentences "
              "give no hint of the type ('I keep thinking about X .').\n")
    result = run_demo(output, vectors=vectors, seeds=seeds, jobs=jobs, overwrite=overwrite)
    _vectors(result)
    _study(result)
    _examples(result)
    out.print(f"\nReport: [bold]{result.report}[/bold] (open it in a browser; results.csv and plots beside it)")


def _vectors(result) -> None:
    v = result.vectors
    out.print(f"[bold]1. The vectors[/bold]: {v.source}, {len(v):,} words x {v.dim} dims. Nearest neighbours:")
    for word, pairs in result.neighbors.items():
        out.print(f"   {word:8} -> " + ", ".join(f"{w} ({s:.2f})" for w, s in pairs))
    cov = result.coverage
    out.print(f"   Coverage of the sample: {cov.token_coverage:.1%} of tokens, {cov.type_coverage:.1%} of word types "
              f"as written; lower-casing recovers {cov.recovered.get('lower', {}).get('types', 0)} more types.")
    for line in cov.warnings:
        out.print(f"   [yellow]note:[/yellow] {line}")


def _study(result) -> None:
    res = result.results
    out.print(f"\n[bold]2. The study[/bold]: {result.train_size} training / {result.test_size} test sentences, "
              f"sizes {', '.join(map(str, res.spec.sizes))}, {res.spec.seeds} seeds each.")
    table = Table("training sentences", "strategy", "test F1", "F1 on unseen entities", "spread (F1)")
    unseen = {(c.size, c.strategy): c.stats for c in res.cells("transfer.unseen.f1")}
    for cell in res.cells():
        u = unseen.get((cell.size, cell.strategy))
        table.add_row(str(int(cell.n_train)), cell.strategy, f"{100 * cell.stats.mean:.1f}",
                      f"{100 * u.mean:.1f}" if u and u.n else "-", f"{100 * cell.stats.spread:.1f}")
    out.print(table)
    from veclift.study.conclusions import conclusions

    for line in conclusions(res):
        out.print(f"   - {line}")


def _examples(result) -> None:
    out.print("\n[bold]3. Example predictions[/bold] (every entity word here is unseen in training):")
    for strategy, tagged in result.examples.items():
        out.print(f"   [underline]{strategy}[/underline]")
        for tokens, tags in tagged:
            words = []
            for token, tag in zip(tokens, tags):
                kind = tag[2:] if tag != "O" else None
                words.append(f"[{TAG_STYLE.get(kind, 'bold')}]{token}/{kind}[/]" if kind else token)
            out.print("     " + " ".join(words))
