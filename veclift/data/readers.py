"""Reading a task's data from the files a user names: tagged sentences (CoNLL/JSONL, one file after
the other) or labeled texts (table, JSONL, folders, or one file per label), with the options of
each reader as a dataclass (default and help of each in its metadata)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from veclift.data.labeled import LabeledText, read_labeled
from veclift.data.tagged import TaggedSentence, read_tagged
from veclift.data.textfile import JSONL_SUFFIXES


@dataclass
class TaggedReaderOptions:
    """CoNLL column files (IOB1/IOB2/BIOES, -DOCSTART-) or JSONL; several are read one after the other."""

    tag_column: int = field(default=-1, metadata={"help": "Column of the tag (default last)."})
    scheme: str = field(default="auto", metadata={"help": "Tag scheme of the files: auto | iob1 | iob2 | bioes | io (bare type tags)."})


@dataclass
class LabeledReaderOptions:
    """TSV/CSV tables, JSONL, or a folder per label; several files are one file per label."""

    text_column: str | None = field(default=None, metadata={"help": "Text column (name or index) or JSONL field."})
    label_column: str | None = field(default=None, metadata={"help": "Label column (name or index) or JSONL field."})
    label_separator: str | None = field(default=None, metadata={"help": "Split label cells (multi-label)."})


def read_tagged_files(paths: Sequence[Path], *, tag_column: int = -1, scheme: str = "auto") -> list[TaggedSentence]:
    """The sentences of every file, one file after the other."""
    return [s for path in paths for s in read_tagged(path, tag_column=tag_column, scheme=scheme)]


def read_labeled_files(paths: Sequence[Path], *, text_column: str | None = None, label_column: str | None = None,
                       label_separator: str | None = None) -> list[LabeledText]:  # fmt: skip
    """Labeled texts: several files or a folder are one file (or folder) per label; a JSONL file
    takes field names; a table takes column names or indices."""
    path = paths[0]
    if len(paths) > 1 or path.is_dir():
        return read_labeled(paths)
    if path.suffix.lower() in JSONL_SUFFIXES:
        options = {"text_field": text_column, "label_field": label_column}
    else:
        options = {"text_column": _column(text_column), "label_column": _column(label_column),
                   "label_separator": label_separator}  # fmt: skip
    return read_labeled(path, **{k: v for k, v in options.items() if v is not None})


def _column(value: str | None) -> str | int | None:
    """A column given by name, or by index when it is a number."""
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value
