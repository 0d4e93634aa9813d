"""`veclift vectors neighbors|analogy|similarity|coverage|evaluate`: query, cover and evaluate vectors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from veclift.cli.console import out
from veclift.cli.vectors import vectors_app
from veclift.errors import VecliftError, warn

Source = Annotated[str, typer.Argument(help="Built-in name (glove-6b-50d), native directory or vector file.")]
Oov = Annotated[str, typer.Option("--oov", help="OOV strategies in order, e.g. 'lower,char-ngram' (or 'none').")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _open(source: str, oov: str = "none"):
    from veclift.vectors import Vectors

    return Vectors.load(source, oov=None if oov == "none" else oov)


def _unknown(exc: KeyError, vectors, words: Sequence[str], oov: str) -> VecliftError:
    """The failed lookup as one line; without ``--oov``, it names the strategy that would find the word."""
    message = exc.args[0] if exc.args else str(exc)
    missing = next((w for w in words if w not in vectors), None)
    if oov == "none" and missing is not None:
        message = f"{message}; {_oov_hint(vectors, missing)}"
    return VecliftError(message)


def _oov_hint(vectors, word: str) -> str:
    """``--oov lower`` when a case or digit variant of ``word`` has a row (saying so for lower-cased vectors),
    else ``--oov char-ngram``."""
    from veclift.vectors.oov import LowerFallback

    found = next((form for form in LowerFallback.variants(word) if vectors.has_row(form)), None)
    if found is None:
        return "try --oov char-ngram, which builds a vector from the spelling"
    cased = "these vectors are lower-cased: " if vectors.lowercase and found == word.lower() else ""
    return f"{cased}try --oov lower (it finds {found!r})"


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False))


@vectors_app.command()
def neighbors(
    source: Source,
    words: Annotated[list[str], typer.Argument(help="Query words.")],
    topn: Annotated[int, typer.Option(min=1, help="Neighbours per word.")] = 10,
    oov: Oov = "none",
    restrict: Annotated[int | None, typer.Option(min=1, help="Search only the first N words.")] = None,
    as_json: Json = False,
) -> None:
    """Nearest neighbours (cosine) of each word."""
    vectors = _open(source, oov)
    try:
        results = vectors.most_similar_many(words, topn=topn, restrict_vocab=restrict)
    except KeyError as exc:
        raise _unknown(exc, vectors, words, oov) from None
    if as_json:
        _print_json({w: [[n, round(s, 6)] for n, s in res] for w, res in zip(words, results)})
        return
    for word, res in zip(words, results):
        out.print(_ranked(f"nearest to {word!r}", "word", "cosine", res))


def _ranked(title: str, label: str, score_label: str, pairs: list[tuple[str, float]]) -> Table:
    """A numbered table of (word, score) pairs, best first."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column(label)
    table.add_column(score_label, justify="right")
    for rank, (word, score) in enumerate(pairs, 1):
        table.add_row(str(rank), word, f"{score:.4f}")
    return table


@vectors_app.command()
def analogy(
    source: Source,
    a: Annotated[str, typer.Argument(help="A (A is to B as C is to ?)")],
    b: Annotated[str, typer.Argument(help="B")],
    c: Annotated[str, typer.Argument(help="C")],
    topn: Annotated[int, typer.Option(min=1, help="Answers to show.")] = 5,
    method: Annotated[str, typer.Option(help="3cosadd or 3cosmul.")] = "3cosadd",
    oov: Oov = "none",
    restrict: Annotated[int | None, typer.Option(min=1, help="Search only the first N words.")] = None,
    as_json: Json = False,
) -> None:
    """A is to B as C is to ?"""
    from veclift.vectors.query import ANALOGY_METHODS

    if method.lower() not in ANALOGY_METHODS:
        raise VecliftError(f"unknown analogy method {method!r}; use one of {', '.join(ANALOGY_METHODS)}")
    vectors = _open(source, oov)
    try:
        answers = vectors.analogy(a, b, c, topn=topn, method=method, restrict_vocab=restrict)
    except KeyError as exc:
        raise _unknown(exc, vectors, [a, b, c], oov) from None
    if as_json:
        _print_json({"query": [a, b, c], "method": method.lower(), "answers": [[w, round(s, 6)] for w, s in answers]})
        return
    out.print(_ranked(f"{a} : {b} :: {c} : ?  ({method.lower()})", "answer", "score", answers))


@vectors_app.command()
def similarity(
    source: Source,
    w1: Annotated[str, typer.Argument(help="First word.")],
    w2: Annotated[str, typer.Argument(help="Second word.")],
    oov: Oov = "none",
    as_json: Json = False,
) -> None:
    """Cosine similarity of two words."""
    vectors = _open(source, oov)
    try:
        value = vectors.similarity(w1, w2)
    except KeyError as exc:
        raise _unknown(exc, vectors, [w1, w2], oov) from None
    if as_json:
        _print_json({"w1": w1, "w2": w2, "similarity": value})
    else:
        out.print(f"{value:.4f}")


