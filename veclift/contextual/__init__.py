"""Contextual (transformer) embeddings: any Hugging Face encoder as a word-vector strategy."""

from veclift.contextual.backbone import DEFAULT_MODEL, Backbone, default_model_dir, load_backbone
from veclift.contextual.embedder import (
    ContextualEmbedder,
    FinetunedContextualEmbedder,
    FrozenContextualEmbedder,
    linear_warmup_decay,
)
from veclift.contextual.features import Features, compute_features
from veclift.contextual.pooling import POOLINGS, PoolingOptions, encode_words

__all__ = [
    "DEFAULT_MODEL", "POOLINGS", "Backbone", "ContextualEmbedder", "Features", "FinetunedContextualEmbedder",
    "FrozenContextualEmbedder", "PoolingOptions", "compute_features", "default_model_dir",
    "encode_words", "linear_warmup_decay", "load_backbone",
]
