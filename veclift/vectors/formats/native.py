"""veclift's native format: a directory with ``vectors.npy``, ``words.txt``, ``norms.npy`` and ``meta.json``.

A ``subwords/`` subdirectory, when present, holds the fastText n-gram model (see `SubwordModel`).

Opens memory-mapped in milliseconds; ``norms.npy`` holds each row's length, so queries need no
pass over the matrix first (a directory written before veclift stored them still opens: its norms
are computed once per object). ``meta.json`` records dim, count, source, the matrix's SHA-256 and
whether rows are unit-normalised. A directory may come from anyone: every file must stay inside it
(no links out), the arrays are plain float32 ``.npy`` (never unpickled), the matrix is checked for
NaN/inf, and the words, norms, metadata and subwords must agree with it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from veclift.atomic import atomic_path
from veclift.confined import resolved_inside
from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.formats.registry import ReadOptions, VectorFormat, register
from veclift.vectors.formats.rows import FiniteCheck, load_matrix
from veclift.vectors.normalize import row_norms

if TYPE_CHECKING:
    from veclift.vectors.subword import SubwordModel

MATRIX, WORDS, META, SUBWORDS, NORMS = "vectors.npy", "words.txt", "meta.json", "subwords", "norms.npy"
NORM_CHECKS = 64  # rows, spread over the matrix, whose stored norm is compared with their own at each open


def is_native(path: Path) -> bool:
    return path.is_dir() and (path / MATRIX).is_file() and (path / WORDS).is_file()


def matrix_sha256(matrix: np.ndarray) -> str:
    digest = hashlib.sha256()
    step = max(1, (1 << 24) // max(1, matrix.shape[1] * 4))
    for start in range(0, matrix.shape[0], step):
        digest.update(np.ascontiguousarray(matrix[start : start + step], dtype=np.float32).tobytes())
    return digest.hexdigest()


META_TYPES = {"format": str, "source": str, "dim": int, "count": int, "sha256": str, "normalized": bool, "subwords": bool, "lowercase": bool}  # fmt: skip


def _read_meta(path: Path) -> dict:
    """``meta.json`` as a dict ({} when absent), its known fields of the right types and a 64-hex-digit digest."""
    file = path / META
    if not file.is_file():
        return {}
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        problem = " ".join(str(exc).split())
        raise VecliftError(f"cannot read the vectors' metadata ({problem}): fix or delete this file", file, getattr(exc, "lineno", None)) from None
    if not isinstance(meta, dict):
        raise VecliftError("the vectors' metadata must be a JSON object: fix or delete this file", file)
    for key, kind in META_TYPES.items():
        value = meta.get(key)
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            found = f"must be a {kind.__name__}, found {value!r}"
            raise VecliftError(f"vectors metadata field {key!r} {found}: fix or delete this file", file)
    if meta.get("sha256") is not None and not re.fullmatch(r"[0-9a-f]{64}", meta["sha256"]):
        raise VecliftError("vectors metadata field 'sha256' is not a SHA-256 hex digest: fix or delete this file", file)
    return meta


def _read_words(file: Path) -> list[str]:
    """One word per line, strict UTF-8."""
    try:
        words = file.read_bytes().decode("utf-8").split("\n")  # faster than read_text on 400k words
    except OSError as exc:
        raise VecliftError(f"cannot read: {exc.strerror or exc}", file) from None
    except UnicodeDecodeError as exc:
        raise VecliftError(f"not valid UTF-8 ({exc.reason} at byte {exc.start}): write the vectors again with veclift", file) from None
    if words and words[-1] == "":
        words.pop()
    return words


def _read_norms(path: Path, count: int, matrix: np.ndarray, *, every_row: bool) -> np.ndarray | None:
    """The stored norms of the ``count`` rows, memory-mapped, cut to those of ``matrix`` (None when the
    directory has none): finite, not negative, and equal to the rows' own: every row's for a folder
    from elsewhere, `NORM_CHECKS` rows' for veclift's own cache."""
    if not (path / NORMS).is_file():
        return None
    norms = load_matrix(resolved_inside(path, NORMS), ndim=1)
    redo = "delete the file (veclift then computes the norms) or write the vectors again"
    if norms.shape != (count,):
        raise VecliftError(f"{len(norms)} row norms for {count} rows: {redo}", path / NORMS)
    norms = norms[: len(matrix)]
    rows = (np.arange(len(matrix)) if every_row
            else np.unique(np.linspace(0, len(matrix) - 1, min(NORM_CHECKS, len(matrix))).astype(np.int64)))  # fmt: skip
    if not (np.isfinite(norms).all() and (norms >= 0).all() and np.allclose(norms[rows], row_norms(matrix[rows]), rtol=1e-5)):
        raise VecliftError(f"the row norms do not match the matrix: {redo}", path / NORMS)
    return norms


def add_norms(path: str | Path) -> None:
    """Store the row norms in a native directory written before veclift kept them (the file appears atomically)."""
    path = Path(path)
    norms = row_norms(load_matrix(resolved_inside(path, MATRIX)))
    with atomic_path(path / NORMS, overwrite=True) as tmp, open(tmp, "wb") as out:
        np.save(out, np.asarray(norms, dtype=np.float32))


def _read_subwords(path: Path, dim: int) -> SubwordModel:
    """The ``subwords/`` n-gram model, its files inside the directory and its dimension that of the words."""
    from veclift.vectors.subword import CONFIG, NGRAMS, SubwordModel

    for name in (CONFIG, NGRAMS):
        resolved_inside(path, f"{SUBWORDS}/{name}")
    subwords = SubwordModel.load(path / SUBWORDS)
    if subwords.dim != dim:
        raise VecliftError(f"n-gram vectors have {subwords.dim} dimensions, the word vectors {dim}", path / SUBWORDS)
    return subwords


def read_native(path: str | Path, options: ReadOptions = ReadOptions(), *, trusted: bool = False) -> Vectors:
    """Open memory-mapped, after checking every file: links stay inside, types, shapes, counts, finite values.

    The NaN/inf check reads the whole matrix once (about 40 ms for GloVe 6B 50d when cached), so a directory
    from elsewhere is caught here rather than trusted; ``nonfinite="drop"`` copies the finite rows into memory.
    ``trusted``: a directory veclift wrote into its own cache (the writer refuses NaN/inf), not checked again.
    """
    path, max_words = Path(path), options.max_words
    finite = FiniteCheck(path / MATRIX, options.nonfinite)
    matrix = load_matrix(resolved_inside(path, MATRIX))
    words = _read_words(resolved_inside(path, WORDS))
    resolved_inside(path, META)
    meta = _read_meta(path)
    if matrix.shape[0] != len(words):
        raise VecliftError(f"{len(words)} words but the matrix has shape {matrix.shape}: write the vectors again", path / WORDS)
    for key, value in (("dim", matrix.shape[1]), ("count", len(words))):
        if meta.get(key) is not None and meta[key] != value:
            raise VecliftError(f"the vectors' metadata gives {key} {meta[key]} but the files hold {value}: write the vectors again", path / META)
    count = len(words)
    if max_words is not None and max_words < count:
        words, matrix = words[:max_words], matrix[:max_words]
    if not trusted:
        finite.check(matrix)
    norms = None if finite.bad else _read_norms(path, count, matrix, every_row=not trusted)
    if finite.bad:
        words, matrix = finite.apply(words, matrix)
    if len(words) < count:  # other rows now: caches keyed on the digest must not serve these
        meta = {k: v for k, v in meta.items() if k not in ("sha256", "count")}
    if not words:
        raise VecliftError("no vectors in the directory", path)
    subwords = _read_subwords(path, matrix.shape[1]) if (path / SUBWORDS).is_dir() else None
    return Vectors(words, matrix, subwords=subwords, source=meta.get("source", str(path)), meta=meta, norms=norms)


def write_native(vectors: Vectors, path: str | Path, *, source: str | None = None, overwrite: bool = False) -> Path:
    """Write atomically: the directory appears complete or not at all; a NaN or infinity is refused."""
    path = Path(path)
    FiniteCheck(path).check(vectors.matrix)
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
    with atomic_path(path, directory=True, overwrite=overwrite) as tmp:
        np.save(tmp / MATRIX, np.ascontiguousarray(vectors.matrix, dtype=np.float32))
        np.save(tmp / NORMS, np.asarray(vectors.norms, dtype=np.float32))
        (tmp / WORDS).write_text("".join(w + "\n" for w in vectors.words), encoding="utf-8")
        (tmp / META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if vectors.subwords is not None:
            vectors.subwords.save(tmp / SUBWORDS)
    return path


register(VectorFormat("native", "veclift's native directory, opened memory-mapped", read=read_native, write=write_native,
                      sniff_dir=is_native))  # fmt: skip
