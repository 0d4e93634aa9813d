"""What `veclift annotate` reads: the sentences of its INPUT, and the spans patterns suggest.

INPUT is one or more paths. Tagged data (CoNLL; JSONL with ``spans``, ``tags`` or ``ner_tags``; a
spaCy DocBin; parquet, Arrow or a saved Hugging Face dataset) gives one sentence per sentence of the
file, its tags as pre-labelled spans, the text its tokens joined by spaces. Anything else is raw
text, read as `veclift pretrain` reads a corpus (plain text, folders of documents, JSONL with a text
field, PDF; gzip/bz2), split into sentences and tokenised by `veclift.data.tokenize`: a line that
does not end a sentence (with . ! or ?) is read as wrapped, and joined to the next unless a blank
line follows. A sentence met twice is annotated once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from veclift.data.formats import TABLE_FORMATS, data_format
from veclift.data.schemes import Span
from veclift.data.tagged import read_tagged
from veclift.data.textfile import JSONL_SUFFIXES
from veclift.data.tokenize import joined_with_offsets, tokenize_with_offsets
from veclift.errors import VecliftError, warn
from veclift.prelabel import PatternMatcher, read_patterns
from veclift.pretrain.corpus import Corpus, split_sentences
from veclift.serve.annotate_session import Sentence

CONLL_SUFFIXES = (".conll", ".conllu", ".iob", ".iob2", ".bio")
_TAG = re.compile(r"^(?:O|[BIESLU]-\S+)$")
_SNIFF_LINES = 50
_TAGGED_KEYS = {"spans", "tags", "ner_tags"}


def is_tagged(path: Path) -> bool:
    """Whether ``path`` holds tagged sentences (see the module docstring) rather than raw text."""
    kind = data_format(path)
    if kind in (*TABLE_FORMATS, "docbin"):
        return True
    if kind != "text" or path.suffix.lower() == ".pdf":
        return False
    if path.suffix.lower() in CONLL_SUFFIXES:
        return True
    lines = _head(path)
    if path.suffix.lower() in JSONL_SUFFIXES or (lines and lines[0].lstrip().startswith("{")):
        try:
            first = json.loads(lines[0]) if lines else None
        except (ValueError, RecursionError):
            return False
        return isinstance(first, dict) and bool(_TAGGED_KEYS & first.keys())
    rows = [line.split() for line in lines if not line.startswith("-DOCSTART-")]
    return bool(rows) and all(len(fields) >= 2 and _TAG.match(fields[-1]) for fields in rows)


def _head(path: Path) -> list[str]:
    """The first non-blank lines of a text file (undecodable bytes replaced)."""
    lines: list[str] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    lines.append(line.strip())
                    if len(lines) >= _SNIFF_LINES:
                        break
    except OSError as exc:
        raise VecliftError(f"cannot read file: {exc.strerror or exc}", path) from None
    return lines


def read_input(paths: Sequence[str | Path], *, text_field: str = "text") -> list[Sentence]:
    """The sentences of ``paths`` in order (tagged files with their spans, raw text split and
    tokenised; ``text_field``: the text of raw JSONL lines); duplicates after the first are left out
    (with a warning). No sentence at all is a one-line error."""
    sentences: list[Sentence] = []
    for path in map(Path, paths):
        if not path.exists():
            raise VecliftError("no such file or folder", path)
        if is_tagged(path):
            for tagged in read_tagged(path):
                text, offsets = joined_with_offsets(list(tagged.tokens))
                sentences.append(Sentence(text, tuple(offsets), tuple(tagged.entities())))
        else:
            for paragraph in Corpus([path], text_field=text_field).paragraphs():
                for text in split_sentences(paragraph):
                    offsets = tuple((start, end) for _, start, end in tokenize_with_offsets(text))
                    if offsets:
                        sentences.append(Sentence(text, offsets))
    seen: set[str] = set()
    unique = [s for s in sentences if not (s.text in seen or seen.add(s.text))]
    if not unique:
        raise VecliftError("the input holds no sentence to annotate", paths[0] if len(paths) == 1 else None)
    if len(unique) < len(sentences):
        warn(f"{len(sentences) - len(unique)} repeated sentence(s) left out: each is annotated once")
    return unique


class Suggester:
    """Pattern matches (EntityRuler JSONL, as `veclift terms` writes) as suggested spans of the
    session's ``labels``; patterns of other labels are dropped, with one warning."""

    def __init__(self, patterns: str | Path, labels: Sequence[str]):
        loaded = read_patterns(patterns)
        other = sorted({p.label for p in loaded} - set(labels))
        if other:
            warn(f"patterns of the label(s) {', '.join(other)} are left out: they are not in --labels", patterns)
        kept = [p for p in loaded if p.label in labels]
        self.matcher = PatternMatcher(kept) if kept else None

    def spans(self, tokens: Sequence[str]) -> list[Span]:
        return self.matcher.match(tokens) if self.matcher is not None else []
