"""What `fit` and `evaluate` accept, turned into a task's items: a path (read by the task's reader),
a Hugging Face ``datasets.Dataset``, or a sequence of the task's items or of plain pairs
(``(tokens, tags)`` for a tagger, ``(text, label)`` for a classifier)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from veclift.errors import VecliftError


def is_hf_dataset(data: Any) -> bool:
    """A Hugging Face ``datasets.Dataset`` (duck-typed, so `datasets` is imported only when one is passed)."""
    return hasattr(data, "column_names") and hasattr(data, "features") and hasattr(data, "select")


def task_items(
    data: Any, task: str, convert: Callable[[Any, int], Any], *, what: str = "training data",
    reader_options: dict[str, Any] | None = None,
) -> list:  # fmt: skip
    """``data`` as the items of ``task``; ``convert(value, number)`` turns one element of a sequence
    into an item (or raises a VecliftError naming element ``number``, 1-based)."""
    from veclift.tasks.registry import get_task

    if data is None:
        return []
    if isinstance(data, (str, os.PathLike)):
        return get_task(task).read_files([Path(data)], **(reader_options or {}))
    if is_hf_dataset(data):
        from veclift.data.hf import items_from_dataset

        return items_from_dataset(data, task, **(reader_options or {}))
    try:
        values = list(data)
    except TypeError:
        raise VecliftError(f"the {what} must be a path, a list of examples or a datasets.Dataset, "
                           f"not {type(data).__name__}") from None  # fmt: skip
    return [convert(value, number) for number, value in enumerate(values, 1)]


def pair(value: Any, number: int, names: tuple[str, str]) -> tuple[Any, Any]:
    """The two parts of a plain example ``(a, b)``, refused with what was expected."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    raise VecliftError(f"example {number}: expected a ({names[0]}, {names[1]}) pair or the task's own example "
                       f"type, got {type(value).__name__}")  # fmt: skip


def item_list(items: Any, owner: str) -> list:
    """``items`` as a list; a `pathlib.Path` is read as `veclift predict` reads a file (raw texts from
    text lines or JSONL ``text``, token lists from CoNLL or JSONL ``tokens``); a bare string (which
    would be read character by character) is refused."""
    if isinstance(items, str):
        raise VecliftError(f"{owner} predicts a list of texts or token lists, not one string: pass [text], "
                           "or a pathlib.Path to read a file")  # fmt: skip
    if isinstance(items, os.PathLike):
        from veclift.data.predictions import input_format, read_records
        from veclift.data.textfile import read_text

        from veclift.data.tokenize import tokenize

        path = Path(items)
        records = read_records(read_text(path), input_format(path), str(path))
        return [r["text"] if isinstance(r.get("text"), str) and tokenize(r["text"]) == r["tokens"] else r["tokens"]
                for r in records]  # fmt: skip
    return list(items)


def in_length_batches(token_lists: list[list[str]], fn: Callable[[list[list[str]]], list], empty: Any,
                      size: int) -> list:  # fmt: skip
    """``fn`` over batches of at most ``size`` token lists of similar length (shortest first), the
    results back in input order; an empty token list gets ``empty`` without a call."""
    order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
    out: list = [empty] * len(token_lists)
    for start in range(0, len(order), size):
        chunk = [i for i in order[start : start + size] if token_lists[i]]
        if chunk:
            for i, value in zip(chunk, fn([token_lists[i] for i in chunk])):
                out[i] = value
    return out
