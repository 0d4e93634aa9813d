"""The session store of `veclift annotate`: one SQLite file (WAL mode) holding the sentences to
annotate and every answer given, so that closing the browser, killing the server or a power cut
loses at most the answer being typed, and a restart resumes where the last one stopped.

Tables: ``meta`` (key -> JSON value: the format, the labels, the input's name and fingerprint),
``items`` (one row per sentence, in input order: ``text``, each token's character ``offsets`` and
the ``spans`` the input itself tagged) and ``answers`` (one row per item, its id the primary key:
``decision`` accept / reject / skip, the token ``spans`` of an accepted sentence, ``seq`` the order
of answering, the ``client`` (browser tab) that gave it and the time). Each answer is one
``BEGIN IMMEDIATE ... COMMIT`` transaction. Two answers to one item (two tabs, two servers) never
make two rows: the later answer replaces the earlier one (and moves to the end of the answer
order). Spans are ``(label, token_start, token_end)``, end exclusive, throughout.

`AnnotationSession.export` writes the accepted sentences (rejected and skipped ones are left out)
as CoNLL (IOB2) or JSONL (``{"tokens", "tags"}``), the files `veclift train` and `veclift study` read.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veclift.data.schemes import Span, tags_from_spans
from veclift.data.tagged import TaggedSentence, write_conll, write_tagged_jsonl
from veclift.errors import VecliftError

FORMAT = "veclift-annotate-1"
DECISIONS = ("accept", "reject", "skip")
EXPORT_FORMATS = ("conll", "jsonl")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY, text TEXT NOT NULL, offsets TEXT NOT NULL, spans TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    item_id INTEGER PRIMARY KEY REFERENCES items (id),
    decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject', 'skip')),
    spans TEXT NOT NULL, seq INTEGER NOT NULL UNIQUE, client TEXT, answered TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Sentence:
    """A sentence to annotate: its text, each token's ``(start, end)`` in it, and the spans the input
    tagged (``(label, token_start, token_end)``)."""

    text: str
    offsets: tuple[tuple[int, int], ...]
    spans: tuple[Span, ...] = ()

    @property
    def tokens(self) -> list[str]:
        return [self.text[start:end] for start, end in self.offsets]


@dataclass(frozen=True)
class Item(Sentence):
    """A stored sentence: `Sentence` with its id (1, 2, ... in input order)."""

    id: int = 0


@dataclass(frozen=True)
class Answer:
    """A stored answer: the item, the decision, the token spans (accepted items) and its place in
    the answer order."""

    item_id: int
    decision: str
    spans: tuple[Span, ...]
    seq: int
    client: str | None


def fingerprint(sentences: Sequence[Sentence]) -> str:
    """A digest of the sentences' texts and tokens (not their spans), telling one input from another."""
    digest = hashlib.sha256()
    for sentence in sentences:
        digest.update(json.dumps([sentence.text, sentence.offsets]).encode("utf-8"))
    return digest.hexdigest()


