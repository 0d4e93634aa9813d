"""What a transfer study runs: task, data, vectors, the grid (sizes x strategies x seeds), model options."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from veclift.errors import VecliftError

DEFAULT_SIZES: tuple[int | str, ...] = (50, 100, 500, 1000, "all")
DEFAULT_STRATEGIES = ("scratch", "frozen", "finetune")
_STRATEGY_NAME = re.compile(r"^[a-z][a-z0-9_+\-]*$")


class Trial(NamedTuple):
    """One cell of the grid; ``id`` is stable across runs and is the results-store key."""

    size: int | str
    strategy: str
    seed: int

    @property
    def id(self) -> str:
        return f"n{self.size}-{self.strategy}-s{self.seed}"


@dataclasses.dataclass(frozen=True)
class StudySpec:
    """A transfer study. Without a test file, ``test_fraction`` of the training file is held out
    (seeded by ``split_seed``) and the training sizes are drawn from the rest. Without a dev file,
    ``dev_fraction`` of that rest is held out for early stopping (0: no dev set, every trial
    trains its full epochs)."""

    task: str
    train: Path
    test: Path | None = None
    dev: Path | None = None
    vectors: str = "glove-6b-50d"
    sizes: tuple[int | str, ...] = DEFAULT_SIZES
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    seeds: int = 3
    test_fraction: float = 0.2
    dev_fraction: float = 0.0
    split_seed: int = 0
    test_rows: str = "model"
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen dataclass: normalise once, here
        set_(self, "train", Path(self.train))
        set_(self, "test", None if self.test is None else Path(self.test))
        set_(self, "dev", None if self.dev is None else Path(self.dev))
        set_(self, "sizes", tuple(_parse_size(s) for s in self.sizes))
        set_(self, "strategies", tuple(self.strategies))
        set_(self, "options", dict(self.options))
        self.validate()

    def validate(self) -> None:
        from veclift.tasks.registry import task_names  # here: the CLI reads specs without loading torch

        if self.task not in task_names():
            raise VecliftError(f"unknown task {self.task!r} (expected one of {', '.join(task_names())})")
        if not self.sizes:
            raise VecliftError("no training sizes given")
        if len(set(self.sizes)) != len(self.sizes):
            raise VecliftError(f"training sizes repeat: {_join(self.sizes)}")
        if not self.strategies:
            raise VecliftError("no strategies given")
        for name in self.strategies:
            if not _STRATEGY_NAME.match(name):
                raise VecliftError(f"bad strategy name {name!r}")
        if len(set(self.strategies)) != len(self.strategies):
            raise VecliftError(f"strategies repeat: {_join(self.strategies)}")
        if not isinstance(self.seeds, int) or isinstance(self.seeds, bool) or self.seeds < 1:
            raise VecliftError(f"seeds must be a whole number of at least 1, not {self.seeds!r}")
        if not 0 < self.test_fraction < 1:
            raise VecliftError(f"test_fraction must lie between 0 and 1, not {self.test_fraction}")
        if not 0 <= self.dev_fraction < 1:
            raise VecliftError(f"dev_fraction must lie in [0, 1), not {self.dev_fraction}")
        from veclift.tasks.config import TEST_ROWS

        if self.test_rows not in TEST_ROWS:
            raise VecliftError(f"test_rows must be {' or '.join(TEST_ROWS)}, not {self.test_rows!r}")
        for label in ("train", "test", "dev"):
            path = getattr(self, label)
            if path is not None and not path.exists():
                raise VecliftError(f"{label} data not found", path)

    def trials(self) -> list[Trial]:
        """The grid, smallest size first so learning curves fill in from the left."""
        return [
            Trial(size, strategy, seed)
            for size in self.sizes
            for strategy in self.strategies
            for seed in range(self.seeds)
        ]

    def with_sizes(self, sizes: Sequence[int | str]) -> StudySpec:
        return dataclasses.replace(self, sizes=tuple(sizes))

    def fingerprint(self) -> dict[str, Any]:
        """Everything that changes a single trial's result; the grid itself is left out so a
        finished study can be extended with more sizes, strategies or seeds."""
        parts: dict[str, Any] = {
            "task": self.task,
            "train": _file_digest(self.train),
            "test": _file_digest(self.test) if self.test else None,
            "dev": _file_digest(self.dev) if self.dev else None,
            "vectors": _source_identity(self.vectors),
            "options": json.loads(json.dumps(self.options, sort_keys=True, default=str)),
            "test_rows": self.test_rows,
        }
        if self.test is None:
            parts["held_out_test"] = {"test_fraction": self.test_fraction, "split_seed": self.split_seed}
        if self.dev is None and self.dev_fraction:
            parts["held_out_dev"] = {"dev_fraction": self.dev_fraction, "split_seed": self.split_seed}
        return parts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (paths as strings), as shown in the report."""
        data = dataclasses.asdict(self)
        for label in ("train", "test", "dev"):
            data[label] = None if data[label] is None else str(data[label])
        data["sizes"] = list(self.sizes)
        data["strategies"] = list(self.strategies)
        return data


