"""Transfer studies: the grid of training sizes x embedding strategies x seeds, run resumably,
one process per trial, reported as tables, learning curves and a self-contained HTML report."""

from veclift.study.executors import LocalExecutor, RayExecutor, TrialOutcome
from veclift.study.results import StudyResults
from veclift.study.runner import TransferStudy
from veclift.study.spec import StudySpec, Trial, load_spec
from veclift.study.store import ResultStore

__all__ = [
    "LocalExecutor",
    "RayExecutor",
    "ResultStore",
    "StudyResults",
    "StudySpec",
    "Trial",
    "TransferStudy",
    "TrialOutcome",
    "load_spec",
]
