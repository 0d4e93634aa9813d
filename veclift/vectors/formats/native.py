"""veclift's native format: a directory with ``vectors.npy``, ``words.txt`` and ``meta.json``.

A ``subwords/`` subdirectory, when present, holds the fastText n-gram model (see `SubwordModel`).

Opens memory-mapped in milliseconds; ``meta.json`` records dim, count, source, the matrix's
SHA-256 and whether rows are unit-normalised.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from veclift.atomic import atomic_path
from veclift.errors import VecliftError
from veclift.vectors.core import Vectors

MATRIX, WORDS, META, SUBWORDS = "vectors.npy", "words.txt", "meta.json", "subwords"


def is_native(path: Path) -> bool:
    return path.is_dir() and (path / MATRIX).is_file() and (path / WORDS).is_file()


def matrix_sha256(matrix: np.ndarray) -> str:
    digest = hashlib.sha256()
    step = max(1, (1 << 24) // max(1, matrix.shape[1] * 4))
    for start in range(0, matrix.shape[0], step):
        digest.update(np.ascontiguousarray(matrix[start : start + step], dtype=np.float32).tobytes())
    return digest.hexdigest()


def read_native(path: str | Path, max_words: int | None = None) -> Vectors:
    path = Path(path)
    try:
        matrix = np.load(path / MATRIX, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise VecliftError(f"cannot open the matrix: {exc}", path / MATRIX) from None
    try:
        words = (path / WORDS).read_bytes().decode("utf-8").split("\n")  # faster than read_text on 400k words
    except UnicodeDecodeError as exc:
        raise VecliftError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", path / WORDS) from None
    if words and words[-1] == "":
        words.pop()
    meta = json.loads((path / META).read_text(encoding="utf-8")) if (path / META).is_file() else {}
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise VecliftError(f"{len(words)} words but the matrix has shape {matrix.shape}", path / WORDS)
    if matrix.dtype != np.float32:
        raise VecliftError(f"matrix dtype is {matrix.dtype}, expected float32", path / MATRIX)
    if max_words is not None and max_words < len(words):
        words, matrix = words[:max_words], matrix[:max_words]
    subwords = None
    if (path / SUBWORDS).is_dir():
        from veclift.vectors.subword import SubwordModel

        subwords = SubwordModel.load(path / SUBWORDS)
    return Vectors(words, matrix, subwords=subwords, source=meta.get("source", str(path)), meta=meta)


def write_native(vectors: Vectors, path: str | Path, *, source: str | None = None) -> Path:
    """Write atomically: the directory appears complete or not at all."""
    path = Path(path)
    bad = [w for w in vectors.words[:] if "\n" in w or "\r" in w]
    if bad:
        raise VecliftError(f"word {bad[0]!r} contains a line break and cannot be stored", path)
    meta = {
        **{k: v for k, v in vectors.meta.items() if k not in {"dim", "count", "sha256", "file"}},
        "format": "veclift-native/1",
        "dim": vectors.dim,
        "count": len(vectors),
        "source": source or vectors.source,
        "sha256": matrix_sha256(vectors.matrix),
        "normalized": bool(vectors.meta.get("normalized", False)),
        "subwords": vectors.subwords is not None,
    }
    with atomic_path(path, directory=True) as tmp:
        np.save(tmp / MATRIX, np.ascontiguousarray(vectors.matrix, dtype=np.float32))
        (tmp / WORDS).write_text("".join(w + "\n" for w in vectors.words), encoding="utf-8")
        (tmp / META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if vectors.subwords is not None:
            vectors.subwords.save(tmp / SUBWORDS)
    return path
