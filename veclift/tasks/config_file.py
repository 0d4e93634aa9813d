"""The training config of `veclift train TASK`: a TOML file with ``[data]``, ``[model]``,
``[trainer]`` and ``[output]`` tables, then dotted overrides (``--trainer.lr 0.001``), then the
shorthand options (``--lr 0.001``), each later one winning, resolved into a `TrainingConfig`; and a
task's full config, every default with its help, as TOML (`config_toml`).

Paths in a config file are taken relative to the folder veclift runs in, as on the command line.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veclift.errors import VecliftError
from veclift.tasks.config import TaskConfig
from veclift.tasks.registry import task_names
from veclift.tasks.settings import (
    SECTIONS,
    DataSettings,
    OutputSettings,
    Setting,
    task_settings,
)

if TYPE_CHECKING:
    from veclift.tasks.registry import Task

MODEL_SECTIONS = ("model", "trainer")
"""The sections that make up the task's `TaskConfig`."""


@dataclass
class TrainingConfig:
    """Everything one training run needs, validated."""

    model: TaskConfig
    reader: dict[str, Any]  # keyword options of the task's reader
    data: DataSettings
    output: OutputSettings


def resolve_config(task: Task, *, path: str | Path | None = None, overrides: Sequence[tuple[str, str, str]] = (),
                   options: Mapping[str, Any] | None = None) -> TrainingConfig:  # fmt: skip
    """The defaults, then the config file at ``path``, then ``overrides`` (``(option, key, text)``
    from `parse_overrides`), then ``options`` (setting key -> value of a shorthand option); a bad
    value is a one-line error naming the file or the option it came from."""
    settings = {s.key: s for s in task_settings(task)}
    values = {key: s.default for key, s in settings.items()}
    if path is not None:
        values.update(read_config_file(path, task, settings))
        _model_config(task, values, str(path))
    for option, key, text in overrides:
        setting = _lookup(task, settings, key, option)
        values[setting.key] = setting.parse(text, option)
        _model_config(task, values, option)
    for key, value in (options or {}).items():
        values[key] = settings[key].accept(value, settings[key].flags[0])
        _model_config(task, values, settings[key].flags[0])
    for setting in settings.values():
        if setting.required and not values[setting.key]:
            raise VecliftError(f"{setting.key} is not set: give {setting.flags[0]}, or set it in the config file")
    by_section = {section: {s.name: values[key] for key, s in settings.items() if s.section == section} for section in SECTIONS}
    readers = {f.name for f in dataclasses.fields(task.reader_options)}
    data = by_section["data"]
    return TrainingConfig(
        model=_model_config(task, values, None),
        reader={name: value for name, value in data.items() if name in readers},
        data=DataSettings(**{name: value for name, value in data.items() if name not in readers}),
        output=OutputSettings(**by_section["output"]),
    )


def _model_config(task: Task, values: Mapping[str, Any], source: str | None) -> TaskConfig:
    """The task's config from the ``model`` and ``trainer`` values; its refusal names ``source``."""
    fields = {key.partition(".")[2]: value for key, value in values.items() if key.partition(".")[0] in MODEL_SECTIONS}
    try:
        return task.config_class.from_dict(fields)
    except VecliftError as exc:
        raise VecliftError(exc.message, exc.path or source) from None


def read_config_file(path: str | Path, task: Task, settings: Mapping[str, Setting]) -> dict[str, Any]:
    """Setting key -> value of each setting the TOML file at ``path`` sets, type and range checked."""
    from veclift.data.textfile import read_text

    path = Path(path)
    if not path.is_file():
        raise VecliftError("no such config file" if not path.exists() else "not a config file (a folder?)", path)
    try:
        tables = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        column = f" (column {where.group(2)})" if where else ""
        raise VecliftError(f"not valid TOML: {message}{column}", path, int(where.group(1)) if where else None) from None
    values: dict[str, Any] = {}
    for section, table in tables.items():
        if section == "task":
            if not isinstance(table, str):
                raise VecliftError(f"'task' must be the name of a task ({', '.join(task_names())}), found {table!r}", path)
            if table != task.name:
                raise VecliftError(f"this config is for task {table!r}: train it with `veclift train {table} --config {path}`", path)
            continue
        if not isinstance(table, dict):
            known = [s.key for s in settings.values() if s.name == section.replace("-", "_")]
            hint = f"; it belongs under [{known[0].split('.')[0]}]" if known else ""
            raise VecliftError(f"{section!r} is not a section ({', '.join(SECTIONS)}){hint}", path)
        for name, value in table.items():
            setting = _lookup(task, settings, f"{section}.{name}", path)
            values[setting.key] = setting.accept(value, str(path))
    return values


def _lookup(task: Task, settings: Mapping[str, Setting], key: str, source: str | Path) -> Setting:
    """The setting ``section.name`` (dashes read as underscores); an unknown one is an error that
    suggests the nearest key."""
    section, _, name = key.partition(".")
    name = name.replace("-", "_")
    key = f"{section}.{name}"
    if key in settings:
        return settings[key]
    if section not in SECTIONS:
        raise VecliftError(f"unknown section [{section}]; the sections are {', '.join(SECTIONS)}", source)
    near = [s.key for s in settings.values() if s.name == name] or difflib.get_close_matches(key, list(settings), n=1)
    hint = f" (did you mean {near[0]}?)" if near else ""
    raise VecliftError(f"unknown setting {key} for {task.name} models{hint}; `veclift init config {task.name}` lists them all",
                       source)  # fmt: skip


def parse_overrides(args: Sequence[str]) -> list[tuple[str, str, str]]:
    """``["--trainer.lr", "0.001", "--model.char=none"]`` -> ``[(option, "trainer.lr", "0.001"), ...]``."""
    found = []
    items = iter(args)
    for item in items:
        name, has_value, text = item.removeprefix("--").partition("=")
        if not item.startswith("--"):
            raise VecliftError(f"unexpected argument {item!r}")
        if "." not in name:
            raise VecliftError(f"no such option: --{name} (a config setting is --SECTION.KEY VALUE, e.g. --trainer.lr 0.001)")
        if not has_value:
            text = next(items, None)
            if text is None or (text.startswith("--") and not _is_number(text)):
                raise VecliftError(f"--{name} needs a value")
        found.append((f"--{name}", name, text))
    return found


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def config_toml(task: Task) -> str:
    """``task``'s full training config as TOML: every setting with its help and default."""
    lines = [
        f"# Training config of a {task.name} model: `veclift train {task.name} --config FILE`.",
        "# Every setting with its default. --SECTION.KEY VALUE (--trainer.lr 0.001) and the shorthand",
        "# options (--lr 0.001) win over this file; paths are relative to the folder veclift runs in.",
        f"task = {_toml(task.name)}",
    ]
    settings = task_settings(task)
    for section in SECTIONS:
        lines += ["", f"[{section}]"]
        for setting in (s for s in settings if s.section == section):
            lines.append(f"# {setting.help}")
            if setting.required:
                lines.append(f"# {setting.name} = (required: set it here or give {setting.flags[0]})")
            elif setting.default is None:
                lines.append(f"# {setting.name} = (not set)")
            else:
                lines.append(f"{setting.name} = {_toml(setting.default)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    """``value`` (a default: bool, number, text, path or list of them) as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return f"[{', '.join(_toml(item) for item in value)}]"
    return json.dumps(str(value), ensure_ascii=False)
