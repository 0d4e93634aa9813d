"""Hugging Face style data: a folder written by ``save_to_disk`` (a Dataset or a DatasetDict), parquet
and Arrow files (read with pyarrow alone), JSONL with integer tags, and an in-memory ``datasets.Dataset``.

Fields are chosen by name (``tokens_field``/``tags_field`` for tagged sentences, ``text_column``/
``label_column`` for labeled texts); integer tags and labels are named by ``label_names`` or by the
data's ClassLabel features. Errors name the row (its number counts from 1; in JSONL, the line).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from veclift.atomic import atomic_path
from veclift.data.formats import FORMAT_NAMES, data_format, one_line
from veclift.data.labeled import TEXT_COLUMNS, LabeledText, _make, check_labeled
from veclift.data.schemes import spans
from veclift.data.tagged import TaggedSentence, _finish, _RawSentence
from veclift.data.textfile import json_lines
from veclift.errors import VecliftError, warn

TOKENS_FIELD = "tokens"
TAGS_FIELD = "ner_tags"
_TAGGED_OPTIONS = ("tokens_field", "tags_field", "label_names", "scheme", "strict")
_LABELED_OPTIONS = ("text_column", "label_column", "label_names", "label_separator", "lowercase", "min_classes")


@dataclass
class _Source:
    """Data as named columns: a pyarrow table, or JSONL objects with their line numbers."""

    where: str  # the file, folder or "<dataset>" that errors name
    what: str  # "a parquet file": how messages name the format
    features: Any  # the ``datasets`` features as JSON (``Features.to_dict()``), or None
    table: Any = None
    rows: list[tuple[int, dict]] | None = None

    @property
    def fields(self) -> list[str]:
        """The columns; of JSONL, the fields of the first object (`column` finds those missing later)."""
        if self.table is not None:
            return list(self.table.column_names)
        return list(self.rows[0][1]) if self.rows else []

    @property
    def lines(self) -> list[int]:
        return list(range(1, self.table.num_rows + 1)) if self.table is not None else [line for line, _ in self.rows]

    def field(self, given: str | int | None, defaults: Sequence[str], what: str, option: str) -> str:
        """The field ``given`` (a name, or an index into the columns), else the first of ``defaults`` present."""
        fields = self.fields
        if isinstance(given, int):
            if not -len(fields) <= given < len(fields):
                raise VecliftError(f"{what} column {given} does not exist ({len(fields)} columns)", self.where)
            return fields[given]
        names = [given] if given is not None else list(defaults)
        found = next((name for name in names if name in fields), None)
        if found is None:
            wanted = " or ".join(repr(name) for name in names)
            shown = ", ".join(map(repr, fields[:20])) + (", ..." if len(fields) > 20 else "")
            raise VecliftError(f"{self.what} with no {what} field {wanted} (its fields: {shown}); name it with {option}",
                               self.where)  # fmt: skip
        return found

    def column(self, name: str) -> list:
        if self.table is not None:
            return self.table.column(name).to_pylist()
        for line, row in self.rows:
            if name not in row:
                raise VecliftError(f"missing field {name!r}", self.where, line)
        return [row[name] for _, row in self.rows]


def _hf_features(schema: Any) -> Any:
    """The ``datasets`` features that parquet and Arrow files written by ``datasets`` keep in their schema."""
    try:
        info = json.loads((schema.metadata or {}).get(b"huggingface", b"{}"))
        return info["info"]["features"]
    except (ValueError, RecursionError, KeyError, TypeError):
        return None


def _read_table(path: Path, kind: str) -> Any:
    """A parquet or Arrow (file or stream format) file as a pyarrow table, its buffers checked (broken
    offsets or UTF-8 would crash or fail later, when the rows are read)."""
    import pyarrow as pa

    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            with pa.OSFile(str(path)) as handle:
                magic = handle.read(6)
                handle.seek(0)
                table = (pa.ipc.open_file if magic == b"ARROW1" else pa.ipc.open_stream)(handle).read_all()
        table.validate(full=True)
        return table
    except (pa.ArrowException, OSError, ValueError, MemoryError) as exc:
        raise VecliftError(f"{FORMAT_NAMES[kind]} that cannot be read: {one_line(exc)}", path) from None


def _require_datasets(where: str | Path) -> Any:
    try:
        import datasets
    except ImportError:
        raise VecliftError("reading a saved Hugging Face dataset folder needs the datasets package: "
                           "pip install 'veclift[datasets]'", where) from None  # fmt: skip
    return datasets


def _load_from_disk(path: Path, split: str | None) -> Any:
    """The Dataset in a ``save_to_disk`` folder; of a DatasetDict, split ``split`` (default ``train``, or the only one)."""
    datasets = _require_datasets(path)
    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001 - any failure of a third-party loader on a broken folder is one line
        raise VecliftError(f"a Hugging Face dataset folder that cannot be loaded: {one_line(exc)}", path) from None
    if not isinstance(loaded, datasets.DatasetDict):
        return loaded
    names = list(loaded)
    chosen = split or ("train" if "train" in names or len(names) != 1 else names[0])
    if chosen not in loaded:
        raise VecliftError(f"a DatasetDict with no split {chosen!r} (its splits: {', '.join(names)}): choose one with "
                           f"--split, or give the split's folder ({path / names[0] if names else path})", path)  # fmt: skip
    if split is None and len(names) > 1:
        warn(f"reading split {chosen!r} of a DatasetDict with splits {', '.join(names)}; choose one with --split, or "
             f"give the split's folder ({path / chosen})", path)  # fmt: skip
    return loaded[chosen]


def _dataset_source(dataset: Any, where: str) -> _Source:
    try:
        dataset.data.table.validate(full=True)  # as `_read_table` does: a broken file crashes the reads below
        table = dataset.with_format("arrow")[:]
        features = dataset.features.to_dict()
    except Exception as exc:  # noqa: BLE001 - a dataset that cannot give its rows is one line, whatever broke
        raise VecliftError(f"a Hugging Face dataset whose rows cannot be read: {one_line(exc)}", where) from None
    return _Source(where, FORMAT_NAMES["dataset"] if where != "<dataset>" else "the dataset", features, table=table)


def _source(path: str | PathLike, split: str | None, encoding: str) -> _Source:
    """The columns of the dataset folder, parquet, Arrow or (any other file) JSONL file at ``path``."""
    path = Path(path)
    kind = data_format(path, encoding)
    if kind == "dataset":
        return _dataset_source(_load_from_disk(path, split), str(path))
    if kind in ("parquet", "arrow"):
        table = _read_table(path, kind)
        return _Source(str(path), FORMAT_NAMES[kind], _hf_features(table.schema), table=table)
    if kind == "folder":
        raise VecliftError("a folder that is no saved Hugging Face dataset (no dataset_info.json or dataset_dict.json)", path)
    return _Source(str(path), "a JSONL file", None, rows=list(json_lines(path, encoding)))


def label_names_list(label_names: str | Sequence[str] | None) -> list[str] | None:
    """Names given as a list, or as comma-separated text (``"O,B-PER,I-PER"``); None when none are given."""
    if label_names is None:
        return None
    items = [label_names] if isinstance(label_names, str) else list(label_names)
    names = [name.strip() for item in items for name in item.split(",") if name.strip()]
    return names or None


def class_names(features: Any, field: str) -> list[str] | None:
    """The ClassLabel names of ``field`` (itself, or the items of its sequence) in features given as JSON."""
    feature = features.get(field) if isinstance(features, dict) else None
    while True:
        if isinstance(feature, list) and len(feature) == 1:  # the short form of a sequence
            feature = feature[0]
        elif isinstance(feature, dict) and feature.get("_type") == "ClassLabel":
            names = feature.get("names")
            return names if isinstance(names, list) and all(isinstance(n, str) for n in names) else None
        elif isinstance(feature, dict) and "feature" in feature:
            feature = feature["feature"]
        else:
            return None


def _named(value: Any, names: list[str] | None, source: _Source, line: int, field: str, what: str) -> str:
    """A tag or label given as text, or as an integer naming one of ``names`` (its text without names)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, int) or isinstance(value, bool):
        raise VecliftError(f"field {field!r} must hold text or integer {what}s, found {type(value).__name__}",
                           source.where, line)  # fmt: skip
    if names is None and value >= 0 and what == "label":
        return str(value)
    if names is None:
        raise VecliftError(f"field {field!r} holds integer {what}s but nothing names them: give the names in order "
                           "with --label-names (e.g. O,B-PER,I-PER), or data with ClassLabel features", source.where, line)  # fmt: skip
    if not 0 <= value < len(names):
        hint = " (an unlabeled split?)" if value < 0 else ""
        raise VecliftError(f"{what} {value} of field {field!r} names none of the {len(names)} names{hint}", source.where, line)
    return names[value]


