"""Tagged sentences for sequence labelling: CoNLL column files and JSONL, read and written.

Every reader returns :class:`TaggedSentence` objects whose tags are IOB2, whatever the file used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from veclift.atomic import atomic_path
from veclift.data.formats import TABLE_FORMATS, data_format, unreadable
from veclift.data.schemes import (
    INTERNAL_SCHEME,
    check_scheme,
    convert_tags,
    detect_scheme,
    repair_tags,
    spans,
    tags_from_spans,
)
from veclift.data.textfile import JSONL_SUFFIXES, json_lines, read_text, text_lines
from veclift.data.tokenize import tokenize_with_offsets
from veclift.errors import VecliftError, warn

DOCSTART = "-DOCSTART-"
_AUTO_PREFIX = re.compile(r"^[a-z]{2,3}:(?=.)")
_SPACES = re.compile(r" +")
_HF_OPTIONS = ("tokens_field", "tags_field", "label_names", "split")
TAGGED_FORMATS = "tagged sentences (CoNLL, JSONL, spaCy DocBin, parquet, Arrow, or a saved Hugging Face dataset folder)"


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence: its tokens and one IOB2 tag per token."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "tags", tuple(self.tags))
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")

    def __len__(self) -> int:
        return len(self.tokens)

    def entities(self) -> list[tuple[str, int, int]]:
        """The sentence's entities as ``(type, start, end)`` token spans, end exclusive."""
        return spans(self.tags)


@dataclass
class _RawSentence:
    tokens: list[str]
    tags: list[str]
    lines: list[int]


def _finish(
    raw: list[_RawSentence], path: Path, scheme: str, strict: bool
) -> list[TaggedSentence]:
    """Detect or check the scheme, repair or reject bad transitions, convert to IOB2."""
    if not raw:
        raise VecliftError("no sentences found", path)
    scheme = check_scheme(scheme, allow_auto=True)
    if scheme == "auto":
        scheme = detect_scheme(sentence.tags for sentence in raw)
    sentences: list[TaggedSentence] = []
    repaired, first_line = 0, None
    for sentence in raw:
        tags, problems = repair_tags(sentence.tags, scheme, strict=strict, path=path, lines=sentence.lines)
        if problems and first_line is None:
            first_line = sentence.lines[problems[0].position]
        repaired += len(problems)
        sentences.append(TaggedSentence(tuple(sentence.tokens), tuple(tags)))
    if repaired:
        warn(
            f"{repaired} tag(s) could not follow their neighbour in {scheme.upper()}; "
            "read as conlleval does (an I- tag starting an entity counts as B-)",
            path,
            first_line,
        )
    return sentences


def _split_columns(line: str) -> list[str]:
    """Tab-separated if the line has a tab, otherwise separated by runs of spaces."""
    if "\t" in line:
        return [field.strip(" ") for field in line.split("\t")]
    return _SPACES.split(line)


def _strip_prefix(raw: list[_RawSentence], token_prefix: str | None) -> None:
    if token_prefix == "auto":
        first = _AUTO_PREFIX.match(raw[0].tokens[0]) if raw and raw[0].tokens else None
        if first is None:
            return
        token_prefix = first.group()
        if not all(token.startswith(token_prefix) for s in raw for token in s.tokens):
            return
    if token_prefix:
        for sentence in raw:
            sentence.tokens = [token.removeprefix(token_prefix) for token in sentence.tokens]


