"""The model in the loop of `veclift annotate --update-every N`: every N answers, a tagger is trained
on the accepted sentences in a background process (``python -m veclift train ner``) and, when that
process succeeds, it replaces the model that pre-labels and orders the queue.

Dev data: ``--dev FILE`` when given, else every 5th accepted sentence (in answer order) is held out
of training and scored; the page shows the last dev F1. The new model is written to one folder
(``SESSION.model`` beside the session file, replaced by each round), so it can be given to
`veclift annotate --model`, `veclift predict` or `veclift serve` afterwards.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from veclift.atomic import check_output
from veclift.data.tagged import write_conll
from veclift.serve.annotate_queue import AnnotationQueue
from veclift.serve.limits import one_line

log = logging.getLogger("veclift.annotate")
DEV_EVERY = 5
MIN_TRAIN = 1


def model_folder(session_path: str | Path) -> Path:
    """Where the retrained model of a session goes: ``SESSION.model`` beside the session file."""
    path = Path(session_path)
    return path.with_name(path.stem + ".model")


class Retrainer:
    """Retrains after every ``every`` answers (at most one round at a time; answers given during a
    round count towards the next): ``embeddings`` and ``vectors`` (a source name or path; None for
    scratch) as `veclift train ner` takes them, ``dev`` a dev file or None (hold-out, see the module
    docstring). ``load``: loads a model directory (`veclift.tasks.onnx_model.load_predictor`).
    ``extra``: more `veclift train ner` options (``["--epochs", "5"]``)."""

    def __init__(self, queue: AnnotationQueue, *, every: int, embeddings: str, vectors: str | None,
                 load: Callable[[Path], Any], dev: str | Path | None = None, extra: list[str] | None = None):  # fmt: skip
        if every < 1:
            raise ValueError("every must be at least 1")
        self.queue = queue
        self.every = every
        self.embeddings = embeddings
        self.vectors = vectors
        self.dev = None if dev is None else Path(dev)
        self.extra = list(extra or [])
        self.load = load
        self.output = model_folder(queue.session.path)
        check_output(self.output, overwrite=True, directory=True)  # never a folder veclift did not write
        self._lock = threading.Lock()
        self._since = 0
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen | None = None
        self._closed = False
        self.rounds = 0
        self.dev_score: float | None = queue.session.meta("dev_score")
        self.trained_on: int | None = queue.session.meta("trained_on")
        self.error: str | None = None

    def answered(self) -> None:
        """Count one answer; start a round when ``every`` have come since the last one started and
        there is data to train and score on."""
        with self._lock:
            self._since += 1
            if self._since < self.every or self._closed or (self._thread is not None and self._thread.is_alive()):
                return
            train, dev = self.split()
            if len(train) < MIN_TRAIN or (self.dev is None and not dev):
                return
            self._since = 0
            self._thread = threading.Thread(target=self._round, args=(train, dev), name="veclift-retrain", daemon=True)
            self._thread.start()

    def split(self) -> tuple[list, list]:
        """(train, dev) sentences: every `DEV_EVERY`-th accepted sentence is dev unless ``dev`` is given."""
        accepted = self.queue.session.accepted()
        if self.dev is not None:
            return accepted, []
        dev = accepted[DEV_EVERY - 1 :: DEV_EVERY]
        return [s for number, s in enumerate(accepted, 1) if number % DEV_EVERY], dev

    def status(self) -> dict[str, Any]:
        """``training`` (a round is running), ``rounds`` done, the last ``dev_score`` (F1, 0..1) and the
        number of sentences ``trained_on``, the last ``error`` (one line) and the ``model`` in use."""
        return {"training": self._thread is not None and self._thread.is_alive(), "rounds": self.rounds,
                "dev_score": self.dev_score, "trained_on": self.trained_on, "error": self.error,
                "every": self.every}  # fmt: skip

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running round; True when none is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def close(self) -> None:
        """Stop: end a running training process and wait for its round to finish."""
        with self._lock:
            self._closed = True
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()  # veclift removes its temporary files on SIGTERM
        self.wait(60)

    def command(self, train: Path, dev: Path) -> list[str]:
        """The `veclift train ner` command line of one round."""
        vectors = ["--vectors", str(self.vectors)] if self.vectors else []
        return [sys.executable, "-m", "veclift", "train", "ner", "--train", str(train), "--dev", str(dev),
                "--embeddings", self.embeddings, *vectors, "--output", str(self.output), "--overwrite", "--quiet",
                "--json", *self.extra]  # fmt: skip

    def _round(self, train: list, dev: list) -> None:
        started = time.perf_counter()
        folder = Path(tempfile.mkdtemp(prefix="veclift-annotate-"))
        try:
            write_conll(train, folder / "train.conll")
            dev_path = self.dev if self.dev is not None else folder / "dev.conll"
            if self.dev is None:
                write_conll(dev, dev_path)
            with open(folder / "stderr.txt", "wb") as stderr, self._lock:
                if self._closed:
                    return
                self._process = subprocess.Popen(self.command(folder / "train.conll", dev_path), stdout=subprocess.PIPE,
                                                 stderr=stderr, stdin=subprocess.DEVNULL)  # fmt: skip
            stdout, _ = self._process.communicate()
            if self._process.returncode != 0:
                lines = (folder / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()
                last = lines[-1].removeprefix("error: ") if lines else f"training exited with code {self._process.returncode}"
                self.error = one_line(last)
                log.warning("retraining failed: %s", self.error)
                return
            summary = json.loads(stdout.decode("utf-8").strip().splitlines()[-1])
            self.queue.set_model(self.load(self.output), str(self.output))
            self.rounds += 1
            self.dev_score, self.trained_on, self.error = summary.get("dev_score"), len(train), None
            self.queue.session.set_meta("dev_score", self.dev_score)
            self.queue.session.set_meta("trained_on", self.trained_on)
            log.warning("retrained on %d sentences in %.1f s: dev F1 %s; the queue is ordered by the new model (%s)",
                        len(train), time.perf_counter() - started, self.dev_score, self.output)  # fmt: skip
        except Exception as exc:  # a round that fails leaves the current model in place, and says why
            self.error = one_line(f"{type(exc).__name__}: {exc}")
            log.warning("retraining failed: %s", self.error)
        finally:
            self._process = None
            shutil.rmtree(folder, ignore_errors=True)
