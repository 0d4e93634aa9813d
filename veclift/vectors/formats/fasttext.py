"""fastText ``.bin`` models, read by gensim, keeping the subword n-gram vectors for unseen words."""

from __future__ import annotations

import struct
from pathlib import Path

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.subword import SubwordModel

MAGIC = 793712314  # first int32 of every fastText .bin (little-endian)


def is_fasttext_bin(head: bytes) -> bool:
    return len(head) >= 4 and struct.unpack("<i", head[:4])[0] == MAGIC


def read_fasttext_bin(path: Path, *, max_words: int | None = None, progress: bool = True) -> Vectors:
    """Word vectors (gensim's, n-grams included) plus a `SubwordModel` for out-of-vocabulary words."""
    from gensim.models.fasttext import load_facebook_vectors

    try:
        kv = load_facebook_vectors(str(path))
    except (OSError, EOFError, ValueError, struct.error, AssertionError, NotImplementedError) as exc:
        raise VecliftError(f"cannot read the fastText .bin model (truncated or not fastText?): {exc}", path) from None
    return from_fasttext_keyed_vectors(kv, path, "fasttext-bin", max_words)


def from_fasttext_keyed_vectors(kv, path: Path, format: str, max_words: int | None) -> Vectors:
    """`Vectors` from a gensim ``FastTextKeyedVectors`` (words, their vectors and the n-gram model)."""
    words = [str(w) for w in kv.index_to_key]
    matrix = kv.vectors
    if max_words is not None:
        words, matrix = words[:max_words], matrix[:max_words]
    subwords = SubwordModel(kv.vectors_ngrams, kv.min_n, kv.max_n, kv.bucket) if kv.bucket else None
    if not words:
        raise VecliftError("no vectors in the model", path)
    return Vectors(words, matrix, subwords=subwords, source=str(path), meta={"format": format, "file": str(path)})