def read_conll(
    path: str | PathLike,
    *,
    tag_column: int = -1,
    token_column: int = 0,
    scheme: str = "auto",
    token_prefix: str | None = "auto",
    strict: bool = False,
    encoding: str = "utf-8",
) -> list[TaggedSentence]:
    """Read a CoNLL-style column file into IOB2-tagged sentences.

    Columns are tab-separated when a line has a tab, otherwise space-separated; every line
    must have as many columns (at least 2) as the first one. Blank lines end sentences,
    ``-DOCSTART-`` lines are dropped, trailing whitespace and ``\\r`` are ignored. ``scheme`` is
    ``auto`` (see :func:`detect_scheme`), ``iob1``, ``iob2`` or ``bioes``. ``token_prefix``:
    a prefix stripped from tokens that carry it (WikiANN's ``en:``); ``"auto"`` strips a 2-3
    letter ``xx:`` prefix only when every token in the file carries the same one; ``None``
    strips nothing. Ill-formed transitions are repaired as conlleval reads them (with one
    warning) unless ``strict``, which raises a line-numbered VecliftError instead.
    """
    path = Path(path)
    lines = text_lines(read_text(path, encoding))
    raw: list[_RawSentence] = []
    current = _RawSentence([], [], [])
    width = None
    for number, line in enumerate(lines, start=1):
        line = line.strip(" \t\r")
        if not line:
            if current.tokens:
                raw.append(current)
            current = _RawSentence([], [], [])
            continue
        fields = _split_columns(line)
        if width is None:
            if len(fields) < 2:
                raise VecliftError(f"expected at least 2 columns (token and tag), found {len(fields)}", path, number)
            width = len(fields)
            for column in (tag_column, token_column):
                if not -width <= column < width:
                    raise VecliftError(f"column {column} does not exist in a {width}-column file", path, number)
        elif len(fields) != width:
            raise VecliftError(f"expected {width} columns like line 1 of the data, found {len(fields)}", path, number)
        token = fields[token_column]
        if token == DOCSTART:
            if current.tokens:
                raw.append(current)
            current = _RawSentence([], [], [])
            continue
        current.tokens.append(token)
        current.tags.append(fields[tag_column])
        current.lines.append(number)
    if current.tokens:
        raw.append(current)
    _strip_prefix(raw, token_prefix)
    return _finish(raw, path, scheme, strict)


def write_conll(
    sentences: Iterable[TaggedSentence], path: str | PathLike, scheme: str = INTERNAL_SCHEME, separator: str = " ",
    *, overwrite: bool = False,
) -> None:
    """Write ``token<separator>TAG`` lines with blank lines between sentences, atomically."""
    scheme = check_scheme(scheme)
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        for sentence in sentences:
            tags = convert_tags(sentence.tags, INTERNAL_SCHEME, scheme)
            for token, tag in zip(sentence.tokens, tags):
                if separator in token or "\t" in token or "\n" in token or not token:
                    raise VecliftError(f"token {token!r} cannot be written to a column file with separator {separator!r}")
                out.write(f"{token}{separator}{tag}\n")
            out.write("\n")


def _span_fields(span: object, path: Path, number: int) -> tuple[int, int, str]:
    if isinstance(span, dict) and {"start", "end", "label"} <= span.keys():
        start, end, label = span["start"], span["end"], span["label"]
    elif isinstance(span, (list, tuple)) and len(span) == 3:
        start, end, label = span
    else:
        raise VecliftError('each span must be {"start", "end", "label"} or [start, end, label]', path, number)
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(label, str) and label):
        raise VecliftError(f"span {span!r} needs integer start/end and a label", path, number)
    return start, end, label


def _sentence_from_text(item: dict, path: Path, number: int) -> TaggedSentence:
    text, raw_spans = item["text"], item.get("spans", [])
    if not isinstance(text, str) or not isinstance(raw_spans, list):
        raise VecliftError('"text" must be a string and "spans" a list', path, number)
    tokens = tokenize_with_offsets(text)
    starts = {start: i for i, (_, start, _) in enumerate(tokens)}
    ends = {end: i + 1 for i, (_, _, end) in enumerate(tokens)}
    entities = []
    for span in raw_spans:
        start, end, label = _span_fields(span, path, number)
        if start not in starts or end not in ends or ends[end] <= starts[start]:
            raise VecliftError(
                f"span {start}-{end} {text[start:end]!r} ({label}) does not fall on token boundaries", path, number
            )
        entities.append((label, starts[start], ends[end]))
    entities.sort(key=lambda e: e[1])
    for previous, following in zip(entities, entities[1:]):
        if following[1] < previous[2]:
            raise VecliftError(f"spans for {previous[0]!r} and {following[0]!r} overlap", path, number)
    return TaggedSentence(tuple(t for t, _, _ in tokens), tuple(tags_from_spans(entities, len(tokens))))


