"""`veclift vectors align|combine|reduce|debias|plot|parallelogram`: whole-space operations and maps."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer

from veclift.atomic import check_output
from veclift.cli.option_groups import Options, with_options
from veclift.cli.options import OVERWRITE
from veclift.cli.vectors import vectors_app

_SOURCE_HELP = "Built-in name, native directory or vector file."


def _load(source: str):
    from veclift.vectors import Vectors

    return Vectors.load(source)


def _finite(value):
    """NaN/inf (e.g. a Spearman over fewer than two pairs) -> None, so the output stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _print_json(report: dict) -> None:
    print(json.dumps(_finite(report), ensure_ascii=False, default=str, allow_nan=False))


def _print_fields(report: dict) -> None:
    from veclift.cli.console import out

    for key, value in report.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        out.print(f"{key:>18}: {shown}", highlight=False)


ALIGN_OPTIONS: Options = {  # keyword arguments of `veclift.vectors.ops.align.align`
    "dictionary": (Path | None, typer.Option(None, "--dictionary", help="Anchor pairs 'source target', one per line.")),
    "center": (bool, typer.Option(False, "--center", help="Centre both spaces before the fit.")),
    "normalize": (bool, typer.Option(False, "--normalize", help="Unit-normalise rows before the fit.")),
    "max_anchors": (int, typer.Option(20000, "--max-anchors", min=1, help="Use at most N anchors (most frequent first).")),
    "held_out": (float, typer.Option(0.1, "--held-out", min=0.0, max=0.95, help="Share of anchors kept out of the fit for P@1/P@5.")),
    "search_vocab": (int | None, typer.Option(None, "--search-vocab", min=1, help="Search held-out words among the first N target words.")),
    "seed": (int, typer.Option(0, "--seed", min=0, help="Seed of the held-out split.")),
}


@vectors_app.command("align")
@with_options(ALIGN_OPTIONS)
def align_command(
    source: str = typer.Argument(..., help="The vectors to rotate. " + _SOURCE_HELP),
    target: str = typer.Argument(..., help="The space to rotate onto. " + _SOURCE_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="Output directory (native format)."),
    overwrite: bool = OVERWRITE,
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
    *,
    options: dict,
) -> None:
    """Rotate SOURCE onto TARGET (orthogonal Procrustes) and report the fit and precision@1/@5."""
    check_output(output, overwrite=overwrite, directory=True)
    from veclift.vectors.ops.align import align

    aligned, report = align(_load(source), _load(target), **options)
    aligned.save(output, overwrite=overwrite)
    result = {"output": str(output), **report.to_dict()}
    _print_json(result) if json_output else _print_fields(result)


