"""Terminology expansion: seed terms -> ranked candidates from the vectors, accepted or rejected.

Candidates are the words nearest (cosine) to the centroid of the current terms' unit vectors
(gensim's ``most_similar(positive=terms)``); accepted words join the terms, so each round
searches around a better centroid. The result is written as a term list and as spaCy
EntityRuler patterns (JSONL, one ``{"label": ..., "pattern": [...]}`` per term).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from veclift.atomic import atomic_path
from veclift.errors import VecliftError
from veclift.vectors.core import Vectors

Decision = Literal["accept", "reject", "stop"]
# Words of multi-word entries in word2vec-style vocabularies ("new_york") are joined by "_".
_PHRASE_JOINER = "_"


class TermExpander:
    """The state of one expansion: seeds, accepted and rejected words, and the next candidates."""

    def __init__(self, vectors: Vectors, seeds: Sequence[str], *, restrict_vocab: int | None = None):
        seeds = [s.strip() for s in seeds if s.strip()]
        if not seeds:
            raise VecliftError("the seed list is empty: give at least one seed term")
        lower = vectors.lowercase
        resolved, absent = [], []
        for seed in seeds:
            word = seed.replace(" ", _PHRASE_JOINER)
            word = word.lower() if lower else word
            (resolved if word in vectors.index else absent).append(word)
        if absent:
            raise VecliftError(f"seed terms not in the vectors ({vectors.source or 'unnamed'}): {', '.join(absent)}")
        self.vectors = vectors
        self.seeds = list(dict.fromkeys(resolved))
        self.accepted: list[str] = []
        self.rejected: set[str] = set()
        self.restrict_vocab = restrict_vocab

    @property
    def terms(self) -> list[str]:
        """Seeds and accepted words, in the order they were added."""
        return self.seeds + self.accepted

    def candidates(self, n: int) -> list[tuple[str, float]]:
        """The ``n`` best new words by cosine to the terms' centroid, skipping decided ones."""
        decided = set(self.terms) | self.rejected
        found = self.vectors.most_similar(
            positive=self.terms, topn=n + len(decided), restrict_vocab=self.restrict_vocab
        )
        return [(w, s) for w, s in found if w not in decided][:n]

    def accept(self, word: str) -> None:
        if word not in self.terms:
            self.accepted.append(word)

    def reject(self, word: str) -> None:
        self.rejected.add(word)


def expand(
    expander: TermExpander,
    *,
    per_round: int = 10,
    rounds: int = 1,
    decide: Callable[[str, float], Decision] | None = None,
) -> list[str]:
    """Run ``rounds`` rounds of ``per_round`` candidates; return the terms.

    Without ``decide`` every candidate is accepted (``--auto``); otherwise ``decide(word,
    score)`` answers each, and ``"stop"`` ends the expansion at once. A round with no
    candidate left ends it too.
    """
    if per_round < 1 or rounds < 1:
        raise VecliftError("the number of candidates per round and of rounds must be at least 1")
    for _ in range(rounds):
        candidates = expander.candidates(per_round)
        if not candidates:
            break
        for word, score in candidates:
            answer = decide(word, score) if decide else "accept"
            if answer == "stop":
                return expander.terms
            if answer == "accept":
                expander.accept(word)
            else:
                expander.reject(word)
    return expander.terms


def term_tokens(term: str) -> list[str]:
    """The tokens of a term: split at spaces and at the ``_`` of word2vec-style phrases."""
    return [t for t in term.replace(_PHRASE_JOINER, " ").split() if t]


def entity_ruler_patterns(terms: Sequence[str], label: str, *, lowercase: bool) -> list[dict]:
    """spaCy EntityRuler token patterns: ``LOWER`` keys for lower-cased vectors, else ``ORTH``."""
    if not label.strip():
        raise VecliftError("the pattern label is empty")
    key = "LOWER" if lowercase else "ORTH"
    return [{"label": label, "pattern": [{key: t} for t in term_tokens(term)]} for term in terms if term_tokens(term)]


def write_terms(terms: Sequence[str], path: str | Path, *, overwrite: bool = False) -> Path:
    """One term per line, written atomically."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text("".join(f"{t}\n" for t in terms), encoding="utf-8")
    return Path(path)


def write_patterns(patterns: Sequence[dict], path: str | Path, *, overwrite: bool = False) -> Path:
    """One JSON object per line (spaCy's EntityRuler ``from_disk``/``add_patterns`` format), atomically."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in patterns), encoding="utf-8")
    return Path(path)


def patterns_path(output: str | Path) -> Path:
    """Where the patterns go beside a term list: ``terms.txt`` -> ``terms.patterns.jsonl``."""
    output = Path(output)
    return output.with_name(f"{output.stem}.patterns.jsonl")
