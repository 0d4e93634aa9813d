"""The embedding layer's interface: token lists in, (batch, time, dim) tensors out.

`TokenEmbedder` is what every source implements (word rows, characters, casing, contextual
encoders); `StackedEmbedder` concatenates several. Each kind registers itself with
`register_embedder`, so a saved description (`TokenEmbedder.to_dict`) rebuilds its embedder with
`embedder_from_dict` without a table of kinds anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import torch
from torch import nn

from veclift.errors import VecliftError

if TYPE_CHECKING:
    from veclift.vectors.core import Vectors

EMBEDDERS: dict[str, type[TokenEmbedder]] = {}
"""Every registered embedder class by its ``kind``."""

E = TypeVar("E", bound="type[TokenEmbedder]")


def register_embedder(cls: E) -> E:
    """Class decorator: make ``cls.kind`` rebuildable from its ``to_dict()`` description."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} needs a non-empty kind to be registered")
    EMBEDDERS[cls.kind] = cls
    return cls


def embedder_from_dict(description: dict[str, Any], root: Path | None = None) -> TokenEmbedder:
    """Rebuild an embedder (weights at their initial values) from `TokenEmbedder.to_dict()` output;
    ``root``: the model directory that files named by a `TokenEmbedder.bundle` description are in."""
    if not isinstance(description, dict):
        raise VecliftError(f"an embedder description must be a JSON object, found {type(description).__name__}")
    kind = description.get("kind")
    if kind not in EMBEDDERS:
        raise VecliftError(f"unknown embedder kind {kind!r} (a model from a newer veclift?)")
    return EMBEDDERS[kind].from_dict(description, root)


@dataclass
class TokenBatch:
    """A padded batch of token lists: ``mask[b, t]`` is true for real tokens."""

    tokens: list[list[str]]
    lengths: torch.Tensor  # (B,) int64
    mask: torch.Tensor  # (B, T) bool

    @classmethod
    def of(cls, token_lists: Sequence[Sequence[str]]) -> TokenBatch:
        lengths = torch.tensor([len(t) for t in token_lists], dtype=torch.long)
        width = int(lengths.max()) if len(token_lists) else 0
        mask = torch.arange(width)[None, :] < lengths[:, None]
        return cls([list(t) for t in token_lists], lengths, mask)

    @property
    def width(self) -> int:
        return int(self.mask.shape[1])


class TokenEmbedder(nn.Module):
    """A source of token features: ``forward(batch) -> (B, T, dim)``, zero beyond each length."""

    dim: int
    kind: str = ""

    def prepare(self, token_lists: Iterable[Sequence[str]], vectors: Vectors | None = None) -> None:
        """Make rows ready for these tokens before prediction (new words); a no-op by default."""

    def finetuned_parameters(self) -> list[nn.Parameter]:
        """Parameters trained at the reduced fine-tuning learning rate."""
        return []

    def encoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of a pre-trained encoder, trained at their own rate with warm-up and decay."""
        return []

    def penalty(self) -> torch.Tensor | float:
        """A regularisation term added to the training loss."""
        return 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able constructor arguments (``kind`` included); ``from_dict`` inverts it, weights apart."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, description: dict[str, Any], root: Path | None = None) -> TokenEmbedder:
        raise NotImplementedError

    def bundle(self, directory: Path) -> dict[str, Any]:
        """``to_dict()`` for a self-contained model directory: what it names outside ``directory`` is
        copied in and named relative to it (default: nothing to copy)."""
        return self.to_dict()


@register_embedder
class StackedEmbedder(TokenEmbedder):
    """Concatenation of several token embedders along the feature axis."""

    kind = "stack"

    def __init__(self, parts: Sequence[TokenEmbedder]):
        super().__init__()
        if not parts:
            raise ValueError("a stack needs at least one embedder")
        self.parts = nn.ModuleList(parts)
        self.dim = sum(p.dim for p in parts)

    def forward(self, batch: TokenBatch) -> torch.Tensor:
        return torch.cat([part(batch) for part in self.parts], dim=-1)

    def prepare(self, token_lists: Iterable[Sequence[str]], vectors: Vectors | None = None) -> None:
        token_lists = list(token_lists)
        for part in self.parts:
            part.prepare(token_lists, vectors)

    def finetuned_parameters(self) -> list[nn.Parameter]:
        return [p for part in self.parts for p in part.finetuned_parameters()]

    def encoder_parameters(self) -> list[nn.Parameter]:
        return [p for part in self.parts for p in part.encoder_parameters()]

    def penalty(self) -> torch.Tensor | float:
        return sum((part.penalty() for part in self.parts), 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "parts": [part.to_dict() for part in self.parts]}

    def bundle(self, directory: Path) -> dict[str, Any]:
        return {"kind": self.kind, "parts": [part.bundle(directory) for part in self.parts]}

    @classmethod
    def from_dict(cls, description: dict[str, Any], root: Path | None = None) -> StackedEmbedder:
        parts = description.get("parts")
        if not isinstance(parts, list):
            raise VecliftError("a stack of embedders needs a list of parts")
        return cls([embedder_from_dict(part, root) for part in parts])

    def part(self, kind: type[TokenEmbedder]) -> TokenEmbedder | None:
        return next((p for p in self.parts if isinstance(p, kind)), None)
