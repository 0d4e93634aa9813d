"""Write outputs so that a crash never leaves a half-written file behind and nothing veclift did not
write is ever replaced.

Every directory veclift writes holds a marker file (``.veclift``); with ``overwrite`` only such a
directory, or a plain file, is replaced. Temporary names carry the writer's process id, so the next
write to the same place sweeps what a killed process (``kill -9``) left behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from veclift.errors import VecliftError

MARKER = ".veclift"
_MARKER_TEXT = "written by veclift; `--overwrite` may replace this folder\n"


def _umask() -> int:
    """The process umask (read by setting it and restoring it: there is no getter)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def written_by_veclift(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and (path / MARKER).is_file()


def mark(directory: Path) -> None:
    """Mark ``directory`` as written by veclift (so ``--overwrite`` may replace it later)."""
    (directory / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")


def check_output(target: str | os.PathLike, *, overwrite: bool = False, directory: bool = False) -> Path:
    """Refuse an output that cannot or must not be written, before any work starts.

    An existing output is refused unless ``overwrite``; even then a directory is replaced only
    when veclift wrote it. The nearest existing parent must be a writable folder.
    """
    target = Path(target)
    if target.is_symlink():
        raise VecliftError("the output is a symbolic link; refusing to write through it: choose another path", target)
    if target.exists():
        if target.is_dir() and not directory:
            raise VecliftError("the output is an existing folder, a file is meant here: choose a file path", target)
        if not overwrite:
            raise VecliftError("the output already exists; pass --overwrite to replace it, or choose a new path", target)
        if target.is_dir() and not written_by_veclift(target):
            raise VecliftError(
                f"the output is a folder veclift did not write (no {MARKER} inside): refusing to replace it "
                "even with --overwrite; choose a new path", target)  # fmt: skip
    parent = target.parent
    while not parent.exists():
        if parent.is_symlink() or parent == parent.parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise VecliftError(f"cannot write here: {parent} is not a folder", target)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise VecliftError(f"cannot write here: the folder {parent} is not writable", target)
    try:  # permissions alone do not tell (root, read-only mounts, pseudo file systems): try it
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise VecliftError(f"cannot write here: {exc.strerror or exc}", parent) from None
    os.close(fd)
    os.unlink(probe)
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(target: Path) -> None:
    """Remove temporaries beside ``target`` left by a writer process that no longer runs."""
    prefix = f".{target.name}."
    if not target.parent.is_dir():
        return
    for entry in target.parent.iterdir():
        name = entry.name
        if not name.startswith(prefix) or not (name.endswith(".tmp") or name.endswith(".old")):
            continue
        pid = name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, directory: bool = False, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``.

    An existing ``target`` is replaced only with ``overwrite``, and a directory only when veclift
    wrote it (a directory written here gets the marker). Removed again on any error or interrupt.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target)
    prefix = f".{target.name}.{os.getpid()}."
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=target.parent))
        os.chmod(tmp, 0o777 & ~_umask())
        mark(tmp)
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
        os.close(fd)
        tmp = Path(name)
        os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        if target.exists() or target.is_symlink():
            check_output(target, overwrite=overwrite, directory=directory)
        if target.is_dir():
            old = target.with_name(f"{prefix}old")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        elif directory and target.exists():
            target.unlink()
            tmp.rename(target)
        else:
            os.replace(tmp, target)
    except BaseException:
        if directory:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise
