"""Downstream tasks: embedding layer, encoders, heads, tagger, classifier, trainer, metrics."""

from veclift.tasks.api import load_model, model_class, train_and_evaluate
from veclift.tasks.classifier import TextClassifier
from veclift.tasks.config import ClassifierConfig, TaggerConfig, TaskConfig
from veclift.embeddings import StackedEmbedder, TokenBatch, TokenEmbedder, WordEmbedder
from veclift.tasks.tagger import SequenceTagger
from veclift.tasks.trainer import TrainResult

__all__ = [
    "ClassifierConfig",
    "SequenceTagger",
    "StackedEmbedder",
    "TaggerConfig",
    "TaskConfig",
    "TextClassifier",
    "TokenBatch",
    "TokenEmbedder",
    "TrainResult",
    "WordEmbedder",
    "load_model",
    "model_class",
    "train_and_evaluate",
]
