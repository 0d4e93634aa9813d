"""GloVe text (no header) and word2vec / fastText ``.vec`` text (a ``count dim`` header line).

Each row is ``word v1 ... vdim``. The file is parsed in chunks of lines by pyarrow's CSV reader
(C++, no per-value Python float; it also checks that every row has the same number of fields).
A chunk it rejects (a ragged row, a non-number, a blank line, a word with a space) is re-read
line by line, which handles the odd rows and names the exact line of an error.

Choices, documented because files in the wild differ:
- Words containing spaces (GloVe 840B has a few, such as ``. . .``): the word is everything before
  the last ``dim`` fields, provided the field just before them is not a number; otherwise the row
  is ragged and an error. (gensim takes the first field as the word and fails on those rows.)
- Blank lines and trailing whitespace are ignored.
- A header that lies about the count: fewer rows than stated is an error, as in the binary format
  (usually a truncated copy); more rows are all read, with a warning giving both numbers (usually an
  edited file). A header dimension no row of the file could have (above `MAX_DIM`, or two bytes a
  value exceeding the file) is refused before anything is allocated from it.
- Rows with a NaN or an infinity (or a value beyond float32's range) are an error naming the line,
  or, with ``nonfinite="drop"``, dropped with one warning.
"""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import numpy as np

from veclift.errors import VecliftError, warn
from veclift.progress import progress as progress_bar
from veclift.vectors.core import Vectors
from veclift.vectors.formats.compression import compression_of, open_for_reading
from veclift.vectors.formats.registry import ReadOptions, VectorFormat, register
from veclift.vectors.formats.rows import MAX_DIM, FiniteCheck, WordDecoder, build_vectors, check_dimension

CHUNK_BYTES = 1 << 23
NEWLINE = ord("\n")


def parse_header(line: bytes) -> tuple[int, int] | None:
    """``(count, dim)`` when the line is a word2vec header, else None."""
    parts = line.split()
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return int(parts[0]), int(parts[1])
    return None


def header_kind(head: bytes) -> str | None:
    """``"word2vec"`` when the first bytes of a file are a ``COUNT DIM`` header and a text row,
    ``"word2vec-binary"`` for a header followed by anything else, None without a header."""
    first, _, rest = head.partition(b"\n")
    declared = parse_header(first)
    if declared is None:
        return None
    second = rest.split(b"\n", 1)[0].split()
    try:
        [float(v) for v in second[1:][-declared[1] :]]  # a word may contain spaces: look at the values only
    except ValueError:
        return "word2vec-binary"
    return "word2vec" if len(second) > 1 else "word2vec-binary"


def _is_number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


BLOCK = 1 << 22  # bytes of a chunk pyarrow parses as one block


def _parse_rows(chunk: bytes, dim: int) -> tuple[list[bytes], np.ndarray] | None:
    """Words and float32 rows of a chunk of well-formed rows, or None if any value is not a number.

    pyarrow's CSV reader is used for its multi-threaded C++ number parsing; values are read as
    float64 then rounded to float32, as gensim does, so both give identical matrices.
    """
    import pyarrow as pa
    import pyarrow.csv as csv

    types = {"f0": pa.binary(), **{f"f{i}": pa.float64() for i in range(1, dim + 1)}}
    try:
        table = csv.read_csv(
            io.BytesIO(chunk),
            # Threads only where there are several blocks to share out: a one-block chunk gains nothing,
            # and a thread pool started for a small file could abort the process at exit beside torch's.
            read_options=csv.ReadOptions(autogenerate_column_names=True, block_size=BLOCK, use_threads=len(chunk) > BLOCK),
            parse_options=csv.ParseOptions(delimiter=" ", quote_char=False, escape_char=False, double_quote=False),
            convert_options=csv.ConvertOptions(column_types=types, null_values=[], strings_can_be_null=False),
        )
    except pa.ArrowException:
        return None
    if table.num_columns != dim + 1:
        return None
    values = np.empty((table.num_rows, dim), dtype=np.float32)
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, which the finite check reports
        for i, column in enumerate(table.columns[1:]):
            values[:, i] = column.to_numpy()
    return table.column(0).to_pylist(), values


class _ChunkParser:
    """Turns chunks of complete lines into words and float32 rows of width ``dim``."""

    def __init__(self, path: Path, dim: int, dim_origin: str, finite: FiniteCheck):
        self.path, self.dim, self.dim_origin, self.finite = path, dim, dim_origin, finite
        self.decoder = WordDecoder(path)
        self.words: list[str] = []
        self.blocks: list[np.ndarray] = []
        self.rows = 0

    def feed(self, chunk: bytes, first_line: int, remaining: int | None) -> int:
        """Parse ``chunk`` (whole lines, each ending in a newline) whose first line is ``first_line``; return its line count."""
        if remaining is not None:
            ends = np.flatnonzero(np.frombuffer(chunk, np.uint8) == NEWLINE)
            if remaining < len(ends):
                chunk = chunk[: int(ends[remaining - 1]) + 1]
        lines = chunk.count(b"\n")
        parsed = _parse_rows(chunk, self.dim)
        if parsed is not None and len(parsed[0]) == lines:
            words, values = parsed
            self._add(words, range(first_line, first_line + lines), values)
        else:
            self._feed_lines(chunk, first_line, remaining)
        return lines

    def _feed_lines(self, chunk: bytes, first_line: int, remaining: int | None) -> None:
        """The exact, slower path: one line at a time, errors name the line."""
        dim = self.dim
        words: list[bytes] = []
        lines: list[int] = []
        rows: list[list[float]] = []
        for offset, raw in enumerate(chunk.split(b"\n")[:-1]):
            if remaining is not None and len(rows) >= remaining:
                break
            parts = raw.split()
            if not parts:
                continue
            line = first_line + offset
            if len(parts) - 1 != dim and not (len(parts) - 1 > dim and not _is_number(parts[-dim - 1])):
                raise VecliftError(f"row has {len(parts) - 1} values, expected {dim} ({self.dim_origin})", self.path, line)
            try:
                rows.append([float(v) for v in parts[-dim:]])
            except ValueError:
                bad = next(v for v in parts[-dim:] if not _is_number(v))
                raise VecliftError(f"non-numeric value {bad.decode('utf-8', 'replace')!r} in a vector row", self.path, line) from None
            words.append(b" ".join(parts[:-dim]))
            lines.append(line)
        with np.errstate(over="ignore"):
            values = np.array(rows, dtype=np.float32).reshape(-1, dim)
        self._add(words, lines, values)

    def _add(self, words: list[bytes], lines, values: np.ndarray) -> None:
        self.finite.check(values, self.rows, lines)
        self.words.extend(self.decoder.decode(words, lines))
        self.blocks.append(values)
        self.rows += len(words)


