"""How well a vector set covers some text: token/type coverage, top missing words, what each OOV
strategy recovers, and warnings when data and vectors disagree on case or digit normalisation."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from veclift.vectors.core import Vectors
from veclift.vectors.oov import STRATEGIES, parse_spec

_TAG = re.compile(r"^(O|[BIESLU][-_]\S+|\S+[-_][BIESLU])$")
_DIGIT = re.compile(r"\d")
# A disagreement is reported when the tokens it explains reach this share of all tokens.
_WARN_SHARE = 0.01


@dataclass
class CoverageReport:
    """Coverage of a token stream; ``recovered[strategy]`` counts missing types/tokens it would supply."""

    tokens: int
    known_tokens: int
    types: int
    known_types: int
    missing: list[tuple[str, int]]
    recovered: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def token_coverage(self) -> float:
        return self.known_tokens / self.tokens if self.tokens else 0.0

    @property
    def type_coverage(self) -> float:
        return self.known_types / self.types if self.types else 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["missing"] = [list(pair) for pair in self.missing]
        data["token_coverage"] = self.token_coverage
        data["type_coverage"] = self.type_coverage
        return data


def default_strategies(vectors: Vectors) -> list[str]:
    """lower and char-ngram, plus subword when the vectors have fastText n-grams."""
    return ["lower", "char-ngram", *(["subword"] if vectors.subwords is not None else [])]


def _counts(tokens: Iterable[str] | Iterable[Sequence[str]]) -> Counter:
    counts: Counter = Counter()
    for item in tokens:
        if isinstance(item, str):
            counts[item] += 1
        else:
            counts.update(item)
    return counts


def coverage(
    vectors: Vectors,
    tokens: Iterable[str] | Iterable[Sequence[str]],
    *,
    strategies: Sequence[str] | str | None = None,
    top: int = 20,
) -> CoverageReport:
    """Coverage of a flat token list or of token lists (sentences) by ``vectors``.

    ``strategies`` (names or a chain spec; default `default_strategies`) are each counted on
    their own, and as a chain in the given order under the key ``"chain"``.
    """
    if strategies is None:
        strategies = default_strategies(vectors)
    names = parse_spec(strategies if isinstance(strategies, str) else ",".join(strategies) or "none")
    chain = [STRATEGIES[name](vectors) for name in names]
    counts = _counts(tokens)
    index = vectors.index
    missing = Counter({w: n for w, n in counts.items() if w not in index})
    recovered = {s.name: {"types": 0, "tokens": 0} for s in chain}
    chain_total = {"types": 0, "tokens": 0}
    for word, n in missing.items():
        hits = [s.name for s in chain if s.covers(word)]
        for name in hits:
            recovered[name]["types"] += 1
            recovered[name]["tokens"] += n
        if hits:
            chain_total["types"] += 1
            chain_total["tokens"] += n
    if len(chain) > 1:
        recovered["chain"] = chain_total
    total = sum(counts.values())
    report = CoverageReport(
        tokens=total,
        known_tokens=total - sum(missing.values()),
        types=len(counts),
        known_types=len(counts) - len(missing),
        missing=missing.most_common(top),
        recovered=recovered,
    )
    report.warnings = _disagreements(vectors, counts, missing)
    return report


def _disagreements(vectors: Vectors, counts: Counter, missing: Counter) -> list[str]:
    """Case and digit conventions where data and vectors differ enough to matter."""
    total = sum(counts.values()) or 1
    index = vectors.index
    checks = []  # (the missing words a convention explains, what to say when they are many)
    if vectors.lowercase:
        checks.append((
            [(w, n) for w, n in missing.items() if w != w.lower() and w.lower() in index],
            "the vectors are lower-cased but the data is not: {n} missing tokens ({share:.1%}) are known in lower "
            "case (e.g. {example!r} -> {lower!r}); lower-case the data or use the 'lower' OOV strategy",
        ))  # fmt: skip
    elif not any(w != w.lower() for w in counts):
        checks.append((
            [(w, n) for w, n in missing.items() if w.title() in index or w.upper() in index],
            "the data is lower-cased but the vectors are cased: {n} missing tokens ({share:.1%}) are known with "
            "capitals (e.g. {example!r}); use cased data if you can",
        ))  # fmt: skip
    checks.append((
        [(w, n) for w, n in missing.items() if _DIGIT.search(w) and any(f in index for f in (_DIGIT.sub("0", w), _DIGIT.sub("#", w)))],
        "the vectors normalise digits: {n} missing tokens ({share:.1%}) are known with digits replaced "
        "(e.g. {example!r}); use the 'lower' OOV strategy",
    ))  # fmt: skip
    warnings = []
    for found, message in checks:
        n = sum(count for _, count in found)
        if n >= _WARN_SHARE * total:
            example = max(found, key=lambda pair: pair[1])[0]
            warnings.append(message.format(n=n, share=n / total, example=example, lower=example.lower()))
    return warnings


def _tokens_of_file(path: Path) -> list[list[str]]:
    """Sentences of tagged data in any format `read_tagged` knows (CoNLL-like text: token first, a
    tag last; DocBin, parquet, Arrow, a saved dataset), else the lines of a plain text file,
    tokenised like the task readers."""
    from veclift.data import read_tagged, tokenize
    from veclift.data.formats import data_format
    from veclift.data.textfile import read_text, text_lines

    if data_format(path) != "text":
        return [list(sentence.tokens) for sentence in read_tagged(path)]
    lines = [line for line in text_lines(read_text(path)) if line.strip()]
    rows = [line.split() for line in lines]
    if rows and sum(1 for r in rows if len(r) >= 2 and _TAG.match(r[-1])) >= 0.9 * len(rows):
        return [list(sentence.tokens) for sentence in read_tagged(path)]
    return [tokenize(line) for line in lines]


def coverage_of_files(
    vectors: Vectors, paths: Sequence[str | os.PathLike], *, strategies: Sequence[str] | str | None = None, top: int = 20
) -> CoverageReport:
    """Coverage of text or CoNLL-like files, read together."""
    sentences: list[list[str]] = []
    for path in paths:
        sentences.extend(_tokens_of_file(Path(path)))
    return coverage(vectors, sentences, strategies=strategies, top=top)

