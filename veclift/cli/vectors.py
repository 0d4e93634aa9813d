"""`veclift vectors ...`: open, inspect, convert and download vector sets."""

from __future__ import annotations

import typer

from veclift.atomic import check_output
from veclift.cli import app
from veclift.cli.options import ALLOW_PICKLE, OVERWRITE
from veclift.vectors.formats.registry import writable

vectors_app = typer.Typer(help="Inspect, query, evaluate and convert word vectors.", no_args_is_help=True)
app.add_typer(vectors_app, name="vectors")


def _size_on_disk(source: str) -> int | None:
    """Bytes on disk of a file, a native directory, a built-in set's cache or a downloaded source."""
    from pathlib import Path

    from veclift.vectors.builtin import BUILTIN, builtin_path
    from veclift.vectors.download import REMOTE, cached_path

    path = Path(source)
    if not path.exists() and source in BUILTIN:
        path = builtin_path(source)
    elif not path.exists() and source in REMOTE:
        path = cached_path(source) or path
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return None


@vectors_app.command("info")
def info(
    source: str = typer.Argument(..., help="Built-in name, native directory or vector file."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
    max_words: int | None = typer.Option(None, "--max-words", min=1, help="Read only the first N words."),
    format: str | None = typer.Option(None, "--format", help="Input format (default: detected)."),
    allow_pickle: bool = ALLOW_PICKLE,
) -> None:
    """Count, dimension, format, subwords, size on disk, load time and sample words."""
    import json
    import time

    from veclift.cli.console import out
    from veclift.vectors import Vectors

    start = time.perf_counter()
    vectors = Vectors.load(source, format=format, max_words=max_words, progress=not json_output, allow_pickle=allow_pickle)
    seconds = time.perf_counter() - start
    report = {
        "count": len(vectors),
        "dim": vectors.dim,
        "source": vectors.source,
        "format": vectors.meta.get("format", "native"),
        "subwords": vectors.subwords is not None,
        "size_bytes": _size_on_disk(source),
        "load_seconds": round(seconds, 4),
        "sample": list(vectors.words[:10]),
    }
    if json_output:
        print(json.dumps(report, ensure_ascii=False))
        return
    for key, value in report.items():
        shown = ", ".join(value) if key == "sample" else f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
        out.print(f"{key:>12}: {shown}", highlight=False)


@vectors_app.command("convert")
def convert(
    source: str = typer.Argument(..., help="Built-in name, native directory or vector file."),
    output: str = typer.Argument(..., help="Output directory (native) or file (.gz/.bz2 compress)."),
    to: str = typer.Option("native", "--to", help=f"Output format: {', '.join(writable())}."),
    max_words: int | None = typer.Option(None, "--max-words", min=1, help="Keep only the first N words."),
    format: str | None = typer.Option(None, "--format", help="Input format (default: detected)."),
    allow_pickle: bool = ALLOW_PICKLE,
    overwrite: bool = OVERWRITE,
) -> None:
    """Write vectors in another format (atomically)."""
    from veclift.cli.console import out
    from veclift.vectors import Vectors
    from veclift.vectors.formats.registry import get_format

    writer = get_format(to, write=True)
    check_output(output, overwrite=overwrite, directory=writer.sniff_dir is not None)  # a directory format writes one
    vectors = Vectors.load(source, format=format, max_words=max_words, allow_pickle=allow_pickle)
    path = vectors.save(output, format=to, overwrite=overwrite)
    out.print(f"wrote {len(vectors):,} x {vectors.dim} vectors to {path} ({writer.name})", highlight=False)


@vectors_app.command("download")
def download(
    name: str = typer.Argument(..., help="A named source (see `veclift vectors sources`) or an http(s) URL."),
    sha256: str | None = typer.Option(None, "--sha256", help="Expected SHA-256 of the downloaded file."),
) -> None:
    """Download a named vector set (resumable, verified) into the cache and print its path."""
    from veclift.cli.console import out
    from veclift.vectors.download import download as fetch

    out.print(str(fetch(name, sha256=sha256)), highlight=False)


@vectors_app.command("sources")
def sources(json_output: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """List the named remote vector sets and whether each is downloaded."""
    import json

    from veclift.cli.console import out
    from veclift.vectors.download import REMOTE, cached_path

    listing = {name: {**spec, "downloaded": str(cached_path(name) or "")} for name, spec in REMOTE.items()}
    if json_output:
        print(json.dumps(listing))
        return
    for name, spec in listing.items():
        mark = "downloaded" if spec["downloaded"] else "-"
        out.print(f"{name:32} {spec['format']:16} {mark:10} {spec['description']}", highlight=False)
