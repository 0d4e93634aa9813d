"""Encoders over embedded tokens: per-token (taggers) and pooled to one vector (classifiers).

All take ``x`` (B, T, d) and ``mask`` (B, T) bool and never let padding leak into real positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from veclift.tasks.config import TaggerConfig


class BiLSTMEncoder(nn.Module):
    """Bidirectional LSTM over packed sequences: (B, T, d) -> (B, T, 2 * hidden)."""

    def __init__(self, in_dim: int, hidden: int, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.lstm = nn.LSTM(in_dim, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                            dropout=dropout if layers > 1 else 0.0)  # fmt: skip
        self.out_dim = 2 * hidden

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out * mask[..., None]


class DilatedCNNEncoder(nn.Module):
    """Iterated dilated convolutions (Strubell et al. 2017): kernel 3, dilations 1, 2, 4, residual, ReLU.

    Much faster than a BiLSTM on CPU: every position is computed in parallel.
    """

    def __init__(self, in_dim: int, channels: int, dilations: Sequence[int] = (1, 2, 4), blocks: int = 2, dropout: float = 0.0):
        super().__init__()
        self.project = nn.Linear(in_dim, channels)
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size=3, dilation=d, padding=d) for _ in range(blocks) for d in dilations
        )
        self.dropout = nn.Dropout(dropout)
        self.out_dim = channels

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask[:, None, :].to(x.dtype)
        h = self.project(x).transpose(1, 2) * keep  # (B, C, T)
        for conv in self.convs:
            h = (h + self.dropout(torch.relu(conv(h)))) * keep
        return h.transpose(1, 2)


class MaskedPooling(nn.Module):
    """Pool (B, T, d) to (B, d') over real tokens: ``mean``, ``max``, ``concat`` (mean+max) or ``attention``."""

    def __init__(self, in_dim: int, mode: str):
        super().__init__()
        self.mode = mode
        self.out_dim = 2 * in_dim if mode == "concat" else in_dim
        if mode == "attention":
            self.score = nn.Sequential(nn.Linear(in_dim, in_dim), nn.Tanh(), nn.Linear(in_dim, 1, bias=False))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask[..., None]
        if self.mode == "attention":
            weights = torch.softmax(self.score(x).masked_fill(~m, float("-inf")), dim=1)
            return (weights.nan_to_num(0.0) * x).sum(1)
        mean = (x * m).sum(1) / m.sum(1).clamp(min=1)
        if self.mode == "mean":
            return mean
        # -inf added at padding through a (B, T, 1) tensor rather than x.masked_fill: the same values
        # and gradients in about half the time (the addition's backward is a plain copy).
        padding = torch.zeros(m.shape, dtype=x.dtype).masked_fill(~m, float("-inf"))
        maxed = (x + padding).max(1).values.nan_to_num(0.0, neginf=0.0)
        return maxed if self.mode == "max" else torch.cat([mean, maxed], dim=-1)


class KimCNN(nn.Module):
    """Kim (2014) sentence CNN: one convolution per kernel size, ReLU, max over time, concatenated."""

    def __init__(self, in_dim: int, filters: int = 100, kernel_sizes: Sequence[int] = (3, 4, 5)):
        super().__init__()
        self.kernel_sizes = tuple(kernel_sizes)
        self.convs = nn.ModuleList(nn.Conv1d(in_dim, filters, k) for k in self.kernel_sizes)
        self.out_dim = filters * len(self.kernel_sizes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        widest = max(self.kernel_sizes)
        if x.shape[1] < widest:  # zero-pad short batches so every kernel fits once
            x = nn.functional.pad(x, (0, 0, 0, widest - x.shape[1]))
            mask = nn.functional.pad(mask, (0, widest - mask.shape[1]))
        h = (x * mask[..., None]).transpose(1, 2)
        lengths = mask.sum(1)
        pooled = []
        for k, conv in zip(self.kernel_sizes, self.convs):
            c = torch.relu(conv(h))  # (B, F, T - k + 1)
            valid = torch.arange(c.shape[2])[None, :] < (lengths - k + 1).clamp(min=1)[:, None]
            pooled.append(c.masked_fill(~valid[:, None, :], 0.0).max(2).values)
        return torch.cat(pooled, dim=-1)


class SentenceEncoder(nn.Module):
    """A classifier's encoder by name: ``swem-mean|max|concat``, ``bilstm-max|attention`` or ``cnn``."""

    def __init__(self, name: str, in_dim: int, *, hidden: int = 150, filters: int = 100, kernel_sizes: Sequence[int] = (3, 4, 5)):
        super().__init__()
        family, _, pooling = name.partition("-")
        self.tokens: nn.Module | None = None
        if family == "swem":
            self.pool = MaskedPooling(in_dim, pooling)
        elif family == "bilstm":
            self.tokens = BiLSTMEncoder(in_dim, hidden)
            self.pool = MaskedPooling(self.tokens.out_dim, pooling)
        elif family == "cnn":
            self.pool = KimCNN(in_dim, filters, kernel_sizes)
        else:
            raise ValueError(f"unknown sentence encoder {name!r}")
        self.out_dim = self.pool.out_dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.tokens is not None:
            x = self.tokens(x, mask)
        return self.pool(x, mask)


def token_encoder(in_dim: int, config: TaggerConfig) -> BiLSTMEncoder | DilatedCNNEncoder:
    """The tagger's encoder as ``config`` shapes it (also built by encoder pre-training)."""
    if config.encoder == "bilstm":
        return BiLSTMEncoder(in_dim, config.hidden, config.layers, config.dropout)
    return DilatedCNNEncoder(in_dim, 2 * config.hidden, blocks=config.layers + 1, dropout=config.dropout)
