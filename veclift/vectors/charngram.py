"""A hashed character n-gram model fitted on known words, giving any spelling a vector.

Each word ``w`` is read as ``<w>``; its character n-grams (n = 3..6 by default) are hashed
(64-bit FNV-1a over code points, salted by the seed) into ``buckets`` rows of a matrix W, and a
word's vector is the mean of its n-gram rows. W is the weighted ridge solution of
``min sum_i d_i |a_i W - v_i|^2 + ridge |W|^2`` over the known words, solved by
Jacobi-preconditioned conjugate gradients on the normal equations with scipy sparse products
(the system is ``buckets x buckets``: too large for a direct solve). On GloVe 6B 50d, 15 CG steps
with ridge 1e-2 give held-out words vectors at mean cosine 0.46 from their true vectors; more
steps or a smaller ridge fit the known words closer but generalise no better (0.43 with ridge
1e-3 and 40 steps). Row weights ``d_i = (1 + i / 10000) ** -0.5`` favour the frequent (first) rows, whose
vectors are the most reliable, while the rare rows still teach the model rare spellings.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from veclift.atomic import atomic_path
from veclift.errors import VecliftError
from veclift.progress import progress as progress_bar

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_WEIGHTS_FILE = "char_ngram.safetensors"
_CONFIG_FILE = "char_ngram.json"
MAX_NGRAM = 32


def ngram_matrix(words: Sequence[str], buckets: int, min_n: int = 3, max_n: int = 6, seed: int = 0) -> sp.csr_matrix:
    """Sparse (len(words), buckets) matrix: row i averages the hashed n-grams of ``<words[i]>``.

    Vectorised per word length: the code points of all words of one length form one array, and
    every n-gram position is hashed at once (a Python loop over ~10M n-grams would take minutes).
    """
    rows_parts, cols_parts = [], []
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    basis = _FNV_OFFSET ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
    for length in np.unique(lengths):
        members = np.flatnonzero(lengths == length)
        text = "".join(f"<{words[i]}>" for i in members)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        codes = codes.reshape(len(members), length + 2)
        for n in range(min_n, max_n + 1):
            positions = length + 3 - n
            if positions <= 0:
                continue
            h = np.full((len(members), positions), basis, dtype=np.uint64)
            for t in range(n):
                h = (h ^ codes[:, t : t + positions]) * _FNV_PRIME
            rows_parts.append(np.repeat(members, positions))
            cols_parts.append((h % np.uint64(buckets)).astype(np.int64).ravel())
    if not rows_parts:
        return sp.csr_matrix((len(words), buckets), dtype=np.float32)
    rows = np.concatenate(rows_parts)
    cols = np.concatenate(cols_parts)
    counts = np.bincount(rows, minlength=len(words)).astype(np.float32)
    data = 1.0 / counts[rows]
    # coo -> csr sums the entries of n-grams repeated within a word (or colliding in a bucket).
    return sp.coo_matrix((data, (rows, cols)), shape=(len(words), buckets), dtype=np.float32).tocsr()


def _torch_csr(matrix: sp.csr_matrix) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)),
            torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.from_numpy(matrix.data),
            size=matrix.shape,
            check_invariants=False,
        )


class CharNgramModel:
    """Bucket vectors ``weights`` (buckets, dim) and the hashing settings that index them."""

    def __init__(self, weights: np.ndarray, *, min_n: int = 3, max_n: int = 6, seed: int = 0, info: dict | None = None):
        self.weights = np.asarray(weights, dtype=np.float32)
        self.min_n = min_n
        self.max_n = max_n
        self.seed = seed
        self.info = dict(info or {})

    @property
    def buckets(self) -> int:
        return int(self.weights.shape[0])

    @classmethod
    def fit(
        cls,
        words: Sequence[str],
        matrix: np.ndarray,
        *,
        buckets: int = 2**18,
        min_n: int = 3,
        max_n: int = 6,
        ridge: float = 1e-2,
        iterations: int = 15,
        tol: float = 1e-3,
        seed: int = 0,
        progress: bool = True,
    ) -> CharNgramModel:
        """Fit bucket vectors so that each known word's n-gram mean approximates its vector."""
        if len(words) == 0:
            raise VecliftError("cannot fit a character n-gram model on empty vectors")
        targets = np.asarray(matrix, dtype=np.float32)
        a = ngram_matrix(words, buckets, min_n, max_n, seed)
        d = ((1.0 + np.arange(len(words), dtype=np.float32) / 10000.0) ** -0.5).astype(np.float32)
        # Jacobi preconditioner: diag(A^T D A) + ridge.
        diag = np.asarray(a.multiply(a).T @ d).ravel().astype(np.float32) + ridge
        a_torch, at_torch = _torch_csr(a), _torch_csr(a.T.tocsr())
        d_col = torch.from_numpy(d[:, None])

        def normal_product(p: np.ndarray) -> np.ndarray:
            """(A^T D A + ridge) p, with torch's multi-threaded sparse products (~3x scipy's)."""
            ap = at_torch @ ((a_torch @ torch.from_numpy(p)) * d_col)
            return ap.numpy() + ridge * p

        b = (at_torch @ torch.from_numpy(targets * d[:, None])).numpy()
        x = np.zeros_like(b)
        r = b.copy()
        z = r / diag[:, None]
        p = z.copy()
        rz = np.einsum("ij,ij->j", r, z)
        b_norm = np.linalg.norm(b, axis=0) + 1e-30
        done = 0
        with progress_bar("Fitting char n-grams", iterations, enabled=progress) as update:
            for done in range(1, iterations + 1):
                ap = normal_product(p)
                alpha = rz / np.maximum(np.einsum("ij,ij->j", p, ap), 1e-30)
                x += alpha * p
                r -= alpha * ap
                residual = float(np.max(np.linalg.norm(r, axis=0) / b_norm))
                update(advance=1, info=f"residual {residual:.1e}")
                if residual < tol:
                    break
                z = r / diag[:, None]
                rz_new = np.einsum("ij,ij->j", r, z)
                p = z + (rz_new / np.maximum(rz, 1e-30)) * p
                rz = rz_new
        info = {"words": len(words), "iterations": done, "residual": residual, "ridge": ridge}
        return cls(x, min_n=min_n, max_n=max_n, seed=seed, info=info)

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """(len(words), dim) predicted vectors; an empty word gets a zero row."""
        return np.asarray(ngram_matrix(words, self.buckets, self.min_n, self.max_n, self.seed) @ self.weights)

    def vector(self, word: str) -> np.ndarray:
        return self.vectors([word])[0]

    def save(self, directory: str | Path) -> None:
        """Write ``char_ngram.safetensors`` and ``char_ngram.json`` into ``directory``."""
        from safetensors.numpy import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / _WEIGHTS_FILE) as tmp:
            save_file({"weights": self.weights}, str(tmp))
        config = {"min_n": self.min_n, "max_n": self.max_n, "seed": self.seed, "info": self.info}
        with atomic_path(directory / _CONFIG_FILE) as tmp:
            Path(tmp).write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> CharNgramModel:
        from safetensors.numpy import load_file

        directory = Path(directory)
        try:
            config = json.loads((directory / _CONFIG_FILE).read_text(encoding="utf-8"))
            weights = load_file(str(directory / _WEIGHTS_FILE))["weights"]
            sizes = {key: int(config[key]) for key in ("min_n", "max_n", "seed")}
        except Exception as exc:  # OSError, JSON and key errors, and safetensors' own error type
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise VecliftError(f"cannot read the character n-gram model: {first}", directory) from None
        if not 1 <= sizes["min_n"] <= sizes["max_n"] <= MAX_NGRAM:  # every lookup loops over the sizes
            raise VecliftError(f"bad n-gram sizes {sizes['min_n']}..{sizes['max_n']} (1..{MAX_NGRAM})", directory / _CONFIG_FILE)
        if weights.dtype != np.float32 or weights.ndim != 2 or not len(weights) or not np.isfinite(weights).all():
            raise VecliftError(
                f"weights must be a non-empty finite float32 matrix, found {weights.dtype} of shape {weights.shape}: fit the model again",
                directory / _WEIGHTS_FILE,
            )
        info = config.get("info")
        return cls(weights, **sizes, info=info if isinstance(info, dict) else None)
