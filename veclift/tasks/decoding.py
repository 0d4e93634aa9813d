"""Decoding a tagger's per-token scores into tags, entities and confidences, in NumPy alone.

One implementation for every runtime: the torch tagger and an exported ONNX graph both hand their
emissions here, and `veclift export` copies this file beside the graph so it runs without veclift.
Viterbi works in float32, as the CRF was trained; forward-backward in float64 for the confidences.

Entity confidence: with a CRF, the exact probability under the model that the entity's tokens carry
the decoded tags and the next token does not continue it (forward-backward, any scheme of
``B-``/``I-`` tags); with a softmax head, the product of its tokens' probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(x - top), axis=axis))


def viterbi(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray,
            end: np.ndarray) -> list[list[int]]:
    """Best tag sequences of a padded batch: (B, T, L) emissions, (B,) lengths, (L, L) [from, to]
    transitions; the same operations, in the same order, as the CRF's training-time scores."""
    batch, width, _ = emissions.shape
    score = start + emissions[:, 0]
    history = []
    for t in range(1, width):
        total = score[:, :, None] + transitions
        index = total.argmax(axis=1)
        best = np.take_along_axis(total, index[:, None, :], axis=1)[:, 0]
        history.append(index)
        score = np.where((t < lengths)[:, None], best + emissions[:, t], score)
    current = (score + end).argmax(axis=1)
    paths = np.empty((batch, width), np.int64)
    rows = np.arange(batch)
    for t in range(width - 1, -1, -1):
        paths[:, t] = current
        if t > 0:
            current = np.where(t < lengths, history[t - 1][rows, current], current)
    return [paths[b, :n].tolist() for b, n in enumerate(lengths.tolist())]


def forward_backward(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray,
                     end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log alpha, log beta, log Z) of a padded batch, in float64: ``alpha[b, t]`` sums the paths up to
    t (emission t included), ``beta[b, t]`` those after t; valid up to each length."""
    emissions = emissions.astype(np.float64)
    transitions, start, end = (np.asarray(a, np.float64) for a in (transitions, start, end))
    batch, width, labels = emissions.shape
    alpha = np.empty((batch, width, labels))
    beta = np.empty((batch, width, labels))
    alpha[:, 0] = start + emissions[:, 0]
    for t in range(1, width):
        step = logsumexp(alpha[:, t - 1, :, None] + transitions, axis=1) + emissions[:, t]
        alpha[:, t] = np.where((t < lengths)[:, None], step, alpha[:, t - 1])
    beta[:, width - 1] = end
    for t in range(width - 2, -1, -1):
        step = logsumexp(transitions[None] + (emissions[:, t + 1] + beta[:, t + 1])[:, None, :], axis=2)
        beta[:, t] = np.where((t + 1 < lengths)[:, None], step, end)
    last = alpha[np.arange(batch), np.maximum(lengths - 1, 0)]
    return alpha, beta, logsumexp(last + end, axis=1)


def softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """(type, start, end) of the entities of an IOB2 tag sequence, as conlleval chunks them (a stray
    ``I-X`` opens an entity)."""
    found, kind, begin = [], "", None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, this = tag.partition("-")
        continues = prefix == "I" and this == kind and begin is not None
        if begin is not None and not continues:
            found.append((kind, begin, i))
            begin = None
        if prefix in ("B", "I") and not continues:
            kind, begin = this, i
    return found


class Decoder:
    """Tags, entities and confidences from emissions, for one tag set and (optionally) CRF weights."""

    def __init__(self, labels: Sequence[str], crf: dict[str, np.ndarray] | None = None):
        self.labels = list(labels)
        self.crf = None if crf is None else {k: np.asarray(crf[k], np.float32) for k in ("transitions", "start", "end")}

    def tag_ids(self, emissions: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
        """Best tag indices of each sentence of a padded (B, T, L) batch."""
        if self.crf is None:
            best = emissions.argmax(axis=-1)
            return [best[b, :n].tolist() for b, n in enumerate(lengths.tolist())]
        return viterbi(emissions, lengths, self.crf["transitions"], self.crf["start"], self.crf["end"])

    def decode(self, emissions: np.ndarray, lengths: np.ndarray, *, marginals: bool = False) -> list[dict]:
        """Per sentence of a padded (B, T, L) batch: ``tags``, ``entities`` as (type, token start, token
        end, confidence) and, if asked, ``marginals`` ((n, L) probabilities of each label per token)."""
        paths = self.tag_ids(emissions, lengths)
        if self.crf is None:
            probabilities = softmax(emissions)
        else:
            crf = {k: v.astype(np.float64) for k, v in self.crf.items()}
            alpha, beta, log_z = forward_backward(emissions, lengths, crf["transitions"], crf["start"], crf["end"])
            probabilities = np.exp(alpha + beta - log_z[:, None, None])
        out = []
        for b, ids in enumerate(paths):
            tags = [self.labels[i] for i in ids]
            found = chunks(tags)
            if self.crf is None:
                picked = probabilities[b, np.arange(len(ids)), ids]
                scores = [float(np.prod(picked[s:e])) for _, s, e in found]
            else:
                scores = [self._span_probability(emissions[b], alpha[b], beta[b], log_z[b], ids, span, crf) for span in found]
            answer = {"tags": tags, "entities": [(kind, s, e, score) for (kind, s, e), score in zip(found, scores)]}
            if marginals:
                answer["marginals"] = probabilities[b, : len(ids)]
            out.append(answer)
        return out

    def _span_probability(self, emissions, alpha, beta, log_z, ids, span, crf) -> float:
        """P(the span's tokens carry their decoded tags, the next token does not continue the span and,
        for a span opened by a stray ``I-X``, the previous token does not run into it)."""
        kind, s, e = span
        inside = np.array([label in (f"B-{kind}", f"I-{kind}") for label in self.labels])
        if s > 0 and self.labels[ids[s]] == f"I-{kind}":
            before = alpha[s - 1] + crf["transitions"][:, ids[s]]
            log_p = logsumexp(before[~inside], axis=0) + float(emissions[s, ids[s]])
        else:
            log_p = alpha[s, ids[s]]
        for t in range(s + 1, e):
            log_p += crf["transitions"][ids[t - 1], ids[t]] + float(emissions[t, ids[t]])
        if e == len(ids):
            log_p += crf["end"][ids[e - 1]]
        else:
            allowed = np.array([label != f"I-{kind}" for label in self.labels])
            following = crf["transitions"][ids[e - 1]] + emissions[e].astype(np.float64) + beta[e]
            log_p += logsumexp(following[allowed], axis=0)
        return float(min(1.0, np.exp(log_p - log_z)))
