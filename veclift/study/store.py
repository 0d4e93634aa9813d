"""The results store: one SQLite file in the study's output directory, one row per finished trial.

Each result is committed as its trial finishes, so an interrupted study loses only the trials
that were running; a finished trial is never run again. The store keeps the spec fingerprint
and refuses to mix results of a different study into the same directory.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from veclift.errors import VecliftError
from veclift.study.spec import StudySpec, Trial

STORE_NAME = "results.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id TEXT PRIMARY KEY, size TEXT NOT NULL, strategy TEXT NOT NULL, seed INTEGER NOT NULL,
    metrics TEXT NOT NULL, seconds REAL NOT NULL, finished TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS failures (
    id TEXT PRIMARY KEY, error TEXT NOT NULL, finished TEXT NOT NULL);
"""


def claim_output_dir(output_dir: str | Path, *, overwrite: bool = False) -> Path:
    """The study's folder, created and marked as veclift's; an existing one is resumed when veclift
    wrote it (with ``overwrite``: emptied to start over), refused when it holds anything else."""
    from veclift.atomic import check_output, mark, written_by_veclift

    output_dir = Path(output_dir)
    ours = written_by_veclift(output_dir) or (output_dir / STORE_NAME).is_file()
    if output_dir.is_dir() and not ours and any(output_dir.iterdir()):
        raise VecliftError("the output folder holds files veclift did not write: choose a new or empty folder", output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise VecliftError("the output is an existing file, a folder is meant here: choose a folder path", output_dir)
    if not output_dir.exists():
        check_output(output_dir, directory=True)
    elif overwrite and ours:
        for entry in output_dir.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)
    mark(output_dir)
    return output_dir


class ResultStore:
    """Open (or create) the store of ``output_dir`` for ``spec``; raise if it holds another study."""

    def __init__(self, output_dir: str | Path, spec: StudySpec, *, overwrite: bool = False):
        self.path = claim_output_dir(output_dir, overwrite=overwrite) / STORE_NAME
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise VecliftError(f"cannot open the results store: {exc}", self.path) from None
        self._claim(spec)

    def _claim(self, spec: StudySpec) -> None:
        wanted = spec.fingerprint()
        row = self._db.execute("SELECT value FROM study WHERE key = 'fingerprint'").fetchone()
        if row is None:
            with self._transaction():
                self._db.execute(
                    "INSERT INTO study VALUES ('fingerprint', ?)", (json.dumps(wanted, sort_keys=True),)
                )
            return
        found = json.loads(row[0])
        if found != wanted:
            differ = ", ".join(key for key in sorted(set(found) | set(wanted)) if found.get(key) != wanted.get(key))
            raise VecliftError(
                f"this output directory holds results of a different study ({differ} changed); "
                "use another --output directory, or pass --overwrite to start over",
                self.path.parent,
            )

    def done(self) -> set[str]:
        """Ids of the finished trials."""
        return {row[0] for row in self._db.execute("SELECT id FROM trials")}

    def add(self, trial: Trial, metrics: Mapping[str, Any], seconds: float) -> bool:
        """Record a finished trial; False (and nothing written) if it was already recorded."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)",
                (trial.id, str(trial.size), trial.strategy, trial.seed,
                 json.dumps(dict(metrics), sort_keys=True), float(seconds), _now()),
            )
            self._db.execute("DELETE FROM failures WHERE id = ?", (trial.id,))
        return cursor.rowcount == 1

    def add_failure(self, trial: Trial, error: str) -> None:
        """Record a failed trial; it is not finished, so the next run tries it again."""
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?)", (trial.id, error, _now()))

    def failures(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT id, error FROM failures ORDER BY id"))

    def rows(self) -> list[dict[str, Any]]:
        """Every finished trial: id, size, strategy, seed, seconds, finished, metrics (a dict)."""
        columns = ("id", "size", "strategy", "seed", "metrics", "seconds", "finished")
        rows = []
        for values in self._db.execute(f"SELECT {', '.join(columns)} FROM trials ORDER BY finished, id"):
            row = dict(zip(columns, values))
            row["size"] = "all" if row["size"] == "all" else int(row["size"])
            row["metrics"] = json.loads(row["metrics"])
            rows.append(row)
        return rows

    def set_meta(self, key: str, value: Any) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO study VALUES (?, ?)", (key, json.dumps(value)))

    def meta(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM study WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback) -> None:
        self._db.execute("ROLLBACK" if kind else "COMMIT")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")

