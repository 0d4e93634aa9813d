"""Frozen contextual features, computed once and cached on disk.

The cache holds one directory per encoder and pooling options; inside it, each table holds the
word vectors of a set of sentences (``vectors.npy`` memory-mapped on reuse, ``offsets.npy``,
``sentences.json``), named by the hash of its token lists. A request computes only the sentences
no table holds yet, so a study's 100-, 1,000- and all-sentence trials encode each sentence once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from veclift.atomic import atomic_path
from veclift.contextual.backbone import Backbone
from veclift.contextual.pooling import PoolingOptions, encode_words
from veclift.errors import VecliftError
from veclift.progress import progress as progress_bar
from veclift.home import cache_home

CHUNK_SENTENCES = 256
"""Sentences encoded between progress updates."""


def default_cache_dir() -> Path:
    return cache_home() / "features"


class FeatureTable:
    """Word vectors of a fixed list of sentences: ``table[tokens]`` is the (n_words, dim) array."""

    def __init__(self, vectors: np.ndarray, offsets: np.ndarray, sentences: Sequence[tuple[str, ...]],
                 path: Path | None = None):
        self.vectors = vectors
        self.offsets = offsets
        self.index = {sentence: i for i, sentence in enumerate(sentences)}
        self.path = path

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, tokens: Sequence[str]) -> bool:
        return tuple(tokens) in self.index

    def __getitem__(self, tokens: Sequence[str]) -> np.ndarray:
        i = self.index[tuple(tokens)]
        return self.vectors[self.offsets[i]:self.offsets[i + 1]]


class Features:
    """The tables of one encoder and options that together hold the requested sentences."""

    def __init__(self, tables: Sequence[FeatureTable], dim: int, computed: int = 0):
        self.tables = list(tables)
        self.dim = dim
        self.computed = computed  # sentences encoded by the request that built this (0: all cached)

    def __contains__(self, tokens: Sequence[str]) -> bool:
        return any(tokens in table for table in self.tables)

    def __getitem__(self, tokens: Sequence[str]) -> np.ndarray:
        for table in self.tables:
            if tokens in table:
                return table[tokens]
        raise KeyError(tuple(tokens))


def unique_sentences(sentences: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """Distinct token lists in order of first appearance."""
    return list(dict.fromkeys(tuple(s) for s in sentences))


def store_key(backbone: Backbone, options: PoolingOptions) -> str:
    """Directory name for an encoder (name and weights) and the options that change the vectors."""
    digest = hashlib.sha256(backbone.fingerprint().encode())
    relevant = {k: v for k, v in options.to_dict().items() if k != "batch_size"}
    digest.update(json.dumps(relevant, sort_keys=True).encode())
    return digest.hexdigest()[:24]


def sentences_key(sentences: Sequence[tuple[str, ...]]) -> str:
    digest = hashlib.sha256()
    for sentence in sentences:
        digest.update(json.dumps(sentence, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()[:24]


def compute_features(
    backbone: Backbone,
    sentences: Iterable[Sequence[str]],
    options: PoolingOptions = PoolingOptions(),
    *,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> Features:
    """Word vectors for every distinct sentence, encoding only those the cache does not hold yet
    (``cache_dir`` default: ``$VECLIFT_HOME/features``; ``use_cache=False`` keeps them in memory)."""
    unique = unique_sentences(sentences)
    if not use_cache:
        vectors, offsets = _encode(backbone, unique, options, progress)
        return Features([FeatureTable(vectors, offsets, unique)], backbone.dim, computed=len(unique))
    store = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / store_key(backbone, options)
    exact = store / sentences_key(unique)
    if (exact / "meta.json").is_file():
        return Features([_load(exact)], backbone.dim)
    tables = [_load(meta.parent) for meta in sorted(store.glob("*/meta.json"))] if store.is_dir() else []
    tables = [table for table in tables if any(s in table.index for s in unique)]
    missing = [s for s in unique if not any(s in table.index for table in tables)]
    if missing:
        vectors, offsets = _encode(backbone, missing, options, progress)
        target = store / sentences_key(missing)
        with atomic_path(target, directory=True, overwrite=True) as tmp:
            np.save(tmp / "vectors.npy", vectors)
            np.save(tmp / "offsets.npy", offsets)
            (tmp / "sentences.json").write_text(json.dumps(missing, ensure_ascii=False))
            meta = {"model": backbone.source, "options": options.to_dict(), "sentences": len(missing),
                    "words": int(offsets[-1]), "dim": backbone.dim}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        tables.append(_load(target))
    return Features(tables, backbone.dim, computed=len(missing))


def _encode(backbone: Backbone, sentences: list[tuple[str, ...]], options: PoolingOptions,
            progress: bool) -> tuple[np.ndarray, np.ndarray]:
    total_words = sum(len(s) for s in sentences)
    vectors = np.empty((total_words, backbone.dim), dtype=np.float32)
    offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
    was_training = backbone.model.training
    backbone.model.eval()
    row = 0
    try:
        with torch.inference_mode(), progress_bar("Contextual features", total_words, enabled=progress) as update:
            for start in range(0, len(sentences), CHUNK_SENTENCES):
                chunk = sentences[start:start + CHUNK_SENTENCES]
                encoded, chunk_offsets = encode_words(backbone, chunk, options)
                vectors[row:row + encoded.shape[0]] = encoded.float().cpu().numpy()
                offsets[start + 1:start + len(chunk) + 1] = row + np.asarray(chunk_offsets[1:])
                row += encoded.shape[0]
                update(advance=encoded.shape[0])
    finally:
        backbone.model.train(was_training)
    return vectors, offsets


def _load(path: Path) -> FeatureTable:
    try:
        vectors = np.load(path / "vectors.npy", mmap_mode="r")
        offsets = np.load(path / "offsets.npy")
        sentences = [tuple(s) for s in json.loads((path / "sentences.json").read_text(encoding="utf-8"))]
    except (OSError, ValueError) as exc:
        raise VecliftError(f"unreadable feature cache ({exc}); delete the directory to recompute", path) from exc
    if len(offsets) != len(sentences) + 1 or offsets[-1] != vectors.shape[0]:
        raise VecliftError("feature cache does not match its sentences; delete the directory to recompute", path)
    return FeatureTable(vectors, offsets, sentences, path)