def _tagged(source: _Source, *, tokens_field: str = TOKENS_FIELD, tags_field: str = TAGS_FIELD,
            label_names: str | Sequence[str] | None = None, scheme: str = "auto", strict: bool = False) -> list[TaggedSentence]:  # fmt: skip
    tokens_field = source.field(tokens_field, (), "tokens", "--tokens-field")
    tags_field = source.field(tags_field, (), "tags", "--tags-field")
    names = label_names_list(label_names) or class_names(source.features, tags_field)
    raw: list[_RawSentence] = []
    for line, tokens, tags in zip(source.lines, source.column(tokens_field), source.column(tags_field)):
        if not (isinstance(tokens, list) and all(isinstance(token, str) for token in tokens)):
            raise VecliftError(f"field {tokens_field!r} must be a list of strings", source.where, line)
        if not isinstance(tags, list):
            raise VecliftError(f"field {tags_field!r} must be a list of tags", source.where, line)
        if len(tokens) != len(tags):
            raise VecliftError(f"{len(tokens)} tokens but {len(tags)} tags", source.where, line)
        if tokens:
            raw.append(_RawSentence(tokens, [_named(tag, names, source, line, tags_field, "tag") for tag in tags], [line] * len(tokens)))
    return _finish(raw, Path(source.where), scheme, strict)


