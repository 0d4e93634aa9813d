"""The static vectors of an installed spaCy pipeline (a package name or a pipeline directory).

spaCy is optional: it is imported only here, and only when asked for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.formats.registry import ReadOptions, VectorFormat, register
from veclift.vectors.formats.rows import FiniteCheck


def is_spacy_pipeline(path: Path) -> bool:
    return path.is_dir() and (path / "config.cfg").is_file() and (path / "meta.json").is_file()


def is_spacy_package(name: str) -> bool:
    """An installed Python package that looks like a spaCy pipeline, e.g. ``es_core_news_md``."""
    import importlib.util

    return name.isidentifier() and "_" in name and importlib.util.find_spec(name) is not None


def read_spacy(source: str | Path, options: ReadOptions) -> Vectors:
    """Rows of ``nlp.vocab.vectors`` in row order, each named by its key's string; ``source`` is a
    pipeline directory or the name of an installed pipeline package."""
    try:
        import spacy
    except ImportError:
        raise VecliftError("reading spaCy vectors needs spaCy: pip install spacy", source) from None
    try:
        nlp = spacy.load(source, exclude=["tagger", "parser", "ner", "lemmatizer", "attribute_ruler", "senter"])
    except (OSError, ValueError, ImportError) as exc:
        raise VecliftError(f"cannot load the spaCy pipeline: {exc}", source) from None
    table = nlp.vocab.vectors
    if getattr(table, "mode", "default") != "default":
        raise VecliftError(f"spaCy vectors in {table.mode!r} mode are not supported (only a plain table)", source)
    strings = nlp.vocab.strings
    words_by_row: dict[int, str] = {}
    for key, row in table.key2row.items():
        if key in strings:
            words_by_row.setdefault(int(row), strings[key])
    rows = sorted(words_by_row)
    if options.max_words is not None:
        rows = rows[: options.max_words]
    if not rows:
        raise VecliftError("the pipeline has no word vectors", source)
    matrix = np.asarray(table.data[rows], dtype=np.float32)
    finite = FiniteCheck(Path(str(source)), options.nonfinite)
    finite.check(matrix)
    words, matrix = finite.apply([words_by_row[r] for r in rows], matrix)
    name = nlp.meta.get("name", "")
    source_name = f"{nlp.meta.get('lang', '')}_{name}" if name else str(source)
    return Vectors(words, matrix, source=source_name, meta={"format": "spacy", "file": str(source)})


register(VectorFormat("spacy", "the static vectors of a spaCy pipeline (a directory or an installed package)",
                      read=read_spacy, sniff_dir=is_spacy_pipeline))  # fmt: skip
