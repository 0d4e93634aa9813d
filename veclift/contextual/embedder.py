"""Contextual token embedders: a batch of token lists -> (B, T, dim) word vectors from a transformer,
either frozen (features cached on disk) or fine-tuned (encoder trained with its own learning rate)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from veclift.contextual.backbone import Backbone
from veclift.contextual.features import FeatureTable, compute_features
from veclift.contextual.pooling import PoolingOptions, encode_words


def _pad(rows: torch.Tensor, offsets: Sequence[int], dim: int) -> torch.Tensor:
    """(total_words, dim) rows of consecutive sentences -> zero-padded (B, T, dim)."""
    lengths = [offsets[i + 1] - offsets[i] for i in range(len(offsets) - 1)]
    if not lengths or max(lengths) == 0:
        return rows.new_zeros(len(lengths), 0, dim)
    return pad_sequence(list(torch.split(rows, lengths)), batch_first=True)


class FrozenContextualEmbedder(nn.Module):
    """Fixed contextual vectors: looked up in feature tables prepared once per data set, computed on
    the fly (and not cached) for sentences seen for the first time, e.g. at prediction time."""

    def __init__(self, backbone: Backbone, options: PoolingOptions = PoolingOptions(),
                 cache_dir: str | Path | None = None, show_progress: bool = True):
        super().__init__()
        self.backbone = backbone
        self.options = options
        self.cache_dir = cache_dir
        self.show_progress = show_progress
        self.tables: list[FeatureTable] = []
        self.register_buffer("_anchor", torch.zeros(0), persistent=False)
        for parameter in backbone.model.parameters():
            parameter.requires_grad_(False)

    @property
    def dim(self) -> int:
        return self.backbone.dim

    def prepare(self, sentences: Iterable[Sequence[str]]) -> FeatureTable:
        """Compute (or read from the cache) the vectors of these sentences, e.g. a whole training set."""
        table = compute_features(self.backbone, sentences, self.options, cache_dir=self.cache_dir,
                                 show_progress=self.show_progress)
        self.tables.append(table)
        return table

    def forward(self, batch: Sequence[Sequence[str]]) -> torch.Tensor:
        found: dict[int, torch.Tensor] = {}
        missing = []
        for i, tokens in enumerate(batch):
            table = next((t for t in self.tables if tokens in t), None)
            if table is None:
                missing.append(i)
            else:
                found[i] = torch.from_numpy(table[tokens].copy())
        if missing:
            self.backbone.model.eval()
            with torch.inference_mode():
                rows, offsets = encode_words(self.backbone, [batch[i] for i in missing], self.options)
            rows = rows.float().cpu()
            for k, i in enumerate(missing):
                found[i] = rows[offsets[k]:offsets[k + 1]].clone()
        sentences = [found[i] for i in range(len(batch))]
        offsets = [0]
        for rows in sentences:
            offsets.append(offsets[-1] + rows.shape[0])
        stacked = torch.cat(sentences) if sentences else torch.zeros(0, self.dim)
        return _pad(stacked, offsets, self.dim).to(self._anchor.device)


class FinetunedContextualEmbedder(nn.Module):
    """The transformer itself as an embedding layer, trained with the task (use ``param_groups``
    and ``linear_warmup_decay`` to give it its own small learning rate, warm-up and decay)."""

    def __init__(self, backbone: Backbone, options: PoolingOptions = PoolingOptions()):
        super().__init__()
        self.backbone = backbone
        self.encoder = backbone.model
        self.options = options
        self.encoder.train(self.training)
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(True)

    @property
    def dim(self) -> int:
        return self.backbone.dim

    def forward(self, batch: Sequence[Sequence[str]]) -> torch.Tensor:
        rows, offsets = encode_words(self.backbone, batch, self.options)
        return _pad(rows, offsets, self.dim)


def linear_warmup_decay(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """Learning-rate factor for ``torch.optim.lr_scheduler.LambdaLR``: rises linearly from 0 over
    ``warmup_steps``, then falls linearly to 0 at ``total_steps`` (the BERT fine-tuning schedule)."""
    warmup_steps = max(0, int(warmup_steps))
    total_steps = max(1, int(total_steps))

    # transformers' get_linear_schedule_with_warmup sets one schedule for every parameter group;
    # the encoder needs its own, beside the task layers' schedule, hence a LambdaLR factor.
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor
