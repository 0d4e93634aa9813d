"""Raw text for pre-training, streamed as tokenised sentences.

Reads plain text files, folders of documents, JSONL with a text field and PDF text (pypdf);
any of them may be gzip- or bz2-compressed. Nothing holds the whole corpus in memory:
`Corpus` re-reads its files on every pass, so gensim can iterate it once per epoch.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import json
import logging
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from veclift.data.textfile import JSONL_SUFFIXES, json_object
from veclift.data.tokenize import tokenize
from veclift.errors import VecliftError, warn
from veclift.progress import progress as progress_bar

COMPRESSED_SUFFIXES = {".gz", ".bz2"}
MAX_PARAGRAPH_CHARS = 20_000

# A sentence ends at . ! ? (plus closing quotes or brackets) followed by space and a capital,
# digit or opening quote, or at a stop standing alone as in tokenised text ("bad . it");
# the word before a "." must not be a known abbreviation or initial. A match starts only at the
# first stop of a run and never gives characters back (possessive), so a long run of "!" is linear.
_BOUNDARY = re.compile(r"""(?<![.!?])[.!?]++["'”’)\]]*+\s++(?=["'“‘(\[]?[A-Z0-9])|(?<=\s)[.!?]++\s++""")
_LINE_END = re.compile(r"""[.!?]["'”’)\]]*$""")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e inc ltd co corp no vol fig jan feb mar apr jun jul aug "
    "sep sept oct nov dec gen gov sen rep rev mt ft approx dept est u.s u.k".split()
)
_UNDECODED = re.compile("[\udc80-\udcff]")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences with a punctuation rule that knows common abbreviations."""
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        head = text[start : match.start()]
        last = "" if not head or head[-1].isspace() else head.rsplit(None, 1)[-1]  # not a regex: linear on long words
        word = last.lower().rstrip(".")
        if text[match.start()] == "." and head[-1:] != " " and (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


@dataclass
class Vocabulary:
    """Word counts of a corpus (most frequent first) with its token and sentence totals."""

    counts: dict[str, int]
    tokens: int
    sentences: int

    def kept(self, min_count: int) -> dict[str, int]:
        """The words seen at least ``min_count`` times, most frequent first."""
        return {w: c for w, c in self.counts.items() if c >= min_count}

    @classmethod
    def from_counter(cls, counter: Counter, sentences: int) -> Vocabulary:
        # Ties keep first-seen order, as gensim's own vocabulary scan does.
        ordered = dict(sorted(counter.items(), key=lambda item: -item[1]))
        return cls(ordered, sum(ordered.values()), sentences)


@dataclass
class Corpus:
    """Restartable iterable of tokenised sentences (``list[str]``) from files and folders.

    ``sources`` are files or folders (read recursively, hidden entries skipped). Files named
    ``*.pdf`` are read with pypdf, ``*.jsonl``/``*.ndjson`` take ``text_field`` of each line (so does
    a ``*.json`` file whose first line is a JSON object; another is one document, read as text),
    anything else is plain text whose paragraphs are separated by blank lines. Unreadable or
    encrypted PDFs and binary files are skipped with a warning (once) and listed in ``skipped``.
    """

    sources: Iterable[str | Path]
    text_field: str = "text"
    lowercase: bool = False
    skipped: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sources = [Path(s) for s in self.sources]
        self.files = _expand(self.sources)
        self._warned: set[str] = set()

    @property
    def total_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    def __iter__(self) -> Iterator[list[str]]:
        return self.sentences()

    def sentences(self, advance: Callable[[int], None] | None = None) -> Iterator[list[str]]:
        """Tokenised sentences in file order; ``advance(n)`` is told how many input bytes were read."""
        for paragraph in self.paragraphs(advance):
            for sentence in split_sentences(paragraph):
                tokens = tokenize(sentence, lowercase=self.lowercase)
                if tokens:
                    yield tokens

    def paragraphs(self, advance: Callable[[int], None] | None = None) -> Iterator[str]:
        """Raw text blocks of every file, in file order."""
        advance = advance or (lambda n: None)
        for path in self.files:
            if str(path) in self.skipped:
                advance(path.stat().st_size)
                continue
            kind = _kind(path)
            try:
                if kind == "pdf":
                    yield from _read_pdf(path, advance)
                elif kind == "jsonl":
                    yield from _read_jsonl(path, advance, self.text_field, self._warn_once)
                else:
                    yield from _paragraphs(line for _, line in _lines(path, advance, self._warn_once))
            except _Unreadable as exc:
                self._skip(path, str(exc))

    def vocabulary(self, *, progress: bool = True) -> Vocabulary:
        """Count every word in one streaming pass, with a progress bar over the input bytes."""
        counter: Counter = Counter()
        sentences = 0
        with progress_bar("Counting words", self.total_bytes, enabled=progress) as update:
            for tokens in self.sentences(lambda n: update(advance=n)):
                counter.update(tokens)
                sentences += 1
                if sentences % 5000 == 0:
                    update(info=f"{sum(counter.values()):,} tokens, {len(counter):,} types")
            update(info=f"{sum(counter.values()):,} tokens, {len(counter):,} types")
        if not counter:
            raise VecliftError("the corpus has no text", self.sources[0] if len(self.sources) == 1 else None)
        return Vocabulary.from_counter(counter, sentences)

    def _skip(self, path: Path, reason: str) -> None:
        if str(path) not in self.skipped:
            self.skipped[str(path)] = reason
            warn(f"skipped: {reason}", path)

    def _warn_once(self, message: str, path: Path, line: int) -> None:
        """Warn about a file on the first pass only (gensim makes one pass per epoch)."""
        if str(path) not in self._warned:
            self._warned.add(str(path))
            warn(message, path, line)


class _Unreadable(Exception):
    """A file that cannot be read as text (encrypted or broken PDF, binary data)."""


def _expand(sources: list[Path]) -> list[Path]:
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files += sorted(
                p for p in source.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)
            )
        elif source.is_file():
            files.append(source)
        else:
            raise VecliftError("no such file or directory", source)
    if not files:
        raise VecliftError("no files to read", sources[0] if sources else None)
    return files


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    if last == ".pdf":
        return "pdf"
    return "jsonl" if last in JSONL_SUFFIXES and (last != ".json" or _starts_with_json_object(path)) else "text"


def _starts_with_json_object(path: Path) -> bool:
    """Whether the first non-blank line (of at most 1 MiB) of a file is a JSON object: JSON lines."""
    raw, stream = _open_binary(path)
    with raw, contextlib.suppress(*DECOMPRESSION_ERRORS):  # a broken file: read as text, which names the error
        while line := stream.readline(1 << 20):
            if line.strip():
                with contextlib.suppress(ValueError, RecursionError):
                    return isinstance(json.loads(line), dict)
                return False
    return False


DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError


def _open_binary(path: Path):
    """The raw file and a decompressed view of it (gzip and bz2 recognised by their magic bytes)."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise VecliftError(f"cannot open: {exc.strerror or exc}", path) from None
    magic = raw.read(3)
    raw.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return raw, gzip.GzipFile(fileobj=raw)
    if magic == b"BZh":
        return raw, bz2.BZ2File(raw)
    return raw, raw


