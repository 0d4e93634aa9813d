"""gensim's ``KeyedVectors`` names on `Vectors`, as aliases of veclift's own, and conversion both ways.

Differences from gensim, on purpose: unknown words go through the OOV chain, else ``KeyError`` (gensim's
``n_similarity`` skips them); ``save_word2vec_format`` replaces an existing file only with ``overwrite=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

    from veclift.vectors.core import Vectors


class GensimNames:
    """Mixed into `Vectors`: ``key_to_index``, ``index_to_key``, ``vectors``, ``vector_size``, ``has_index_for``,
    ``n_similarity``, ``save_word2vec_format``, ``from_gensim`` and ``to_gensim``."""

    @property
    def key_to_index(self: Vectors) -> dict[str, int]:
        """word -> row, the same dict as `index`: ``word in v.key_to_index`` asks for a row of its own."""
        return self.index

    @cached_property
    def index_to_key(self: Vectors) -> list[str]:
        """The words in row order, as a list (`words` is the same as a tuple)."""
        return list(self.words)

    @property
    def vectors(self: Vectors) -> np.ndarray:
        """The (read-only) matrix, one row per word: `matrix`."""
        return self.matrix

    @property
    def vector_size(self: Vectors) -> int:
        """The dimension: `dim`."""
        return self.dim

    def has_index_for(self: Vectors, word: object) -> bool:
        """gensim's name for `has_row`."""
        return self.has_row(word)

    def n_similarity(self: Vectors, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        """Cosine similarity of the mean vectors of two lists of words (a string counts as one word)."""
        from veclift.vectors.query import similarity

        sides = [[ws] if isinstance(ws, str) else list(ws) for ws in (ws1, ws2)]
        if not all(sides):
            raise ValueError("n_similarity needs at least one word in each list")
        return similarity(self, *(self[words].mean(axis=0) for words in sides))

    def save_word2vec_format(self: Vectors, path: str | Path, binary: bool = False, *, overwrite: bool = False) -> Path:
        """Write word2vec text, or with ``binary`` word2vec binary, as `save` does (atomically, no silent replace)."""
        return self.save(path, "word2vec-binary" if binary else "word2vec", overwrite=overwrite)

    @classmethod
    def from_gensim(cls, kv: Any, *, nonfinite: str = "error", source: str = "gensim") -> Vectors:
        """`Vectors` from gensim ``KeyedVectors`` in memory (or a model's ``.wv``), rows in gensim's order; a
        ``FastTextKeyedVectors`` keeps its n-gram model (the ``subword`` OOV strategy). Rows with a NaN or an
        infinity are an error, or dropped with ``nonfinite="drop"``."""
        from gensim.models.fasttext import FastTextKeyedVectors
        from gensim.models.keyedvectors import KeyedVectors

        from veclift.errors import VecliftError
        from veclift.vectors.formats.fasttext import from_fasttext_keyed_vectors
        from veclift.vectors.formats.rows import FiniteCheck, build_vectors

        kv = getattr(kv, "wv", kv)
        finite = FiniteCheck(Path(source), nonfinite)
        if isinstance(kv, FastTextKeyedVectors):
            return from_fasttext_keyed_vectors(kv, Path(source), "gensim", None, finite)
        if not isinstance(kv, KeyedVectors):
            raise VecliftError(f"expected gensim KeyedVectors or a model with .wv, got {type(kv).__name__}")
        matrix = np.asarray(kv.vectors)
        finite.check(matrix)
        return build_vectors([str(w) for w in kv.index_to_key], matrix, Path(source), "gensim", finite)

    def to_gensim(self: Vectors) -> KeyedVectors:
        """These rows as gensim ``KeyedVectors`` (a copy; the first row of a duplicated word), or as
        ``FastTextKeyedVectors`` when the vectors carry fastText n-grams. The OOV chain has no gensim
        counterpart and is not carried; nor are fastText's separate full-word rows (query use only)."""
        from gensim.models.fasttext import FastTextKeyedVectors
        from gensim.models.keyedvectors import KeyedVectors

        keys = list(self.index)
        rows = self.matrix if len(keys) == len(self) else self.matrix[list(self.index.values())]
        subwords = self.subwords
        if subwords is None:
            kv = KeyedVectors(self.dim)
        else:
            kv = FastTextKeyedVectors(self.dim, subwords.min_n, subwords.max_n, subwords.bucket)
            kv.vectors_ngrams = np.array(subwords.ngrams, dtype=np.float32)
        kv.add_vectors(keys, np.array(rows, dtype=np.float32))
        return kv