@vectors_app.command("combine")
def combine_command(
    sources: list[str] = typer.Argument(..., help="Two or more vector sets. " + _SOURCE_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="Output directory (native format)."),
    overwrite: bool = OVERWRITE,
    vocab: str = typer.Option("union", "--vocab", help="union or intersection of the vocabularies."),
    normalize: bool = typer.Option(True, "--normalize/--no-normalize", help="Unit-normalise each set's rows."),
    align: bool = typer.Option(False, "--align", help="Rotate every set onto the first (Procrustes, shared words)."),
    reduce_to: int | None = typer.Option(None, "--reduce", min=1, help="PCA each set to K dimensions first."),
    force: bool = typer.Option(False, "--force", help="Concatenate raw (not normalised) sets anyway."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Concatenate vector sets word by word; missing rows come from each set's OOV chain or zeros."""
    check_output(output, overwrite=overwrite, directory=True)
    from veclift.cli.console import out
    from veclift.vectors.ops.combine import combine

    combined, report = combine(
        [_load(s) for s in sources], vocab=vocab, normalize=normalize, align=align, reduce_to=reduce_to, force=force
    )
    combined.save(output, overwrite=overwrite)
    result = {"output": str(output), **report.to_dict()}
    if json_output:
        _print_json(result)
        return
    out.print(f"wrote {report.words:,} words x {report.dim} dimensions ({report.vocab}) to {output}", highlight=False)
    for s in report.sets:
        recovered = ", ".join(f"{k} {v:,}" for k, v in s.recovered.items()) or "none"
        out.print(
            f"  {s.source}: {s.dim} dims, known {s.known:,}, recovered by OOV {recovered}, zero-filled {s.zero_filled:,}",
            highlight=False,
        )


@vectors_app.command("reduce")
def reduce_command(
    source: str = typer.Argument(..., help=_SOURCE_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="Output directory (native format)."),
    overwrite: bool = OVERWRITE,
    dim: int | None = typer.Option(None, "--dim", min=1, help="Target dimension (PCA)."),
    remove_top: int = typer.Option(0, "--remove-top", min=0, help="Remove the mean and the top D principal components first."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the PCA solver."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """PCA to K dimensions, optionally after all-but-the-top post-processing (Mu & Viswanath 2018)."""
    check_output(output, overwrite=overwrite, directory=True)
    from veclift.vectors.ops.reduce import reduce

    reduced, report = reduce(_load(source), dim, remove_top=remove_top, seed=seed)
    reduced.save(output, overwrite=overwrite)
    result = {"output": str(output), **report.to_dict()}
    _print_json(result) if json_output else _print_fields(result)


@vectors_app.command("debias")
def debias_command(
    source: str = typer.Argument(..., help=_SOURCE_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="Output directory (native format)."),
    overwrite: bool = OVERWRITE,
    pairs: Path | None = typer.Option(None, "--pairs", help="Definitional pairs (JSON list or 'a b' lines); default he/she etc."),
    equalize: Path | None = typer.Option(None, "--equalize", help="Equalise pairs (same formats)."),
    specific: Path | None = typer.Option(None, "--specific", help="Words left untouched (word list)."),
    neutral: Path | None = typer.Option(None, "--neutral", help="Neutral words for the direct bias (word list); default occupations."),
    weat_file: Path | None = typer.Option(None, "--weat", help="WEAT tests (JSON); default WEAT 6, 7, 8."),
    similarity: list[Path] | None = typer.Option(None, "--similarity", help="Word-similarity files (default: the shared wordsim sets)."),
    permutations: int = typer.Option(10000, "--permutations", min=1, help="Permutations of the WEAT test."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the WEAT permutations."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Hard-debias (Bolukbasi et al. 2016) and report direct bias, WEAT and word similarity before/after."""
    check_output(output, overwrite=overwrite, directory=True)
    from veclift.vectors.evaluate import default_similarity_files
    from veclift.vectors.ops.debias import debias, read_pairs, read_weat_tests
    from veclift.vectors.wordlists import read_word_list

    debiased, report = debias(
        _load(source),
        definitional=read_pairs(pairs) if pairs else None,
        equalize=read_pairs(equalize) if equalize else None,
        specific=read_word_list(specific) if specific else None,
        neutral=read_word_list(neutral) if neutral else None,
        weat_tests=read_weat_tests(weat_file) if weat_file else None,
        similarity_files=similarity or default_similarity_files(),
        permutations=permutations,
        seed=seed,
    )
    debiased.save(output, overwrite=overwrite)
    if json_output:
        _print_json({"output": str(output), **report.to_dict()})
        return
    _print_debias_table(report, output)


def _print_debias_table(report, output: Path) -> None:
    from rich.table import Table

    from veclift.cli.console import out

    out.print(
        f"bias direction from {len(report.pairs_used)} pairs ({report.explained_variance[0]:.0%} of their variance); "
        f"{report.neutralized:,} words neutralised, {report.equalized} pairs equalised; wrote {output}",
        highlight=False,
    )
    table = Table("measure", "before", "after")
    table.add_row(f"direct bias ({report.neutral_words} neutral words)", *(f"{report.direct_bias[k]:.4f}" for k in ("before", "after")))
    for name, r in report.weat.items():
        table.add_row(
            f"{name}: effect (p)",
            *(f"{r[k]['effect_size']:+.3f} ({r[k]['p_value']:.4f})" for k in ("before", "after")),
        )
    for name, r in report.similarity.items():
        table.add_row(f"{name} Spearman ({r['before']['pairs']} pairs)", *(f"{r[k]['spearman']:.4f}" for k in ("before", "after")))
    out.print(table)


@vectors_app.command("plot")
def plot_command(
    source: str = typer.Argument(..., help=_SOURCE_HELP),
    words: list[str] | None = typer.Argument(None, help="Words to place on the map."),
    output: Path = typer.Option(..., "--output", "-o", help="Output .png or .html (interactive)."),
    overwrite: bool = OVERWRITE,
    words_file: Path | None = typer.Option(None, "--words-file", help="More words, whitespace separated."),
    neighbors_of: str | None = typer.Option(None, "--neighbors-of", help="Add a word and its nearest neighbours."),
    topn: int = typer.Option(30, "--topn", min=1, help="Neighbours added by --neighbors-of."),
    groups: Path | None = typer.Option(None, "--groups", help="Colour groups, one per line: 'name: word word ...'."),
    method: str = typer.Option("tsne", "--method", help="tsne or pca."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of t-SNE."),
) -> None:
    """A 2-D map of words (t-SNE or PCA), coloured by group, as PNG or interactive HTML."""
    check_output(output, overwrite=overwrite, directory=False)
    from veclift.cli.console import out
    from veclift.errors import VecliftError
    from veclift.vectors import plot
    from veclift.vectors.wordlists import read_groups, read_word_list

    vectors = _load(source)
    chosen = list(words or [])
    if words_file:
        chosen += read_word_list(words_file)
    if neighbors_of:
        chosen += plot.neighborhood(vectors, neighbors_of, topn)
    grouped = read_groups(groups) if groups else None
    if not chosen and not grouped:
        raise VecliftError("no words to plot: give WORDS, --words-file, --neighbors-of or --groups")
    word_map = plot.word_map(vectors, chosen, groups=grouped, method=method, seed=seed)
    plot.save(word_map, output, overwrite=overwrite)
    out.print(f"wrote a map of {len(word_map.words)} words to {output}", highlight=False)


@vectors_app.command("parallelogram")
def parallelogram_command(
    source: str = typer.Argument(..., help=_SOURCE_HELP),
    a: str = typer.Argument(..., help="A in 'A is to B as C is to D' (e.g. man)."),
    b: str = typer.Argument(..., help="B (e.g. woman)."),
    c: str = typer.Argument(..., help="C (e.g. king)."),
    d: str = typer.Argument(..., help="D (e.g. queen)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output .png or .html."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Draw the analogy "A is to B as C is to D" as a parallelogram (PCA plane of the four words)."""
    check_output(output, overwrite=overwrite, directory=False)
    from veclift.cli.console import out
    from veclift.vectors import plot

    word_map = plot.parallelogram(_load(source), a, b, c, d)
    plot.save(word_map, output, overwrite=overwrite)
    out.print(f"{word_map.title}\nwrote {output}", highlight=False)