class AnnotationSession:
    """The session file at ``path``, created when missing; an existing file must be a session (a
    one-line error otherwise). Safe to share between threads (one connection behind a lock) and
    between processes (SQLite's locking; each answer one transaction)."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        existed = self.path.exists()
        if not existed and not create:
            raise VecliftError("no such annotation session", self.path)
        if existed and not self.path.is_file():
            raise VecliftError("the session must be a file (FILE.sqlite), not a folder", self.path)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            if existed:
                self._check_format()
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise VecliftError(f"SQLite refused WAL mode (got {mode}); put the session on a local disk", self.path)
            self._db.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the answer is confirmed
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._transaction():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (json.dumps(FORMAT),))
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise VecliftError(f"cannot open the annotation session: {exc}", self.path) from None
        except BaseException:
            self._close_quietly()
            raise
        self._answered: set[int] | None = None
        self._version: int | None = None

    def _check_format(self) -> None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            found = None if row is None else json.loads(row[0])
        except (sqlite3.DatabaseError, ValueError, TypeError):
            found = None
        if found != FORMAT:
            raise VecliftError("not a veclift annotation session (a file veclift did not write)", self.path)

    def _close_quietly(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE ... COMMIT`` (rolled back on any error), under the lock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AnnotationSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- meta -----------------------------------------------------------------------------------
    def meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    @property
    def labels(self) -> list[str]:
        return list(self.meta("labels", []))

    # --- items ----------------------------------------------------------------------------------
    def start(self, sentences: Sequence[Sentence] | None, labels: Sequence[str] | None, source: str | None) -> None:
        """Store ``sentences`` (read from ``source``) and ``labels`` at the first start. Later starts
        resume: ``sentences`` (None: those stored) must be the stored ones, and ``labels`` (None: the
        stored ones) must keep every label an answer uses; a one-line error otherwise."""
        with self._transaction() as db:
            stored = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            if not stored:
                if not sentences:
                    raise VecliftError("the session holds no sentences yet: give the INPUT to annotate", self.path)
                if not labels:
                    raise VecliftError("give the labels to annotate with --labels A,B", self.path)
                db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", [
                    (number, s.text, json.dumps(s.offsets), json.dumps(s.spans)) for number, s in enumerate(sentences, 1)
                ])  # fmt: skip
                for key, value in (("labels", list(labels)), ("input", source), ("fingerprint", fingerprint(sentences))):
                    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
                return
            if sentences is not None and fingerprint(sentences) != self._meta_in(db, "fingerprint"):
                raise VecliftError(
                    f"this session annotates other sentences ({stored} read from {self._meta_in(db, 'input')}, not the "
                    f"{len(sentences)} of {source}): give that input again, leave INPUT out to resume, or choose a new "
                    "--session", self.path)  # fmt: skip
            if labels is not None and list(labels) != self._meta_in(db, "labels"):
                used = {label for (spans,) in db.execute("SELECT spans FROM answers") for label, _, _ in json.loads(spans)}
                missing = sorted(used - set(labels))
                if missing:
                    raise VecliftError(f"answers of this session use the label(s) {', '.join(missing)}: keep them in "
                                       "--labels", self.path)  # fmt: skip
                db.execute("INSERT OR REPLACE INTO meta VALUES ('labels', ?)", (json.dumps(list(labels)),))

    @staticmethod
    def _meta_in(db: sqlite3.Connection, key: str) -> Any:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def items(self) -> list[Item]:
        """Every stored sentence, in input order."""
        with self._lock:
            rows = self._db.execute("SELECT id, text, offsets, spans FROM items ORDER BY id").fetchall()
        return [_item(row) for row in rows]

    def item(self, item_id: int) -> Item | None:
        with self._lock:
            row = self._db.execute("SELECT id, text, offsets, spans FROM items WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else _item(row)

    # --- answers --------------------------------------------------------------------------------
    def answer(self, item_id: int, decision: str, spans: Sequence[Span] = (), client: str | None = None) -> bool:
        """Store the answer to item ``item_id`` in one transaction; True when it replaced an earlier
        answer to that item. ``spans`` (accepted items only) must use the session's labels, lie
        inside the sentence and not overlap."""
        if decision not in DECISIONS:
            raise VecliftError(f"unknown decision {decision!r}: choose {', '.join(DECISIONS)}")
        with self._transaction() as db:
            row = db.execute("SELECT offsets FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise VecliftError(f"no item {item_id} in this session")
            spans = check_spans(spans, len(json.loads(row[0])), self._meta_in(db, "labels")) if decision == "accept" else ()
            replaced = db.execute("SELECT 1 FROM answers WHERE item_id = ?", (item_id,)).fetchone() is not None
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM answers").fetchone()[0]
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET decision = "
                "excluded.decision, spans = excluded.spans, seq = excluded.seq, client = excluded.client, "
                "answered = excluded.answered",
                (item_id, decision, json.dumps(spans), seq, client, _now()),
            )  # fmt: skip
            if self._answered is not None:
                self._answered.add(item_id)
        return replaced

    def undo(self, item_id: int | None = None, client: str | None = None) -> Answer | None:
        """Remove the answer to ``item_id`` (by default the last answer ``client`` gave, or the last of
        all without a client) and return it; None when there is none. The item is unanswered again."""
        with self._transaction() as db:
            query = "SELECT item_id, decision, spans, seq, client FROM answers"
            if item_id is not None:
                row = db.execute(f"{query} WHERE item_id = ?", (item_id,)).fetchone()
            elif client is not None:
                row = db.execute(f"{query} WHERE client = ? ORDER BY seq DESC LIMIT 1", (client,)).fetchone()
            else:
                row = db.execute(f"{query} ORDER BY seq DESC LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM answers WHERE item_id = ?", (row[0],))
            if self._answered is not None:
                self._answered.discard(row[0])
        return _answer(row)

    def answers(self) -> list[Answer]:
        """Every answer, in the order given."""
        with self._lock:
            rows = self._db.execute("SELECT item_id, decision, spans, seq, client FROM answers ORDER BY seq").fetchall()
        return [_answer(row) for row in rows]

    def get_answer(self, item_id: int) -> Answer | None:
        with self._lock:
            row = self._db.execute("SELECT item_id, decision, spans, seq, client FROM answers WHERE item_id = ?",
                                   (item_id,)).fetchone()  # fmt: skip
        return None if row is None else _answer(row)

    def answered(self) -> set[int]:
        """Ids of the answered items: kept in memory, read again when another connection (another
        server on this session) has committed since."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if self._answered is None or version != self._version:
                self._answered = {row[0] for row in self._db.execute("SELECT item_id FROM answers")}
                self._version = version
            return set(self._answered)

    def progress(self) -> dict[str, Any]:
        """``total``, ``done``, ``left``, the count of each decision, and ``labels``: the entities of each
        label in the accepted sentences (every session label, 0 when unused)."""
        with self._lock:
            total = self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            decisions = dict(self._db.execute("SELECT decision, COUNT(*) FROM answers GROUP BY decision").fetchall())
            accepted = [json.loads(s) for (s,) in self._db.execute("SELECT spans FROM answers WHERE decision = 'accept'")]
        counts = Counter(label for spans in accepted for label, _, _ in spans)
        done = sum(decisions.values())
        return {"total": total, "done": done, "left": total - done, "accepted": decisions.get("accept", 0),
                "rejected": decisions.get("reject", 0), "skipped": decisions.get("skip", 0),
                "labels": {label: counts.get(label, 0) for label in self.labels}}  # fmt: skip

    # --- export ---------------------------------------------------------------------------------
    def accepted(self) -> list[TaggedSentence]:
        """The accepted sentences with their IOB2 tags, in the order answered."""
        with self._lock:
            rows = self._db.execute(
                "SELECT items.text, items.offsets, answers.spans FROM answers JOIN items ON items.id = answers.item_id "
                "WHERE answers.decision = 'accept' ORDER BY answers.seq").fetchall()  # fmt: skip
        sentences = []
        for text, offsets, spans in rows:
            tokens = [text[start:end] for start, end in json.loads(offsets)]
            sentences.append(TaggedSentence(tokens, tags_from_spans([tuple(s) for s in json.loads(spans)], len(tokens))))
        return sentences

    def export(self, output: str | Path, format: str | None = None, *, overwrite: bool = False) -> int:
        """Write the accepted sentences to ``output`` (atomically) as ``format`` (conll or jsonl; by
        default told by the suffix: .jsonl/.json/.ndjson is jsonl, anything else conll) and return
        how many; none accepted yet is a one-line error."""
        from veclift.data.textfile import JSONL_SUFFIXES

        output = Path(output)
        format = format or ("jsonl" if output.suffix.lower() in JSONL_SUFFIXES else "conll")
        if format not in EXPORT_FORMATS:
            raise VecliftError(f"unknown export format {format!r}: choose {' or '.join(EXPORT_FORMATS)}")
        sentences = self.accepted()
        if not sentences:
            raise VecliftError("no accepted sentence to export yet", self.path)
        (write_conll if format == "conll" else write_tagged_jsonl)(sentences, output, overwrite=overwrite)
        return len(sentences)