def _lines(
    path: Path, advance: Callable[[int], None], notify: Callable[[str, Path, int], None]
) -> Iterator[tuple[int, str]]:
    """Numbered text lines; undecodable bytes are replaced and ``notify`` is told of the first."""
    raw, stream = _open_binary(path)
    with raw:
        try:
            head = stream.peek(8192)[:8192] if hasattr(stream, "peek") else b""
        except DECOMPRESSION_ERRORS as exc:
            raise VecliftError(f"cannot decompress: {exc}; is the file complete?", path) from None
        if b"\x00" in head:
            raise _Unreadable("binary file, not text")
        # surrogateescape marks undecodable bytes unambiguously (a real U+FFFD in the text is not one).
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline=None)
        seen, warned = 0, False
        try:
            for number, line in enumerate(text, 1):
                if _UNDECODED.search(line):
                    line = _UNDECODED.sub("\ufffd", line)
                    if not warned:
                        notify("bytes that are not UTF-8 were replaced", path, number)
                        warned = True
                position = raw.tell()
                if position > seen:
                    advance(position - seen)
                    seen = position
                yield number, line
        except DECOMPRESSION_ERRORS as exc:
            raise VecliftError(f"cannot decompress: {exc}; is the file complete?", path) from None


def _paragraphs(lines: Iterable[str], *, join_hyphens: bool = False) -> Iterator[str]:
    """Blocks of wrapped lines joined; a block ends at a blank line or a line ending a sentence.

    Blocks longer than `MAX_PARAGRAPH_CHARS` are cut, so text without punctuation or blank
    lines cannot build a giant sentence.
    """
    block: list[str] = []
    size = 0
    for line in lines:
        line = line.strip()
        if not line:
            if block:
                yield _join(block, join_hyphens)
                block, size = [], 0
            continue
        block.append(line)
        size += len(line)
        if size > MAX_PARAGRAPH_CHARS or _LINE_END.search(line):
            yield _join(block, join_hyphens)
            block, size = [], 0
    if block:
        yield _join(block, join_hyphens)


def _join(lines: list[str], join_hyphens: bool) -> str:
    if not join_hyphens:
        return " ".join(lines)
    text = lines[0]
    for line in lines[1:]:
        # A PDF line broken inside a word: "mar-" + "keting" -> "marketing".
        if len(text) > 1 and text.endswith("-") and text[-2].isalpha() and line[:1].islower():
            text = text[:-1] + line
        else:
            text += " " + line
    return text


def _read_jsonl(
    path: Path, advance: Callable[[int], None], text_field: str, notify: Callable[[str, Path, int], None]
) -> Iterator[str]:
    for number, line in _lines(path, advance, notify):
        if not line.strip():
            continue
        record = json_object(line, path, number)
        if text_field not in record:
            raise VecliftError(f"no {text_field!r} field (choose the field with --text-field)", path, number)
        value = record[text_field]
        if not isinstance(value, str):
            raise VecliftError(f"field {text_field!r} is not a string", path, number)
        yield from _paragraphs(value.splitlines())


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs each defect it works around; the one warning about a skipped file is enough."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _read_pdf(path: Path, advance: Callable[[int], None]) -> Iterator[str]:
    """Text of each page; an encrypted (with a password) or broken PDF raises `_Unreadable`."""
    from pypdf import PdfReader

    size = path.stat().st_size
    try:
        raw, stream = _open_binary(path)
        with raw:
            data = stream.read()
        with _quiet_pypdf():
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise _Unreadable("encrypted PDF (needs a password)")
            pages = len(reader.pages)
        done = 0
        for number in range(1, pages + 1):
            with _quiet_pypdf():
                text = reader.pages[number - 1].extract_text() or ""
            yield from _paragraphs(text.splitlines(), join_hyphens=True)
            step = size * number // max(pages, 1) - done
            advance(step)
            done += step
    except (_Unreadable, VecliftError):
        raise
    except Exception as exc:  # pypdf parses untrusted bytes and can fail in any way: each means a broken PDF
        raise _Unreadable(f"unreadable PDF ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
