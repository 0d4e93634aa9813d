"""Shared steps of the readers: sanity limits, decode words, refuse or drop non-finite rows, drop duplicates, build `Vectors`."""

from __future__ import annotations

import tokenize
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from veclift.errors import VecliftError, warn
from veclift.vectors.core import Vectors


MAX_DIM = 1 << 16  # far above any published word vectors (at most a few thousand dimensions)
NONFINITE = ("error", "drop")
CHECK_ROWS = 1 << 16  # rows checked for NaN/inf at once, so the check needs little memory


def check_nonfinite_option(nonfinite: str) -> str:
    if nonfinite not in NONFINITE:
        raise VecliftError(f"nonfinite must be one of {', '.join(NONFINITE)}, got {nonfinite!r}")
    return nonfinite


def check_dimension(dim: int, path: Path, line: int | None, room: int | None, bytes_per_value: int) -> None:
    """Refuse a header dimension no file could hold: below 1, above `MAX_DIM`, or more than the ``room`` bytes
    after the header allow (None: unknown, compressed; 0 is left to the reader's "no vectors" error)."""
    if dim < 1:
        raise VecliftError(f"header gives dimension {dim}: fix the header", path, line)
    if dim > MAX_DIM:
        raise VecliftError(f"header gives dimension {dim:,}, above the {MAX_DIM:,} veclift reads: a corrupt header?", path, line)
    if room and dim * bytes_per_value > room:
        raise VecliftError(
            f"header gives dimension {dim:,}, but one row of it needs at least {dim * bytes_per_value:,} bytes "
            f"and the file has {room:,} after the header: a corrupt header?",
            path,
            line,
        )


# what np.load raises on a broken .npy header or a broken .npz archive
NPY_ERRORS = (OSError, ValueError, EOFError, SyntaxError, TypeError, LookupError, MemoryError, OverflowError, RecursionError,
              tokenize.TokenError, zipfile.BadZipFile)  # fmt: skip


def load_matrix(path: Path, ndim: int = 2) -> np.ndarray:
    """A float32 ``.npy`` array of ``ndim`` dimensions, memory-mapped and never unpickled; anything else is an
    error naming the file."""
    redo = "write the vectors again with veclift (`veclift vectors convert`)"
    try:
        with warnings.catch_warnings():  # a mangled header can make numpy's parser warn (e.g. a bad escape)
            warnings.simplefilter("ignore")
            matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    except NPY_ERRORS as exc:
        raise VecliftError(f"cannot open the matrix ({' '.join(str(exc).split())}): {redo}", path) from None
    if not isinstance(matrix, np.ndarray):
        matrix.close()
        raise VecliftError(f"a .npz archive, not one .npy matrix: {redo}", path)
    if matrix.dtype != np.float32 or matrix.ndim != ndim:
        raise VecliftError(f"expected a {ndim}-D float32 array, found {matrix.dtype} of shape {matrix.shape}: {redo}", path)
    return matrix


def nonfinite_rows(values: np.ndarray) -> np.ndarray:
    """Indices of the rows holding a NaN or an infinity, looked at `CHECK_ROWS` at a time (little memory)."""
    found = [np.flatnonzero(~np.isfinite(values[start : start + CHECK_ROWS]).all(axis=1)) + start
             for start in range(0, len(values), CHECK_ROWS)]  # fmt: skip
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


class FiniteCheck:
    """Finds rows holding a NaN or an infinity: an error naming the first, or (``nonfinite="drop"``) rows to drop."""

    def __init__(self, path: Path, nonfinite: str = "error"):
        self.path, self.drop = path, check_nonfinite_option(nonfinite) == "drop"
        self.bad: list[np.ndarray] = []
        self.first: tuple[int, int | None] | None = None

    def check(self, values: np.ndarray, first_row: int = 0, lines: Sequence[int] | None = None) -> None:
        """Look at rows ``first_row ..`` of the file; ``lines`` gives each one's line number (text files)."""
        bad = nonfinite_rows(values)
        if len(bad):
            self._found(bad + first_row, None if lines is None else int(lines[bad[0]]))

    def _found(self, rows: np.ndarray, line: int | None) -> None:
        if not self.drop:
            place = "a vector row" if line is not None else f"vector row {rows[0] + 1}"
            raise VecliftError(
                f"{place} has a NaN or infinite value (or one beyond float32's range): "
                "fix the file, or load it with nonfinite='drop' to skip such rows",
                self.path,
                line,
            )
        self.first = self.first or (int(rows[0]) + 1, line)
        self.bad.append(rows)

    def apply(self, words: Sequence[str], matrix: np.ndarray) -> tuple[Sequence[str], np.ndarray]:
        """``words`` and ``matrix`` without the rows found, with one warning giving their count."""
        if not self.bad:
            return words, matrix
        keep = np.ones(len(words), dtype=bool)
        keep[np.concatenate(self.bad)] = False
        row, line = self.first
        where = "this line" if line is not None else f"row {row}"
        warn(f"{len(words) - int(keep.sum())} vector rows with NaN or infinite values dropped, the first at {where}", self.path, line)
        return [w for w, k in zip(words, keep) if k], matrix[keep]


class WordDecoder:
    """UTF-8 decoding that replaces bad bytes, as the word2vec tools do, and warns once at the end."""

    def __init__(self, path: Path):
        self.path = path
        self.bad = 0
        self.first_bad_line: int | None = None

    def decode(self, words: Sequence[bytes], lines: Sequence[int]) -> list[str]:
        joined = b"\n".join(words)
        try:
            if joined.count(b"\n") == len(words) - 1:  # one decode for all, unless a word holds a line break itself
                return joined.decode("utf-8").split("\n") if words else []
        except UnicodeDecodeError:
            pass
        out = []
        for word, line in zip(words, lines):
            try:
                out.append(word.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(word.decode("utf-8", errors="replace"))
                self.bad += 1
                if self.first_bad_line is None:
                    self.first_bad_line = line
        return out

    def report(self) -> None:
        if self.bad:
            warn(f"{self.bad} words are not valid UTF-8; bad bytes replaced by U+FFFD", self.path, self.first_bad_line)


def build_vectors(words: Sequence[str], matrix: np.ndarray, path: Path, format: str, finite: FiniteCheck | None = None) -> Vectors:
    """Vectors from parsed rows: an error when there are none, rows ``finite`` found dropped, duplicates
    dropped (first kept) with one warning."""
    if finite is not None:
        words, matrix = finite.apply(words, matrix)
    if not words:
        raise VecliftError("no vectors in the file", path)
    if len(set(words)) < len(words):
        first_row: dict[str, int] = {}
        for row, word in enumerate(words):
            first_row.setdefault(word, row)
        dropped = len(words) - len(first_row)
        keep = np.fromiter(first_row.values(), dtype=np.int64, count=len(first_row))
        duplicate = next(w for i, w in enumerate(words) if first_row[w] != i)
        warn(f"{dropped} duplicate words ignored, the first row of each kept (first duplicate: {duplicate!r})", path)
        words, matrix = list(first_row), matrix[keep]
    return Vectors(words, matrix, source=str(path), meta={"format": format, "file": str(path)})
