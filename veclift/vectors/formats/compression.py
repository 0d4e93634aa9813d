"""Open vector files for reading or writing, gzip/bz2 chosen by suffix, with the on-disk position for progress."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from veclift.errors import VecliftError


def compression_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2"}.get(suffix)


@contextlib.contextmanager
def open_for_reading(path: Path) -> Iterator[tuple[BinaryIO, Callable[[], int]]]:
    """Yield the decompressed byte stream and a function giving the bytes consumed on disk so far."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise VecliftError(f"cannot open: {exc.strerror}", path) from None
    with raw:
        kind = compression_of(path)
        stream: BinaryIO
        if kind == "gzip":
            stream = gzip.GzipFile(fileobj=raw, mode="rb")
        elif kind == "bz2":
            stream = bz2.BZ2File(raw, mode="rb")
        else:
            stream = raw
        try:
            yield stream, raw.tell
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            hint = f"; is the file complete and really {kind}?" if kind else ""
            raise VecliftError(f"cannot read ({kind or 'uncompressed'} data): {exc}{hint}", path) from None


def open_for_writing(tmp: Path, target: Path) -> BinaryIO:
    """A byte stream into ``tmp`` compressed as ``target``'s suffix says."""
    kind = compression_of(target)
    if kind == "gzip":
        return gzip.open(tmp, "wb", compresslevel=6)
    if kind == "bz2":
        return bz2.open(tmp, "wb")
    return open(tmp, "wb")


def strip_compression(path: Path) -> Path:
    """``glove.txt.gz`` -> ``glove.txt`` (used to look at the real suffix)."""
    return path.with_suffix("") if compression_of(path) else path
