"""fastText subword model: hashed character n-gram vectors that give any word a vector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from veclift.atomic import atomic_path
from veclift.errors import VecliftError

NGRAMS, CONFIG = "ngrams.npy", "subwords.json"


class SubwordModel:
    """fastText's n-gram matrix: ``<word>``'s n-grams of ``min_n..max_n`` characters hash into ``bucket`` rows.

    A word's vector is the mean of its n-gram rows, as fastText and gensim compute it for
    out-of-vocabulary words (hashing by gensim's ``ft_ngram_hashes``, identical to fastText's).
    """

    def __init__(self, ngrams: np.ndarray, min_n: int, max_n: int, bucket: int):
        if ngrams.ndim != 2 or ngrams.shape[0] != bucket:
            raise ValueError(f"n-gram matrix shape {ngrams.shape} does not match bucket={bucket}")
        if ngrams.dtype != np.float32:
            ngrams = ngrams.astype(np.float32)
        self.ngrams = ngrams
        self.min_n, self.max_n, self.bucket = int(min_n), int(max_n), int(bucket)

    @property
    def dim(self) -> int:
        return int(self.ngrams.shape[1])

    def __repr__(self) -> str:
        return f"SubwordModel(bucket={self.bucket}, dim={self.dim}, n={self.min_n}..{self.max_n})"

    def hashes(self, word: str) -> list[int]:
        """Rows of ``word``'s character n-grams (``<`` and ``>`` mark its ends)."""
        from gensim.models.fasttext import ft_ngram_hashes

        return ft_ngram_hashes(word, self.min_n, self.max_n, self.bucket) if self.bucket else []

    def vector(self, word: str) -> np.ndarray | None:
        """Mean of the word's n-gram rows; None when it has no n-grams (e.g. max_n = 0)."""
        rows = self.hashes(word)
        if not rows:
            return None
        return self.ngrams[rows].mean(axis=0, dtype=np.float32)

    def save(self, directory: str | Path) -> Path:
        """Write ``ngrams.npy`` and ``subwords.json`` into ``directory`` atomically."""
        directory = Path(directory)
        with atomic_path(directory, directory=True) as tmp:
            np.save(tmp / NGRAMS, np.ascontiguousarray(self.ngrams, dtype=np.float32))
            config = {"min_n": self.min_n, "max_n": self.max_n, "bucket": self.bucket, "dim": self.dim}
            (tmp / CONFIG).write_text(json.dumps(config, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> SubwordModel:
        """Open a saved model; the n-gram matrix is memory-mapped."""
        directory = Path(directory)
        try:
            config = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
            ngrams = np.load(directory / NGRAMS, mmap_mode="r")
            return cls(ngrams, config["min_n"], config["max_n"], config["bucket"])
        except (OSError, ValueError, KeyError) as exc:
            raise VecliftError(f"cannot open the subword model: {exc}", directory) from None
