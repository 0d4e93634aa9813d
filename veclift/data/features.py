"""Token lists to the integer arrays an embedding layer looks up: word row ids, characters, casing.

NumPy only, shared by the torch embedders (`veclift.embeddings`) and the ONNX runtime
(`veclift.tasks.onnx_model`), so both feed their networks the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import numpy as np

UNK = 1  # row of unknown words; 0 pads
MAX_WORD_CHARS = 30  # longer words are cut: their first 30 characters carry the shape signal
CACHE_LIMIT = 200_000  # words whose character ids are kept between batches
SENTENCE_CACHE_LIMIT = 100_000  # sentences whose word ids are kept between batches
CASINGS = ("numeric", "mostly_numeric", "lower", "upper", "title", "has_digit", "other")


@lru_cache(maxsize=CACHE_LIMIT)  # otherwise recomputed for every token of every epoch
def casing(token: str) -> int:
    """Casing class of a token, 1-based (0 is padding): Reimers & Gurevych's word-shape categories."""
    digits = sum(c.isdigit() for c in token)
    if token.isdigit():
        name = "numeric"
    elif digits / max(len(token), 1) > 0.5:
        name = "mostly_numeric"
    elif token.islower():
        name = "lower"
    elif token.isupper():
        name = "upper"
    elif token[:1].isupper():
        name = "title"
    elif digits:
        name = "has_digit"
    else:
        name = "other"
    return CASINGS.index(name) + 1


def padded(token_lists: Sequence[Sequence[str]], value: Callable[[str], int], width: int) -> np.ndarray:
    """(B, width) int64: ``value(token)`` at each real position, 0 beyond each length."""
    return filled(token_lists, [value(t) for tokens in token_lists for t in tokens], width)


def filled(token_lists: Sequence[Sequence[str]], values: Sequence[int], width: int) -> np.ndarray:
    """(B, width) int64 holding ``values`` (one per token, in order) at the real positions, 0 beyond.
    One masked assignment for the batch: row by row, NumPy's per-call cost dominated short texts."""
    out = np.zeros((len(token_lists), width), np.int64)
    out[np.arange(width)[None, :] < np.array([len(t) for t in token_lists])[:, None]] = values
    return out


def char_index(chars: Sequence[str]) -> dict[str, int]:
    """Id of each known character: 0 pads, 1 is an unknown character."""
    return {c: i + 2 for i, c in enumerate(chars)}


def word_ids(token_lists: Sequence[Sequence[str]], index: Mapping[str, int], lowercase: bool, width: int) -> np.ndarray:
    """Row of each token's (lower-cased if ``lowercase``) form in ``index``, `UNK` when absent (for an
    index of one batch only, such as the ONNX runtime's with its extra rows: nothing is kept)."""
    return SentenceIds(index, lowercase)(token_lists, width)


class SentenceIds:
    """`word_ids` that keeps each sentence's ids: training looks the same sentences up every epoch,
    and a per-token Python lookup is most of a SWEM step. Valid while ``index`` does not change."""

    def __init__(self, index: Mapping[str, int], lowercase: bool):
        self.index, self.lowercase = index, lowercase
        self.kept: dict[tuple[str, ...], np.ndarray] = {}

    def __call__(self, token_lists: Sequence[Sequence[str]], width: int) -> np.ndarray:
        if len(self.kept) > SENTENCE_CACHE_LIMIT:  # a long-running service meets no end of new sentences
            self.kept.clear()
        kept, get = self.kept, self.index.get
        parts = []
        for tokens in token_lists:
            key = tuple(tokens)
            ids = kept.get(key)
            if ids is None:
                ids = kept[key] = np.array([get(t.lower() if self.lowercase else t, UNK) for t in key], np.int64)
            parts.append(ids)
        return filled(token_lists, np.concatenate(parts) if parts else [], width)


def casing_ids(token_lists: Sequence[Sequence[str]], width: int) -> np.ndarray:
    return padded(token_lists, casing, width)


def char_inputs(
    token_lists: Sequence[Sequence[str]], char_index: Mapping[str, int], width: int,
    cache: dict[str, list[int]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Each distinct word of the batch once: (words, chars) character ids (1: unknown character),
    (words,) lengths, and (B, width) the word at each position (0 for padding, masked later)."""
    cache = {} if cache is None else cache
    if len(cache) > CACHE_LIMIT:  # a long-running service meets no end of new words
        cache.clear()
    position: dict[str, int] = {}
    where = padded(token_lists, lambda t: position.setdefault(t, len(position)), width)
    rows = []
    for word in position:
        ids = cache.get(word)
        if ids is None:
            ids = cache[word] = [char_index.get(c, 1) for c in word[:MAX_WORD_CHARS]] or [1]
        rows.append(ids)
    lengths = np.array([len(r) for r in rows] or [1], np.int64)
    chars = np.zeros((max(len(rows), 1), int(lengths.max())), np.int64)
    for i, r in enumerate(rows):
        chars[i, : len(r)] = r
    return chars, lengths, where
