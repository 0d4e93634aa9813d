"""Frozen contextual features: computed once per data set, cached on disk, memory-mapped on reuse."""

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
from veclift.progress import progress
from veclift.vectors.builtin import veclift_home

CHUNK_SENTENCES = 256
"""Sentences encoded between progress updates."""


def default_cache_dir() -> Path:
    return veclift_home() / "features"


class FeatureTable:
    """Word vectors for a fixed set of sentences: ``table[tokens]`` gives the (n_words, dim) array."""

    def __init__(self, vectors: np.ndarray, offsets: np.ndarray, sentences: Sequence[tuple[str, ...]],
                 path: Path | None = None):
        self.vectors = vectors
        self.offsets = offsets
        self.index = {sentence: i for i, sentence in enumerate(sentences)}
        self.path = path

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, tokens: Sequence[str]) -> bool:
        return tuple(tokens) in self.index

    def __getitem__(self, tokens: Sequence[str]) -> np.ndarray:
        i = self.index[tuple(tokens)]
        return self.vectors[self.offsets[i]:self.offsets[i + 1]]


def unique_sentences(sentences: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """Distinct token lists in order of first appearance."""
    return list(dict.fromkeys(tuple(s) for s in sentences))


def features_key(backbone: Backbone, options: PoolingOptions, sentences: Sequence[tuple[str, ...]]) -> str:
    """Cache key: the encoder's identity, the pooling options and a hash of the token lists."""
    digest = hashlib.sha256()
    digest.update(backbone.fingerprint().encode())
    digest.update(json.dumps({k: v for k, v in options.as_dict().items() if k != "batch_size"},
                             sort_keys=True).encode())
    for sentence in sentences:
        digest.update(json.dumps(sentence, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:32]


def compute_features(
    backbone: Backbone,
    sentences: Iterable[Sequence[str]],
    options: PoolingOptions = PoolingOptions(),
    *,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    show_progress: bool = True,
) -> FeatureTable:
    """Word vectors for every distinct sentence, read from the cache when this encoder, these options
    and these token lists were seen before (``cache_dir`` default: ``$VECLIFT_HOME/features``)."""
    unique = unique_sentences(sentences)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache_dir / features_key(backbone, options, unique)
    if use_cache and (target / "meta.json").is_file():
        return _load(target, unique)
    vectors, offsets = _encode(backbone, unique, options, show_progress)
    if not use_cache:
        return FeatureTable(vectors, offsets, unique)
    with atomic_path(target, directory=True) as tmp:
        np.save(tmp / "vectors.npy", vectors)
        np.save(tmp / "offsets.npy", offsets)
        meta = {"model": backbone.name, "options": options.as_dict(), "sentences": len(unique),
                "words": int(offsets[-1]), "dim": backbone.dim}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return _load(target, unique)


def _encode(backbone: Backbone, sentences: list[tuple[str, ...]], options: PoolingOptions,
            show_progress: bool) -> tuple[np.ndarray, np.ndarray]:
    total_words = sum(len(s) for s in sentences)
    vectors = np.empty((total_words, backbone.dim), dtype=np.float32)
    offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
    was_training = backbone.model.training
    backbone.model.eval()
    row = 0
    try:
        with torch.inference_mode(), progress("Contextual features", total_words, enabled=show_progress) as update:
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


def _load(path: Path, sentences: list[tuple[str, ...]]) -> FeatureTable:
    try:
        vectors = np.load(path / "vectors.npy", mmap_mode="r")
        offsets = np.load(path / "offsets.npy")
    except (OSError, ValueError) as exc:
        raise VecliftError(f"unreadable feature cache ({exc}); delete the directory to recompute", path) from exc
    if len(offsets) != len(sentences) + 1 or offsets[-1] != vectors.shape[0]:
        raise VecliftError("feature cache does not match its sentences; delete the directory to recompute", path)
    return FeatureTable(vectors, offsets, sentences, path)
