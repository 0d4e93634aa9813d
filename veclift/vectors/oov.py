"""Out-of-vocabulary strategies, composed in order into an `OOVChain` (e.g. ``"lower,char-ngram"``).

- ``none``: no fallback; an unknown word raises ``KeyError``.
- ``lower``: case and number normalisation: the word as is, lower-cased, title-cased, then with
  every digit replaced by ``0`` and by ``#`` (each on the original and the lower-cased form).
  GloVe 6B keeps most numbers literally ("1995", "3.5"), so the literal forms come first.
- ``subword``: the fastText n-gram vectors of the file (an error when it has none).
- ``char-ngram``: a hashed character n-gram model fitted on the known words
  (``veclift.vectors.charngram``). Fitted lazily on first use, once per `Vectors` object
  (about half a minute for the 400k GloVe words, with a progress bar), then kept with the chain
  and saved with it; for vectors whose matrix digest is known (the native format and the
  built-in sets) the fit is also cached under ``$VECLIFT_HOME/char-ngram``, once per machine.
- ``unk``: one fixed vector for every unknown word: the mean of all rows (a "generic word",
  unlike zeros it keeps cosine similarities defined and carries the average direction).
"""

from __future__ import annotations

import copy
import json
import re
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from veclift.atomic import atomic_path
from veclift.errors import VecliftError
from veclift.vectors.charngram import CharNgramModel

if TYPE_CHECKING:
    from veclift.vectors.core import Vectors

_CHAIN_FILE = "oov.json"
_UNK_FILE = "oov_unk.npy"
_DIGIT = re.compile(r"\d")
# Fitted char n-gram models, one per Vectors object (re-used by every chain built on it).
_FITTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Strategy:
    """One fallback: ``vector(word)`` returns a vector or None."""

    name: ClassVar[str]

    def __init__(self, vectors: Vectors):
        self.vectors = vectors

    def vector(self, word: str) -> np.ndarray | None:
        raise NotImplementedError

    def covers(self, word: str) -> bool:
        """Whether ``vector(word)`` would give a vector (without fitting anything)."""
        return self.vector(word) is not None

    def save(self, directory: Path) -> None:
        """Write whatever this strategy needs beyond the vectors themselves (default: nothing)."""

    def load_state(self, directory: Path) -> None:
        """Read what ``save`` wrote (default: nothing)."""

    def rebind(self, vectors: Vectors) -> Strategy:
        """This strategy, fitted state kept, looking words up in ``vectors``: what ``save`` then
        ``load(directory, vectors)`` gives, without the round trip."""
        clone = copy.copy(self)
        clone.vectors = vectors
        return clone


class LowerFallback(Strategy):
    """Case and digit normalisation: the first variant of the word that the vectors know."""

    name = "lower"

    @staticmethod
    def variants(word: str) -> list[str]:
        forms = [word, word.lower(), word.title()]
        for base in (word, word.lower()):
            forms += [_DIGIT.sub("0", base), _DIGIT.sub("#", base)]
        return list(dict.fromkeys(forms))

    def vector(self, word: str) -> np.ndarray | None:
        index = self.vectors.index
        for form in self.variants(word):
            row = index.get(form)
            if row is not None:
                return np.array(self.vectors.matrix[row])
        return None

    def covers(self, word: str) -> bool:
        return any(form in self.vectors.index for form in self.variants(word))


class SubwordFallback(Strategy):
    """fastText: the sum of the word's character n-gram vectors stored in the file."""

    name = "subword"

    def __init__(self, vectors: Vectors):
        super().__init__(vectors)
        if vectors.subwords is None:
            raise VecliftError(
                f"the 'subword' OOV strategy needs a fastText .bin file with n-gram vectors; "
                f"{vectors.source or 'these vectors'} has none (use 'char-ngram' instead)"
            )

    def vector(self, word: str) -> np.ndarray | None:
        return self.vectors.subwords.vector(word)

    def rebind(self, vectors: Vectors) -> Strategy:
        return type(self)(vectors)


class CharNgramFallback(Strategy):
    """A vector from the word's spelling: hashed character n-grams fitted on the known words."""

    name = "char-ngram"

    def __init__(self, vectors: Vectors, model: CharNgramModel | None = None):
        super().__init__(vectors)
        self._model = model

    @property
    def model(self) -> CharNgramModel:
        """The fitted model; fitted now (progress bar on stderr) if this is the first use."""
        if self._model is None:
            self._model = _FITTED.get(self.vectors)
        if self._model is None:
            self._model = _fit_or_load_cached(self.vectors)
            _FITTED[self.vectors] = self._model
        return self._model

    def vector(self, word: str) -> np.ndarray | None:
        return self.model.vector(word) if word else None

    def covers(self, word: str) -> bool:
        return bool(word)

    def save(self, directory: Path) -> None:
        self.model.save(directory)

    def rebind(self, vectors: Vectors) -> Strategy:
        return type(self)(vectors, self.model)

    def load_state(self, directory: Path) -> None:
        model = CharNgramModel.load(directory)
        if model.weights.ndim != 2 or model.weights.shape[1] != self.vectors.dim:
            raise VecliftError(f"character n-gram weights of shape {model.weights.shape} do not fit "
                               f"{self.vectors.dim}-dimensional vectors", directory)  # fmt: skip
        self._model = model


