"""Pick the reader for a vector file from its content (or an explicit format name), and the writer by name.

Detection: a fastText magic number => fastText ``.bin``; a pickle => gensim, which is only ever
unpickled when the caller allows it and the name is gensim's own (see `read_gensim`); a ``COUNT DIM``
first line => word2vec, text when the next line parses as ``word`` + numbers (the text reader then
names a row whose count differs from DIM), else binary; otherwise GloVe text. A directory with ``config.cfg`` and ``meta.json`` is a spaCy pipeline. Compression
(``.gz``, ``.bz2``) is by suffix and transparent.
"""

from __future__ import annotations

from pathlib import Path

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.formats.compression import open_for_reading
from veclift.vectors.formats.rows import check_nonfinite_option

READ_FORMATS = ("glove", "word2vec", "word2vec-binary", "fasttext-bin", "gensim", "spacy")
WRITE_FORMATS = ("glove", "word2vec", "word2vec-binary")
ALIASES = {"fasttext-vec": "word2vec", "vec": "word2vec", "fasttext": "fasttext-bin", "word2vec-bin": "word2vec-binary"}
HEAD_BYTES = 1 << 16


def canonical_format(format: str, choices: tuple[str, ...] = READ_FORMATS) -> str:
    name = ALIASES.get(format, format)
    if name not in choices:
        raise VecliftError(f"unknown or unsupported vector format {format!r} (choose from {', '.join(choices)})")
    return name


def _head(path: Path) -> bytes:
    with open_for_reading(path) as (stream, _):
        return stream.read(HEAD_BYTES)


def detect_format(path: Path) -> str:
    """The format name of a file or directory, from its content."""
    from veclift.vectors.formats.fasttext import is_fasttext_bin
    from veclift.vectors.formats.gensim_kv import is_pickle
    from veclift.vectors.formats.spacy_vectors import is_spacy_pipeline
    from veclift.vectors.formats.text import parse_header

    if path.is_dir():
        if is_spacy_pipeline(path):
            return "spacy"
        raise VecliftError("directory is neither veclift native vectors nor a spaCy pipeline", path)
    head = _head(path)
    if not head.strip():
        raise VecliftError("empty file: no vectors", path)
    if is_fasttext_bin(head):
        return "fasttext-bin"
    if is_pickle(head):
        return "gensim"
    first, _, rest = head.partition(b"\n")
    declared = parse_header(first)
    if declared is None:
        return "glove"
    second = rest.split(b"\n", 1)[0].split()
    try:
        [float(v) for v in second[1:][-declared[1] :]]  # a word may contain spaces: look at the values only
    except ValueError:
        return "word2vec-binary"
    return "word2vec" if len(second) > 1 else "word2vec-binary"


def read_vector_file(
    path: str | Path,
    format: str | None = None,
    max_words: int | None = None,
    progress: bool = True,
    *,
    allow_pickle: bool = False,
    nonfinite: str = "error",
) -> Vectors:
    """Read a vector file (or spaCy pipeline) in the given or detected format.

    ``allow_pickle``: unpickle a gensim ``.kv``/``.model`` file (a pickle can run code: only for trusted
    files). ``nonfinite``: ``"error"`` for a row with a NaN or infinity, or ``"drop"`` such rows with a warning.
    """
    from veclift.vectors.formats.spacy_vectors import is_spacy_package

    check_nonfinite_option(nonfinite)
    name = canonical_format(format) if format else None
    if not Path(path).exists() and (name == "spacy" or (name is None and is_spacy_package(str(path)))):
        from veclift.vectors.formats.spacy_vectors import read_spacy

        return read_spacy(str(path), max_words=max_words, progress=progress, nonfinite=nonfinite)
    path = Path(path)
    if not path.exists():
        raise VecliftError("no such file or directory", path)
    name = name or detect_format(path)
    if name in ("glove", "word2vec"):
        from veclift.vectors.formats.text import read_text

        return read_text(path, header=name == "word2vec", max_words=max_words, progress=progress, nonfinite=nonfinite)
    if name == "word2vec-binary":
        from veclift.vectors.formats.binary import read_word2vec_binary

        return read_word2vec_binary(path, max_words=max_words, progress=progress, nonfinite=nonfinite)
    if name == "fasttext-bin":
        from veclift.vectors.formats.fasttext import read_fasttext_bin

        return read_fasttext_bin(path, max_words=max_words, nonfinite=nonfinite)
    if name == "gensim":
        from veclift.vectors.formats.gensim_kv import read_gensim

        return read_gensim(path, max_words=max_words, allow_pickle=allow_pickle, nonfinite=nonfinite)
    from veclift.vectors.formats.spacy_vectors import read_spacy

    return read_spacy(path, max_words=max_words, progress=progress, nonfinite=nonfinite)


def write_vector_file(vectors: Vectors, path: str | Path, format: str, *, overwrite: bool = False) -> Path:
    """Write ``glove``, ``word2vec`` (text) or ``word2vec-binary`` atomically (``.gz``/``.bz2`` by suffix)."""
    name = canonical_format(format, WRITE_FORMATS)
    path = Path(path)
    if name == "word2vec-binary":
        from veclift.vectors.formats.binary import write_word2vec_binary

        return write_word2vec_binary(vectors, path, overwrite=overwrite)
    from veclift.vectors.formats.text import write_text

    return write_text(vectors, path, header=name == "word2vec", overwrite=overwrite)
