"""Shared last steps of the text and binary readers: decode words, drop duplicates, build `Vectors`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from veclift.errors import VecliftError, warn
from veclift.vectors.core import Vectors


class WordDecoder:
    """UTF-8 decoding that replaces bad bytes, as the word2vec tools do, and warns once at the end."""

    def __init__(self, path: Path):
        self.path = path
        self.bad = 0
        self.first_bad_line: int | None = None

    def decode(self, words: Sequence[bytes], lines: Sequence[int]) -> list[str]:
        try:
            return b"\n".join(words).decode("utf-8").split("\n") if words else []
        except UnicodeDecodeError:
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


def build_vectors(words: list[str], matrix: np.ndarray, path: Path, format: str) -> Vectors:
    """Vectors from parsed rows: an error when there are none, duplicates dropped (first kept) with one warning."""
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