def load_spec(path: str | Path, **overrides: Any) -> StudySpec:
    """Read a study from a TOML file; keyword ``overrides`` that are not None win (the CLI's
    options). Relative data paths in the file are taken relative to the file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise VecliftError("study file not found", path) from None
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise VecliftError(f"not valid TOML: {exc}", path, int(line.group(1)) if line else None) from None
    fields = {f.name for f in dataclasses.fields(StudySpec)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise VecliftError(f"unknown study setting(s) {_join(unknown)} (known: {_join(sorted(fields))})", path)
    for label in ("train", "test", "dev"):
        if isinstance(data.get(label), str):
            data[label] = path.parent / data[label]
    options = dict(data.pop("options", {}))
    options.update(overrides.pop("options", None) or {})
    data.update({key: value for key, value in overrides.items() if value is not None})
    if "task" not in data or "train" not in data:
        raise VecliftError("a study needs at least `task` and `train`", path)
    try:
        return StudySpec(**data, options=options)
    except TypeError as exc:
        raise VecliftError(f"bad study setting: {exc}", path) from None
    except VecliftError as exc:
        if exc.path:
            raise
        raise VecliftError(exc.message, path) from None


def parse_sizes(text: str) -> tuple[int | str, ...]:
    """``"50,100,all"`` -> ``(50, 100, "all")``."""
    return tuple(_parse_size(part) for part in _items(text, "--sizes"))


def parse_names(text: str, option: str = "--strategies") -> tuple[str, ...]:
    return _items(text, option)


def _items(text: str, option: str) -> tuple[str, ...]:
    """The comma-separated items of an option's value; an empty item is an error, not a default."""
    items = tuple(part.strip() for part in text.split(","))
    if not text.strip() or not all(items):
        raise VecliftError(f"{option} {text!r} has an empty item: give a comma-separated list such as 50,100,all")
    return items


def _parse_size(size: int | str) -> int | str:
    if isinstance(size, str):
        if size.strip().lower() == "all":
            return "all"
        if not size.strip().isdigit():
            raise VecliftError(f"bad training size {size!r} (a whole number or 'all')")
        size = int(size)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise VecliftError(f"bad training size {size!r} (a whole number of at least 1, or 'all')")
    return size


def _file_digest(path: Path) -> str:
    """SHA-256 of a data file, or of a folder's files (classification data can be folder per label)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        digest.update(str(file.relative_to(path) if path.is_dir() else "").encode())
        with file.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _source_identity(source: str) -> Any:
    """A vector source as identified cheaply: a built-in name as is, files by name, size and mtime
    (vector files can be gigabytes: hashing them on every start would be slow)."""
    path = Path(source)
    if not path.exists():
        return source
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [[str(p.relative_to(path) if path.is_dir() else p.name), p.stat().st_size, p.stat().st_mtime_ns] for p in files]


def _join(items) -> str:
    return ", ".join(str(item) for item in items)
