"""The queue of `veclift annotate`: which sentence each browser tab annotates next, and the spans
shown on it.

Order: input order; with a model, the most uncertain sentence first: the lowest of its shown
entities' confidences and its tokens' margins (the most probable tag's probability less the second's). A
sentence already answered is never served. A tab (``client``) keeps the sentence it was given (a
reload shows it again) for `LEASE_SECONDS`, and another tab is given the next free one meanwhile,
so two tabs do not annotate one sentence twice; with every left sentence held, one is shared.

Suggested spans, each with its ``source``: the input's own tags first, then pattern matches, then
the model's entities (with its confidence ``score``) where they overlap none of those. Only the
session's labels are shown; the model's other labels are dropped (one warning says which).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Any

from veclift.data.schemes import Span
from veclift.errors import warn
from veclift.progress import progress as progress_bar
from veclift.serve.annotate_input import Suggester
from veclift.serve.annotate_session import Answer, AnnotationSession, Item

LEASE_SECONDS = 600.0
PREDICT_CHUNK = 256

ModelSpan = tuple[str, int, int, float]
"""A model's entity: (label, token_start, token_end, confidence)."""


def uncertainty(entities: Sequence[ModelSpan], marginals: Sequence[dict[str, float]]) -> float:
    """The lowest of the entities' confidences and the tokens' margins (top tag probability less the
    second's); 1.0 for a sentence the model is sure of (or has nothing to say about)."""
    lowest = min((score for *_, score in entities), default=1.0)
    for row in marginals:
        top = sorted(row.values(), reverse=True)
        if len(top) >= 2:
            lowest = min(lowest, top[0] - top[1])
    return float(lowest)


def predict_items(model: Any, items: Sequence[Item], labels: Sequence[str], *, vectors: Any = None,
                  progress: bool = False) -> dict[int, tuple[list[ModelSpan], float]]:  # fmt: skip
    """Per item id: the model's entities of ``labels`` and the sentence's `uncertainty` (over those
    entities, and every token's margin)."""
    found: dict[int, tuple[list[ModelSpan], float]] = {}
    with progress_bar("Pre-labelling with the model", len(items), enabled=progress and bool(items)) as update:
        for first in range(0, len(items), PREDICT_CHUNK):
            chunk = items[first : first + PREDICT_CHUNK]
            answers = model.entities([i.text for i in chunk], [i.tokens for i in chunk], [list(i.offsets) for i in chunk],
                                     vectors=vectors, marginals=True)  # fmt: skip
            for item, answer in zip(chunk, answers):
                entities = [(e["label"], e["token_start"], e["token_end"], float(e["score"]))
                            for e in answer["entities"] if e["label"] in labels]  # fmt: skip
                found[item.id] = (entities, uncertainty(entities, answer["marginals"]))
            update(advance=len(chunk))
    return found


def model_labels(model: Any) -> list[str]:
    """The entity types a tagger's IOB2 tags name."""
    return sorted({tag.partition("-")[2] for tag in model.labels if tag != "O"})


