"""Contextual (transformer) encoders: any Hugging Face encoder, its word pooling and cached features.

The token embedders built on them live in `veclift.embeddings.contextual`."""

from veclift.contextual.backbone import DEFAULT_MODEL, Backbone, default_model_dir, load_backbone
from veclift.contextual.features import Features, compute_features
from veclift.contextual.pooling import POOLINGS, PoolingOptions, encode_words

__all__ = [
    "DEFAULT_MODEL", "POOLINGS", "Backbone", "Features", "PoolingOptions", "compute_features", "default_model_dir",
    "encode_words", "load_backbone",
]
