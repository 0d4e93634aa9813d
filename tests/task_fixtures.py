"""Tiny synthetic data for the task tests: clustered word vectors and template sentences."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import torch

from veclift.data import LabeledText, TaggedSentence
from veclift.vectors.core import Vectors

PEOPLE = ["John", "Mary", "Peter", "Anna", "Paul", "Lucy"]
CITIES = ["Paris", "London", "Berlin", "Rome", "Madrid", "Vienna"]
FILLER = ["the", "a", "today", "said", "that", "lives", "in", "visited", "met", "and", "."]
torch.set_num_threads(1)  # tiny models on a shared machine: extra threads only add overhead

POSITIVE = ["good", "great", "happy", "ecstatic", "lovely"]
NEGATIVE = ["bad", "awful", "sad", "terrible", "dreadful"]


def tiny_vectors(dim: int = 12, seed: int = 0) -> Vectors:
    """Lower-cased vectors where people, cities, positive and negative words form clusters."""
    rng = np.random.default_rng(seed)
    groups = [PEOPLE, CITIES, POSITIVE, NEGATIVE, FILLER]
    centers = rng.normal(0, 1, (len(groups), dim))
    words, rows = [], []
    for center, group in zip(centers, groups):
        for w in group:
            words.append(w.lower())
            rows.append(center + rng.normal(0, 0.2, dim))
    return Vectors(words, np.asarray(rows, np.float32), meta={"lowercase": True}, source="tiny")


def tagged_sentences(n: int, seed: int = 0, people=PEOPLE[:4], cities=CITIES[:4]) -> list[TaggedSentence]:
    """Template sentences: '<person> lives in <city> .', '<person> met <person> in <city> today'."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        p, q, c = rng.choice(people), rng.choice(people), rng.choice(cities)
        if rng.random() < 0.5:
            out.append(TaggedSentence([p, "lives", "in", c, "."], ["B-PER", "O", "O", "B-LOC", "O"]))
        else:
            out.append(TaggedSentence([p, "met", q, "in", c, "today"], ["B-PER", "O", "B-PER", "O", "B-LOC", "O"]))
    return out


def labeled_texts(n: int, seed: int = 0, positive=POSITIVE[:3], negative=NEGATIVE[:3]) -> list[LabeledText]:
    """'the day was <good word>' -> pos, '<bad word>' -> neg, with filler around."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        label = rng.choice(["pos", "neg"])
        word = rng.choice(positive if label == "pos" else negative)
        tokens = [rng.choice(FILLER), word, rng.choice(FILLER), rng.choice(FILLER)]
        rng.shuffle(tokens)
        out.append(LabeledText(tokens, [label], " ".join(tokens)))
    return out


def constant_baseline(data: list) -> float:
    """What always predicting the most frequent output of ``data`` scores on it: token accuracy for
    `TaggedSentence` items (its entity F1 is 0 with the all-"O" tag), accuracy for `LabeledText`
    items (the majority label set's share). A trained model must beat it on the same data."""
    if isinstance(data[0], TaggedSentence):
        tags = Counter(tag for sentence in data for tag in sentence.tags)
        return max(tags.values()) / sum(tags.values())
    labels = Counter(tuple(sorted(text.labels)) for text in data)
    return max(labels.values()) / len(data)
