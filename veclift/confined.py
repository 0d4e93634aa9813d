"""Paths read from a directory a user hands over (a model, native vectors) stay inside it."""

from __future__ import annotations

import os
from pathlib import Path

from veclift.errors import VecliftError


def refuse_symlinks(root: Path) -> None:
    """Raise if anything under ``root`` is a symbolic link (it could point anywhere on the machine)."""
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                raise VecliftError(f"{path.relative_to(root)} is a symbolic link; refusing to follow it out of the folder", root)


def inside(root: Path, relative: str) -> Path:
    """``root / relative``, refused when ``relative`` is absolute, climbs with ``..`` or passes a symlink."""
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute() or ".." in parts:
        raise VecliftError(f"the path {relative!r} leaves the folder; refusing to read it", root)
    path = root
    for part in parts:
        path = path / part
        if path.is_symlink():
            raise VecliftError(f"{relative!r} passes a symbolic link; refusing to follow it", root)
    return path


def resolved_inside(root: Path, name: str) -> Path:
    """``root / name`` with links followed, refused when they take it outside ``root`` (links within
    it are fine: a vectors folder may share files between its parts)."""
    target = (root / name).resolve()
    if not target.is_relative_to(root.resolve()):
        raise VecliftError(f"{name} links outside the folder (to {target}): refusing to follow it; copy the file in instead", root)
    return target
