"""spaCy pipeline components over a trained veclift model (the ``spacy`` extra)::

    nlp = spacy.blank("en")
    nlp.add_pipe("veclift_ner", config={"model": "models/ner"})       # doc.ents, span._.veclift_score
    nlp.add_pipe("veclift_textcat", config={"model": "models/sent"})  # doc.cats

The model reads the Doc's own tokens (spaCy's whitespace tokens left out), so entities align to spaCy
tokens. Each entity's confidence is ``span._.veclift_score``; the entities are also kept, as spaCy's
spancat keeps its spans, in ``doc.spans[spans_key]`` with their scores in ``attrs["scores"]``.

Config: ``model`` (a model directory or an ONNX export; required), ``vectors`` (a vector source
giving rows to words the model has none for), ``batch_size`` (docs per model call), and for
``veclift_ner`` ``spans_key``. A saved pipeline (``nlp.to_disk``) keeps the model path, not a copy:
``spacy.load`` reads the model from that path again. spaCy finds the factories through the
``spacy_factories`` entry points of the installed veclift.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

import numpy as np

from veclift.errors import VecliftError

try:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, SpanGroup
    from spacy.util import minibatch
except ImportError:
    raise VecliftError("the spaCy components need spaCy: pip install 'veclift[spacy]'") from None

SCORE_EXTENSION = "veclift_score"
if not Span.has_extension(SCORE_EXTENSION):  # once; a re-import keeps the registered one
    Span.set_extension(SCORE_EXTENSION, default=None)

FACTORIES = {"ner": "veclift_ner", "classify": "veclift_textcat"}


def model_tokens(doc: Doc) -> list[int]:
    """The indices of the tokens the model reads: all but spaCy's whitespace tokens."""
    return [token.i for token in doc if not token.is_space]


class VecliftPipe:
    """What both components share: the loaded model and its vectors, and batching over docs."""

    task: ClassVar[str]

    def __init__(self, name: str, model: str, vectors: str | None, batch_size: int):
        from veclift.tasks.model import open_vectors
        from veclift.tasks.onnx_model import load_predictor

        if batch_size < 1:
            raise VecliftError(f"{name}: batch_size must be at least 1, not {batch_size}")
        self.name = name
        self.batch_size = batch_size
        self.model = load_predictor(model)
        if self.model.task != self.task:
            raise VecliftError(f"{name} needs a {self.task} model, this is a {self.model.task} model: "
                               f"use {FACTORIES[self.model.task]}", model)  # fmt: skip
        self.vectors = open_vectors(vectors)

    def __call__(self, doc: Doc) -> Doc:
        self.annotate([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """The docs annotated in batches of the config's ``batch_size`` (smaller if spaCy asks)."""
        size = self.batch_size if batch_size is None else min(batch_size, self.batch_size)
        for batch in minibatch(stream, size):
            self.annotate(batch)
            yield from batch

    def annotate(self, docs: list[Doc]) -> None:
        raise NotImplementedError


class VecliftEntityRecognizer(VecliftPipe):
    """Sets ``doc.ents`` from a veclift tagger, confidences in ``span._.veclift_score`` and, with the
    same spans, in ``doc.spans[spans_key].attrs["scores"]``."""

    task = "ner"

    def __init__(self, name: str, model: str, vectors: str | None, batch_size: int, spans_key: str):
        super().__init__(name, model, vectors, batch_size)
        self.spans_key = spans_key

    def annotate(self, docs: list[Doc]) -> None:
        kept = [model_tokens(doc) for doc in docs]
        token_lists = [[doc[i].text for i in indices] for doc, indices in zip(docs, kept)]
        offsets = [[(doc[i].idx, doc[i].idx + len(doc[i])) for i in indices] for doc, indices in zip(docs, kept)]
        answers = self.model.entities([doc.text for doc in docs], token_lists, offsets, vectors=self.vectors)
        for doc, indices, answer in zip(docs, kept, answers):
            spans = []
            for entity in answer["entities"]:
                start, end = indices[entity["token_start"]], indices[entity["token_end"] - 1] + 1
                span = Span(doc, start, end, label=entity["label"])
                span._.set(SCORE_EXTENSION, entity["score"])
                spans.append(span)
            doc.ents = spans
            scores = np.array([entity["score"] for entity in answer["entities"]], np.float64)
            doc.spans[self.spans_key] = SpanGroup(doc, name=self.spans_key, attrs={"scores": scores}, spans=spans)


class VecliftTextCategorizer(VecliftPipe):
    """Fills ``doc.cats`` with every label's probability from a veclift classifier (summing to 1 unless
    the model is multi-label); a doc with no words is left as it is."""

    task = "classify"

    def annotate(self, docs: list[Doc]) -> None:
        texts = [(doc, [doc[i].text for i in model_tokens(doc)]) for doc in docs]
        texts = [(doc, tokens) for doc, tokens in texts if tokens]
        if not texts:
            return
        proba = self.model.predict_proba([tokens for _, tokens in texts], vectors=self.vectors)
        for (doc, _), row in zip(texts, proba):
            doc.cats.update({label: float(p) for label, p in zip(self.model.labels, row)})


@Language.factory(
    FACTORIES["ner"], assigns=["doc.ents", "doc.spans", "token.ent_iob", "token.ent_type"],
    default_config={"vectors": None, "batch_size": 256, "spans_key": "veclift"},
)  # fmt: skip
def make_entity_recognizer(nlp: Language, name: str, model: str, vectors: str | None, batch_size: int,
                           spans_key: str) -> VecliftEntityRecognizer:  # fmt: skip
    """The ``veclift_ner`` component (spaCy calls this from ``nlp.add_pipe``)."""
    return VecliftEntityRecognizer(name, model, vectors, batch_size, spans_key)


@Language.factory(FACTORIES["classify"], assigns=["doc.cats"], default_config={"vectors": None, "batch_size": 256})
def make_text_categorizer(nlp: Language, name: str, model: str, vectors: str | None,
                          batch_size: int) -> VecliftTextCategorizer:  # fmt: skip
    """The ``veclift_textcat`` component (spaCy calls this from ``nlp.add_pipe``)."""
    return VecliftTextCategorizer(name, model, vectors, batch_size)
