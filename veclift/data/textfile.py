"""Read a text file whole, turning a decoding failure into an error (or warning) with its line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

from veclift.errors import VecliftError, warn

# Files read as JSON lines (one object per line). ``.json`` too, as data exports often name them; a
# `.json` file may also be one JSON document, which readers that accept both tell apart by content.
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


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
        if line.strip():
            yield number, json_object(line, path, number)


def json_object(line: str | bytes, path: str | PathLike, number: int) -> dict:
    """One line of a JSONL file as a JSON object; anything else is an error naming the line."""
    try:
        item = json.loads(line)
    except (ValueError, RecursionError) as exc:  # also too-deep nesting and integers of over 4,300 digits
        raise VecliftError(f"invalid JSON: {getattr(exc, 'msg', exc)}", path, number) from None
    if not isinstance(item, dict):
        raise VecliftError("expected a JSON object", path, number)
    return item


def read_json(path: str | PathLike, *, missing: str) -> Any:
    """The JSON document in ``path``; a missing file raises ``missing`` (naming the folder), an
    unreadable or broken one says why (naming the file)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VecliftError(missing, path.parent) from None
    except (ValueError, RecursionError, OSError) as exc:
        raise VecliftError(f"broken JSON file: {exc}", path) from None