def _labeled(source: _Source, *, text_column: str | int | None = None, label_column: str | int | None = None,
             label_names: str | Sequence[str] | None = None, label_separator: str | None = None, lowercase: bool = False,
             min_classes: int = 2) -> list[LabeledText]:  # fmt: skip
    text_field = source.field(text_column, TEXT_COLUMNS, "text", "--text-column")
    label_field = source.field(label_column, ("label",), "label", "--label-column")
    names = label_names_list(label_names) or class_names(source.features, label_field)
    items: list[LabeledText] = []
    for line, text, label in zip(source.lines, source.column(text_field), source.column(label_field)):
        if not isinstance(text, str):
            raise VecliftError(f"field {text_field!r} must be a string", source.where, line)
        labels = []
        for value in label if isinstance(label, list) else [label]:
            name = _named(value, names, source, line, label_field, "label")
            labels.extend(name.split(label_separator) if label_separator else [name])
        items.append(_make(text, labels, lowercase, source.where, line))
    return check_labeled(items, source.where, min_classes)


def read_hf_tagged(
    path: str | PathLike, *, tokens_field: str = TOKENS_FIELD, tags_field: str = TAGS_FIELD,
    label_names: str | Sequence[str] | None = None, split: str | None = None, scheme: str = "auto",
    strict: bool = False, encoding: str = "utf-8",
) -> list[TaggedSentence]:  # fmt: skip
    """Tagged sentences of a saved dataset folder, a parquet or Arrow file, or JSONL: a list of tokens and
    a list of tags per row, the tags text (in ``scheme``, as in `read_conll`) or integers named by
    ``label_names`` or the ClassLabel features. ``split``: which split of a DatasetDict folder."""
    return _tagged(_source(path, split, encoding), tokens_field=tokens_field, tags_field=tags_field,
                   label_names=label_names, scheme=scheme, strict=strict)  # fmt: skip


def read_hf_labeled(
    path: str | PathLike, *, text_column: str | int | None = None, label_column: str | int | None = None,
    label_names: str | Sequence[str] | None = None, split: str | None = None, label_separator: str | None = None,
    lowercase: bool = False, min_classes: int = 2, encoding: str = "utf-8",
) -> list[LabeledText]:  # fmt: skip
    """Labeled texts of a saved dataset folder, a parquet or Arrow file: a text field (default ``text`` or
    ``sentence``) and a label field (default ``label``) holding text, an integer (named by ``label_names``
    or the ClassLabel features, else kept as its digits) or a list of them (multi-label)."""
    return _labeled(_source(path, split, encoding), text_column=text_column, label_column=label_column,
                    label_names=label_names, label_separator=label_separator, lowercase=lowercase,
                    min_classes=min_classes)  # fmt: skip


def tagged_from_dataset(dataset: Any, **options: Any) -> list[TaggedSentence]:
    """Tagged sentences of an in-memory ``datasets.Dataset``; ``options`` as for `read_hf_tagged` (but ``split``)."""
    return _tagged(_dataset_source(dataset, "<dataset>"), **options)


