"""Contextual token embedders: a batch of token lists -> (B, T, dim) word vectors from a transformer,
either frozen (features cached on disk) or fine-tuned (encoder trained with its own learning rate,
warm-up and linear decay: see ``encoder_parameters``). transformers is imported only when a
backbone is loaded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from veclift.confined import inside
from veclift.contextual.backbone import DEFAULT_MODEL, Backbone, load_backbone
from veclift.contextual.features import Features, compute_features
from veclift.contextual.pooling import PoolingOptions, encode_words
from veclift.embeddings.base import TokenBatch, TokenEmbedder, register_embedder

if TYPE_CHECKING:
    from veclift.vectors.core import Vectors

BUNDLE_DIR = "contextual"
"""Where a model directory keeps a copy of its transformer (unless it is the packaged default)."""
CACHE_MIN_SENTENCES = 64
"""Prepared sentence sets at least this large are cached on disk; smaller ones stay in memory."""
KEEP_PREPARED = 4
"""Prepared sentence sets an embedder keeps at hand (a long-running service keeps no more)."""


def _pad(rows: torch.Tensor, lengths: Sequence[int]) -> torch.Tensor:
    """(total_words, dim) rows of consecutive sentences -> zero-padded (B, max length, dim)."""
    if not lengths or max(lengths) == 0:
        return rows.new_zeros(len(lengths), 0, rows.shape[-1])
    return pad_sequence(list(torch.split(rows, list(lengths))), batch_first=True)


@register_embedder
class ContextualEmbedder(TokenEmbedder):
    """What both modes share: the backbone, the pooling options, and their description."""

    kind = "contextual"
    mode = ""

    def __init__(self, backbone: Backbone, options: PoolingOptions = PoolingOptions()):
        super().__init__()
        self.backbone = backbone
        self.options = options
        self.dim = backbone.dim

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mode": self.mode, "model": self.backbone.name, "options": self.options.to_dict()}

    def bundle(self, directory: Path) -> dict[str, Any]:
        """A transformer other than the packaged default is copied into ``directory/contextual``."""
        description = self.to_dict()
        if description["model"] != DEFAULT_MODEL:
            self.backbone.model.save_pretrained(directory / BUNDLE_DIR, safe_serialization=True)
            self.backbone.tokenizer.save_pretrained(directory / BUNDLE_DIR)
            description["model"] = BUNDLE_DIR
        return description

    @classmethod
    def from_dict(cls, d: dict[str, Any], root: Path | None = None) -> ContextualEmbedder:
        """Reload the encoder it was trained from: the packaged default; else, given ``root`` (a model
        directory), the copy inside it; else the directory it names. Fine-tuned weights come with
        the model's state dict."""
        mode = {FrozenContextualEmbedder.mode: FrozenContextualEmbedder,
                FinetunedContextualEmbedder.mode: FinetunedContextualEmbedder}[d["mode"]]
        model = d["model"]
        if root is not None and model != DEFAULT_MODEL:
            model = str(inside(root, str(model)))
        return mode(load_backbone(model), PoolingOptions(**d["options"]))


class FrozenContextualEmbedder(ContextualEmbedder):
    """Fixed contextual vectors, looked up in features prepared once per data set (and cached on
    disk); sentences not prepared are encoded on the fly."""

    mode = "frozen"

    def __init__(self, backbone: Backbone, options: PoolingOptions = PoolingOptions(),
                 cache_dir: str | Path | None = None, progress: bool = True):
        super().__init__(backbone, options)
        self.cache_dir = cache_dir
        self.scratch: Any = None  # a temporary directory holding ``cache_dir``, removed with this embedder
        self.progress = progress
        self.features: list[Features] = []
        # The encoder is deliberately not a submodule: it has no trainable or saved state here.
        for parameter in backbone.model.parameters():
            parameter.requires_grad_(False)

    def prepare(self, token_lists: Iterable[Sequence[str]], vectors: Vectors | None = None) -> None:
        """Compute the vectors of these sentences, e.g. a whole data set: read from or written to the
        disk cache for ``CACHE_MIN_SENTENCES`` or more, kept in memory for fewer (a prediction request)."""
        token_lists = [tuple(t) for t in token_lists]
        to_disk = len(set(token_lists)) >= CACHE_MIN_SENTENCES
        features = compute_features(self.backbone, token_lists, self.options, cache_dir=self.cache_dir,
                                    use_cache=to_disk, progress=self.progress and to_disk)
        self.features = [*self.features, features][-KEEP_PREPARED:]

    def forward(self, batch: TokenBatch) -> torch.Tensor:
        found: dict[int, torch.Tensor] = {}
        missing = []
        for i, tokens in enumerate(batch.tokens):
            features = next((f for f in self.features if tokens in f), None)
            if features is None:
                missing.append(i)
            else:
                found[i] = torch.from_numpy(features[tokens].copy())
        if missing:
            self.backbone.model.eval()
            with torch.inference_mode():
                rows, offsets = encode_words(self.backbone, [batch.tokens[i] for i in missing], self.options)
            rows = rows.float().cpu()
            for k, i in enumerate(missing):
                found[i] = rows[offsets[k]:offsets[k + 1]].clone()
        rows = [found[i] for i in range(len(batch.tokens))]
        stacked = torch.cat(rows) if rows else torch.zeros(0, self.dim)
        return _pad(stacked, [r.shape[0] for r in rows])


class FinetunedContextualEmbedder(ContextualEmbedder):
    """The transformer itself as the embedding layer, trained with the task; its parameters are
    ``encoder_parameters()``, for an optimizer group with a small learning rate and its own schedule."""

    mode = "finetune"

    def __init__(self, backbone: Backbone, options: PoolingOptions = PoolingOptions()):
        super().__init__(backbone, options)
        self.encoder = backbone.model
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(True)

    def encoder_parameters(self) -> list[nn.Parameter]:
        return list(self.encoder.parameters())

    def forward(self, batch: TokenBatch) -> torch.Tensor:
        rows, offsets = encode_words(self.backbone, batch.tokens, self.options)
        return _pad(rows, [offsets[i + 1] - offsets[i] for i in range(len(offsets) - 1)])


def build_contextual_embedder(
    mode: str,
    token_lists: Iterable[Sequence[str]],
    *,
    model: str | None = None,
    options: PoolingOptions = PoolingOptions(),
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> ContextualEmbedder:
    """A ``"frozen"`` or ``"finetune"`` contextual embedder for a model about to be trained; in frozen
    mode the features of ``token_lists`` (train, dev and test sentences) are computed or read now."""
    backbone = load_backbone(model)
    if mode == FinetunedContextualEmbedder.mode:
        return FinetunedContextualEmbedder(backbone, options)
    embedder = FrozenContextualEmbedder(backbone, options, cache_dir, progress)
    embedder.prepare(token_lists)
    return embedder
