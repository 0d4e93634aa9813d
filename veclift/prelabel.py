"""Pre-annotate raw text with EntityRuler-style patterns, for a human to correct afterwards.

Reads spaCy EntityRuler patterns (JSONL): token patterns made of ``ORTH``/``TEXT`` (exact)
or ``LOWER`` (case-insensitive) keys, or phrase patterns given as a string. Each non-blank
line of the input is one sentence, tokenised by ``veclift.data.tokenize``; matches are taken
left to right, the longest first, without overlaps. Output: CoNLL (IOB2) or JSONL
``{"text", "spans"}`` with character offsets, both readable by ``veclift.data.tagged``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veclift.atomic import atomic_path, check_output
from veclift.data.schemes import tags_from_spans
from veclift.data.tagged import TaggedSentence, write_conll
from veclift.data.textfile import json_lines, read_text, text_lines
from veclift.data.tokenize import tokenize_with_offsets
from veclift.errors import VecliftError

FORMATS = ("conll", "jsonl")
_EXACT_KEYS = ("ORTH", "TEXT")
_LOWER_KEY = "LOWER"


@dataclass(frozen=True)
class Pattern:
    label: str
    tokens: tuple[tuple[str, str], ...]  # (key, value): key "exact" or "lower"


def _token_spec(item: object, path: Path, number: int) -> tuple[str, str]:
    if not isinstance(item, dict) or len(item) != 1:
        raise VecliftError("each token pattern must be an object with one key (ORTH, TEXT or LOWER)", path, number)
    ((key, value),) = item.items()
    if not isinstance(value, str) or not value:
        raise VecliftError(f"token pattern {item!r} needs a non-empty string value", path, number)
    if key in _EXACT_KEYS:
        return "exact", value
    if key == _LOWER_KEY:
        return "lower", value.lower()
    raise VecliftError(f"unsupported token pattern key {key!r}: veclift matches ORTH, TEXT and LOWER", path, number)


def read_patterns(path: str | Path) -> list[Pattern]:
    """EntityRuler patterns from JSONL: ``{"label": L, "pattern": [{"LOWER": "apple"}]}`` or ``"pattern": "New York"``."""
    path = Path(path)
    patterns = []
    for number, item in json_lines(path):
        if not isinstance(item.get("label"), str) or "pattern" not in item:
            raise VecliftError('expected {"label": "...", "pattern": ...}', path, number)
        raw = item["pattern"]
        if isinstance(raw, str):
            tokens = tuple(("exact", t) for t, _, _ in tokenize_with_offsets(raw))
        elif isinstance(raw, list):
            tokens = tuple(_token_spec(t, path, number) for t in raw)
        else:
            raise VecliftError("a pattern is a string (phrase) or a list of token patterns", path, number)
        if not tokens:
            raise VecliftError("empty pattern", path, number)
        patterns.append(Pattern(item["label"], tokens))
    if not patterns:
        raise VecliftError("the patterns file holds no pattern", path)
    return patterns


class PatternMatcher:
    """Finds pattern matches in token sequences: longest first, left to right, no overlaps."""

    def __init__(self, patterns: Sequence[Pattern]):
        self._by_first: dict[str, list[Pattern]] = {}
        for p in sorted(patterns, key=lambda p: -len(p.tokens)):
            self._by_first.setdefault(p.tokens[0][1], []).append(p)

    @staticmethod
    def _fits(pattern: Pattern, tokens: Sequence[str], start: int) -> bool:
        if start + len(pattern.tokens) > len(tokens):
            return False
        for (key, value), token in zip(pattern.tokens, tokens[start:]):
            if (token.lower() if key == "lower" else token) != value:
                return False
        return True

    def match(self, tokens: Sequence[str]) -> list[tuple[str, int, int]]:
        """Matches as ``(label, start, end)`` token spans, end exclusive."""
        found, i = [], 0
        while i < len(tokens):
            options = {*self._by_first.get(tokens[i], ()), *self._by_first.get(tokens[i].lower(), ())}
            best = max(
                (p for p in options if self._fits(p, tokens, i)), key=lambda p: len(p.tokens), default=None
            )
            if best is None:
                i += 1
                continue
            found.append((best.label, i, i + len(best.tokens)))
            i += len(best.tokens)
        return found


@dataclass(frozen=True)
class PrelabelReport:
    sentences: int
    tokens: int
    entities: dict[str, int]


def prelabel(
    patterns: Sequence[Pattern] | str | Path, input_path: str | Path, output: str | Path, *, format: str = "conll",
    overwrite: bool = False,
) -> PrelabelReport:
    """Tag every non-blank line of ``input_path`` and write the result to ``output`` (atomically)."""
    if format not in FORMATS:
        raise VecliftError(f"unknown output format {format!r}: choose {' or '.join(FORMATS)}")
    check_output(output, overwrite=overwrite)
    if isinstance(patterns, str | Path):
        patterns = read_patterns(patterns)
    matcher = PatternMatcher(patterns)
    lines = [line for line in text_lines(read_text(input_path)) if line.strip()]
    if not lines:
        raise VecliftError("the input holds no text", input_path)
    sentences, records, counts, n_tokens = [], [], {}, 0
    for line in lines:
        tokens = tokenize_with_offsets(line)
        words = [t for t, _, _ in tokens]
        matches = matcher.match(words)
        n_tokens += len(words)
        for label, _, _ in matches:
            counts[label] = counts.get(label, 0) + 1
        sentences.append(TaggedSentence(words, tags_from_spans(matches, len(words))))
        spans = [{"start": tokens[s][1], "end": tokens[e - 1][2], "label": label} for label, s, e in matches]
        records.append({"text": line, "spans": spans})
    if format == "conll":
        write_conll(sentences, output, overwrite=overwrite)
    else:
        with atomic_path(output, overwrite=overwrite) as tmp:
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return PrelabelReport(len(lines), n_tokens, counts)