def check_spans(spans: Sequence[Span], length: int, labels: Sequence[str]) -> list[Span]:
    """``spans`` as sorted ``(label, start, end)`` token spans, each with one of ``labels``, inside a
    sentence of ``length`` tokens and overlapping no other; a one-line `VecliftError` otherwise."""
    checked = []
    for span in spans:
        if not isinstance(span, (tuple, list)) or len(span) != 3:
            raise VecliftError(f"a span is (label, token_start, token_end), not {span!r}")
        label, start, end = span
        if label not in labels:
            raise VecliftError(f"unknown label {label!r}: this session's labels are {', '.join(labels)}")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= length):
            raise VecliftError(f"span {start}-{end} ({label}) is not inside the sentence's {length} tokens")
        checked.append((label, start, end))
    checked.sort(key=lambda s: s[1])
    for before, after in zip(checked, checked[1:]):
        if after[1] < before[2]:
            raise VecliftError(f"the spans {before[1]}-{before[2]} ({before[0]}) and {after[1]}-{after[2]} ({after[0]}) overlap")
    return checked


def _item(row: tuple) -> Item:
    number, text, offsets, spans = row
    return Item(text, tuple(tuple(o) for o in json.loads(offsets)), tuple(tuple(s) for s in json.loads(spans)), number)


def _answer(row: tuple) -> Answer:
    item_id, decision, spans, seq, client = row
    return Answer(item_id, decision, tuple(tuple(s) for s in json.loads(spans)), seq, client)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
