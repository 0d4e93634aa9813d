"""word2vec binary: a ``count dim`` text header, then per word ``word<space>`` + ``dim`` little-endian float32.

The original tool writes a newline after each vector; other writers do not, so leading newlines of a
word are dropped. Words cannot contain spaces. A file that ends before the stated count of rows is
truncated: an error naming the row. Data after the stated rows is ignored with a warning. Header
values are checked against the file size before anything is allocated from them, and storage grows
only as rows actually arrive. Rows with a NaN or infinity are an error naming the row, or dropped
(``nonfinite="drop"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from veclift.errors import VecliftError, warn
from veclift.progress import progress as progress_bar
from veclift.vectors.core import Vectors
from veclift.vectors.formats.compression import compression_of, open_for_reading
from veclift.vectors.formats.registry import ReadOptions, VectorFormat, register
from veclift.vectors.formats.rows import FiniteCheck, WordDecoder, build_vectors, check_dimension
from veclift.vectors.formats.text import header_kind, parse_header

CHUNK_BYTES = 1 << 22
MAX_WORD_BYTES = 1 << 16
BLOCK_BYTES = 1 << 24


def _block(rows_left: int, row_bytes: int, left: int | None) -> np.ndarray:
    """Storage for the next rows: all that the ``left`` unparsed bytes of an uncompressed file can hold (one
    block when the header is honest), or `BLOCK_BYTES` worth when that is unknown, so a lying count
    allocates nothing large."""
    if left is not None:
        rows = min(rows_left, max(1, left // (row_bytes + 1)))
    else:
        rows = min(rows_left, max(1, BLOCK_BYTES // row_bytes))
    return np.empty((rows, row_bytes // 4), dtype=np.float32)


def read_word2vec_binary(path: Path, options: ReadOptions) -> Vectors:
    finite = FiniteCheck(path, options.nonfinite)
    size = path.stat().st_size
    with open_for_reading(path) as (stream, position), progress_bar(f"Loading {path.name}", size, enabled=options.progress) as update:
        first = stream.readline()
        if not first:
            raise VecliftError("empty file: no vectors", path)
        declared = parse_header(first)
        if declared is None:
            raise VecliftError("expected a word2vec header line 'COUNT DIM'", path, 1)
        count, dim = declared
        room = None if compression_of(path) else size - len(first)
        check_dimension(dim, path, 1, room, 4)
        rows = count if options.max_words is None else min(count, options.max_words)
        row_bytes = 4 * dim
        blocks: list[np.ndarray] = []
        block, filled = np.empty((0, dim), np.float32), 0
        words: list[bytes] = []
        buffer, start, done = b"", 0, 0
        for row in range(rows):
            space = buffer.find(b" ", start)
            while space < 0 or len(buffer) < space + 1 + row_bytes:
                more = stream.read(CHUNK_BYTES)
                if not more:
                    raise VecliftError(f"file ends inside row {row + 1} of the {count} the header announces (truncated?)", path)
                buffer, start = buffer[start:] + more, 0
                space = buffer.find(b" ")
                if space < 0 and len(buffer) > MAX_WORD_BYTES:
                    raise VecliftError(f"row {row + 1} has no space after its word: not word2vec binary", path)
                update(advance=position() - done, info=f"{row:,} words")
                done = position()
            if filled == len(block):
                left = None if room is None else size - position() + len(buffer) - start  # bytes not yet parsed
                block, filled = _block(rows - row, row_bytes, left), 0
                blocks.append(block)
            words.append(buffer[start:space].lstrip(b"\n"))
            block[filled] = np.frombuffer(buffer, dtype="<f4", count=dim, offset=space + 1)
            filled, start = filled + 1, space + 1 + row_bytes
        update(advance=position() - done, info=f"{rows:,} words")
        if rows == count and (buffer[start:].strip() or stream.read(1 << 16).strip()):
            warn(f"data after the {count} rows the header announces was ignored", path)
    matrix = blocks[0] if len(blocks) == 1 else np.concatenate(blocks or [block])
    finite.check(matrix)
    decoder = WordDecoder(path)
    decoded = decoder.decode(words, range(2, 2 + len(words)))
    decoder.report()
    return build_vectors(decoded, matrix, path, "word2vec-binary", finite)


def write_word2vec_binary(vectors: Vectors, path: Path, *, overwrite: bool = False) -> Path:
    """Write atomically in the original tool's layout (newline after each vector)."""
    from veclift.atomic import atomic_path
    from veclift.vectors.formats.compression import open_for_writing

    bad = next((w for w in vectors.words if " " in w or "\n" in w or not w), None)
    if bad is not None:
        raise VecliftError(f"word {bad!r} contains a space or line break: word2vec binary cannot store it", path)
    matrix = vectors.matrix
    with atomic_path(path, overwrite=overwrite) as tmp, open_for_writing(tmp, path) as out:
        out.write(f"{len(vectors)} {vectors.dim}\n".encode())
        for word, row in zip(vectors.words, matrix):
            out.write(word.encode("utf-8") + b" " + np.asarray(row, dtype="<f4").tobytes() + b"\n")
    return path


register(VectorFormat(
    "word2vec-binary", "word2vec binary: a 'COUNT DIM' line, then per word 'word ' and DIM float32 values",
    read=read_word2vec_binary, write=write_word2vec_binary,
    sniff=lambda head: header_kind(head) == "word2vec-binary", aliases=("word2vec-bin",),
))  # fmt: skip
