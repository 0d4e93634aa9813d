"""Labeled texts for classification: TSV/CSV tables, one file per label, one folder per label, JSONL.

Every reader tokenises with :func:`veclift.data.tokenize.tokenize` and checks the result:
no empty text, and (by default) at least two classes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from veclift.data.formats import TABLE_FORMATS, data_format, unreadable
from veclift.data.textfile import JSONL_SUFFIXES, json_lines, read_text, text_lines
from veclift.data.tokenize import tokenize
from veclift.errors import VecliftError

TEXT_COLUMNS = ("text", "sentence")
"""Header names tried, in order, when no text column is given."""
TABLE_SUFFIXES = {".tsv": "\t", ".tab": "\t", ".csv": ","}
_TEXT_SUFFIXES = {".txt", ".text"}
LABELED_FORMATS = ("labeled texts (TSV/CSV, JSONL, text files or folders per label, spaCy DocBin, parquet, Arrow, "
                   "or a saved Hugging Face dataset folder)")  # fmt: skip


@dataclass(frozen=True)
class LabeledText:
    """One text: its tokens, its labels (one for single-label data, several for multi-label),
    and the original text."""

    tokens: tuple[str, ...]
    labels: tuple[str, ...]
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "labels", tuple(self.labels))

    @property
    def label(self) -> str:
        """The label of single-label data (the first label otherwise)."""
        return self.labels[0]


def _make(
    text: str, labels: Sequence[str], lowercase: bool, path: Path | str, line: int | None
) -> LabeledText:
    tokens = tokenize(text, lowercase=lowercase)
    if not tokens:
        raise VecliftError("empty text", path, line)
    labels = tuple(dict.fromkeys(label.strip() for label in labels))
    if not labels or any(not label for label in labels):
        raise VecliftError("empty label", path, line)
    return LabeledText(tuple(tokens), labels, text)


def _shown(text: str) -> str:
    """``text`` for a one-line message: as it is when printable, else quoted with escapes."""
    return text if text.isprintable() else repr(text)


def check_labeled(items: list[LabeledText], source: Path | str, min_classes: int = 2) -> list[LabeledText]:
    """Return ``items`` if there are any and they have at least ``min_classes`` classes."""
    if not items:
        raise VecliftError("no labeled texts found", source)
    classes = {label for item in items for label in item.labels}
    if len(classes) < min_classes:
        found = ", ".join(_shown(label) for label in sorted(classes))
        raise VecliftError(f"found {len(classes)} class(es) ({found}); need at least {min_classes}", source)
    return items


def _column_index(
    column: str | int | None, header: list[str] | None, default_names: Sequence[str], default_index: int, path: Path, what: str
) -> int:
    if isinstance(column, int):
        width = len(header) if header is not None else None
        if width is not None and not -width <= column < width:
            raise VecliftError(f"{what} column {column} does not exist ({width} columns)", path, 1)
        return column
    if header is None:
        if column is not None:
            raise VecliftError(f"{what} column {column!r} named, but the file has no header; give an index", path)
        return default_index
    names = [column] if column is not None else list(default_names)
    for name in names:
        if name in header:
            return header.index(name)
    wanted = " or ".join(repr(n) for n in names)
    raise VecliftError(f"no {what} column {wanted} in header ({', '.join(_shown(name) for name in header)})", path, 1)


def read_table(
    path: str | PathLike,
    *,
    text_column: str | int | None = None,
    label_column: str | int | None = None,
    delimiter: str | None = None,
    header: bool = True,
    label_separator: str | None = None,
    lowercase: bool = False,
    min_classes: int = 2,
    encoding: str = "utf-8",
) -> list[LabeledText]:
    """Read a TSV or CSV table of labeled texts.

    Columns are chosen by header name or index; by default the text is the ``text`` or
    ``sentence`` column and the label the ``label`` column (without a header: label in column
    0, text in column 1). ``delimiter`` defaults by suffix (``.tsv`` tab, ``.csv`` comma) or, for
    other suffixes, to a tab if the first line has one, else a comma. TSV is read without
    quote handling (texts such as SST-2's contain bare quotes); CSV with standard quoting.
    ``label_separator`` splits a label cell into several labels (multi-label).
    """
    path = Path(path)
    text = read_text(path, encoding)
    lines = text_lines(text)
    if delimiter is None:
        first = next((line for line in lines if line.strip()), "")
        delimiter = TABLE_SUFFIXES.get(path.suffix.lower(), "\t" if "\t" in first else ",")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(text.removesuffix("\n")), delimiter=delimiter, quoting=quoting, strict=True)
    items: list[LabeledText] = []
    columns = None
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                names = [cell.strip() for cell in row] if header else None
                text_index = _column_index(text_column, names, TEXT_COLUMNS, 1, path, "text")
                label_index = _column_index(label_column, names, ("label",), 0, path, "label")
                columns = (text_index, label_index)
                if header:
                    continue
            needed = max(i if i >= 0 else -i - 1 for i in columns) + 1
            if len(row) < needed:
                raise VecliftError(f"expected at least {needed} columns, found {len(row)}", path, line)
            cell = row[columns[1]]
            labels = cell.split(label_separator) if label_separator else [cell]
            items.append(_make(row[columns[0]], labels, lowercase, path, line))
    except csv.Error as exc:
        raise VecliftError(f"malformed {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}", path, reader.line_num) from None
    return check_labeled(items, path, min_classes)


def label_of_file(path: Path) -> str:
    """The label a per-label file stands for: its suffix (``rt-polarity.pos`` -> ``pos``),
    or its stem when the suffix is missing or ``.txt`` (``positive.txt`` -> ``positive``)."""
    suffix = path.suffix.lower()
    return path.stem if not suffix or suffix in _TEXT_SUFFIXES else path.suffix[1:]


def read_label_files(
    paths: Iterable[str | PathLike],
    *,
    lowercase: bool = False,
    min_classes: int = 2,
    encoding: str = "utf-8",
    fallback_encoding: str | None = "latin-1",
) -> list[LabeledText]:
    """Read one file per label, one text per line (blank lines skipped); label from
    :func:`label_of_file`. Bytes that are not valid ``encoding`` produce one warning naming
    the line, and the file is read as ``fallback_encoding`` (``None``: an error instead)."""
    paths = [Path(p) for p in paths]
    items: list[LabeledText] = []
    for path in paths:
        label = label_of_file(path)
        for number, line in enumerate(text_lines(read_text(path, encoding, fallback=fallback_encoding)), start=1):
            if line.strip():
                items.append(_make(line.strip(), [label], lowercase, path, number))
    return check_labeled(items, ", ".join(str(p) for p in paths), min_classes)


def read_label_folders(
    root: str | PathLike,
    *,
    lowercase: bool = False,
    min_classes: int = 2,
    encoding: str = "utf-8",
    fallback_encoding: str | None = "latin-1",
) -> list[LabeledText]:
    """Read ``root/<label>/<document>``: one sub-folder per label, one text per file (hidden
    files skipped; files in sorted order)."""
    root = Path(root)
    if not root.is_dir():
        raise VecliftError("not a directory", root)
    items: list[LabeledText] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for file in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            text = read_text(file, encoding, fallback=fallback_encoding).strip()
            items.append(_make(text, [folder.name], lowercase, file, None))
    return check_labeled(items, root, min_classes)


def read_labeled_jsonl(
    path: str | PathLike,
    *,
    text_field: str = "text",
    label_field: str = "label",
    lowercase: bool = False,
    min_classes: int = 2,
    encoding: str = "utf-8",
) -> list[LabeledText]:
    """Read JSONL objects with a text field and a label field; a list of labels is multi-label."""
    path = Path(path)
    items: list[LabeledText] = []
    for number, item in json_lines(path, encoding):
        for field in (text_field, label_field):
            if field not in item:
                raise VecliftError(f"missing field {field!r}", path, number)
        text, label = item[text_field], item[label_field]
        if not isinstance(text, str):
            raise VecliftError(f"field {text_field!r} must be a string", path, number)
        labels = label if isinstance(label, list) else [label]
        if not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in labels):
            raise VecliftError(f"field {label_field!r} must be a string, an integer or a list of them", path, number)
        items.append(_make(text, [str(x) for x in labels], lowercase, path, number))
    return check_labeled(items, path, min_classes)


def read_labeled(paths: str | PathLike | Sequence[str | PathLike], **options) -> list[LabeledText]:
    """Read labeled texts, choosing the reader from what is given: a saved Hugging Face dataset folder,
    parquet or Arrow -> `~veclift.data.hf.read_hf_labeled`; a spaCy DocBin -> its ``doc.cats``
    (`~veclift.data.docbin.read_docbin_labeled`); another directory -> folders per label; several
    files -> one file per label; ``.jsonl`` -> JSONL; anything else -> a table. ``options`` go to that reader."""
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise VecliftError("no input files given")
    kinds = [data_format(path, options.get("encoding", "utf-8")) for path in paths]
    for path, kind in zip(paths, kinds):
        if kind not in ("text", "folder") and (len(paths) > 1 or kind == "binary"):
            raise unreadable(path, kind, LABELED_FORMATS if kind == "binary" else "one of several per-label text files (give it alone)")
    if len(paths) > 1:
        return read_label_files(paths, **options)
    path, kind = paths[0], kinds[0]
    if kind in TABLE_FORMATS:
        from veclift.data.hf import read_hf_labeled

        return read_hf_labeled(path, **options)
    if kind == "docbin":
        from veclift.data.docbin import read_docbin_labeled

        return read_docbin_labeled(path, **options)
    if path.is_dir():
        return read_label_folders(path, **options)
    if path.suffix.lower() in JSONL_SUFFIXES:
        return read_labeled_jsonl(path, **options)
    return read_table(path, **options)
