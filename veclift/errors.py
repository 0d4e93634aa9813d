"""The one error type users see: a message naming the file and line at fault."""

from __future__ import annotations

from os import PathLike


class VecliftError(Exception):
    """Bad input or a failed operation, reported to the user as one line (CLI exit code 2)."""

    def __init__(self, message: str, path: str | PathLike | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


class VecliftWarning(UserWarning):
    """Input veclift could use after a repair (duplicates skipped, bytes replaced); shown as one line."""


def warn(message: str, path: str | PathLike | None = None, line: int | None = None) -> None:
    import warnings

    warnings.warn(str(VecliftError(message, path, line)), VecliftWarning, stacklevel=2)