class AnnotationQueue:
    """Serves the unanswered items of ``session``: suggestions from the input's tags, ``suggester``
    (patterns) and ``model`` (a tagger: a model directory or an ONNX export, loaded; shown as
    ``model_name``), which orders them by uncertainty. ``vectors``: rows for words the model lacks.
    Safe to call from threads."""

    def __init__(self, session: AnnotationSession, *, suggester: Suggester | None = None, model: Any = None,
                 model_name: str = "model", vectors: Any = None, lease_seconds: float = LEASE_SECONDS,
                 progress: bool = False):  # fmt: skip
        self.session = session
        self.labels = session.labels
        self.items = {item.id: item for item in session.items()}
        self.suggester = suggester
        self.vectors = vectors
        self.lease_seconds = lease_seconds
        self._lock = threading.Lock()
        self._leases: dict[str, tuple[int, float]] = {}
        self._predicted: dict[int, tuple[list[ModelSpan], float]] = {}
        self._order = sorted(self.items)
        self.model_name: str | None = None
        other = sorted({span[0] for item in self.items.values() for span in item.spans} - set(self.labels))
        if other:
            warn(f"the input's tags of the label(s) {', '.join(other)} are not shown: they are not in --labels")
        if model is not None:
            dropped = sorted(set(model_labels(model)) - set(self.labels))
            if dropped:
                warn(f"the model's label(s) {', '.join(dropped)} are not shown: they are not in --labels")
            self.set_model(model, model_name, progress=progress)

    # --- the model --------------------------------------------------------------------------------
    def set_model(self, model: Any, name: str, *, progress: bool = False) -> None:
        """Pre-label the unanswered items with ``model`` and order them by uncertainty; the queue
        goes on serving with the previous model until this is done."""
        answered = self.session.answered()
        waiting = [item for number, item in self.items.items() if number not in answered]
        predicted = predict_items(model, waiting, self.labels, vectors=self.vectors, progress=progress)
        order = sorted(self.items, key=lambda number: (predicted[number][1] if number in predicted else math.inf, number))
        with self._lock:
            self._predicted, self._order, self.model_name = predicted, order, name

    # --- serving --------------------------------------------------------------------------------
    def next(self, client: str | None = None) -> dict[str, Any] | None:
        """The item ``client`` should annotate (see the module docstring) as `payload` gives it, None
        when every item is answered."""
        answered = self.session.answered()
        with self._lock:
            now = time.monotonic()
            self._leases = {c: lease for c, lease in self._leases.items() if lease[1] > now and lease[0] not in answered}
            if client is not None and client in self._leases:
                number = self._leases[client][0]
            else:
                held = {lease[0] for lease in self._leases.values()}
                free = (n for n in self._order if n not in answered and n not in held)
                number = next(free, None) or next((n for n in self._order if n not in answered), None)
                if number is None:
                    return None
            if client is not None:
                self._leases[client] = (number, now + self.lease_seconds)
        return self.payload(number)

    def hold(self, client: str | None, number: int) -> None:
        """Give item ``number`` to ``client`` (after an undo, its next item is the one undone)."""
        if client is not None:
            with self._lock:
                self._leases[client] = (number, time.monotonic() + self.lease_seconds)

    def payload(self, number: int, answer: Answer | None = None) -> dict[str, Any]:
        """Item ``number`` as the API gives it: ``id``, ``text``, ``tokens``, ``offsets`` (each token's
        [start, end]), ``spans`` (the suggestions, or the spans of an accepted ``answer``), ``uncertainty`` (None
        without a model) and ``answer`` (``{"decision", "spans"}``, or None)."""
        item = self.items[number]
        with self._lock:
            predicted = self._predicted.get(number)
        if answer is not None and answer.decision == "accept":
            spans = [(*span, "answer", None) for span in answer.spans]
        else:
            spans = self.suggestions(item, predicted[0] if predicted else [])
        return {
            "id": item.id, "text": item.text, "tokens": item.tokens, "offsets": [list(o) for o in item.offsets],
            "spans": [span_record(item, label, start, end, source, score) for label, start, end, source, score in spans],
            "uncertainty": None if predicted is None else round(predicted[1], 6),
            "answer": None if answer is None else {"decision": answer.decision,
                                                   "spans": [span_record(item, *s, "answer", None) for s in answer.spans]},
        }  # fmt: skip

    def suggestions(self, item: Item, predicted: Sequence[ModelSpan]) -> list[tuple[str, int, int, str, float | None]]:
        """``(label, start, end, source, score)`` of the input's tags, the pattern matches and the
        model's entities, each kept where it overlaps none kept before it; sorted by position."""
        scores = {(label, start, end): score for label, start, end, score in predicted}
        kept: list[tuple[str, int, int, str, float | None]] = []
        taken: set[int] = set()
        sources: list[tuple[str, Sequence[Span]]] = [
            ("input", [s for s in item.spans if s[0] in self.labels]),
            ("pattern", self.suggester.spans(item.tokens) if self.suggester is not None else []),
            ("model", [span[:3] for span in predicted]),
        ]  # fmt: skip
        for source, spans in sources:
            for label, start, end in spans:
                if taken.isdisjoint(range(start, end)):
                    kept.append((label, start, end, source, scores.get((label, start, end))))
                    taken.update(range(start, end))
        return sorted(kept, key=lambda span: span[1])


def span_record(item: Item, label: str, start: int, end: int, source: str, score: float | None) -> dict[str, Any]:
    """A token span as the API shows it: ``label``, ``token_start``/``token_end`` (end exclusive),
    character ``start``/``end``, ``text``, ``source`` and the model's ``score`` (None if it has none)."""
    first, last = item.offsets[start][0], item.offsets[end - 1][1]
    return {"label": label, "token_start": start, "token_end": end, "start": first, "end": last,
            "text": item.text[first:last], "source": source, "score": None if score is None else round(score, 6)}  # fmt: skip
