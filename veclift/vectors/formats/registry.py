"""The vector formats veclift reads and writes: each format module registers one `VectorFormat`.

Detection of a path without an explicit format: a file whose suffix (after ``.gz``/``.bz2``) a
format claims is that format; otherwise each format's ``sniff`` looks at the first bytes of a file
(decompressed) or ``sniff_dir`` at a directory, in registration order; a file no format recognises
is read by the ``fallback`` format. The built-in formats sniff content only, so a file's name never
changes how it is read: a fastText magic number is a fastText ``.bin``; a pickle is gensim (only
ever unpickled when the caller allows it, see `read_gensim`); a ``COUNT DIM`` first line is
word2vec, text when the next line parses as ``word`` + numbers, else binary; anything else is
GloVe text. A directory is veclift's native format or a spaCy pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from veclift.errors import VecliftError
from veclift.vectors.formats.compression import open_for_reading, strip_compression
from veclift.vectors.formats.rows import check_nonfinite_option

if TYPE_CHECKING:
    from veclift.vectors.core import Vectors

HEAD_BYTES = 1 << 16
# The built-in formats, in detection order (before any registered from elsewhere), and the module of
# each: imported, and so registered, on first use.
BUILTIN = {"native": "native", "spacy": "spacy_vectors", "fasttext-bin": "fasttext", "gensim": "gensim_kv",
           "word2vec": "text", "glove": "text", "word2vec-binary": "binary"}  # fmt: skip


@dataclass(frozen=True)
class ReadOptions:
    """What every reader is told: rows to keep, whether to show progress, what to do with NaN/inf rows
    (``"error"`` or ``"drop"``), and whether a gensim pickle may be unpickled."""

    max_words: int | None = None
    progress: bool = True
    nonfinite: str = "error"
    allow_pickle: bool = False

    def __post_init__(self) -> None:
        check_nonfinite_option(self.nonfinite)
        if self.max_words is not None and self.max_words < 1:
            raise VecliftError(f"max_words must be at least 1, got {self.max_words}")


@dataclass(frozen=True)
class VectorFormat:
    """One on-disk format: its name, its reader and writer (None where it has none) and how to recognise it.

    ``read(path, options)`` gets a `Path` (or, for spaCy, the name of an installed pipeline);
    ``write(vectors, path, overwrite=...)`` writes atomically and returns the path.
    """

    name: str
    description: str
    read: Callable[[Path | str, ReadOptions], Vectors] | None = None
    write: Callable[..., Path] | None = None
    suffixes: tuple[str, ...] = ()
    sniff: Callable[[bytes], bool] | None = None
    sniff_dir: Callable[[Path], bool] | None = None
    aliases: tuple[str, ...] = ()
    fallback: bool = False


_FORMATS: dict[str, VectorFormat] = {}
_ALIASES: dict[str, str] = {}
_loaded = False


def register(fmt: VectorFormat) -> VectorFormat:
    """Add ``fmt`` (replacing a format of the same name); its name and aliases must not name another format."""
    for name in (fmt.name, *fmt.aliases):
        if _ALIASES.get(name, fmt.name) != fmt.name:
            raise ValueError(f"vector format name {name!r} is already taken by {_ALIASES[name]!r}")
    unregister(fmt.name)
    _FORMATS[fmt.name] = fmt
    _ALIASES.update(dict.fromkeys((fmt.name, *fmt.aliases), fmt.name))
    return fmt


def unregister(name: str) -> None:
    """Remove the format ``name`` and its aliases (nothing happens when it is not registered)."""
    fmt = _FORMATS.pop(name, None)
    for alias in (name, *fmt.aliases) if fmt else ():
        _ALIASES.pop(alias, None)


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        import importlib

        _loaded = True  # first: each module registers its formats while it is imported
        for module in dict.fromkeys(BUILTIN.values()):
            importlib.import_module(f"veclift.vectors.formats.{module}")


def formats() -> list[VectorFormat]:
    """Every registered format in detection order: the built-in ones, then the others as registered."""
    _load_builtins()
    order = list(BUILTIN)
    return sorted(_FORMATS.values(), key=lambda f: order.index(f.name) if f.name in BUILTIN else len(order))


def writable() -> list[str]:
    """The names of the formats veclift can write."""
    return [f.name for f in formats() if f.write is not None]


def get_format(name: str, *, write: bool = False) -> VectorFormat:
    """The format called ``name`` (or one of its aliases) that can read, or with ``write`` can write."""
    fmt = next((f for f in formats() if f.name == _ALIASES.get(name)), None)
    if write:
        if fmt is None or fmt.write is None:
            problem = f"unknown output format {name!r}" if fmt is None else f"veclift reads but does not write {name!r}"
            raise VecliftError(f"{problem} (choose from {', '.join(writable())})")
    elif fmt is None or fmt.read is None:
        readable = [f.name for f in formats() if f.read is not None]
        raise VecliftError(f"unknown or unsupported vector format {name!r} (choose from {', '.join(readable)})")
    return fmt


def detect_format(path: Path) -> str:
    """The name of the format of a file or directory, from its suffix or content."""
    candidates = formats()
    if path.is_dir():
        for fmt in candidates:
            if fmt.sniff_dir is not None and fmt.sniff_dir(path):
                return fmt.name
        raise VecliftError("directory is neither veclift native vectors nor a spaCy pipeline", path)
    with open_for_reading(path) as (stream, _):
        head = stream.read(HEAD_BYTES)
    if not head.strip():
        raise VecliftError("empty file: no vectors", path)
    suffix = strip_compression(path).suffix.lower()
    for fmt in candidates:
        if suffix in fmt.suffixes:
            return fmt.name
    for fmt in candidates:
        if fmt.sniff is not None and fmt.sniff(head):
            return fmt.name
    return next(fmt.name for fmt in candidates if fmt.fallback)
