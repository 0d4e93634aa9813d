"""Open any vector source by name or path, and save to any supported format."""

from __future__ import annotations

from pathlib import Path

from veclift.errors import VecliftError
from veclift.vectors.builtin import BUILTIN, load_builtin
from veclift.vectors.core import Vectors
from veclift.vectors.formats.native import is_native, read_native, write_native
from veclift.vectors.formats.rows import check_nonfinite_option

SAVE_FORMATS = ("native", "word2vec", "word2vec-binary", "glove")


def load_vectors(
    source: str | Path,
    *,
    format: str | None = None,
    max_words: int | None = None,
    progress: bool = True,
    allow_pickle: bool = False,
    nonfinite: str = "error",
) -> Vectors:
    """A built-in name, a downloaded named source, a native directory, or a vector file.

    ``allow_pickle``: unpickle a gensim ``.kv``/``.model`` file (only for files you trust: a pickle can
    run code). ``nonfinite``: ``"error"`` on a row with a NaN or infinity, or ``"drop"`` such rows with a warning.
    """
    check_nonfinite_option(nonfinite)
    name = str(source)
    if name in BUILTIN:
        return load_builtin(name, max_words=max_words)
    from veclift.vectors.download import REMOTE, cached_path

    if name in REMOTE and not Path(name).exists():
        cached = cached_path(name)
        if cached is None:
            raise VecliftError(f"{name!r} is not downloaded yet: run `veclift vectors download {name}`")
        source = cached
    path = Path(source)
    from veclift.vectors.formats.detect import read_vector_file
    from veclift.vectors.formats.spacy_vectors import is_spacy_package

    if not path.exists() and (format == "spacy" or is_spacy_package(name)):
        return read_vector_file(name, format="spacy", max_words=max_words, progress=progress, nonfinite=nonfinite)
    if not path.exists():
        known = ", ".join(sorted(BUILTIN) + sorted(REMOTE))
        raise VecliftError(f"no such file or directory, and not a known vector name ({known})", path)
    if is_native(path) and format in (None, "native"):
        return read_native(path, max_words=max_words, nonfinite=nonfinite)
    return read_vector_file(
        path, format=format, max_words=max_words, progress=progress, allow_pickle=allow_pickle, nonfinite=nonfinite
    )


def save_vectors(vectors: Vectors, path: str | Path, *, format: str = "native", overwrite: bool = False) -> Path:
    if format == "native":
        return write_native(vectors, path, overwrite=overwrite)
    if format not in SAVE_FORMATS:
        raise VecliftError(f"unknown output format {format!r} (choose from {', '.join(SAVE_FORMATS)})")
    from veclift.vectors.formats.detect import write_vector_file

    return write_vector_file(vectors, path, format=format, overwrite=overwrite)
