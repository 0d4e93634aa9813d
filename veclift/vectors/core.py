"""The `Vectors` type: an immutable float32 matrix plus its vocabulary and an optional OOV model."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from veclift.vectors.gensim_api import GensimNames
from veclift.vectors.normalize import normalize_rows, row_norms

if TYPE_CHECKING:
    from veclift.vectors.oov import OOVChain
    from veclift.vectors.subword import SubwordModel


class Vectors(GensimNames):
    """Word vectors: row ``i`` of ``matrix`` belongs to ``words[i]``; rows stay in file order.

    The matrix is read-only (memory-mapped when opened from the native format). Unknown words
    are resolved by the optional OOV chain (see ``veclift.vectors.oov``), else ``KeyError``.
    gensim's ``KeyedVectors`` names work too (see ``veclift.vectors.gensim_api``).
    """

    def __init__(
        self,
        words: Sequence[str],
        matrix: np.ndarray,
        *,
        oov: OOVChain | None = None,
        subwords: SubwordModel | None = None,
        source: str = "",
        meta: dict | None = None,
        norms: np.ndarray | None = None,
    ):
        """``norms``: the rows' lengths when already known (the native format stores them), else computed on first use."""
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ValueError(f"matrix shape {matrix.shape} does not match {len(words)} words")
        if norms is not None and norms.shape != (len(words),):
            raise ValueError(f"norms of shape {norms.shape} do not match {len(words)} words")
        if matrix.dtype != np.float32:
            matrix = matrix.astype(np.float32)
        if matrix.flags.writeable:
            matrix = matrix.view()
            matrix.flags.writeable = False
        self._words = tuple(words)
        self._matrix = matrix
        self._oov = oov
        self._subwords = subwords
        self.source = source
        self.meta = dict(meta or {})
        if norms is not None:
            self.__dict__["norms"] = norms

    # --- construction -------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        source: str | Path,
        *,
        format: str | None = None,
        max_words: int | None = None,
        oov: str | None = None,
        progress: bool = True,
        allow_pickle: bool = False,
        nonfinite: str = "error",
    ) -> Vectors:
        """Open a built-in name, a native directory or a vector file of any supported format.

        ``allow_pickle=True`` unpickles a gensim ``.kv``/``.model`` file (trusted files only: a pickle can run
        code); ``nonfinite="drop"`` skips rows with a NaN or infinity (with a warning) instead of refusing the file.
        """
        from veclift.vectors.formats.registry import ReadOptions
        from veclift.vectors.io import load_vectors

        options = ReadOptions(max_words=max_words, progress=progress, nonfinite=nonfinite, allow_pickle=allow_pickle)
        vectors = load_vectors(source, format, options)
        return vectors.with_oov(oov) if oov else vectors

    def save(self, path: str | Path, format: str = "native", *, overwrite: bool = False) -> Path:
        """Write to ``path`` atomically in ``native``, ``word2vec``, ``word2vec-binary``, ``glove`` or another
        registered format; an existing output is replaced only with ``overwrite`` (a folder only when veclift wrote it)."""
        from veclift.vectors.io import save_vectors

        return save_vectors(self, path, format=format, overwrite=overwrite)

    def with_oov(self, spec: str | OOVChain | None) -> Vectors:
        """The same vectors with another OOV chain, e.g. ``"lower,char-ngram"``."""
        from veclift.vectors.oov import OOVChain

        chain = spec if isinstance(spec, OOVChain) or spec is None else OOVChain.build(spec, self)
        copy = Vectors(
            self._words, self._matrix, oov=chain, subwords=self._subwords, source=self.source, meta=self.meta
        )
        for cached in ("index", "norms", "unit_matrix", "lowercase"):  # same rows: share what was computed
            if cached in self.__dict__:
                copy.__dict__[cached] = self.__dict__[cached]
        return copy

    def derived_meta(self, **changes: Any) -> dict[str, Any]:
        """This set's metadata for vectors made from it with other rows: its matrix digest and count
        dropped (caches keyed on the digest must not serve the new rows), ``changes`` applied."""
        return {**{k: v for k, v in self.meta.items() if k not in ("sha256", "count")}, **changes}

    def subset(self, words: Iterable[str]) -> Vectors:
        """The rows of the given known words, in the order given (unknown words are skipped)."""
        index = self.index
        rows = [index[w] for w in dict.fromkeys(words) if w in index]
        return Vectors(
            [self._words[r] for r in rows],
            np.ascontiguousarray(self._matrix[rows]),
            oov=self._oov,
            subwords=self._subwords,
            source=self.source,
            meta=self.derived_meta(),
            norms=self.__dict__["norms"][rows] if "norms" in self.__dict__ else None,
        )

    # --- container protocol ----------------------------------------------------------------
    @property
    def words(self) -> tuple[str, ...]:
        return self._words

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix

    @property
    def oov(self) -> OOVChain | None:
        return self._oov

    @property
    def subwords(self) -> SubwordModel | None:
        """fastText character n-gram vectors, when the source file had them."""
        return self._subwords

    @property
    def dim(self) -> int:
        return int(self._matrix.shape[1])

    @cached_property
    def index(self) -> dict[str, int]:
        """word -> row; for duplicate words the first row wins."""
        index: dict[str, int] = {}
        for i, w in enumerate(self._words):
            index.setdefault(w, i)
        return index

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        """``word in v`` is True exactly when ``v[word]`` gives a vector: the word has a row, or the OOV chain
        recovers it (with ``char-ngram`` or ``unk`` every word does). `has_row` asks for a row of its own."""
        if not isinstance(word, str):
            return False
        return word in self.index or (self._oov is not None and any(s.covers(word) for s in self._oov.strategies))

    def has_row(self, word: object) -> bool:
        """Whether the word has a row of its own (``word in v.key_to_index``), whatever the OOV chain."""
        return isinstance(word, str) and word in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __repr__(self) -> str:
        oov = f", oov={self._oov.spec!r}" if self._oov else ""
        return f"Vectors({len(self)} x {self.dim}, source={self.source!r}{oov})"

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        """One word -> its vector; a list of words -> a (n, dim) matrix. Uses the OOV chain."""
        if isinstance(key, str):
            return self.get_vector(key)
        return np.stack([self.get_vector(w) for w in key]) if len(key) else np.zeros((0, self.dim), np.float32)

    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """The word's row, else its vector from the OOV chain, else ``KeyError``; ``norm``: scaled to unit length."""
        row = self.index.get(word)
        if row is not None:
            return self.unit_rows(row) if norm else np.asarray(self._matrix[row])
        if self._oov is not None:
            vec = self._oov.vector(word)
            if vec is not None:
                return normalize_rows(vec) if norm else vec
        raise KeyError(f"word {word!r} is not in the vectors ({self.source or 'unnamed'}) and no OOV strategy recovers it")

    def lookup(self, words: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        """Vectors for many words and how each was found: ``"known"``, an OOV strategy name, or None (zero row)."""
        out = np.zeros((len(words), self.dim), np.float32)
        how: list[str | None] = []
        index = self.index
        for i, w in enumerate(words):
            row = index.get(w)
            if row is not None:
                out[i] = self._matrix[row]
                how.append("known")
                continue
            found = self._oov.resolve(w) if self._oov is not None else None
            if found is None:
                how.append(None)
            else:
                out[i], name = found
                how.append(name)
        return out, how

    # --- row lengths and unit rows, shared by every query -------------------------------------------
    @cached_property
    def norms(self) -> np.ndarray:
        """Each row's Euclidean length: given (the native format stores them) or computed once per object."""
        norms = np.asarray(row_norms(self._matrix), dtype=np.float32)
        norms.flags.writeable = False
        return norms

    def unit_rows(self, rows: int | slice | Sequence[int] | np.ndarray) -> np.ndarray:
        """The given rows scaled to unit length (zero rows stay zero), as ``unit_matrix[rows]`` without building it."""
        return normalize_rows(self._matrix[rows], self.norms[rows])

    @cached_property
    def unit_matrix(self) -> np.ndarray:
        """All rows scaled to unit length; built once per object (the queries need only `norms`)."""
        unit = self.unit_rows(slice(None))
        unit.flags.writeable = False
        return unit

    @cached_property
    def lowercase(self) -> bool:
        """Whether the words are lower-cased: the metadata's ``lowercase`` flag when it has one, else whether
        none of the first 20,000 words has a capital (GloVe 6B has none)."""
        flag = self.meta.get("lowercase")
        if flag is not None:
            return bool(flag)
        return not any(w != w.lower() for w in self._words[:20_000])

    # --- queries (see veclift.vectors.query) ---------------------------------------------------
    def similarity(self, w1: str | np.ndarray, w2: str | np.ndarray) -> float:
        """Cosine similarity of two words or vectors."""
        from veclift.vectors.query import similarity

        return similarity(self, w1, w2)

    def most_similar(
        self, positive=(), negative=(), topn: int = 10, restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """The ``topn`` nearest words to mean(positive) - mean(negative), query words excluded (gensim semantics)."""
        from veclift.vectors.query import most_similar

        return most_similar(self, positive, negative, topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_many(
        self, queries: Sequence, topn: int = 10, restrict_vocab: int | None = None
    ) -> list[list[tuple[str, float]]]:
        """``most_similar`` for many queries in one chunked pass over the vocabulary."""
        from veclift.vectors.query import most_similar_many

        return most_similar_many(self, queries, topn=topn, restrict_vocab=restrict_vocab)

    def analogy(
        self, a: str, b: str, c: str, topn: int = 5, method: str = "3cosadd", restrict_vocab: int | None = None
    ) -> list[tuple[str, float]]:
        """a is to b as c is to ?, by ``3cosadd`` or ``3cosmul``."""
        from veclift.vectors.query import analogy

        return analogy(self, a, b, c, topn=topn, method=method, restrict_vocab=restrict_vocab)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word that fits least with the others."""
        from veclift.vectors.query import doesnt_match

        return doesnt_match(self, words)
