"""fastText ``.bin`` models, read by gensim, keeping the subword n-gram vectors for unseen words.

gensim's reader trusts the file: at the end of the data it loops forever looking for a word's end,
and it allocates what the header says. So `check_fasttext_bin` first walks the file's layout
(header, dictionary, input matrix) and checks every count and size against the data present.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.formats.compression import compression_of, open_for_reading
from veclift.vectors.formats.registry import ReadOptions, VectorFormat, register
from veclift.vectors.formats.rows import FiniteCheck, check_dimension
from veclift.vectors.subword import SubwordModel, check_ngram_range

MAGIC = 793712314  # first int32 of every fastText .bin (little-endian)
CHUNK_BYTES = 1 << 20
MAX_WORD_BYTES = 1 << 16
ARGS = struct.Struct("<12id")  # dim ws epoch min_count neg word_ngrams loss model bucket minn maxn lr_update_rate t
# gensim's errors on a file that passed the checks but still is not a model it can use
GENSIM_ERRORS = (OSError, EOFError, ValueError, ArithmeticError, LookupError, TypeError, struct.error, AssertionError, NotImplementedError, MemoryError)  # fmt: skip


def is_fasttext_bin(head: bytes) -> bool:
    return len(head) >= 4 and struct.unpack("<i", head[:4])[0] == MAGIC


class _Layout:
    """Sequential reads of a fastText file, each an error naming the part the file ends inside."""

    def __init__(self, stream: BinaryIO, path: Path, size: int | None):
        self.stream, self.path, self.size = stream, path, size
        self.buffer = b""

    def _truncated(self, what: str) -> VecliftError:
        return VecliftError(f"file ends inside the {what} (truncated, or not a fastText .bin model)", self.path)

    def unpack(self, layout: str | struct.Struct, what: str) -> tuple:
        layout = layout if isinstance(layout, struct.Struct) else struct.Struct(layout)
        while len(self.buffer) < layout.size:
            more = self.stream.read(CHUNK_BYTES)
            if not more:
                raise self._truncated(what)
            self.buffer += more
        values = layout.unpack_from(self.buffer)
        self.buffer = self.buffer[layout.size :]
        return values

    def skip(self, count: int, what: str) -> None:
        """Pass ``count`` bytes: checked against the file size when known, else read through."""
        if count <= len(self.buffer):
            self.buffer = self.buffer[count:]
            return
        count -= len(self.buffer)
        self.buffer = b""
        if self.size is not None:
            if self.stream.tell() + count > self.size:
                raise self._truncated(what)
            self.stream.seek(count, 1)
            return
        while count:
            more = self.stream.read(min(count, CHUNK_BYTES))
            if not more:
                raise self._truncated(what)
            count -= len(more)

    def skip_words(self, count: int) -> None:
        """Pass ``count`` dictionary entries: a NUL-terminated word, an int64 count and an int8 type."""
        buffer, start = self.buffer, 0
        for entry in range(count):
            end = buffer.find(b"\0", start)
            while end < 0 or len(buffer) < end + 10:
                if end < 0 and len(buffer) - start > MAX_WORD_BYTES:
                    raise VecliftError(f"dictionary word {entry + 1} is longer than {MAX_WORD_BYTES:,} bytes: not a fastText model", self.path)
                more = self.stream.read(CHUNK_BYTES)
                if not more:
                    raise self._truncated(f"dictionary (word {entry + 1} of {count:,})")
                buffer, start = buffer[start:] + more, 0
                end = buffer.find(b"\0")
            start = end + 10
        self.buffer = buffer[start:]


def check_fasttext_bin(path: Path) -> None:
    """Refuse a file whose header, dictionary or input matrix does not fit the data it holds."""
    with open_for_reading(path) as (stream, _):
        layout = _Layout(stream, path, None if compression_of(path) else path.stat().st_size)
        magic, _version = layout.unpack("<2i", "header")
        if magic != MAGIC:
            raise VecliftError("no fastText magic number at the start: not a fastText .bin model", path)
        dim, *_, bucket, min_n, max_n, _rate, _t = layout.unpack(ARGS, "header")
        check_dimension(dim, path, None, None, 4)
        if bucket < 0:
            raise VecliftError(f"header gives {bucket} n-gram buckets: a corrupt header?", path)
        check_ngram_range(min_n, max_n, path)
        size, words, labels = layout.unpack("<3i", "dictionary")
        if labels:
            raise VecliftError("a supervised (classifier) fastText model: veclift reads unsupervised word vector models", path)
        if not 0 <= words <= size:
            raise VecliftError(f"dictionary claims {words} words among {size} entries: a corrupt file?", path)
        _tokens, pruned = layout.unpack("<2q", "dictionary")
        layout.skip_words(size)
        layout.skip(8 * max(pruned, 0), "pruned n-gram index")
        (quantized,) = layout.unpack("<?", "input matrix")
        if quantized:
            raise VecliftError("a quantized fastText model (.ftz): not supported; use the .bin or .vec file", path)
        rows, columns = layout.unpack("<2q", "input matrix")
        if (rows, columns) != (words + bucket, dim):
            raise VecliftError(
                f"input matrix is {rows} x {columns}, expected (words + buckets) x dim = {words + bucket} x {dim}: a corrupt file?", path
            )
        layout.skip(4 * rows * columns, "input matrix")


def read_fasttext_bin(path: Path, options: ReadOptions) -> Vectors:
    """Word vectors (gensim's, n-grams included) plus a `SubwordModel` for out-of-vocabulary words."""
    from gensim.models.fasttext import load_facebook_vectors

    finite = FiniteCheck(path, options.nonfinite)
    if path.suffix.lower() == ".gzip":
        raise VecliftError("gensim reads compressed fastText models by suffix: rename the file to .gz", path)
    check_fasttext_bin(path)
    try:
        with np.errstate(all="ignore"):  # huge values overflow to inf in gensim's sums; the finite check reports them
            kv = load_facebook_vectors(str(path.resolve()))  # an absolute path: never taken for a URL
    except GENSIM_ERRORS as exc:
        raise VecliftError(f"cannot read the fastText .bin model (truncated or not fastText?): {' '.join(str(exc).split())}", path) from None
    return from_fasttext_keyed_vectors(kv, path, "fasttext-bin", options.max_words, finite)


def from_fasttext_keyed_vectors(kv, path: Path, format: str, max_words: int | None, finite: FiniteCheck) -> Vectors:
    """`Vectors` from a gensim ``FastTextKeyedVectors`` (words, their vectors and the n-gram model)."""
    words = [str(w) for w in kv.index_to_key]
    matrix = kv.vectors
    if max_words is not None:
        words, matrix = words[:max_words], matrix[:max_words]
    subwords = None
    if kv.bucket:
        check_ngram_range(kv.min_n, kv.max_n, path)
        subwords = SubwordModel(kv.vectors_ngrams, kv.min_n, kv.max_n, kv.bucket)
        subwords.check_finite(path)
    finite.check(matrix)
    words, matrix = finite.apply(words, matrix)
    if not words:
        raise VecliftError("no vectors in the model", path)
    return Vectors(words, matrix, subwords=subwords, source=str(path), meta={"format": format, "file": str(path)})


register(VectorFormat("fasttext-bin", "fastText .bin model, its subword n-gram vectors kept", read=read_fasttext_bin,
                      sniff=is_fasttext_bin, aliases=("fasttext",)))  # fmt: skip
