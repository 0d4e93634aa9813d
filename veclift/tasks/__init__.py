"""Downstream tasks: the task registry, tagger, classifier, encoders, heads, trainer, metrics, model directory."""

from veclift.embeddings import StackedEmbedder, TokenBatch, TokenEmbedder, WordEmbedder
from veclift.tasks.api import load_model, model_class, train_and_evaluate
from veclift.tasks.classifier import TextClassifier
from veclift.tasks.config import ClassifierConfig, TaggerConfig, TaskConfig
from veclift.tasks.registry import ScoreTable, Task, TransferColumn, get_task, register_task, task_names
from veclift.tasks.tagger import SequenceTagger
from veclift.tasks.trainer import TrainResult

__all__ = [
    "ClassifierConfig",
    "ScoreTable",
    "SequenceTagger",
    "StackedEmbedder",
    "TaggerConfig",
    "Task",
    "TaskConfig",
    "TextClassifier",
    "TokenBatch",
    "TokenEmbedder",
    "TrainResult",
    "TransferColumn",
    "WordEmbedder",
    "get_task",
    "load_model",
    "model_class",
    "register_task",
    "task_names",
    "train_and_evaluate",
]
