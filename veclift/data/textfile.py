"""Read a text file whole, turning a decoding failure into an error (or warning) with its line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from veclift.errors import VecliftError, warn


def read_text(path: str | PathLike, encoding: str = "utf-8", *, fallback: str | None = None) -> str:
    """Return the file's text without a byte-order mark.

    Undecodable bytes raise a VecliftError naming the line, or, when ``fallback`` is given
    (e.g. ``"latin-1"``), emit one warning naming that line and decode the file with ``fallback``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VecliftError(f"cannot read file: {exc.strerror or exc}", path) from None
    return decode_text(data, path, encoding, fallback=fallback)


def decode_text(data: bytes, path: str | PathLike, encoding: str = "utf-8", *, fallback: str | None = None) -> str:
    """``data`` read from ``path`` (a file or ``<stdin>``) as text, as `read_text` does; a NUL byte
    means a binary file, refused."""
    if b"\x00" in data and encoding.lower().replace("-", "") in ("utf8", "latin1", "ascii"):
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise VecliftError("binary data (a NUL byte), not text: give a text file", path, line)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not valid {encoding}: byte 0x{data[exc.start]:02x}"
        if fallback is None:
            raise VecliftError(f"{message} (pass another encoding)", path, line) from None
        warn(f"{message}; reading the file as {fallback}", path, line)
        text = data.decode(fallback)
    except LookupError:
        raise VecliftError(f"unknown encoding {encoding!r}", path) from None
    return text.removeprefix("\ufeff")


def text_lines(text: str) -> list[str]:
    """Split on newlines only (not on the Unicode separators ``str.splitlines`` also breaks at)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def json_lines(path: str | PathLike, encoding: str = "utf-8") -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of a JSONL file; anything but a JSON
    object is an error naming the line."""
    path = Path(path)
    for number, line in enumerate(text_lines(read_text(path, encoding)), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (ValueError, RecursionError) as exc:  # also too-deep nesting and integers of over 4,300 digits
            raise VecliftError(f"invalid JSON: {getattr(exc, 'msg', exc)}", path, number) from None
        if not isinstance(item, dict):
            raise VecliftError("expected a JSON object", path, number)
        yield number, item