def read_tagged_jsonl(
    path: str | PathLike, *, scheme: str = "auto", strict: bool = False, encoding: str = "utf-8"
) -> list[TaggedSentence]:
    """Read JSONL, one sentence per line, either ``{"text": ..., "spans": [{"start", "end",
    "label"}]}`` (character offsets, end exclusive; the text is split with
    :func:`~veclift.data.tokenize.tokenize_with_offsets` and each span must start and end on
    token boundaries) or ``{"tokens": [...], "tags": [...]}`` (tags in ``scheme``, as in
    :func:`read_conll`).
    """
    path = Path(path)
    from_text: list[TaggedSentence] = []
    raw: list[_RawSentence] = []
    for number, item in json_lines(path, encoding):
        if "text" in item:
            sentence = _sentence_from_text(item, path, number)
            if sentence.tokens:
                from_text.append(sentence)
        elif "tokens" in item and "tags" in item:
            tokens, tags = item["tokens"], item["tags"]
            if not (isinstance(tokens, list) and isinstance(tags, list) and all(isinstance(x, str) for x in tokens + tags)):
                raise VecliftError('"tokens" and "tags" must be lists of strings', path, number)
            if len(tokens) != len(tags):
                raise VecliftError(f"{len(tokens)} tokens but {len(tags)} tags", path, number)
            if tokens:
                raw.append(_RawSentence(tokens, tags, [number] * len(tokens)))
        else:
            raise VecliftError('expected "text" (with "spans"), or "tokens" and "tags" (or "ner_tags"; other names: '
                               "--tokens-field, --tags-field)", path, number)  # fmt: skip
    if from_text and raw:
        raise VecliftError('mixes "text" lines and "tokens" lines; use one form per file', path)
    return from_text if from_text else _finish(raw, path, scheme, strict)


def write_tagged_jsonl(sentences: Iterable[TaggedSentence], path: str | PathLike, *, overwrite: bool = False) -> None:
    """Write ``{"tokens": [...], "tags": [...]}`` lines (IOB2), atomically."""
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        for sentence in sentences:
            out.write(json.dumps({"tokens": list(sentence.tokens), "tags": list(sentence.tags)}, ensure_ascii=False))
            out.write("\n")


def read_tagged(path: str | PathLike, **options) -> list[TaggedSentence]:
    """Read tagged sentences, the format told by content: a saved Hugging Face dataset folder, parquet or
    Arrow (`~veclift.data.hf.read_hf_tagged`), a spaCy DocBin (`~veclift.data.docbin.read_docbin`), JSONL
    (by suffix, or a first line starting with ``{``; lines with ``tags_field``, default ``ner_tags``, go to
    ``read_hf_tagged``) or CoNLL.

    ``options`` are those of :func:`read_conll` and ``read_hf_tagged``; each reader takes its own.
    """
    path = Path(path)
    hf = {k: options.pop(k) for k in _HF_OPTIONS if k in options}
    common = {k: v for k, v in options.items() if k in ("scheme", "strict", "encoding")}
    kind = data_format(path, options.get("encoding", "utf-8"))
    if kind == "docbin":
        from veclift.data.docbin import read_docbin

        return read_docbin(path)
    if kind not in (*TABLE_FORMATS, "text"):
        raise unreadable(path, kind, TAGGED_FORMATS)
    from veclift.data.hf import TAGS_FIELD, read_hf_tagged

    if kind in TABLE_FORMATS:
        return read_hf_tagged(path, **hf, **common)
    try:
        with open(path, encoding=options.get("encoding", "utf-8"), errors="replace") as handle:
            first = next((line for line in handle if line.strip()), "")
    except (OSError, LookupError) as exc:
        raise VecliftError(f"cannot read file: {getattr(exc, 'strerror', None) or exc}", path) from None
    if path.suffix.lower() in JSONL_SUFFIXES or first.lstrip().startswith("{"):
        if hf.get("tags_field", TAGS_FIELD) in _json_keys(first):
            return read_hf_tagged(path, **hf, **common)
        return read_tagged_jsonl(path, **common)
    return read_conll(path, **options)


def _json_keys(line: str) -> list[str]:
    """The keys of the JSON object on ``line`` (none when it holds none)."""
    try:
        item = json.loads(line)
    except (ValueError, RecursionError):
        return []
    return list(item) if isinstance(item, dict) else []
