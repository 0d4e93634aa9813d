"""Seeded subsets and splits: nested subsamples for learning curves, k-fold, train/test.

Subsamples are nested: with the same seed, the first ``n`` items chosen are a subset of the
first ``m > n`` items chosen, so a learning curve adds data instead of redrawing it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.model_selection import train_test_split as sklearn_train_test_split

from veclift.errors import VecliftError

T = TypeVar("T")
Key = Callable[[T], Hashable]


def sample_order(items: Sequence[T], seed: int, stratify: Key | None = None) -> list[int]:
    """A seeded order of ``items``' indices whose every prefix is a random (and, with
    ``stratify``, class-proportional) sample.

    Without ``stratify`` it is a random permutation. With it, each class is permuted on its
    own and the ``i``-th of a class of size ``c`` is placed at fraction ``(i + u) / c`` with
    ``u`` uniform in [0, 1), so any prefix holds each class in proportion, give or take one.
    """
    rng = np.random.default_rng(seed)
    if stratify is None:
        return rng.permutation(len(items)).tolist()
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        groups[stratify(item)].append(index)
    placed: list[tuple[float, int]] = []
    for members in groups.values():
        order = rng.permutation(len(members))
        jitter = rng.random(len(members))
        placed.extend(((rank + jitter[rank]) / len(members), members[i]) for rank, i in enumerate(order))
    placed.sort()
    return [index for _, index in placed]


def subsample(items: Sequence[T], n: int, seed: int, stratify: Key | None = None) -> list[T]:
    """``n`` items chosen with ``seed`` (nested across ``n``; class-proportional with a
    ``stratify`` key), returned in their original order; ``n >= len(items)`` returns all."""
    if n < 0:
        raise VecliftError(f"cannot take {n} items")
    if n >= len(items):
        return list(items)
    chosen = sorted(sample_order(items, seed, stratify)[:n])
    return [items[i] for i in chosen]


def stratified_subsample(items: Sequence[T], n: int, seed: int, key: Key) -> list[T]:
    """:func:`subsample` keeping the classes given by ``key`` in proportion."""
    return subsample(items, n, seed, stratify=key)


def kfold(
    items: Sequence[T], k: int, seed: int, stratify: Key | None = None
) -> list[tuple[list[T], list[T]]]:
    """``k`` seeded ``(train, test)`` folds (scikit-learn's KFold, or StratifiedKFold by ``stratify``)."""
    if k < 2 or k > len(items):
        raise VecliftError(f"cannot make {k} folds of {len(items)} items (need 2 <= k <= items)")
    if stratify is None:
        splits = KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(items)))
    else:
        keys = [str(stratify(item)) for item in items]
        smallest = min(Counter(keys).values())
        if smallest < k:
            raise VecliftError(f"a class has only {smallest} item(s), fewer than the {k} folds; use fewer folds")
        splits = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(items)), keys)
    return [([items[i] for i in train], [items[i] for i in test]) for train, test in splits]


def train_test_split(
    items: Sequence[T], test_fraction: float, seed: int, stratify: Key | None = None
) -> tuple[list[T], list[T]]:
    """A seeded ``(train, test)`` split with ``test_fraction`` of the items in test (scikit-learn)."""
    if not 0 < test_fraction < 1:
        raise VecliftError(f"test fraction must be between 0 and 1, not {test_fraction}")
    keys = None if stratify is None else [str(stratify(item)) for item in items]
    try:
        train, test = sklearn_train_test_split(
            np.arange(len(items)), test_size=test_fraction, random_state=seed, stratify=keys
        )
    except ValueError as exc:
        raise VecliftError(f"cannot split {len(items)} items: {exc}") from None
    return [items[i] for i in sorted(train)], [items[i] for i in sorted(test)]
