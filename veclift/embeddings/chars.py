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

from veclift.data.features import char_index, char_inputs
from veclift.embeddings.base import TokenBatch, TokenEmbedder, register_embedder



class CharEmbedder(TokenEmbedder):
    """Encodes each distinct word of a batch once from its characters (0: padding, 1: unknown char)."""

    def __init__(self, chars: Sequence[str], char_dim: int, size: int):
        super().__init__()
        self.chars = list(chars)
        self.char_index = char_index(self.chars)
        self.char_dim = char_dim
        self.size = size
        self.embedding = nn.Embedding(len(self.chars) + 2, char_dim, padding_idx=0)
        self._cache: dict[str, list[int]] = {}

    def forward(self, batch: TokenBatch) -> torch.Tensor:
        chars, lengths, where = char_inputs(batch.tokens, self.char_index, batch.width, self._cache)
        return self.from_inputs(torch.from_numpy(chars), torch.from_numpy(lengths), torch.from_numpy(where), batch.mask)

    def from_inputs(self, chars: torch.Tensor, lengths: torch.Tensor, where: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Features from `veclift.data.features.char_inputs` arrays (also the exported graph's inputs)."""
        return self.encode(chars, lengths)[where] * mask[..., None]

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
        out, _ = nn.utils.rnn.pad_packed_sequence(self.lstm(packed)[0], batch_first=True)
        half = self.lstm.hidden_size
        # The final states, read from the outputs (the same numbers as h_n): this form exports to ONNX.
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, out.shape[2])
        forward = out.gather(1, last)[:, 0, :half]
        return torch.cat([forward, out[:, 0, half:]], dim=-1)
