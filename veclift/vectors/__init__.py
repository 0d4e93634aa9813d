"""The vector store: read, query, cover and evaluate pre-trained word embeddings."""

from veclift.vectors.core import Vectors

__all__ = ["Vectors"]
