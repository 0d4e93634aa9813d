"""Reading a task's data from the files a user names: tagged sentences (CoNLL/JSONL, spaCy DocBin,
Hugging Face data; one file after the other) or labeled texts (table, JSONL, folders, one file per
label, DocBin, Hugging Face data), with the options of each reader as a dataclass (default and help
of each in its metadata)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from veclift.data.formats import TABLE_FORMATS, data_format
from veclift.data.hf import TAGS_FIELD, TOKENS_FIELD
from veclift.data.labeled import LabeledText, read_labeled
from veclift.data.tagged import TaggedSentence, read_tagged
from veclift.data.textfile import JSONL_SUFFIXES

_LABEL_NAMES = {"help": "Names of integer tags or labels in Hugging Face data, in order (O,B-PER,...), where it has "
                        "no ClassLabel features."}  # fmt: skip
_SPLIT = {"help": "Split of a saved Hugging Face DatasetDict folder (default train)."}


@dataclass
class TaggedReaderOptions:
    """CoNLL (IOB1/IOB2/BIOES, -DOCSTART-), JSONL, spaCy DocBin, parquet, Arrow or a saved Hugging Face dataset; several are read one after the other."""

    tag_column: int = field(default=-1, metadata={"help": "Column of the tag (default last)."})
    scheme: str = field(default="auto", metadata={"help": "Tag scheme of the files: auto | iob1 | iob2 | bioes | io (bare type tags)."})
    tokens_field: str = field(default=TOKENS_FIELD, metadata={"help": "Tokens field of Hugging Face data (dataset, parquet, JSONL)."})
    tags_field: str = field(default=TAGS_FIELD, metadata={"help": "Tags field of Hugging Face data: tag strings or integers."})
    label_names: list[str] | None = field(default=None, metadata=_LABEL_NAMES)
    split: str | None = field(default=None, metadata=_SPLIT)


@dataclass
class LabeledReaderOptions:
    """TSV/CSV, JSONL, a folder per label, spaCy DocBin, parquet, Arrow or a saved Hugging Face dataset; several files are one file per label."""

    text_column: str | None = field(default=None, metadata={"help": "Text column (name or index) or JSONL field."})
    label_column: str | None = field(default=None, metadata={"help": "Label column (name or index) or JSONL field."})
    label_separator: str | None = field(default=None, metadata={"help": "Split label cells (multi-label)."})
    label_names: list[str] | None = field(default=None, metadata=_LABEL_NAMES)
    split: str | None = field(default=None, metadata=_SPLIT)


def read_tagged_files(paths: Sequence[Path], *, tag_column: int = -1, scheme: str = "auto", tokens_field: str = TOKENS_FIELD,
                      tags_field: str = TAGS_FIELD, label_names: list[str] | None = None,
                      split: str | None = None) -> list[TaggedSentence]:  # fmt: skip
    """The sentences of every file, one file after the other."""
    options = {"tag_column": tag_column, "scheme": scheme, "tokens_field": tokens_field, "tags_field": tags_field,
               "label_names": label_names, "split": split}  # fmt: skip
    return [s for path in paths for s in read_tagged(path, **options)]


def read_labeled_files(paths: Sequence[Path], *, text_column: str | None = None, label_column: str | None = None,
                       label_separator: str | None = None, label_names: list[str] | None = None,
                       split: str | None = None) -> list[LabeledText]:  # fmt: skip
    """Labeled texts: several files or a folder are one file (or folder) per label; a JSONL file
    takes field names; a table (also Hugging Face data) takes column names or indices."""
    path = paths[0]
    kind = data_format(path) if len(paths) == 1 else "text"
    if kind in TABLE_FORMATS:
        options = {"text_column": _column(text_column), "label_column": _column(label_column),
                   "label_separator": label_separator, "label_names": label_names, "split": split}  # fmt: skip
    elif len(paths) > 1 or path.is_dir() or kind == "docbin":
        return read_labeled(paths)
    elif path.suffix.lower() in JSONL_SUFFIXES:
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
