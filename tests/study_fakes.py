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


def outcome_results(spec: StudySpec, right, known=lambda text: True) -> StudyResults:
    """Results whose every score follows from per-sentence outcomes: ``right(trial, i)`` says
    whether test sentence ``i``'s one entity is tagged right (a wrong one is predicted with another
    type, so each sentence counts one predicted and one gold entity); entities whose words are not
    in the trial's training set are the unseen ones, ``known(text)`` saying whether the vectors have them."""
    pool, _, test = split(spec)
    rows = []
    for t in spec.trials():
        train = training_set(spec, pool, t)
        vocab = {token for item in train for token in item.tokens}
        counts, unseen = [], []
        for i, item in enumerate(test):
            (kind, start, end), = item.entities()
            ok = int(bool(right(t, i)))
            counts.append([ok, 1, 1])
            text = " ".join(item.tokens[start:end])
            if not set(item.tokens[start:end]) & vocab:
                unseen.append([i, start, text, kind, ok, int(known(text))])
        f1 = sum(c for c, _, _ in counts) / len(counts)
        groups = {}
        for name, members in (("known", [u for u in unseen if u[5]]), ("unknown", [u for u in unseen if not u[5]])):
            groups[name] = {"f1": sum(u[4] for u in members) / len(members) if members else None, "gold": len(members)}
        metrics = {"f1": f1, "train_size": len(train), "transfer": groups, "train_seconds": 0.5, "oov_seconds": 0.0,
                   "outcomes": {"sentences": counts, "unseen": unseen}}
        rows.append({"id": t.id, "size": t.size, "strategy": t.strategy, "seed": t.seed, "seconds": 1.0, "finished": "",
                     "metrics": metrics})
    return StudyResults(spec, rows, {}, "veclift study ner ...")


def write_entities(path: Path, entities: list[tuple[str, str]]) -> Path:
    """A CoNLL file of one sentence per ``(word, type)``: "saw WORD today"."""
    lines = []
    for word, kind in entities:
        lines += ["saw O", f"{word} B-{kind}", "today O", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


FOOD = ["orange", "banana", "cherry", "grape", "melon"]
PLACES = ["paris", "london", "rome"]
# Test sentence 0 apple: frozen right in every seed, scratch in none; 1 vienna: scratch right in
# seeds 0 and 1, frozen only in seed 2; 2 kiwi: both right in seed 0 only (no majority: not listed);
# 3 orange: seen in training, never in the table.
WORD_RIGHT = {(0, "frozen"): {0, 1, 2}, (1, "scratch"): {0, 1}, (1, "frozen"): {2}, (2, "scratch"): {0},
              (2, "frozen"): {0}, (3, "frozen"): {0, 1, 2}}


def word_right(trial: Trial, i: int) -> bool:
    """``right`` for `outcome_results` on `word_study_spec`, as WORD_RIGHT says."""
    return trial.seed in WORD_RIGHT.get((i, trial.strategy), set())


def word_study_spec(folder: Path) -> StudySpec:
    """Training entities orange, banana... (FOOD), paris, london, rome (LOC); test entities apple
    (its vector next to orange's), vienna (next to paris), kiwi (next to grape), all unseen in
    training, and orange; tiny lower-cased vectors saved in ``folder / "vectors"``."""
    import numpy as np

    from veclift.vectors import Vectors

    train = write_entities(folder / "train.conll", [(w, "FOOD") for w in FOOD] + [(w, "LOC") for w in PLACES])
    test = write_entities(folder / "test.conll", [("apple", "FOOD"), ("vienna", "LOC"), ("kiwi", "FOOD"), ("orange", "FOOD")])
    rng = np.random.default_rng(0)
    words = FOOD + PLACES + ["apple", "vienna", "kiwi", "saw", "today"]
    rows = {w: rng.normal(0, 1, 8) for w in words}
    for word, near in (("apple", "orange"), ("vienna", "paris"), ("kiwi", "grape")):
        rows[word] = rows[near] + rng.normal(0, 0.05, 8)
    Vectors(words, np.asarray([rows[w] for w in words], np.float32), meta={"lowercase": True}).save(folder / "vectors")
    return StudySpec("ner", train, test=test, vectors=str(folder / "vectors"), sizes=["all"],
                     strategies=["scratch", "frozen"], seeds=3)
