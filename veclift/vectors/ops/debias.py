"""Gender (or any binary) bias in word vectors: measure it, and remove it by hard debiasing.

Follows Bolukbasi et al. 2016 ("Man is to computer programmer as woman is to homemaker?"):
the bias direction is the first principal component of the definitional pairs' differences,
the direct bias is the mean |cos(w, g)| over neutral words, hard debiasing neutralises every
word outside the gender-specific list and equalises the equalise pairs. WEAT (Caliskan et
al. 2017) gives an effect size and a permutation-test p-value. Word lists shipped with the
package live in ``veclift/resources/debias`` (see its README for their sources).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from veclift.data.textfile import read_text
from veclift.errors import VecliftError
from veclift.vectors.core import Vectors
from veclift.vectors.normalize import normalize_rows
from veclift.vectors.wordlists import Pair, read_word_pairs

DEFAULT_PERMUTATIONS = 10000


# --- word lists -----------------------------------------------------------------------------
def _resource(name: str):
    return json.loads((resources.files("veclift") / "resources" / "debias" / name).read_text(encoding="utf-8"))


def default_definitional_pairs() -> list[Pair]:
    return [tuple(p) for p in _resource("definitional_pairs.json")]


def default_equalize_pairs() -> list[Pair]:
    return [tuple(p) for p in _resource("equalize_pairs.json")]


def default_specific_words() -> list[str]:
    return list(_resource("gender_specific.json"))


def default_neutral_words() -> list[str]:
    """Occupation words (Bolukbasi et al.'s list) without the gender-specific ones."""
    specific = set(default_specific_words())
    return [w for w in _resource("professions.json") if w not in specific]


@dataclass(frozen=True)
class WeatTest:
    name: str
    targets: dict[str, list[str]]
    attributes: dict[str, list[str]]


def default_weat_tests() -> list[WeatTest]:
    return [_weat_from_json(t, Path("weat.json"), i) for i, t in enumerate(_resource("weat.json"))]


def _weat_from_json(obj, path: Path, number: int) -> WeatTest:
    try:
        targets, attributes = obj["targets"], obj["attributes"]
        if len(targets) != 2 or len(attributes) != 2:
            raise ValueError
        test = WeatTest(
            str(obj.get("name", f"test {number + 1}")),
            {str(k): [str(w) for w in v] for k, v in targets.items()},
            {str(k): [str(w) for w in v] for k, v in attributes.items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise VecliftError(
            f"WEAT test {number + 1} must be an object with 'targets' and 'attributes', each two named word lists",
            path,
        ) from None
    if not all(test.targets.values()) or not all(test.attributes.values()):
        raise VecliftError(f"WEAT test {test.name!r} has an empty word list", path)
    return test


def read_weat_tests(path: str | Path) -> list[WeatTest]:
    """A JSON file: one test or a list of tests ``{"name", "targets": {X: [...], Y: [...]}, "attributes": {A: [...], B: [...]}}``."""
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except (ValueError, RecursionError) as exc:
        raise VecliftError(f"not valid JSON: {getattr(exc, 'msg', exc)}", path, getattr(exc, "lineno", None)) from None
    tests = data if isinstance(data, list) else [data]
    if not tests:
        raise VecliftError("the WEAT file holds no test", path)
    return [_weat_from_json(t, path, i) for i, t in enumerate(tests)]


def read_pairs(path: str | Path) -> list[Pair]:
    """Word pairs: a JSON list of two-word lists, or text with two words per line."""
    return read_word_pairs(path, json_list=True)


def resolve_word(vectors: Vectors, word: str) -> str | None:
    """The word as the vectors know it: itself, else its lower-cased form (for lower-cased vectors), else None."""
    if word in vectors.index:
        return word
    lower = word.lower()
    return lower if lower in vectors.index else None


# --- measures -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BiasDirection:
    vector: np.ndarray
    explained_variance: list[float]
    pairs_used: list[Pair]
    pairs_missing: list[Pair]


def bias_direction(vectors: Vectors, pairs: Sequence[Pair]) -> BiasDirection:
    """First principal component of the pairs' unit vectors around each pair's centre (Bolukbasi 2016).

    The sign is chosen so that the direction points from the second word of each pair to the first.
    """
    used, missing, rows = [], [], []
    for a, b in pairs:
        ra, rb = resolve_word(vectors, a), resolve_word(vectors, b)
        if ra is None or rb is None:
            missing.append((a, b))
            continue
        used.append((ra, rb))
        va, vb = vectors.unit_rows(vectors.index[ra]), vectors.unit_rows(vectors.index[rb])
        centre = (va + vb) / 2
        rows += [va - centre, vb - centre]
    if not used:
        raise VecliftError(f"none of the {len(pairs)} definitional pairs has both words in the vectors")
    matrix = np.asarray(rows, dtype=np.float64)
    pca = PCA(n_components=min(len(rows), vectors.dim, 10), svd_solver="full").fit(matrix)
    direction = pca.components_[0]
    diffs = np.array([vectors.unit_rows(vectors.index[a]) - vectors.unit_rows(vectors.index[b]) for a, b in used])
    if float(np.sum(diffs @ direction)) < 0:
        direction = -direction
    direction = (direction / np.linalg.norm(direction)).astype(np.float32)
    return BiasDirection(direction, [float(x) for x in pca.explained_variance_ratio_], used, missing)


def direct_bias(vectors: Vectors, direction: np.ndarray, neutral: Sequence[str], c: float = 1.0) -> tuple[float, int]:
    """Mean |cos(w, g)|^c over the neutral words the vectors know, and how many those were."""
    rows = sorted({vectors.index[r] for r in (resolve_word(vectors, w) for w in neutral) if r is not None})
    if not rows:
        raise VecliftError("none of the neutral words is in the vectors")
    cos = vectors.unit_rows(rows) @ direction
    return float(np.mean(np.abs(cos) ** c)), len(rows)


@dataclass(frozen=True)
class WeatResult:
    name: str
    effect_size: float
    p_value: float
    exact: bool
    permutations: int
    sizes: dict[str, int]
    missing: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def weat(
    vectors: Vectors, test: WeatTest, *, permutations: int = DEFAULT_PERMUTATIONS, seed: int = 0
) -> WeatResult:
    """WEAT effect size and one-sided p-value of X vs Y associating with A vs B (Caliskan et al. 2017).

    s(w) = mean cos(w, A) - mean cos(w, B); effect = (mean s(X) - mean s(Y)) / std s(X u Y).
    The p-value is the share of equal-size re-partitions of X u Y whose statistic is at least
    the observed one: over all partitions when there are at most ``permutations`` of them,
    else over ``permutations`` seeded random ones (counted as (k + 1) / (n + 1)).
    """
    missing: list[str] = []

    def rows_of(words: list[str]) -> list[int]:
        found = []
        for w in words:
            r = resolve_word(vectors, w)
            if r is None:
                missing.append(w)
            else:
                found.append(vectors.index[r])
        return found

    (nx, x_words), (ny, y_words) = test.targets.items()
    (na, a_words), (nb, b_words) = test.attributes.items()
    x, y, a, b = rows_of(x_words), rows_of(y_words), rows_of(a_words), rows_of(b_words)
    sizes = {nx: len(x), ny: len(y), na: len(a), nb: len(b)}
    empty = [name for name, n in sizes.items() if n == 0]
    if empty:
        raise VecliftError(f"WEAT test {test.name!r}: no word of {', '.join(empty)} is in the vectors")
    targets = vectors.unit_rows(x + y)
    assoc = (targets @ vectors.unit_rows(a).T).mean(axis=1) - (targets @ vectors.unit_rows(b).T).mean(axis=1)
    assoc = assoc.astype(np.float64)
    n, k = len(assoc), len(x)
    effect = (assoc[:k].mean() - assoc[k:].mean()) / assoc.std(ddof=1)
    total = assoc.sum()
    observed = 2 * assoc[:k].sum() - total
    tolerance = 1e-9
    n_partitions = math.comb(n, k)
    if n_partitions <= permutations:
        stats = np.array([2 * assoc[list(c)].sum() - total for c in itertools.combinations(range(n), k)])
        p_value = float(np.mean(stats >= observed - tolerance))
        exact, used = True, n_partitions
    else:
        rng = np.random.default_rng(seed)
        picks = np.argsort(rng.random((permutations, n)), axis=1)[:, :k]
        stats = 2 * assoc[picks].sum(axis=1) - total
        p_value = float((np.sum(stats >= observed - tolerance) + 1) / (permutations + 1))
        exact, used = False, permutations
    return WeatResult(test.name, float(effect), p_value, exact, used, sizes, missing)


# --- hard debiasing -----------------------------------------------------------------------------
def _equalize_candidates(pairs: Sequence[Pair]) -> list[Pair]:
    """Each pair in lower, Title and UPPER case, as in Bolukbasi et al.'s code."""
    out = []
    for a, b in pairs:
        for f in (str.lower, str.title, str.upper):
            out.append((f(a), f(b)))
    return list(dict.fromkeys(out))


def hard_debias(
    vectors: Vectors, direction: np.ndarray, specific: Sequence[str], equalize: Sequence[Pair]
) -> tuple[Vectors, int, int]:
    """Neutralise every word outside ``specific``, then equalise the ``equalize`` pairs.

    Works on unit vectors; the result is unit-normalised. Returns the vectors, how many words
    were neutralised and how many pairs equalised. The OOV chain is dropped: it was fitted on
    the biased space.
    """
    g = np.asarray(direction, dtype=np.float32)
    matrix = np.array(vectors.unit_matrix, dtype=np.float32)
    keep = np.zeros(len(vectors), dtype=bool)
    for w in specific:
        r = vectors.index.get(w)
        if r is not None:
            keep[r] = True
    neutral = ~keep
    matrix[neutral] -= np.outer(matrix[neutral] @ g, g)
    matrix[neutral] = normalize_rows(matrix[neutral])
    equalized = 0
    for a, b in _equalize_candidates(equalize):
        ra, rb = vectors.index.get(a), vectors.index.get(b)
        if ra is None or rb is None:
            continue
        mu = (matrix[ra] + matrix[rb]) / 2
        nu = mu - (mu @ g) * g
        z = math.sqrt(max(0.0, 1.0 - float(nu @ nu)))
        if float((matrix[ra] - matrix[rb]) @ g) < 0:
            z = -z
        matrix[ra], matrix[rb] = z * g + nu, -z * g + nu
        equalized += 1
    meta = vectors.derived_meta(debiased=True, normalized=True)
    return Vectors(vectors.words, matrix, source=f"{vectors.source} debiased", meta=meta), int(neutral.sum()), equalized


# --- the whole procedure with its report -------------------------------------------------------
@dataclass
class DebiasReport:
    pairs_used: list[Pair]
    pairs_missing: list[Pair]
    explained_variance: list[float]
    neutral_words: int
    neutralized: int
    equalized: int
    direct_bias: dict[str, float]
    weat: dict[str, dict[str, dict]] = field(default_factory=dict)
    similarity: dict[str, dict[str, dict]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def debias(
    vectors: Vectors,
    *,
    definitional: Sequence[Pair] | None = None,
    equalize: Sequence[Pair] | None = None,
    specific: Sequence[str] | None = None,
    neutral: Sequence[str] | None = None,
    weat_tests: Sequence[WeatTest] | None = None,
    similarity_files: Sequence[str | Path] = (),
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> tuple[Vectors, DebiasReport]:
    """Hard-debias ``vectors`` and report direct bias, WEAT and word similarity before and after.

    Lists left as None come from the package (gender: Bolukbasi et al. 2016, WEAT 6-8).
    """
    definitional = list(definitional) if definitional is not None else default_definitional_pairs()
    equalize = list(equalize) if equalize is not None else default_equalize_pairs()
    specific = list(specific) if specific is not None else default_specific_words()
    neutral = list(neutral) if neutral is not None else default_neutral_words()
    weat_tests = list(weat_tests) if weat_tests is not None else default_weat_tests()

    direction = bias_direction(vectors, definitional)
    specific_known = {r for r in (resolve_word(vectors, w) for w in specific) if r is not None}
    specific_known |= {w for a, b in direction.pairs_used for w in (a, b)}
    debiased, neutralized, equalized = hard_debias(vectors, direction.vector, sorted(specific_known), equalize)

    before, n_neutral = direct_bias(vectors, direction.vector, neutral)
    after, _ = direct_bias(debiased, direction.vector, neutral)
    report = DebiasReport(
        pairs_used=direction.pairs_used,
        pairs_missing=direction.pairs_missing,
        explained_variance=direction.explained_variance,
        neutral_words=n_neutral,
        neutralized=neutralized,
        equalized=equalized,
        direct_bias={"before": before, "after": after},
    )
    for test in weat_tests:
        report.weat[test.name] = {
            "before": weat(vectors, test, permutations=permutations, seed=seed).to_dict(),
            "after": weat(debiased, test, permutations=permutations, seed=seed).to_dict(),
        }
    if similarity_files:
        from veclift.vectors.evaluate import evaluate_similarity

        for path in similarity_files:
            old = evaluate_similarity(vectors, path).to_dict()
            new = evaluate_similarity(debiased, path).to_dict()
            report.similarity[old["name"]] = {"before": old, "after": new}
    return debiased, report
