"""Intrinsic evaluation: word similarity (Spearman) and analogy accuracy (per section, batched).

Conventions follow the usual evaluation scripts (and gensim's ``evaluate_word_analogies``):
cosine similarity, words lower-cased when the vectors are; analogy questions are kept only when
all four words are among the first ``restrict_vocab`` rows, and answers are searched there, with
a, b and c excluded.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from veclift.data.textfile import read_text, text_lines
from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.query import analogy_scorer, top_k_chunked

_QUESTION_BATCH = 1024


def shared_data_dir() -> Path:
    """``$VECLIFT_DATA``, else ``../shared/data`` beside the project checkout."""
    return Path(os.environ.get("VECLIFT_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data")


def default_similarity_files() -> list[Path]:
    return sorted((shared_data_dir() / "wordsim").glob("*.txt"))


def default_analogy_file() -> Path | None:
    path = shared_data_dir() / "analogy" / "questions-words.txt"
    return path if path.is_file() else None


@dataclass
class SimilarityResult:
    """Spearman correlation over ``pairs`` evaluated pairs; ``oov`` pairs had an unknown word
    (skipped, or filled by the OOV chain when ``filled`` > 0)."""

    name: str
    spearman: float
    pairs: int
    oov: int
    total: int
    filled: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AnalogyResult:
    """Accuracy over the ``questions`` evaluated (all words within ``restrict``), total and per section."""

    accuracy: float
    correct: int
    questions: int
    skipped: int
    method: str
    restrict: int | None
    sections: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def read_similarity_pairs(path: str | os.PathLike) -> list[tuple[str, str, float]]:
    """``word1 word2 score`` per line, tab or space separated; blank and ``#`` lines are skipped."""
    path = Path(path)
    pairs = []
    for number, line in enumerate(text_lines(read_text(path)), 1):
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f.strip() for f in fields if f.strip()]
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) < 3:
            raise VecliftError(f"expected 'word1 word2 score', got {line.strip()!r}", path, number)
        try:
            score = float(fields[2])
        except ValueError:
            raise VecliftError(f"score {fields[2]!r} is not a number", path, number) from None
        pairs.append((fields[0], fields[1], score))
    if not pairs:
        raise VecliftError("no word pairs found", path)
    return pairs


def evaluate_similarity(
    vectors: Vectors, path: str | os.PathLike, *, lowercase: bool | None = None, fill_oov: bool = False
) -> SimilarityResult:
    """Spearman correlation of cosine similarity with the human scores of one word-pair file.

    Pairs with an unknown word are skipped and counted, or, with ``fill_oov``, given the vectors
    of the OOV chain (pairs it cannot recover are still skipped). ``lowercase`` defaults to the
    vectors' own case (lower-cased vectors get lower-cased words).
    """
    path = Path(path)
    if lowercase is None:
        lowercase = vectors.lowercase
    index = vectors.index
    gold, predicted, oov, filled = [], [], 0, 0
    pairs = read_similarity_pairs(path)
    for w1, w2, score in pairs:
        if lowercase:
            w1, w2 = w1.lower(), w2.lower()
        if w1 in index and w2 in index:
            sim = float(vectors.unit_rows(index[w1]) @ vectors.unit_rows(index[w2]))
        else:
            oov += 1
            if not (fill_oov and vectors.oov is not None):
                continue
            try:
                sim = vectors.similarity(w1, w2)
            except KeyError:
                continue
            filled += 1
        gold.append(score)
        predicted.append(sim)
    rho = float(spearmanr(gold, predicted).statistic) if len(gold) > 1 else float("nan")
    return SimilarityResult(path.stem, rho, len(gold), oov, len(pairs), filled)


def read_analogy_questions(path: str | os.PathLike) -> list[tuple[str, str, str, str, str]]:
    """Google format: ``: section`` headers, then ``a b c d`` per line -> (section, a, b, c, d)."""
    path = Path(path)
    questions, section = [], ""
    for number, line in enumerate(text_lines(read_text(path)), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        words = line.split()
        if len(words) != 4:
            raise VecliftError(f"expected 4 words 'a b c d', got {len(words)}", path, number)
        questions.append((section, *words))
    if not questions:
        raise VecliftError("no analogy questions found", path)
    return questions


def evaluate_analogy(
    vectors: Vectors,
    path: str | os.PathLike,
    *,
    restrict_vocab: int | None = 30000,
    method: str = "3cosadd",
    lowercase: bool | None = None,
) -> AnalogyResult:
    """Accuracy of the top answer (a, b, c excluded), batched over questions and vocabulary chunks."""
    questions = read_analogy_questions(path)
    if lowercase is None:
        lowercase = vectors.lowercase
    limit = len(vectors) if restrict_vocab is None else min(int(restrict_vocab), len(vectors))
    index = vectors.index
    kept_sections, rows = [], []
    for section, *words in questions:
        ids = [index.get(w.lower() if lowercase else w) for w in words]
        if all(i is not None and i < limit for i in ids):
            kept_sections.append(section)
            rows.append(ids)
    rows_arr = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    correct = np.zeros(len(rows_arr), dtype=bool)
    for start in range(0, len(rows_arr), _QUESTION_BATCH):
        batch = rows_arr[start : start + _QUESTION_BATCH]
        a, b, c = (vectors.unit_rows(batch[:, j]) for j in range(3))
        scorer = analogy_scorer(vectors, a, b, c, method.lower())
        best, _ = top_k_chunked(scorer, len(batch), limit, 1, batch[:, :3].tolist())
        correct[start : start + len(batch)] = best[:, 0] == batch[:, 3]
    sections: dict[str, dict] = {}
    for section, ok in zip(kept_sections, correct):
        entry = sections.setdefault(section, {"correct": 0, "questions": 0})
        entry["correct"] += int(ok)
        entry["questions"] += 1
    for entry in sections.values():
        entry["accuracy"] = entry["correct"] / entry["questions"]
    n = len(rows_arr)
    return AnalogyResult(
        accuracy=float(correct.mean()) if n else float("nan"),
        correct=int(correct.sum()),
        questions=n,
        skipped=len(questions) - n,
        method=method.lower(),
        restrict=restrict_vocab,
        sections=sections,
    )
