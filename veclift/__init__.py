"""veclift: pre-trained word embeddings turned into working NLP models, with the transfer measured."""

from veclift.errors import VecliftError
from veclift.vectors import Vectors

__all__ = ["Vectors", "VecliftError"]
__version__ = "0.1.0"
