"""gensim files saved with ``.save()``: KeyedVectors (``.kv``) or whole Word2Vec/FastText models (``.model``).

They are Python pickles, and unpickling a file can run any code in it. So they are read only when the
caller passes ``allow_pickle=True`` and the file carries gensim's own suffix; any other pickle is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.formats.registry import ReadOptions, VectorFormat, register
from veclift.vectors.formats.rows import FiniteCheck

PICKLE_SUFFIXES = (".kv", ".model")
REFUSAL = (
    "this file is a Python pickle (gensim .save()); veclift does not unpickle files it is handed because a "
    "pickle can run code: if you trust it, name it .kv/.model and convert it once with "
    "`veclift vectors convert FILE.kv OUT --allow-pickle` (Python: allow_pickle=True), "
    "or with gensim (KeyedVectors.load(path).save_word2vec_format(out))"
)


def is_pickle(head: bytes) -> bool:
    """gensim's ``save`` writes a pickle (protocol 2 or above starts with 0x80)."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def read_gensim(path: Path, options: ReadOptions) -> Vectors:
    """Unpickle a trusted gensim file (``allow_pickle`` and a ``.kv``/``.model`` name), else refuse it."""
    from gensim.models.fasttext import FastTextKeyedVectors
    from gensim.models.keyedvectors import KeyedVectors
    from gensim.utils import SaveLoad

    if not (options.allow_pickle and path.suffix.lower() in PICKLE_SUFFIXES):
        raise VecliftError(REFUSAL, path)
    max_words = options.max_words
    finite = FiniteCheck(path, options.nonfinite)
    try:
        obj = SaveLoad.load(str(path), mmap="r")
    except Exception as exc:  # a trusted pickle that fails to load can fail in any way: all mean "not a gensim file"
        raise VecliftError(f"cannot read as a gensim file: {type(exc).__name__}: {' '.join(str(exc).split())}", path) from None
    kv = getattr(obj, "wv", obj)
    if isinstance(kv, FastTextKeyedVectors):
        from veclift.vectors.formats.fasttext import from_fasttext_keyed_vectors

        return from_fasttext_keyed_vectors(kv, path, "gensim", max_words, finite)
    if not isinstance(kv, KeyedVectors):
        raise VecliftError(f"the file holds a {type(obj).__name__}, not gensim KeyedVectors or a model", path)
    words = [str(w) for w in kv.index_to_key]
    matrix = np.asarray(kv.vectors)
    if matrix.ndim != 2 or len(matrix) != len(words):
        raise VecliftError(f"{len(words)} words but a matrix of shape {matrix.shape}: a corrupt file?", path)
    if max_words is not None:
        words, matrix = words[:max_words], matrix[:max_words]
    finite.check(matrix)
    words, matrix = finite.apply(words, matrix)
    if not words:
        raise VecliftError("no vectors in the file", path)
    return Vectors(words, matrix, source=str(path), meta={"format": "gensim", "file": str(path)})


register(VectorFormat("gensim", "gensim KeyedVectors or model saved with .save() (a pickle: read only when allowed)",
                      read=read_gensim, sniff=is_pickle))  # fmt: skip
