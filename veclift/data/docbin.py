"""spaCy's training data, ``DocBin`` files (``.spacy``): entities as tagged sentences, ``doc.cats`` as
labeled texts; read and written with spaCy (the ``spacy`` extra), no pickle involved."""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from pathlib import Path
from typing import Any

from veclift.atomic import atomic_path
from veclift.data.formats import one_line
from veclift.data.labeled import LabeledText, _make, check_labeled
from veclift.data.schemes import INTERNAL_SCHEME, convert_tags, spans, tags_from_spans
from veclift.data.tagged import TaggedSentence
from veclift.errors import VecliftError


def _spacy(path: str | PathLike | None) -> Any:
    try:
        import spacy
    except ImportError:
        raise VecliftError("spaCy DocBin files need spaCy: pip install 'veclift[spacy]'", path) from None
    return spacy


def _docs(path: str | PathLike) -> list[Any]:
    """The documents of a DocBin file, on a blank vocabulary (the file carries its strings)."""
    spacy = _spacy(path)
    from spacy.tokens import DocBin

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise VecliftError(f"cannot read file: {exc.strerror or exc}", path) from None
    try:
        return list(DocBin().from_bytes(data).get_docs(spacy.vocab.Vocab()))
    except Exception as exc:  # noqa: BLE001 - zlib, msgpack, numpy and spaCy each fail their own way on broken bytes
        raise VecliftError(f"a spaCy DocBin file that cannot be read: {one_line(exc)}", path) from None


def read_docbin(path: str | PathLike) -> list[TaggedSentence]:
    """Tagged sentences (IOB2) from the entities of a DocBin file: one per document, or one per
    sentence where the documents have sentence boundaries (an entity across one is cut there).
    Whitespace tokens are dropped."""
    sentences = []
    for doc in _docs(path):
        tags = tags_from_spans([(ent.label_, ent.start, ent.end) for ent in doc.ents], len(doc))
        pieces = [(s.start, s.end) for s in doc.sents] if doc.has_annotation("SENT_START") else [(0, len(doc))]
        for start, end in pieces:
            kept = [(token.text, tag) for token, tag in zip(doc[start:end], tags[start:end]) if token.text.strip()]
            if kept:
                tokens, piece_tags = zip(*kept)
                sentences.append(TaggedSentence(tokens, convert_tags(piece_tags, INTERNAL_SCHEME, INTERNAL_SCHEME)))
    if not sentences:
        raise VecliftError("no sentences found", path)
    return sentences


def read_docbin_labeled(path: str | PathLike, *, threshold: float = 0.5, lowercase: bool = False,
                        min_classes: int = 2) -> list[LabeledText]:  # fmt: skip
    """Labeled texts from a DocBin file's ``doc.cats``: each category scored at least ``threshold``
    is a label of the document's text (several make it multi-label)."""
    items = []
    for number, doc in enumerate(_docs(path), start=1):
        labels = [str(label) for label, score in doc.cats.items() if isinstance(score, (int, float)) and score >= threshold]
        if not labels:
            raise VecliftError(f"document {number} has no category scored {threshold} or more", path)
        items.append(_make(doc.text, labels, lowercase, path, None))
    return check_labeled(items, path, min_classes)


def write_docbin(items: Iterable[TaggedSentence | LabeledText], path: str | PathLike, *, overwrite: bool = False) -> None:
    """Write one document per item, atomically: a sentence's entities as ``doc.ents``, a text (split by
    spaCy's multi-language tokenizer) with its labels as ``doc.cats`` (1.0, and 0.0 for the other labels)."""
    spacy = _spacy(path)
    from spacy.tokens import Doc, DocBin, Span

    items = list(items)
    nlp, docs = spacy.blank("xx"), DocBin()
    categories = sorted({label for item in items if isinstance(item, LabeledText) for label in item.labels})
    for item in items:
        if isinstance(item, TaggedSentence):
            blank = next((token for token in item.tokens if not token.strip()), None)
            if blank is not None:
                raise VecliftError(f"token {blank!r} cannot be written to a DocBin (spaCy keeps no empty or blank words)")
            doc = Doc(nlp.vocab, words=list(item.tokens))
            doc.ents = [Span(doc, start, end, label=kind) for kind, start, end in spans(item.tags)]
        else:
            doc = nlp.make_doc(item.text)
            doc.cats = {label: float(label in item.labels) for label in categories}
        docs.add(doc)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(docs.to_bytes())
