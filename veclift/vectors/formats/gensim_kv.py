"""gensim files saved with ``.save()``: KeyedVectors (``.kv``) or whole Word2Vec/FastText models (``.model``)."""

from __future__ import annotations

import pickle
from pathlib import Path

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors


def is_pickle(head: bytes) -> bool:
    """gensim's ``save`` writes a pickle (protocol 2 or above starts with 0x80)."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def read_gensim(path: Path, *, max_words: int | None = None, progress: bool = True) -> Vectors:
    from gensim.models.fasttext import FastTextKeyedVectors
    from gensim.models.keyedvectors import KeyedVectors
    from gensim.utils import SaveLoad

    try:
        obj = SaveLoad.load(str(path), mmap="r")
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ModuleNotFoundError, ValueError) as exc:
        raise VecliftError(f"cannot read as a gensim file: {exc}", path) from None
    kv = getattr(obj, "wv", obj)
    if isinstance(kv, FastTextKeyedVectors):
        from veclift.vectors.formats.fasttext import from_fasttext_keyed_vectors

        return from_fasttext_keyed_vectors(kv, path, "gensim", max_words)
    if not isinstance(kv, KeyedVectors):
        raise VecliftError(f"the file holds a {type(obj).__name__}, not gensim KeyedVectors or a model", path)
    words = [str(w) for w in kv.index_to_key]
    matrix = kv.vectors
    if max_words is not None:
        words, matrix = words[:max_words], matrix[:max_words]
    if not words:
        raise VecliftError("no vectors in the file", path)
    return Vectors(words, matrix, source=str(path), meta={"format": "gensim", "file": str(path)})
