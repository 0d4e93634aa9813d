"""Casing (word shape) features: a small trainable vector per casing class of a token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from veclift.embeddings.base import TokenBatch, TokenEmbedder, register_embedder

CASINGS = ("numeric", "mostly_numeric", "lower", "upper", "title", "has_digit", "other")


def casing(token: str) -> int:
    """Casing class of a token, 1-based (0 is padding): Reimers & Gurevych's word-shape categories."""
    digits = sum(c.isdigit() for c in token)
    if token.isdigit():
        name = "numeric"
    elif digits / max(len(token), 1) > 0.5:
        name = "mostly_numeric"
    elif token.islower():
        name = "lower"
    elif token.isupper():
        name = "upper"
    elif token[:1].isupper():
        name = "title"
    elif digits:
        name = "has_digit"
    else:
        name = "other"
    return CASINGS.index(name) + 1


@register_embedder
class CasingEmbedder(TokenEmbedder):
    """A small trainable vector per casing class of the token."""

    kind = "casing"

    def __init__(self, dim: int = 8):
        super().__init__()
        self.dim = dim
        self.embedding = nn.Embedding(len(CASINGS) + 1, dim, padding_idx=0)

    def forward(self, batch: TokenBatch) -> torch.Tensor:
        ids = torch.zeros(batch.mask.shape, dtype=torch.long)
        for b, tokens in enumerate(batch.tokens):
            if tokens:
                ids[b, : len(tokens)] = torch.tensor([casing(t) for t in tokens])
        return self.embedding(ids)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "dim": self.dim}

    @classmethod
    def from_dict(cls, d: dict[str, Any], root: Path | None = None) -> CasingEmbedder:
        return cls(d["dim"])
