"""Character features beside the word vectors: a CNN or a BiLSTM over each word's characters.

GloVe 6B is lower-cased, so a tagger keyed on lower-cased words needs these (and casing) to see
that "Apple" is capitalised and how an unseen word is spelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from veclift.embeddings.base import TokenBatch, TokenEmbedder, register_embedder

MAX_WORD_CHARS = 30  # longer words are cut: their first 30 characters carry the shape signal


class CharEmbedder(TokenEmbedder):
    """Encodes each distinct word of a batch once from its characters (0: padding, 1: unknown char)."""

    def __init__(self, chars: Sequence[str], char_dim: int, size: int):
        super().__init__()
        self.chars = list(chars)
        self.char_index = {c: i + 2 for i, c in enumerate(self.chars)}
        self.char_dim = char_dim
        self.size = size
        self.embedding = nn.Embedding(len(self.chars) + 2, char_dim, padding_idx=0)
        self._cache: dict[str, list[int]] = {}

    def char_ids(self, word: str) -> list[int]:
        ids = self._cache.get(word)
        if ids is None:
            ids = [self.char_index.get(c, 1) for c in word[:MAX_WORD_CHARS]] or [1]
            self._cache[word] = ids
        return ids

    def forward(self, batch: TokenBatch) -> torch.Tensor:
        position: dict[str, int] = {}
        where = torch.zeros(batch.mask.shape, dtype=torch.long)
        for b, tokens in enumerate(batch.tokens):
            if tokens:
                where[b, : len(tokens)] = torch.tensor([position.setdefault(t, len(position)) for t in tokens])
        words = list(position)
        if not words:
            return torch.zeros(*batch.mask.shape, self.dim)
        ids = [self.char_ids(w) for w in words]
        lengths = torch.tensor([len(i) for i in ids])
        chars = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
        for i, row in enumerate(ids):
            chars[i, : len(row)] = torch.tensor(row)
        encoded = self.encode(chars, lengths)
        return encoded[where] * batch.mask[..., None]

    def encode(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(words, chars) ids -> (words, dim) features."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "chars": self.chars, "char_dim": self.char_dim, "size": self.size}

    @classmethod
    def from_dict(cls, d: dict[str, Any], root: Path | None = None) -> CharEmbedder:
        return cls(d["chars"], d["char_dim"], d["size"])


@register_embedder
class CharCNNEmbedder(CharEmbedder):
    """Character CNN (kernel 3) max-pooled over the word (Ma & Hovy 2016); ``size`` filters."""

    kind = "char-cnn"

    def __init__(self, chars: Sequence[str], char_dim: int = 30, size: int = 50):
        super().__init__(chars, char_dim, size)
        self.conv = nn.Conv1d(char_dim, size, kernel_size=3, padding=1)
        self.dim = size

    def encode(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        hidden = self.conv(self.embedding(chars).transpose(1, 2))  # (U, size, L)
        valid = (torch.arange(chars.shape[1])[None, :] < lengths[:, None])[:, None, :]
        return hidden.masked_fill(~valid, float("-inf")).max(dim=2).values


@register_embedder
class CharLSTMEmbedder(CharEmbedder):
    """Character BiLSTM, final states of both directions (Lample et al. 2016); ``size`` = output dim."""

    kind = "char-lstm"

    def __init__(self, chars: Sequence[str], char_dim: int = 30, size: int = 50):
        super().__init__(chars, char_dim, size)
        self.lstm = nn.LSTM(char_dim, size // 2, batch_first=True, bidirectional=True)
        self.dim = 2 * (size // 2)

    def encode(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(chars), lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return torch.cat([h[0], h[1]], dim=-1)
