"""Trial functions for the study tests: fast, deterministic stand-ins for model training.

They live in a module (not a test file) because trial processes import them by name.
Each call appends the trial id to the file named by $VECLIFT_TEST_TRIAL_LOG.
"""

from __future__ import annotations

import os
import time

from veclift.study.spec import StudySpec, Trial
from veclift.study.trial import split, training_set

GAIN = {"scratch": 0.0, "frozen": 0.15, "finetune": 0.2}


def _log(trial: Trial) -> None:
    with open(os.environ["VECLIFT_TEST_TRIAL_LOG"], "a") as handle:
        handle.write(trial.id + "\n")


def fake_scores(spec: StudySpec, trial: Trial) -> dict:
    """Scores that rise with training size, where pre-trained strategies help less as data grows."""
    _log(trial)
    pool, _, _ = split(spec)
    n = len(training_set(spec, pool, trial))
    base = min(0.9, 0.3 + 0.01 * n)
    gain = GAIN.get(trial.strategy, 0.05) * (1 - n / len(pool))
    score = min(1.0, base + gain + 0.01 * trial.seed)
    return {
        "f1": score,
        "accuracy": score,
        "n_train": n,
        "transfer": {"known": {"f1": score * 0.9}, "unknown": {"f1": score * 0.5 if trial.strategy != "scratch" else score * 0.4}},
        "train_seconds": 0.5,
    }


def slow_scores(spec: StudySpec, trial: Trial) -> dict:
    time.sleep(float(os.environ.get("VECLIFT_TEST_TRIAL_SLEEP", "0.3")))
    return fake_scores(spec, trial)


def fail_on_seed_1(spec: StudySpec, trial: Trial) -> dict:
    if trial.seed == 1:
        raise RuntimeError(f"boom in {trial.id}")
    return fake_scores(spec, trial)


def die_on_frozen(spec: StudySpec, trial: Trial) -> dict:
    if trial.strategy == "frozen":
        os._exit(9)
    return fake_scores(spec, trial)