def read_text(path: Path, options: ReadOptions, *, header: bool) -> Vectors:
    """Read GloVe (``header=False``) or word2vec/fastText text (``header=True``)."""
    max_words = options.max_words
    finite = FiniteCheck(path, options.nonfinite)
    size = path.stat().st_size
    with open_for_reading(path) as (stream, position), progress_bar(f"Loading {path.name}", size, enabled=options.progress) as update:
        line_no, first = 1, stream.readline()
        while first and not first.strip():
            line_no, first = line_no + 1, stream.readline()
        if not first:
            raise VecliftError("empty file: no vectors", path)
        declared = parse_header(first)
        if header and declared is None:
            raise VecliftError("expected a word2vec header line 'COUNT DIM'", path, line_no)
        if header:
            count, dim = declared
            check_dimension(dim, path, line_no, None if compression_of(path) else size - len(first), 2)
            pending, next_line, origin = b"", line_no + 1, "the header's dimension"
        else:
            count, dim = None, len(first.split()) - 1
            if dim < 1:
                raise VecliftError("row has no values after the word", path, line_no)
            if dim > MAX_DIM:
                raise VecliftError(f"row has {dim:,} values, above the {MAX_DIM:,} veclift reads: not a vector file?", path, line_no)
            pending, next_line, origin = first, line_no, f"the row at line {line_no} has {dim}"
        parser = _ChunkParser(path, dim, origin, finite)
        done = 0
        while max_words is None or parser.rows < max_words:
            data = stream.read(CHUNK_BYTES)
            buffer = pending + data
            if data:
                cut = buffer.rfind(b"\n") + 1
                if cut == 0:
                    pending = buffer
                    continue
                chunk, pending = buffer[:cut], buffer[cut:]
            else:
                chunk, pending = (buffer + b"\n" if buffer and not buffer.endswith(b"\n") else buffer), b""
            if chunk:
                next_line += parser.feed(chunk, next_line, None if max_words is None else max_words - parser.rows)
            update(advance=position() - done, info=f"{parser.rows:,} words")
            done = position()
            if not data:
                break
    parser.decoder.report()
    if count is not None and parser.rows < (count if max_words is None else min(count, max_words)):
        raise VecliftError(
            f"the header says {count} words but the file ends after {parser.rows} rows (truncated?): "
            "get a complete copy, or correct the count",
            path,
            line_no,
        )
    if count is not None and max_words is None and parser.rows > count:
        warn(f"the header says {count} words but the file has {parser.rows} rows; using the {parser.rows} rows", path, line_no)
    matrix = np.concatenate(parser.blocks) if parser.blocks else np.zeros((0, dim), np.float32)
    fmt = "word2vec" if count is not None else "glove"
    return build_vectors(parser.words, matrix, path, fmt, finite)


WRITE_ROWS = 20_000


def write_text(vectors: Vectors, path: Path, *, header: bool, overwrite: bool = False) -> Path:
    """Write word2vec text (``header=True``) or GloVe text atomically; numbers in shortest round-trip form."""
    from veclift.atomic import atomic_path
    from veclift.vectors.formats.compression import open_for_writing

    bad = next((w for w in vectors.words if "\n" in w or "\r" in w or not w.strip()), None)
    if bad is not None:
        raise VecliftError(f"word {bad!r} cannot be written to a text vector file", path)
    with atomic_path(path, overwrite=overwrite) as tmp, open_for_writing(tmp, path) as out:
        if header:
            out.write(f"{len(vectors)} {vectors.dim}\n".encode())
        words, matrix = vectors.words, vectors.matrix
        for start in range(0, len(words), WRITE_ROWS):
            # numpy's float32 -> str conversion gives the shortest string that reads back to the same float32
            numbers = np.asarray(matrix[start : start + WRITE_ROWS], dtype=np.float32).astype(str).tolist()
            lines = [w + " " + " ".join(row) for w, row in zip(words[start : start + WRITE_ROWS], numbers)]
            out.write(("\n".join(lines) + "\n").encode("utf-8"))
    return path


register(VectorFormat(
    "word2vec", "word2vec or fastText .vec text: a 'COUNT DIM' line, then 'word v1 ... vDIM' rows",
    read=partial(read_text, header=True), write=partial(write_text, header=True),
    sniff=lambda head: header_kind(head) == "word2vec", aliases=("fasttext-vec", "vec"),
))  # fmt: skip
register(VectorFormat(
    "glove", "GloVe text: 'word v1 ... vDIM' rows, no header (any file no other format recognises)",
    read=partial(read_text, header=False), write=partial(write_text, header=False), fallback=True,
))  # fmt: skip
