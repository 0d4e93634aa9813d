"""Trial functions for the study tests: fast, deterministic stand-ins for model training.

They live in a module (not a test file) because trial processes import them by name.
Each call appends the trial id to ``calls.log`` beside the training file (trial processes fork
from a long-lived fork server, so they do not see environment changes made by a test).
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

from veclift.study.results import StudyResults
from veclift.study.spec import StudySpec, Trial
from veclift.study.trial import split, training_set

STARTED = "started.fifo"
GAIN = {"scratch": 0.0, "frozen": 0.15, "finetune": 0.2}


def write_conll(path: Path, sentences: int, seed: int) -> Path:
    """A tiny CoNLL file: one-entity sentences over a few names."""
    rng = random.Random(seed)
    names = ["Alice", "Bob", "Paris", "Berlin", "Apple", "Orange", "Carol", "Rome"]
    lines = []
    for _ in range(sentences):
        lines += [f"{rng.choice(names)} B-PER", "went O", "home O", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def calls(train: Path) -> list[str]:
    """Trial ids run so far, in order, for the study whose training file is ``train``."""
    log = train.parent / "calls.log"
    return log.read_text().split() if log.exists() else []


def _log(spec: StudySpec, trial: Trial) -> None:
    with open(spec.train.parent / "calls.log", "a") as handle:
        handle.write(trial.id + "\n")


def fake_scores(spec: StudySpec, trial: Trial) -> dict:
    """Scores that rise with training size, where pre-trained strategies help less as data grows."""
    _log(spec, trial)
    pool, _, _ = split(spec)
    n = len(training_set(spec, pool, trial))
    base = min(0.9, 0.3 + 0.01 * n)
    gain = GAIN.get(trial.strategy, 0.05) * (1 - n / len(pool))
    score = min(1.0, base + gain + 0.01 * trial.seed)
    return {
        "f1": score,
        "accuracy": score,
        "train_size": n,
        "transfer": {"known": {"f1": score * 0.9}, "unknown": {"f1": score * 0.5 if trial.strategy != "scratch" else score * 0.4}},
        "train_seconds": 0.5,
        "pid": os.getpid(),
    }


def hang_on_all(spec: StudySpec, trial: Trial) -> dict:
    """``fake_scores``, except that a trial on all the training data announces itself on the FIFO
    ``started.fifo`` beside the training file (one line, "<trial id> <pid>") and waits to be stopped."""
    if trial.size != "all":
        return fake_scores(spec, trial)
    with open(spec.train.parent / STARTED, "w") as fifo:
        fifo.write(f"{trial.id} {os.getpid()}\n")
    while True:
        signal.pause()


def fail_on_seed_1(spec: StudySpec, trial: Trial) -> dict:
    if trial.seed == 1:
        raise RuntimeError(f"boom in {trial.id}")
    return fake_scores(spec, trial)


def die_on_frozen(spec: StudySpec, trial: Trial) -> dict:
    if trial.strategy == "frozen":
        os._exit(9)
    return fake_scores(spec, trial)


def fake_results(spec: StudySpec, command: str = "veclift study ner ...") -> StudyResults:
    """The results ``fake_scores`` gives for every trial of ``spec``, without running processes."""
    rows = [
        {"id": t.id, "size": t.size, "strategy": t.strategy, "seed": t.seed, "seconds": 1.0, "finished": "",
         "metrics": fake_scores(spec, t)}
        for t in spec.trials()
    ]
    return StudyResults(spec, rows, {}, command)
