"""The embedding layer: token lists in, (batch, time, dim) tensors out, from registered kinds
(word rows, characters, casing, contextual encoders) that stack. It knows no task."""

from veclift.embeddings.base import EMBEDDERS, StackedEmbedder, TokenBatch, TokenEmbedder, embedder_from_dict, register_embedder
from veclift.embeddings.casing import CasingEmbedder
from veclift.embeddings.chars import CharCNNEmbedder, CharEmbedder, CharLSTMEmbedder
from veclift.embeddings.contextual import (
    ContextualEmbedder,
    FinetunedContextualEmbedder,
    FrozenContextualEmbedder,
    build_contextual_embedder,
)
from veclift.embeddings.words import PAD, UNK, WordEmbedder, WordRowSettings, build_word_embedder

__all__ = [
    "EMBEDDERS", "PAD", "UNK", "CasingEmbedder", "CharCNNEmbedder", "CharEmbedder", "CharLSTMEmbedder",
    "ContextualEmbedder", "FinetunedContextualEmbedder", "FrozenContextualEmbedder", "StackedEmbedder", "TokenBatch",
    "TokenEmbedder", "WordEmbedder", "WordRowSettings", "build_contextual_embedder", "build_word_embedder",
    "embedder_from_dict", "register_embedder",
]
