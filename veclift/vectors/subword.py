"""fastText subword model: hashed character n-gram vectors that give any word a vector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from veclift.atomic import atomic_path
from veclift.errors import VecliftError

NGRAMS, CONFIG = "ngrams.npy", "subwords.json"
MAX_NGRAM = 32  # n-gram lengths above this are a corrupt file (fastText's default is 3..6); each lookup loops over them


def check_ngram_range(min_n: object, max_n: object, path: Path) -> None:
    """Refuse n-gram lengths that are not integers in 0..`MAX_NGRAM` (max_n < min_n means no n-grams)."""
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_NGRAM for n in (min_n, max_n)):
        raise VecliftError(f"n-gram lengths {min_n!r}..{max_n!r} are not integers in 0..{MAX_NGRAM}: a corrupt model?", path)


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

    def check_finite(self, path: Path) -> None:
        """Refuse an n-gram matrix with a NaN or infinity (buckets cannot be dropped: every word may hash there)."""
        from veclift.vectors.formats.rows import nonfinite_rows

        bad = nonfinite_rows(self.ngrams)
        if len(bad):
            raise VecliftError(f"n-gram bucket {int(bad[0])} has a NaN or infinite value: the model is corrupt, re-export it", path)

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
        """Open a saved model, checked (settings, shape, dtype, finite values); the n-gram matrix is memory-mapped."""
        from veclift.vectors.formats.rows import load_matrix

        directory = Path(directory)
        config = _read_config(directory / CONFIG)
        ngrams = load_matrix(directory / NGRAMS)
        if len(ngrams) != config["bucket"]:
            raise VecliftError(f"{len(ngrams)} n-gram rows but {CONFIG} gives bucket={config['bucket']}: re-export the vectors", directory / NGRAMS)
        model = cls(ngrams, config["min_n"], config["max_n"], config["bucket"])
        model.check_finite(directory / NGRAMS)
        return model


def _read_config(path: Path) -> dict:
    """``subwords.json``: a JSON object with integer ``min_n``, ``max_n`` (checked) and ``bucket`` (at least 0)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise VecliftError(f"cannot read the subword settings: {exc}; re-export the vectors", path, getattr(exc, "lineno", None)) from None
    if not isinstance(config, dict) or not {"min_n", "max_n", "bucket"} <= config.keys():
        raise VecliftError('expected a JSON object with "min_n", "max_n" and "bucket"; re-export the vectors', path)
    check_ngram_range(config["min_n"], config["max_n"], path)
    bucket = config["bucket"]
    if not isinstance(bucket, int) or isinstance(bucket, bool) or bucket < 0:
        raise VecliftError(f"bucket {bucket!r} is not a count of rows; re-export the vectors", path)
    return config
