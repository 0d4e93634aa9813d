"""Input and output of `veclift predict`: records with ``tokens`` read from CoNLL, JSONL or plain
text, and answered records written back as JSON lines or as CoNLL token/tag columns."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from veclift.data.textfile import JSONL_SUFFIXES, json_object
from veclift.data.tokenize import tokenize
from veclift.errors import VecliftError

FORMATS = ("conll", "jsonl", "text")
"""conll: a token per line (first column), sentences separated by blank lines; jsonl: ``{"tokens":
[...]}`` or ``{"text": "..."}`` per line, other fields kept; text: one sentence or text per line."""


def input_format(path: Path | None) -> str:
    """The format a file's name suggests: jsonl for .jsonl/.ndjson/.json, conll for .conll, else text."""
    suffix = path.suffix.lower() if path is not None else ""
    return "jsonl" if suffix in JSONL_SUFFIXES else "conll" if suffix == ".conll" else "text"


def read_records(text: str, format: str, source: str) -> list[dict[str, Any]]:
    """The records of ``text`` (in one of `FORMATS`) read from ``source``, each with ``tokens`` (and
    the original ``text`` or JSON fields); none at all is an error."""
    if format not in FORMATS:
        raise VecliftError(f"unknown input format {format!r}; choose from {', '.join(FORMATS)}")
    lines = text.splitlines()
    if format == "text":
        records = [{"text": line, "tokens": tokenize(line)} for line in lines if line.strip()]
    elif format == "conll":
        records = _conll_records(lines)
    else:
        records = [_json_record(line, source, number) for number, line in enumerate(lines, 1) if line.strip()]
    if not records:
        raise VecliftError("no input to predict", source)
    return records


def _conll_records(lines: Sequence[str]) -> list[dict[str, Any]]:
    records, tokens = [], []
    for line in [*lines, ""]:
        fields = line.split()
        if not fields:
            if tokens:
                records.append({"tokens": tokens})
            tokens = []
        elif fields[0] != "-DOCSTART-":
            tokens.append(fields[0])
    return records


def _json_record(line: str, source: str, number: int) -> dict[str, Any]:
    item = json_object(line, source, number)
    if isinstance(item.get("tokens"), list) and all(isinstance(t, str) for t in item["tokens"]):
        return item
    if isinstance(item.get("text"), str):
        return {**item, "tokens": tokenize(item["text"])}
    raise VecliftError('each line needs "tokens" (a list of strings) or "text"', source, number)


def write_records(records: Sequence[dict[str, Any]], columns: bool, write: Callable[[str], Any]) -> None:
    """Answered records as JSON lines; with ``columns``, those carrying ``tags`` as CoNLL token/tag
    columns (a blank line after each sentence)."""
    for record in records:
        if columns and "tags" in record:
            write("".join(f"{token}\t{tag}\n" for token, tag in zip(record["tokens"], record["tags"])) + "\n")
        else:
            write(json.dumps(record, ensure_ascii=False) + "\n")
