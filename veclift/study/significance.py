"""The paired test behind the report's verdicts: a bootstrap over test items and seeds.

Two strategies at one training size were trained on the same subsets (a seed draws the same
training items whatever the strategy) and scored on the same test items, so their difference is
paired. Each of ``RESAMPLES`` resamples draws the test items with replacement (the same draw for
both strategies and every seed) and the seeds with replacement (a drawn seed brings both strategies'
trials of that seed), and computes the difference of the mean score over the drawn seeds; the
difference is called only when the central ``LEVEL`` interval of those differences excludes 0.

A score of any resample comes from per-item counts ``[correct, predicted, gold]``: micro entity F1
is ``2 * correct / (predicted + gold)`` over the drawn items; a classifier's item is ``[right, 1, 1]``,
which makes the same formula its accuracy.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from veclift.study.results import StudyResults

RESAMPLES = 1000
LEVEL = 0.95
SEED = 0  # the resamples are fixed: the same study gives the same verdicts
_CHUNK = 100  # resamples per block: bounds the memory to about _CHUNK x test items


@dataclasses.dataclass(frozen=True)
class Difference:
    """Strategy ``a`` minus strategy ``b`` at one size (fractions): the mean difference over the
    paired seeds on the whole test set, and the bootstrap interval around it."""

    size: int | str
    a: str
    b: str
    mean: float
    low: float
    high: float
    seeds: int
    items: int

    @property
    def called(self) -> bool:
        """Whether the interval excludes 0: a difference that holds across seeds and test items."""
        return self.low > 0 or self.high < 0

    @property
    def winner(self) -> str | None:
        return None if not self.called else self.a if self.mean > 0 else self.b


def item_counts(outcomes: Mapping[str, Any]) -> np.ndarray | None:
    """``(items, 3)`` counts ``[correct, predicted, gold]`` of a trial's outcomes, None without any."""
    if outcomes.get("sentences"):
        return np.asarray(outcomes["sentences"], dtype=np.float64).reshape(-1, 3)
    if outcomes.get("texts"):
        right = np.asarray(outcomes["texts"], dtype=np.float64)
        return np.stack([right, np.ones_like(right), np.ones_like(right)], axis=1)
    return None


def _score(totals: np.ndarray) -> np.ndarray:
    """``2 c / (p + g)`` over the last axis' counts, 0 where nothing was predicted or gold."""
    denominator = totals[..., 1] + totals[..., 2]
    return np.divide(2 * totals[..., 0], denominator, out=np.zeros_like(denominator), where=denominator > 0)


def paired_bootstrap(a: Sequence[np.ndarray], b: Sequence[np.ndarray], *, resamples: int = RESAMPLES,
                     level: float = LEVEL, seed: int = SEED) -> tuple[float, float, float]:  # fmt: skip
    """``(mean, low, high)`` of score(a) - score(b): ``a[i]`` and ``b[i]`` are the ``(items, 3)``
    counts of the two strategies' trials with the same seed, on the same test items."""
    if not a or len(a) != len(b) or any(x.shape != a[0].shape for x in (*a, *b)):
        raise ValueError("paired_bootstrap needs the same test items for every trial, paired by seed")
    counts = np.stack([np.stack(a), np.stack(b)]).astype(np.float64)  # (2, seeds, items, 3)
    _, n_seeds, n_items, _ = counts.shape
    whole = _score(counts.sum(axis=2))  # (2, seeds): each trial's score on the whole test set
    mean = float((whole[0] - whole[1]).mean())
    rng = np.random.default_rng(seed)
    differences = []
    for start in range(0, resamples, _CHUNK):
        block = min(_CHUNK, resamples - start)
        items = rng.multinomial(n_items, np.full(n_items, 1 / n_items), size=block).astype(np.float64)
        seeds = rng.multinomial(n_seeds, np.full(n_seeds, 1 / n_seeds), size=block)
        totals = np.einsum("rn,vsnk->vrsk", items, counts)  # (2, block, seeds, 3)
        scores = (_score(totals) * seeds).sum(axis=2) / n_seeds  # (2, block)
        differences.append(scores[0] - scores[1])
    low, high = np.quantile(np.concatenate(differences), [(1 - level) / 2, (1 + level) / 2])
    return mean, float(low), float(high)


def differences(results: StudyResults) -> list[Difference]:
    """The paired test for every two strategies at every size whose trials carry per-item outcomes
    (on the seeds both finished): each the later strategy of the spec minus the earlier one."""
    found = []
    for size in results.spec.sizes:
        counts = {}
        for strategy in results.spec.strategies:
            per_seed = {seed: item_counts(o) for seed, o in results.outcomes(size, strategy).items()}
            counts[strategy] = {seed: c for seed, c in per_seed.items() if c is not None}
        for b, a in itertools.combinations(results.spec.strategies, 2):  # later minus earlier: pre-trained - scratch
            seeds = sorted(set(counts[a]) & set(counts[b]))
            shapes = {counts[s][seed].shape for s in (a, b) for seed in seeds}
            if not seeds or len(shapes) != 1:
                continue
            mean, low, high = paired_bootstrap([counts[a][s] for s in seeds], [counts[b][s] for s in seeds])
            found.append(Difference(size, a, b, mean, low, high, len(seeds), counts[a][seeds[0]].shape[0]))
    return found


def lookup(found: Sequence[Difference], size: int | str, a: str, b: str) -> Difference | None:
    """The test of ``a`` vs ``b`` at ``size`` (either order: the result is ``a`` minus ``b``), or None."""
    for d in found:
        if d.size == size and (d.a, d.b) == (a, b):
            return d
        if d.size == size and (d.a, d.b) == (b, a):
            return dataclasses.replace(d, a=a, b=b, mean=-d.mean, low=-d.high, high=-d.low)
    return None


def describe(items_noun: str) -> str:
    """The test in one sentence, for the report."""
    return (f"Differences are called by a paired bootstrap: {RESAMPLES:,} resamples (fixed seed) of the test "
            f"{items_noun} and of the seeds, the same draw for both strategies; a difference is called only when "
            f"the {LEVEL:.0%} interval of the resampled differences excludes 0, otherwise the report says "
            "\"no difference\".")
