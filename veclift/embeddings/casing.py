"""Casing (word shape) features: a small trainable vector per casing class of a token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from veclift.data.features import CASINGS, casing_ids
from veclift.embeddings.base import TokenBatch, TokenEmbedder, register_embedder

@register_embedder
class CasingEmbedder(TokenEmbedder):
    """A small trainable vector per casing class of the token."""

    kind = "casing"

    def __init__(self, dim: int = 8):
        super().__init__()
        self.dim = dim
        self.embedding = nn.Embedding(len(CASINGS) + 1, dim, padding_idx=0)

    def forward(self, batch: TokenBatch) -> torch.Tensor:
        return self.embedding(torch.from_numpy(casing_ids(batch.tokens, batch.width)))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "dim": self.dim}

    @classmethod
    def from_dict(cls, d: dict[str, Any], root: Path | None = None) -> CasingEmbedder:
        return cls(d["dim"])
