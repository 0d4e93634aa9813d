"""Open any vector source by name or path, and save to any registered format."""

from __future__ import annotations

from pathlib import Path

from veclift.errors import VecliftError
from veclift.vectors.builtin import BUILTIN, load_builtin
from veclift.vectors.core import Vectors
from veclift.vectors.formats.registry import ReadOptions, detect_format, get_format


def load_vectors(source: str | Path, format: str | None = None, options: ReadOptions = ReadOptions()) -> Vectors:
    """A built-in name, a downloaded named source, an installed spaCy pipeline, or a file or directory in a
    registered format: ``format`` (a name or alias), else the one `detect_format` finds."""
    name = str(source)
    if name in BUILTIN:
        return load_builtin(name, max_words=options.max_words)
    from veclift.vectors.download import REMOTE, cached_path

    if name in REMOTE and not Path(name).exists():
        cached = cached_path(name)
        if cached is None:
            raise VecliftError(f"{name!r} is not downloaded yet: run `veclift vectors download {name}`")
        source = cached
    path = Path(source)
    if not path.exists():
        from veclift.vectors.formats.spacy_vectors import is_spacy_package

        if format == "spacy" or is_spacy_package(name):
            return get_format("spacy").read(name, options)
        known = ", ".join(sorted(BUILTIN) + sorted(REMOTE))
        raise VecliftError(f"no such file or directory, and not a known vector name ({known})", path)
    return get_format(format or detect_format(path)).read(path, options)


def save_vectors(vectors: Vectors, path: str | Path, format: str = "native", *, overwrite: bool = False) -> Path:
    """Write ``vectors`` atomically in a registered format that has a writer."""
    return get_format(format, write=True).write(vectors, Path(path), overwrite=overwrite)
