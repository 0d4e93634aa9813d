"""Downstream tasks: embedding layer, encoders, heads, tagger, classifier, trainer, metrics."""
