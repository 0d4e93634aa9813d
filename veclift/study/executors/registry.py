"""Executors by name: each executor module registers a factory taking the options the command
line gives (``jobs``, ``address``); ``veclift study --executor NAME`` picks one."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from veclift.errors import VecliftError
from veclift.study.executors.base import Executor


class ExecutorFactory(Protocol):
    def __call__(self, *, jobs: int | None, address: str | None) -> Executor: ...


@dataclasses.dataclass(frozen=True)
class _Entry:
    factory: ExecutorFactory
    help: str


_EXECUTORS: dict[str, _Entry] = {}


def register_executor(name: str, factory: ExecutorFactory, help: str) -> None:
    """Make ``name`` an executor; ``help`` is a few words for ``veclift study --help``."""
    if name in _EXECUTORS:
        raise ValueError(f"executor {name!r} is already registered")
    _EXECUTORS[name] = _Entry(factory, help)


def unregister_executor(name: str) -> None:
    """Forget ``name`` (nothing happens when it is not registered)."""
    _EXECUTORS.pop(name, None)


def executor_names() -> list[str]:
    """Registered names, in the order they were registered."""
    return list(_EXECUTORS)


def executors_help() -> str:
    """``local (help) or ray (help)``: every registered executor with its help."""
    described = [f"{name} ({entry.help})" for name, entry in _EXECUTORS.items()]
    return _either(described)


def make_executor(name: str, *, jobs: int | None = None, address: str | None = None) -> Executor:
    """The executor registered as ``name``, made with the command line's options."""
    entry = _EXECUTORS.get(name)
    if entry is None:
        raise VecliftError(f"unknown executor {name!r} (expected {_either(executor_names())})")
    return entry.factory(jobs=jobs, address=address)


def _either(items: list[str]) -> str:
    return " or ".join([", ".join(items[:-1]), items[-1]] if len(items) > 2 else items)
