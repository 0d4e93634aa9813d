"""2-D maps of words (t-SNE or PCA, scikit-learn) as PNG (matplotlib) or self-contained HTML.

The HTML page (template ``word_map.html``) is one file with an inline SVG and a few lines of inline
JavaScript for the hover tooltip: no CDN, no network. Analogy parallelograms (a:b::c:d) are drawn
from a PCA of the four vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from veclift.atomic import atomic_path
from veclift.errors import VecliftError
from veclift.templates import render
from veclift.vectors.core import Vectors
from veclift.vectors.normalize import normalize_rows

METHODS = ("tsne", "pca")
OUTPUT_SUFFIXES = (".png", ".html")
_MIN_TSNE_WORDS = 5
_MAX_PERPLEXITY = 30.0
# Exact t-SNE for small maps: quick at this size, and it avoids Barnes-Hut's OpenMP threads,
# which slow a 60-word map from ~1 s to ~1 min on a busy machine.
_MAX_EXACT_TSNE = 300
# Text labels on every point while they stay readable; beyond, hover only (HTML) or none (PNG).
_MAX_LABELLED = 80
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
_NO_GROUP = ""


@dataclass
class WordMap:
    """Words with 2-D coordinates, optional groups, and optional arrows ``(from, to, dashed)``."""

    words: list[str]
    coords: np.ndarray
    groups: list[str]
    title: str
    arrows: list[tuple[int, int, bool]] = field(default_factory=list)


def _known_form(vectors: Vectors, word: str) -> str:
    """The word itself, or its lower-cased form when only that is in the vectors (GloVe 6B is lower-cased)."""
    return word if word in vectors.index or word.lower() not in vectors.index else word.lower()


def _rows(vectors: Vectors, words: Sequence[str]) -> np.ndarray:
    absent = [w for w in words if w not in vectors.index and (vectors.oov is None or vectors.oov.resolve(w) is None)]
    if absent:
        shown = ", ".join(absent[:10]) + (f" and {len(absent) - 10} more" if len(absent) > 10 else "")
        raise VecliftError(f"words not in the vectors ({vectors.source or 'unnamed'}): {shown}")
    return normalize_rows(np.asarray(vectors[list(words)], dtype=np.float64))


def project(matrix: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """2-D coordinates of the rows: PCA, or t-SNE with perplexity min(30, (n - 1) / 3)."""
    n = len(matrix)
    if method == "pca":
        if n < 2:
            raise VecliftError("a PCA map needs at least two words")
        return PCA(n_components=2, svd_solver="full").fit_transform(matrix)
    if method == "tsne":
        if n < _MIN_TSNE_WORDS:
            raise VecliftError(f"a t-SNE map needs at least {_MIN_TSNE_WORDS} words (got {n}); use the PCA method")
        perplexity = min(_MAX_PERPLEXITY, (n - 1) / 3)
        tsne = TSNE(
            n_components=2,
            perplexity=perplexity,
            init="pca",
            random_state=seed,
            learning_rate="auto",
            method="exact" if n <= _MAX_EXACT_TSNE else "barnes_hut",
        )
        return tsne.fit_transform(matrix)
    raise VecliftError(f"unknown projection {method!r}: choose {' or '.join(METHODS)}")


def word_map(
    vectors: Vectors,
    words: Sequence[str] = (),
    *,
    groups: dict[str, list[str]] | None = None,
    method: str = "tsne",
    seed: int = 0,
    title: str | None = None,
) -> WordMap:
    """A map of ``words`` plus every grouped word; each point coloured by its (first) group."""
    group_of: dict[str, str] = {}
    for name, members in (groups or {}).items():
        for w in members:
            group_of.setdefault(_known_form(vectors, w), name)
    ordered = list(dict.fromkeys([*(_known_form(vectors, w) for w in words), *group_of]))
    if not ordered:
        raise VecliftError("no words to plot")
    coords = project(_rows(vectors, ordered), method, seed)
    title = title or f"{len(ordered)} words, {method.upper() if method == 'pca' else 't-SNE'} of {vectors.source or 'vectors'}"
    return WordMap(ordered, coords, [group_of.get(w, _NO_GROUP) for w in ordered], title)


def neighborhood(vectors: Vectors, word: str, n: int = 30) -> list[str]:
    """``word`` and its ``n`` nearest neighbours."""
    word = _known_form(vectors, word)
    if word not in vectors.index:
        raise VecliftError(f"word not in the vectors ({vectors.source or 'unnamed'}): {word}")
    return [word, *(w for w, _ in vectors.most_similar(word, topn=n))]


def parallelogram(vectors: Vectors, a: str, b: str, c: str, d: str) -> WordMap:
    """a:b::c:d in the plane of the first two principal components of the four unit vectors."""
    words = [_known_form(vectors, w) for w in (a, b, c, d)]
    if len(set(words)) != 4:
        raise VecliftError("a parallelogram needs four different words")
    matrix = _rows(vectors, words)
    coords = PCA(n_components=2, svd_solver="full").fit_transform(matrix)
    offset_cos = float(np.dot(normalize_rows(matrix[1] - matrix[0]), normalize_rows(matrix[3] - matrix[2])))
    a, b, c, d = words
    title = f"{a} : {b} :: {c} : {d}   (cosine of the offsets {b}-{a} and {d}-{c}: {offset_cos:.2f})"
    return WordMap(words, coords, ["pair 1", "pair 1", "pair 2", "pair 2"], title, [(0, 1, False), (2, 3, False), (0, 2, True), (1, 3, True)])


def bias_axis_map(
    vectors: Vectors, direction: np.ndarray, groups: dict[str, list[str]], *, title: str | None = None
) -> WordMap:
    """Words placed by their cosine with a bias direction (x) and the main direction of what is left (y).

    A PCA map may hide the bias direction among larger ones; this view keeps it on the x axis,
    so neutralised words line up at x = 0 after debiasing.
    """
    group_of: dict[str, str] = {}
    for name, members in groups.items():
        for w in members:
            group_of.setdefault(_known_form(vectors, w), name)
    words = list(group_of)
    if len(words) < 2:
        raise VecliftError("a bias-axis map needs at least two words")
    g = normalize_rows(np.asarray(direction, dtype=np.float64))
    rows = _rows(vectors, words)
    x = rows @ g
    rest = rows - np.outer(x, g)
    y = PCA(n_components=1, svd_solver="full").fit_transform(rest)[:, 0]
    title = title or f"cosine with the bias direction (x) in {vectors.source or 'vectors'}"
    return WordMap(words, np.column_stack([x, y]), [group_of[w] for w in words], title)


def _colours(groups: list[str]) -> tuple[list[str], dict[str, str]]:
    names = [g for g in dict.fromkeys(groups) if g != _NO_GROUP]
    legend = {g: _PALETTE[i % len(_PALETTE)] for i, g in enumerate(names)}
    return [legend.get(g, "#4a4a4a") for g in groups], legend


def save(word_map: WordMap, output: str | Path, *, overwrite: bool = False) -> Path:
    """Write the map as PNG or HTML, chosen by the suffix of ``output``; atomically (an existing file only with ``overwrite``)."""
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise VecliftError(f"unknown plot format {output.suffix!r}: name the output .png or .html", output)
    with atomic_path(output, overwrite=overwrite) as tmp:
        if suffix == ".png":
            _write_png(word_map, tmp)
        else:
            tmp.write_text(_html(word_map), encoding="utf-8")
    return output


def _write_png(word_map: WordMap, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours, legend = _colours(word_map.groups)
    fig, ax = plt.subplots(figsize=(9, 7), dpi=120)
    xy = word_map.coords
    for i, j, dashed in word_map.arrows:
        ax.annotate(
            "", xy=xy[j], xytext=xy[i],
            arrowprops={"arrowstyle": "-" if dashed else "->", "linestyle": "--" if dashed else "-", "color": "#888" if dashed else "#333"},
        )
    ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=24, zorder=3)
    if len(word_map.words) <= _MAX_LABELLED:
        for (x, y), word in zip(xy, word_map.words):
            ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=8)
    for name, colour in legend.items():
        ax.scatter([], [], c=colour, label=name)
    if legend:
        ax.legend(loc="best", fontsize=8)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(word_map.title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def _html(word_map: WordMap) -> str:
    width, height, pad = 900, 640, 40
    xy = word_map.coords.astype(float)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    # One scale for both axes, so distances and angles on the page are those of the projection.
    scale = min((width - 2 * pad) / max(hi[0] - lo[0], 1e-12), (height - 2 * pad) / max(hi[1] - lo[1], 1e-12))
    px = pad + (xy[:, 0] - lo[0]) * scale
    py = height - pad - (xy[:, 1] - lo[1]) * scale
    colours, legend = _colours(word_map.groups)
    lines = [{"x1": px[i], "y1": py[i], "x2": px[j], "y2": py[j], "dashed": dashed} for i, j, dashed in word_map.arrows]
    points = [
        {"x": px[k], "y": py[k], "colour": colours[k], "word": word, "group": group, "tip": f"{word} ({group})" if group else word}
        for k, (word, group) in enumerate(zip(word_map.words, word_map.groups))
    ]
    return render(
        "word_map.html", title=word_map.title, width=width, height=height, legend=list(legend.items()),
        lines=lines, points=points, labelled=len(word_map.words) <= _MAX_LABELLED,
    )  # fmt: skip
