"""Word rows: the embedding of pre-trained (or from-scratch) word vectors, in three segments:

- ``new``: trainable at the full learning rate: PAD (row 0, zero), UNK (row 1) and train words
  without a pre-trained vector (all train words for ``scratch``);
- ``tuned``: train words initialised from their pre-trained vector, trainable at
  ``finetune_lr_ratio`` x the learning rate (``finetune`` only);
- ``fixed``: pre-trained rows that never change: every word for ``frozen``; for ``finetune`` the
  words of dev/test/predict data and the ``keep_vectors`` most frequent words of the vectors.

So a 400k-word vector set never becomes a 400k x d trainable matrix, and a test word never
seen in training ("Apple" when training had "Orange") still gets its pre-trained vector.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from torch import nn

from veclift.data.features import UNK, SentenceIds
from veclift.embeddings.base import TokenBatch, TokenEmbedder, register_embedder
from veclift.errors import VecliftError

if TYPE_CHECKING:
    from veclift.vectors.core import Vectors
    from veclift.vectors.oov import OOVChain

PAD = 0
MAX_ADDED_ROWS = 200_000  # words met at prediction time kept at most (see `WordEmbedder.forget_added`)
KNOWN = "known"  # origin of a row found in the vectors under its own key


class WordRowSettings(Protocol):
    """The options that shape word rows (a task's config has them all)."""

    embeddings: str
    lowercase: bool | None
    unk_replace: float
    l2_pull: float
    word_dim: int
    oov: str | None
    keep_vectors: int


@register_embedder
class WordEmbedder(TokenEmbedder):
    """Word rows in the segments new | tuned | fixed (see the module docstring)."""

    kind = "words"

    def __init__(
        self,
        new_words: Sequence[str],
        tuned_words: Sequence[str],
        fixed_words: Sequence[str],
        origins: Sequence[str],
        dim: int,
        *,
        lowercase: bool,
        unk_replace: float = 0.0,
        l2_pull: float = 0.0,
        strategy: str = "scratch",
        train_words: Sequence[str] = (),
        vector_known: Sequence[str] = (),
        rows: dict[str, np.ndarray] | None = None,
    ):
        super().__init__()
        self.dim = dim
        self.lowercase = lowercase
        self.unk_replace = unk_replace
        self.l2_pull = l2_pull
        self.strategy = strategy
        self.new_words = list(new_words)
        self.tuned_words = list(tuned_words)
        self.fixed_words = list(fixed_words)
        self.origins = list(origins)  # one per tuned + fixed word: KNOWN or the OOV strategy that found it
        self.train_words = list(train_words)  # raw train tokens (for the transfer view)
        # Keys the vectors know but that have no pre-trained row here (scratch models): the transfer
        # view splits unseen words the same way whatever the strategy.
        self.vector_known = set(vector_known)
        self.oov: OOVChain | None = None
        self.unresolved: set[str] = set()
        rows = rows or {}

        def tensor(name: str, n: int) -> torch.Tensor:
            value = rows.get(name)
            return torch.zeros(n, dim) if value is None else torch.tensor(np.asarray(value, np.float32))

        self.new = nn.Parameter(tensor("new", len(self.new_words) + 2))
        self.tuned = nn.Parameter(tensor("tuned", len(self.tuned_words)))
        self.register_buffer("anchor", tensor("anchor", len(self.tuned_words)))
        self.register_buffer("fixed", tensor("fixed", len(self.fixed_words)))
        replaceable = rows.get("replaceable")
        self.register_buffer(
            "replaceable",
            torch.zeros(len(self.new_words) + 2, dtype=torch.bool) if replaceable is None else torch.tensor(np.asarray(replaceable, bool)),
        )
        self.base_fixed = len(self.fixed_words)  # the rows it was built or loaded with
        self._reindex()

    # --- vocabulary -------------------------------------------------------------------------
    def key(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    def _reindex(self) -> None:
        self.index: dict[str, int] = {}
        for offset, words in ((2, self.new_words), (self.n_new, self.tuned_words), (self.n_new + self.n_tuned, self.fixed_words)):
            for i, w in enumerate(words):
                self.index.setdefault(w, offset + i)
        self._sentence_ids = SentenceIds(self.index, self.lowercase)

    @property
    def n_new(self) -> int:
        return len(self.new_words) + 2

    @property
    def n_tuned(self) -> int:
        return len(self.tuned_words)

    def knows(self, word: str) -> bool:
        """Whether ``word`` has a pre-trained vector of its own (not an OOV guess) in this layer."""
        key = self.key(word)
        if key in self.vector_known:
            return True
        row = self.index.get(key)
        return row is not None and row >= self.n_new and self.origins[row - self.n_new] == KNOWN

    def ids(self, batch: TokenBatch) -> torch.Tensor:
        return torch.from_numpy(self._sentence_ids(batch.tokens, batch.width))

    # --- rows for unseen words ------------------------------------------------------------------
    def prepare(self, token_lists: Iterable[Sequence[str]], vectors: Vectors | None = None) -> None:
        """Add fixed rows for unseen words: from ``vectors`` (own spelling), else this layer's OOV chain."""
        keys = {self.key(t) for tokens in token_lists for t in tokens}
        if self.strategy == "scratch":
            if vectors is not None:
                self.vector_known.update(k for k in keys if k in vectors.index)
            return
        if vectors is not None:
            self._replace_guessed([k for k in keys if k in vectors.index and self._guessed(k)], vectors)
        missing = sorted(k for k in keys if k not in self.index and (vectors is not None or k not in self.unresolved))
        if not missing:
            return
        if len(self.fixed_words) - self.base_fixed + len(missing) > MAX_ADDED_ROWS or len(self.unresolved) > MAX_ADDED_ROWS:
            self.forget_added()
        words, rows, origins, unresolved = resolve_rows(missing, vectors, self.oov, self.dim)
        self.unresolved.update(unresolved)
        if words:
            self.add_fixed(words, rows, origins)

    def _guessed(self, key: str) -> bool:
        """Whether ``key``'s row was added at prediction time from the OOV chain (not a vector's own)."""
        row = self.index.get(key)
        first_added = self.n_new + self.n_tuned + self.base_fixed
        return row is not None and row >= first_added and self.origins[row - self.n_new] != KNOWN

    def _replace_guessed(self, keys: Sequence[str], vectors: Vectors) -> None:
        """Rows the OOV chain guessed for ``keys`` at an earlier prediction give way, in place, to the
        vectors' own (the index stands: the ONNX runtime does the same)."""
        if not keys:
            return
        words, rows, _, _ = resolve_rows(keys, vectors, None, self.dim)
        fixed = self.fixed.clone()
        for word, row in zip(words, rows):
            at = self.index[word] - self.n_new - self.n_tuned
            fixed[at] = torch.as_tensor(row, dtype=fixed.dtype)
            self.origins[self.n_tuned + at] = KNOWN
        self.fixed = fixed

    def forget_added(self) -> None:
        """Drop the rows added for words met at prediction time (a long-running service meets no end
        of them); they are found again when next needed."""
        keep = self.base_fixed
        self.fixed = self.fixed[:keep].clone()
        del self.fixed_words[keep:], self.origins[self.n_tuned + keep :]
        self.unresolved.clear()
        self._reindex()

    def add_fixed(self, words: Sequence[str], rows: np.ndarray, origins: Sequence[str]) -> None:
        self.fixed = torch.cat([self.fixed, torch.as_tensor(rows, dtype=self.fixed.dtype)])
        self.fixed_words.extend(words)
        self.origins.extend(origins)
        self.unresolved.difference_update(words)
        self._reindex()

    def pretrained(self) -> Vectors:
        """The pre-trained rows this layer holds (tuned words at their original value): the OOV chain's base."""
        from veclift.vectors.core import Vectors

        matrix = torch.cat([self.anchor, self.fixed]).numpy().copy()
        return Vectors(self.tuned_words + self.fixed_words, matrix, meta={"lowercase": self.lowercase})

    def attach_oov(self, chain: OOVChain | None) -> None:
        """Use ``chain`` for unseen words, rebound to this layer's own rows so a reloaded copy behaves the same."""
        if chain is None:
            self.oov = None
            return
        self.oov = chain.rebind(self.pretrained())
        self.unresolved.clear()

    # --- forward ----------------------------------------------------------------------------------
    def forward(self, batch: TokenBatch) -> torch.Tensor:
        ids = self.ids(batch)
        if self.training and self.unk_replace > 0:
            in_new = ids < self.n_new
            drop = in_new & self.replaceable[ids.clamp(max=self.n_new - 1)] & (torch.rand(ids.shape) < self.unk_replace)
            ids = torch.where(drop, torch.full_like(ids, UNK), ids)
        # One lookup in the new and tuned rows joined, and in the fixed rows only for a batch that has
        # some (a training batch has none), instead of a lookup per segment merged by torch.where:
        # the same rows in about half the time, forward and backward.
        n_trained = self.n_new + self.n_tuned
        trained = torch.cat([self.new, self.tuned]) if self.n_tuned else self.new
        out = nn.functional.embedding(ids.clamp(max=n_trained - 1), trained)
        if len(self.fixed) and bool((ids >= n_trained).any()):
            local = ids - n_trained
            rows = nn.functional.embedding(local.clamp(0, len(self.fixed) - 1), self.fixed)
            out = torch.where((local >= 0)[..., None], rows, out)
        return out * batch.mask[..., None]

    def from_ids(self, ids: torch.Tensor, extra_rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Rows of ``ids`` in all segments followed by ``extra_rows`` (an exported graph's word input:
        rows for words resolved at prediction time), zero beyond each length."""
        table = torch.cat([self.new, self.tuned, self.fixed, extra_rows])
        return nn.functional.embedding(ids, table) * mask[..., None]

    def finetuned_parameters(self) -> list[nn.Parameter]:
        return [self.tuned] if self.n_tuned else []

    def penalty(self) -> torch.Tensor | float:
        if self.l2_pull <= 0 or not self.n_tuned:
            return 0.0
        return self.l2_pull * (self.tuned - self.anchor).pow(2).sum()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dim": self.dim,
            "lowercase": self.lowercase,
            "unk_replace": self.unk_replace,
            "l2_pull": self.l2_pull,
            "strategy": self.strategy,
            "new_words": self.new_words,
            "tuned_words": self.tuned_words,
            "fixed_words": self.fixed_words,
            "origins": self.origins,
            "train_words": self.train_words,
            "vector_known": sorted(self.vector_known),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], root: Path | None = None) -> WordEmbedder:
        return cls(
            d["new_words"], d["tuned_words"], d["fixed_words"], d["origins"], d["dim"],
            lowercase=d["lowercase"], unk_replace=d["unk_replace"], l2_pull=d["l2_pull"],
            strategy=d["strategy"], train_words=d["train_words"], vector_known=d["vector_known"],
        )  # fmt: skip

    def load_rows(self, state: dict[str, torch.Tensor], prefix: str) -> None:
        """Resize the growable fixed rows to the saved ones before ``load_state_dict``."""
        self.fixed = torch.zeros_like(state[prefix + "fixed"])


def resolve_rows(
    keys: Sequence[str], vectors: Vectors | None, oov: OOVChain | None, dim: int,
) -> tuple[list[str], np.ndarray, list[str], list[str]]:  # fmt: skip
    """Rows for unseen ``keys``: from ``vectors`` under their own spelling, else from the ``oov``
    chain -> (words found, their (n, dim) rows, their origins, the keys nothing resolved)."""
    if vectors is not None and vectors.dim != dim:
        raise VecliftError(f"these vectors have {vectors.dim} dimensions, the model's word rows {dim}", vectors.source or None)
    words, rows, origins, unresolved = [], [], [], []
    vindex = vectors.index if vectors is not None else {}
    for k in keys:
        r = vindex.get(k)
        found = (np.asarray(vectors.matrix[r], np.float32), KNOWN) if r is not None else oov.resolve(k) if oov is not None else None
        if found is None:
            unresolved.append(k)
        else:
            words.append(k)
            rows.append(np.asarray(found[0], np.float32))
            origins.append(found[1])
    return words, np.stack(rows) if rows else np.zeros((0, 0), np.float32), origins, unresolved


def build_word_embedder(
    train_tokens: Sequence[Sequence[str]],
    extra_tokens: Iterable[Sequence[str]],
    vectors: Vectors | None,
    config: WordRowSettings,
    rng: np.random.Generator,
) -> WordEmbedder:
    """Word rows for a model about to be trained (see the module docstring for the segments)."""
    strategy = config.embeddings
    if vectors is None and strategy != "scratch":
        raise VecliftError(f"the {strategy!r} embedding strategy needs pre-trained vectors")
    lowercase = config.lowercase if config.lowercase is not None else (vectors.lowercase if vectors else False)
    key = str.lower if lowercase else str
    counts = Counter(key(t) for tokens in train_tokens for t in tokens)
    train_keys = sorted(counts, key=lambda k: (-counts[k], k))
    dim = vectors.dim if vectors is not None else config.word_dim
    std = float(np.asarray(vectors.matrix[: min(len(vectors), 20_000)]).std()) if vectors is not None else dim**-0.5
    train_words = sorted({t for tokens in train_tokens for t in tokens})
    common = dict(lowercase=lowercase, unk_replace=config.unk_replace, l2_pull=config.l2_pull, strategy=strategy, train_words=train_words)

    if strategy == "scratch":
        new = rng.normal(0, std, (len(train_keys) + 2, dim)).astype(np.float32)
        new[PAD] = 0
        replaceable = np.array([False, False] + [counts[k] == 1 for k in train_keys])
        embedder = WordEmbedder(train_keys, [], [], [], dim, rows={"new": new, "replaceable": replaceable}, **common)
        embedder.prepare([train_keys, *extra_tokens], vectors)
        return embedder

    source = vectors.with_oov(config.oov)
    train_rows, train_how = source.lookup(train_keys)
    resolved = [i for i, how in enumerate(train_how) if how is not None]
    unresolved = [i for i, how in enumerate(train_how) if how is None]
    seen = set(train_keys)
    extra_keys = sorted({key(t) for tokens in extra_tokens for t in tokens} - seen)
    extra_rows, extra_how = source.lookup(extra_keys)
    extra = [i for i, how in enumerate(extra_how) if how is not None]
    seen.update(extra_keys)
    top_index = [
        i for i, w in enumerate(vectors.words[: config.keep_vectors])
        if w not in seen and not seen.add(w) and (not lowercase or w == w.lower())
    ]  # fmt: skip
    top = [vectors.words[i] for i in top_index]
    top_rows = np.asarray(vectors.matrix[top_index], np.float32).reshape(len(top_index), dim)

    fixed_words = [extra_keys[i] for i in extra] + top
    fixed_rows = [extra_rows[extra], top_rows]
    fixed_origins = [extra_how[i] for i in extra] + [KNOWN] * len(top)
    if strategy == "frozen":
        new_keys, tuned_keys, tuned_rows, tuned_origins = [], [], np.zeros((0, dim), np.float32), []
        fixed_words = [train_keys[i] for i in resolved] + fixed_words
        fixed_rows = [train_rows[resolved]] + fixed_rows
        fixed_origins = [train_how[i] for i in resolved] + fixed_origins
    else:
        new_keys = [train_keys[i] for i in unresolved]
        tuned_keys = [train_keys[i] for i in resolved]
        tuned_rows = train_rows[resolved]
        tuned_origins = [train_how[i] for i in resolved]
    new = rng.normal(0, std, (len(new_keys) + 2, dim)).astype(np.float32)
    new[PAD] = 0
    replaceable = np.array([False, False] + [counts[k] == 1 for k in new_keys])
    rows = {
        "new": new,
        "tuned": tuned_rows,
        "anchor": tuned_rows,
        "fixed": np.concatenate(fixed_rows) if fixed_words else np.zeros((0, dim), np.float32),
        "replaceable": replaceable,
    }
    embedder = WordEmbedder(new_keys, tuned_keys, fixed_words, tuned_origins + fixed_origins, dim, rows=rows, **common)
    embedder.attach_oov(source.oov)
    return embedder
