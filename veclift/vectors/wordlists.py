"""Word lists a user hands over as UTF-8 text: words, named groups of words, and word pairs.

Blank lines and lines starting with ``#`` are skipped; an error names the file and the line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from veclift.data.textfile import read_text, text_lines
from veclift.errors import VecliftError

Pair = tuple[str, str]


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of the lines that are neither blank nor ``#`` comments."""
    for number, line in enumerate(text_lines(text), 1):
        if line.strip() and not line.startswith("#"):
            yield number, line


def read_word_list(path: str | Path) -> list[str]:
    """Words separated by whitespace or newlines."""
    words = [w for _, line in _numbered_lines(read_text(path)) for w in line.split()]
    if not words:
        raise VecliftError("the word list is empty", path)
    return words


def read_groups(path: str | Path) -> dict[str, list[str]]:
    """Groups: one per line, ``group name: word word ...`` (a name given twice gathers both lines)."""
    groups: dict[str, list[str]] = {}
    for number, line in _numbered_lines(read_text(path)):
        name, sep, words = line.partition(":")
        if not sep or not name.strip() or not words.split():
            raise VecliftError("expected 'group name: word word ...'", path, number)
        groups.setdefault(name.strip(), []).extend(words.split())
    if not groups:
        raise VecliftError("the groups file holds no group", path)
    return groups


def read_word_pairs(path: str | Path, *, json_list: bool = False) -> list[Pair]:
    """Two words per line (a seed dictionary, definitional pairs); with ``json_list``, a file whose text
    starts with ``[`` is a JSON list of two-word lists instead."""
    text = read_text(path)
    if json_list and text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise VecliftError(f"not valid JSON: {getattr(exc, 'msg', exc)}", path, getattr(exc, "lineno", None)) from None
        if not all(isinstance(p, list) and len(p) == 2 for p in data):
            raise VecliftError("expected a JSON list of two-word lists", path)
        pairs = [(str(a), str(b)) for a, b in data]
    else:
        pairs = []
        for number, line in _numbered_lines(text):
            fields = line.split()
            if len(fields) != 2:
                raise VecliftError(f"expected two words per line, found {len(fields)}", path, number)
            pairs.append((fields[0], fields[1]))
    if not pairs:
        raise VecliftError("the file holds no word pairs", path)
    return pairs