def _fit_or_load_cached(vectors: Vectors) -> CharNgramModel:
    """Fit the n-gram model once per machine for vectors with a known matrix digest (the native
    format records it): later processes, such as the study's trials, load it from the cache."""
    from veclift.home import cache_home

    digest = vectors.meta.get("sha256")
    cache = cache_home() / "char-ngram" / digest[:24] if digest else None
    if cache is not None and cache.is_dir():
        return CharNgramModel.load(cache)
    model = CharNgramModel.fit(vectors.words, vectors.matrix)
    if cache is not None:
        with atomic_path(cache, directory=True, overwrite=True) as tmp:
            model.save(tmp)
    return model


class UnkVector(Strategy):
    """The same vector for every unknown word: the mean of all rows."""

    name = "unk"

    def __init__(self, vectors: Vectors, unk: np.ndarray | None = None):
        super().__init__(vectors)
        self._unk = unk

    @property
    def unk(self) -> np.ndarray:
        if self._unk is None:
            matrix = self.vectors.matrix
            self._unk = (matrix.mean(axis=0) if len(matrix) else np.zeros(self.vectors.dim)).astype(np.float32)
        return self._unk

    def vector(self, word: str) -> np.ndarray | None:
        return self.unk.copy()

    def covers(self, word: str) -> bool:
        return True

    def rebind(self, vectors: Vectors) -> Strategy:
        return type(self)(vectors, self.unk)

    def save(self, directory: Path) -> None:
        with atomic_path(directory / _UNK_FILE) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, self.unk)

    def load_state(self, directory: Path) -> None:
        try:
            unk = np.load(directory / _UNK_FILE, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise VecliftError(f"cannot read the UNK vector: {exc}", directory / _UNK_FILE) from None
        if unk.shape != (self.vectors.dim,) or not np.issubdtype(unk.dtype, np.floating):
            raise VecliftError(f"the UNK vector has shape {unk.shape}, expected ({self.vectors.dim},)", directory / _UNK_FILE)
        self._unk = unk.astype(np.float32)


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (LowerFallback, SubwordFallback, CharNgramFallback, UnkVector)
}


def parse_spec(spec: str) -> list[str]:
    """``"lower, char-ngram"`` -> ``["lower", "char-ngram"]``; ``"none"`` -> ``[]``."""
    names = [part.strip().lower() for part in spec.split(",") if part.strip()]
    if names == ["none"] or not names:
        return []
    for name in names:
        if name not in STRATEGIES:
            known = ", ".join(["none", *STRATEGIES])
            raise VecliftError(f"unknown OOV strategy {name!r} in {spec!r}; choose from {known}")
    if len(set(names)) != len(names):
        raise VecliftError(f"OOV strategy listed twice in {spec!r}")
    return names


class OOVChain:
    """Strategies tried in order; the first that gives a vector wins."""

    def __init__(self, strategies: list[Strategy]):
        self.strategies = strategies

    @classmethod
    def build(cls, spec: str, vectors: Vectors) -> OOVChain:
        return cls([STRATEGIES[name](vectors) for name in parse_spec(spec)])

    @property
    def spec(self) -> str:
        return ",".join(s.name for s in self.strategies) or "none"

    def resolve(self, word: str) -> tuple[np.ndarray, str] | None:
        """The vector for ``word`` and the name of the strategy that found it, or None."""
        for strategy in self.strategies:
            vec = strategy.vector(word)
            if vec is not None:
                return np.asarray(vec, dtype=np.float32), strategy.name
        return None

    def vector(self, word: str) -> np.ndarray | None:
        found = self.resolve(word)
        return None if found is None else found[0]

    def rebind(self, vectors: Vectors) -> OOVChain:
        """The same chain, fitted state kept, looking words up in ``vectors`` (as a saved and reloaded copy)."""
        return OOVChain([strategy.rebind(vectors) for strategy in self.strategies])

    def save(self, directory: str | Path) -> None:
        """Write ``oov.json`` (the spec) and each strategy's state (char n-gram weights, UNK vector)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for strategy in self.strategies:
            strategy.save(directory)
        with atomic_path(directory / _CHAIN_FILE) as tmp:
            Path(tmp).write_text(json.dumps({"spec": self.spec}), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, vectors: Vectors) -> OOVChain:
        """Rebuild a saved chain on ``vectors`` without refitting anything."""
        directory = Path(directory)
        try:
            spec = json.loads((directory / _CHAIN_FILE).read_text(encoding="utf-8"))["spec"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VecliftError(f"cannot read the OOV chain: {exc}", directory / _CHAIN_FILE) from None
        if not isinstance(spec, str):
            raise VecliftError(f"the OOV chain spec must be a string, got {spec!r}", directory / _CHAIN_FILE)
        chain = cls.build(spec, vectors)
        for strategy in chain.strategies:
            strategy.load_state(directory)
        return chain