def labeled_from_dataset(dataset: Any, **options: Any) -> list[LabeledText]:
    """Labeled texts of an in-memory ``datasets.Dataset``; ``options`` as for `read_hf_labeled` (but ``split``)."""
    return _labeled(_dataset_source(dataset, "<dataset>"), **options)


def items_from_dataset(dataset: Any, task: str, **options: Any) -> list:
    """The items of ``task`` (``ner`` or ``classify``) in a ``datasets.Dataset``. ``options`` are the
    task's reader options; those of files only (``tag_column``, ``split``) do nothing here."""
    if task == "ner":
        return tagged_from_dataset(dataset, **{k: v for k, v in options.items() if k in _TAGGED_OPTIONS and v is not None})
    if task == "classify":
        return labeled_from_dataset(dataset, **{k: v for k, v in options.items() if k in _LABELED_OPTIONS and v is not None})
    raise VecliftError(f"the {task} task does not read Hugging Face datasets; give its data as a file or a list")


def default_tag_names(sentences: Iterable[TaggedSentence]) -> list[str]:
    """``O``, then ``B-`` and ``I-`` of each entity type in sorted order: the ClassLabel names tags are written as."""
    kinds = sorted({kind for sentence in sentences for kind, _, _ in spans(sentence.tags)})
    return ["O", *(f"{prefix}-{kind}" for kind in kinds for prefix in "BI")]


def _class_label(names: list[str]) -> dict[str, Any]:
    return {"names": names, "_type": "ClassLabel"}


def _sequence(feature: dict[str, Any]) -> dict[str, Any]:
    return {"feature": feature, "_type": "Sequence"}  # read as a list by datasets 2.x to 5.x


def _indices(values: Iterable[str], names: list[str], what: str) -> list[int]:
    index = {name: i for i, name in enumerate(names)}
    try:
        return [index[value] for value in values]
    except KeyError as missing:
        raise VecliftError(f"{what} {missing.args[0]!r} is not one of the label names ({', '.join(names)})") from None


def _write_parquet(columns: dict[str, Any], features: dict[str, Any], path: str | PathLike, overwrite: bool) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(columns).replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
    with atomic_path(path, overwrite=overwrite) as tmp:
        pq.write_table(table, tmp)


def write_tagged_parquet(sentences: Iterable[TaggedSentence], path: str | PathLike, *,
                         label_names: Sequence[str] | None = None, overwrite: bool = False) -> None:  # fmt: skip
    """Write ``tokens`` and integer ``ner_tags`` (IOB2) columns, the tag names (``label_names``, default
    `default_tag_names`) kept as ClassLabel features that ``datasets.load_dataset("parquet", ...)`` reads."""
    import pyarrow as pa

    sentences = list(sentences)
    names = label_names_list(label_names) or default_tag_names(sentences)
    columns = {
        TOKENS_FIELD: pa.array([list(s.tokens) for s in sentences], pa.list_(pa.string())),
        TAGS_FIELD: pa.array([_indices(s.tags, names, "tag") for s in sentences], pa.list_(pa.int64())),
    }
    features = {TOKENS_FIELD: _sequence({"dtype": "string", "_type": "Value"}), TAGS_FIELD: _sequence(_class_label(names))}
    _write_parquet(columns, features, path, overwrite)


def write_labeled_parquet(texts: Iterable[LabeledText], path: str | PathLike, *,
                          label_names: Sequence[str] | None = None, overwrite: bool = False) -> None:  # fmt: skip
    """Write ``text`` and integer ``label`` columns (a list of labels per text when any has several), the
    label names (``label_names``, default sorted) kept as ClassLabel features."""
    import pyarrow as pa

    texts = list(texts)
    names = label_names_list(label_names) or sorted({label for text in texts for label in text.labels})
    multi = any(len(text.labels) > 1 for text in texts)
    labels = [_indices(text.labels, names, "label") for text in texts]
    columns = {
        "text": pa.array([text.text for text in texts], pa.string()),
        "label": pa.array(labels if multi else [row[0] for row in labels], pa.list_(pa.int64()) if multi else pa.int64()),
    }
    label = _sequence(_class_label(names)) if multi else _class_label(names)
    _write_parquet(columns, {"text": {"dtype": "string", "_type": "Value"}, "label": label}, path, overwrite)
