"""Every setting of a training run as `veclift train`, its config file and `veclift init config` see
it: section, name, type, default, help and range, read from the metadata of the dataclass fields that
hold it (`DataSettings`, the task's reader options, its `TaskConfig`, `OutputSettings`).

A new task brings its settings with its config and reader-options dataclasses; nothing here names it.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veclift.errors import VecliftError

if TYPE_CHECKING:
    from veclift.tasks.registry import Task

SECTIONS = ("data", "model", "trainer", "output")
"""The tables of a training config, in the order they are written."""


@dataclass
class DataSettings:
    """What a model is trained on (the reader's options join this section)."""

    train: list[Path] = field(default_factory=list, metadata={"help": "Training data.", "required": True})
    dev: list[Path] | None = field(default=None, metadata={"help": "Dev data for early stopping (same format as train)."})
    vectors: str | None = field(default=None, metadata={"help": "Vector source: built-in name, native dir or vector file."})
    max_sentences: int | None = field(default=None, metadata={"help": "Train on a seeded subsample of N examples.", "min": 1})
    seed: int = field(default=0, metadata={"help": "Seed of the subsample, the initial weights and the batches.", "min": 0})


@dataclass
class OutputSettings:
    """Where the model goes."""

    path: Path | None = field(default=None, metadata={"help": "Model directory to write.", "flags": ("--output", "-o"),
                                                      "required": True})  # fmt: skip
    checkpoint: Path | None = field(default=None, metadata={"help": "Checkpoint file written every epoch; resumed from if present."})


@dataclass(frozen=True)
class Setting:
    """One setting: ``section.name`` in a config file, ``flags`` on the command line."""

    section: str
    name: str
    kind: Any  # the field's type: int, float, str | None, list[Path], tuple[int, ...]...
    default: Any
    help: str
    flags: tuple[str, ...]
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def option_type(self) -> Any:
        """The type of its command-line option: optional (unset unless given), a list or tuple as a
        repeated option."""
        item = _item(self.kind)
        return list[item] | None if item is not None else _base(self.kind) | None

    def accept(self, value: Any, source: str) -> Any:
        """``value`` (from a config file or an option) as this setting's type, checked against its range;
        a one-line error naming ``source`` (the file or the option) otherwise."""
        try:
            value = _coerce(value, self.kind)
        except TypeError:
            raise VecliftError(f"{self.key} must be {_described(self.kind)}, got {value!r}", source) from None
        for number in value if isinstance(value, tuple | list) else [value]:
            if not isinstance(number, int | float):
                continue
            if self.minimum is not None and number < self.minimum:
                raise VecliftError(f"{self.key} must be at least {self.minimum}, got {number}", source)
            if self.maximum is not None and number > self.maximum:
                raise VecliftError(f"{self.key} must be at most {self.maximum}, got {number}", source)
        return value

    def parse(self, text: str, source: str) -> Any:
        """A value given as text on the command line: as it is for text and paths, else read as a
        TOML value (``0.001``, ``true``, ``[3, 4]``)."""
        if _base(self.kind) in (str, Path) or _item(self.kind) in (str, Path):
            return self.accept(text, source)
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            value = text
        return self.accept(value, source)


def task_settings(task: Task) -> list[Setting]:
    """The settings of ``task``'s training run, section by section (`SECTIONS`)."""
    data = settings_of(DataSettings, "data")
    formats = (task.reader_options.__doc__ or "").strip()
    data[0] = dataclasses.replace(data[0], help=f"Training data: {formats}" if formats else data[0].help)
    config = settings_of(task.config_class)
    found = [*data, *settings_of(task.reader_options, "data"), *config, *settings_of(OutputSettings, "output")]
    found.sort(key=lambda s: SECTIONS.index(s.section))
    options = [name for s in found for flag in s.flags for name in flag.split("/")]
    if len(set(options)) != len(options):
        raise ValueError(f"{task.name}: two settings share an option name")
    return found


def settings_of(cls: type, section: str | None = None) -> list[Setting]:
    """The settings held by the fields of dataclass ``cls``: in ``section``, or in the section each
    field's metadata names."""
    hints = typing.get_type_hints(cls)
    found = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        kind = hints[f.name]
        flags = meta.get("flags") or (_flag(f.name, kind),)
        found.append(Setting(section or meta["section"], f.name, kind, default, meta.get("help", ""), tuple(flags),
                             meta.get("min"), meta.get("max"), meta.get("required", False)))  # fmt: skip
    return found


def _flag(name: str, kind: Any) -> str:
    option = name.replace("_", "-")
    return f"--{option}/--no-{option}" if _base(kind) is bool else f"--{option}"


def _base(kind: Any) -> Any:
    """``kind`` without ``| None``."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return next(arg for arg in typing.get_args(kind) if arg is not type(None))
    return kind


def _item(kind: Any) -> Any:
    """The item type of a list or tuple type; None for others."""
    kind = _base(kind)
    return typing.get_args(kind)[0] if typing.get_origin(kind) in (list, tuple) else None


def _coerce(value: Any, kind: Any) -> Any:
    """``value`` as ``kind`` (an int is a float, a path a str or a Path, one path a list of one);
    TypeError when it is not one."""
    kind = _base(kind)
    item = _item(kind)
    if item is not None:
        if item in (str, Path) and isinstance(value, str | Path):
            value = [value]
        if not isinstance(value, list | tuple):
            raise TypeError
        return typing.get_origin(kind)(_coerce(v, item) for v in value)
    if isinstance(value, bool) and kind is not bool:
        raise TypeError
    if kind is float and isinstance(value, int | float):
        return float(value)
    if kind is Path and isinstance(value, str | Path):
        return Path(value)
    if not isinstance(value, kind):
        raise TypeError
    return value


_DESCRIBED = {int: "a whole number", float: "a number", str: "text (in quotes)", bool: "true or false", Path: "a path (in quotes)"}


def _described(kind: Any) -> str:
    item = _item(kind)
    if item is not None:
        one = _DESCRIBED.get(item, item.__name__)
        return f"{one} or a list of them" if item in (str, Path) else f"a list of {one.removeprefix('a ')}s"
    return _DESCRIBED.get(_base(kind), str(kind))