@vectors_app.command()
def coverage(
    source: Source,
    data: Annotated[list[Path], typer.Argument(help="Text or CoNLL-like files.")],
    oov: Annotated[
        str | None, typer.Option("--oov", help="Strategies to count, e.g. 'lower,char-ngram' (default: all that apply).")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Most frequent missing words to list.")] = 20,
    as_json: Json = False,
) -> None:
    """Token and type coverage of data files, top missing words, what each OOV strategy recovers."""
    from veclift.vectors.coverage import coverage_of_files

    report = coverage_of_files(_open(source), data, strategies=oov, top=top)
    if as_json:
        _print_json(report.to_dict())
        return
    summary = Table(title="coverage", title_justify="left")
    for column in ("", "known", "total", "coverage"):
        summary.add_column(column, justify="right" if column else "left")
    summary.add_row("tokens", str(report.known_tokens), str(report.tokens), f"{report.token_coverage:.1%}")
    summary.add_row("types", str(report.known_types), str(report.types), f"{report.type_coverage:.1%}")
    out.print(summary)
    missing_tokens = report.tokens - report.known_tokens
    if report.recovered:
        recovered = Table(title="missing words each OOV strategy recovers", title_justify="left")
        for column in ("strategy", "types", "tokens", "of missing tokens"):
            recovered.add_column(column, justify="left" if column == "strategy" else "right")
        for name, counts in report.recovered.items():
            share = counts["tokens"] / missing_tokens if missing_tokens else 0.0
            recovered.add_row(name, str(counts["types"]), str(counts["tokens"]), f"{share:.1%}")
        out.print(recovered)
    if report.missing:
        table = Table(title="most frequent missing words", title_justify="left")
        table.add_column("word")
        table.add_column("count", justify="right")
        for word, count in report.missing:
            table.add_row(word, str(count))
        out.print(table)
    for message in report.warnings:
        warn(message)


@vectors_app.command()
def evaluate(
    source: Source,
    similarity_files: Annotated[
        list[Path] | None, typer.Option("--similarity", help="Word-similarity file(s): 'w1 w2 score' per line.")
    ] = None,
    analogy_file: Annotated[Path | None, typer.Option("--analogy", help="Analogy questions (Google format).")] = None,
    restrict: Annotated[int, typer.Option(min=1, help="Analogy: questions and answers within the first N words.")] = 30000,
    method: Annotated[str, typer.Option(help="Analogy method: 3cosadd or 3cosmul.")] = "3cosadd",
    oov: Annotated[str, typer.Option("--oov", help="Fill similarity pairs with unknown words by these strategies.")] = "none",
    lowercase: Annotated[
        bool | None,
        typer.Option("--lowercase/--keep-case", help="Lower-case the test words (default: when the vectors are)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Word-similarity Spearman and analogy accuracy (defaults: the sets in ../shared/data)."""
    from veclift.vectors.evaluate import (
        default_analogy_file,
        default_similarity_files,
        evaluate_analogy,
        evaluate_similarity,
        shared_data_dir,
    )
    from veclift.vectors.query import ANALOGY_METHODS

    if method.lower() not in ANALOGY_METHODS:
        raise VecliftError(f"unknown analogy method {method!r}; use one of {', '.join(ANALOGY_METHODS)}")
    if not similarity_files and analogy_file is None:
        similarity_files = default_similarity_files()
        analogy_file = default_analogy_file()
        if not similarity_files and analogy_file is None:
            raise VecliftError(
                f"no evaluation sets found in {shared_data_dir()}: pass --similarity FILE... and/or --analogy FILE"
            )
    vectors = _open(source, oov)
    fill = oov != "none"
    sims = [evaluate_similarity(vectors, path, lowercase=lowercase, fill_oov=fill) for path in similarity_files or []]
    analogies = None
    if analogy_file is not None:
        analogies = evaluate_analogy(vectors, analogy_file, restrict_vocab=restrict, method=method, lowercase=lowercase)
    result = {
        "similarity": {s.name: s.to_dict() for s in sims},
        "analogy": None if analogies is None else analogies.to_dict(),
    }
    if as_json:
        for entry in result["similarity"].values():
            entry.pop("name")
        _print_json(result)
        return
    if sims:
        table = Table(title="word similarity (Spearman)", title_justify="left")
        for column in ("set", "spearman", "pairs", "oov", "filled"):
            table.add_column(column, justify="left" if column == "set" else "right")
        for s in sims:
            table.add_row(s.name, f"{s.spearman:.3f}", f"{s.pairs}/{s.total}", str(s.oov), str(s.filled))
        out.print(table)
    if analogies is not None:
        table = Table(
            title=f"analogy ({analogies.method}, restrict {analogies.restrict}, {analogies.skipped} questions skipped)",
            title_justify="left",
        )
        for column in ("section", "accuracy", "correct", "questions"):
            table.add_column(column, justify="left" if column == "section" else "right")
        for name, entry in analogies.sections.items():
            table.add_row(name, f"{entry['accuracy']:.1%}", str(entry["correct"]), str(entry["questions"]))
        table.add_row("total", f"{analogies.accuracy:.1%}", str(analogies.correct), str(analogies.questions), style="bold")
        out.print(table)
