"""veclift: pre-trained word embeddings turned into working NLP models, with the transfer measured.

The public API at the top level (the models and the study load torch on first use only)::

    from veclift import Vectors, SequenceTagger, TextClassifier, load_model, read_conll, TransferStudy
"""

from veclift.errors import VecliftError
from veclift.lazy import lazy_attributes
from veclift.vectors import Vectors

__version__ = "0.1.0"

_HOMES = {
    "SequenceTagger": "veclift.tasks.tagger",
    "TextClassifier": "veclift.tasks.classifier",
    "load_model": "veclift.tasks.api",
    "load_predictor": "veclift.tasks.onnx_model",
    "TransferStudy": "veclift.study.runner",
    "StudySpec": "veclift.study.spec",
    "TaggedSentence": "veclift.data.tagged",
    "LabeledText": "veclift.data.labeled",
    "read_conll": "veclift.data.tagged",
    "read_tagged": "veclift.data.tagged",
    "read_tagged_jsonl": "veclift.data.tagged",
    "write_conll": "veclift.data.tagged",
    "read_labeled": "veclift.data.labeled",
    "tokenize": "veclift.data.tokenize",
}

__all__ = ["Vectors", "VecliftError", "__version__", *_HOMES]

__getattr__ = lazy_attributes(__name__, _HOMES)
