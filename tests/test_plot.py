"""Word maps (PCA, seeded t-SNE) as PNG and self-contained HTML; analogy parallelograms."""

import numpy as np
import pytest

from veclift.errors import VecliftError
from veclift.vectors import Vectors
from veclift.vectors import plot
from veclift.vectors.wordlists import read_groups, read_word_list


def _vectors(n=12, dim=6):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(n)]
    return Vectors(words, rng.normal(size=(n, dim)).astype(np.float32), source="toy")


def test_pca_map_png_and_html(tmp_path):
    v = _vectors()
    word_map = plot.word_map(v, ["w0", "W1"], groups={"odd": ["w3", "w5"], "even": ["w2"]}, method="pca")
    assert word_map.words == ["w0", "w1", "w3", "w5", "w2"]
    assert word_map.groups == ["", "", "odd", "odd", "even"]
    png = plot.save(word_map, tmp_path / "map.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = plot.save(word_map, tmp_path / "map.html").read_text()
    assert page.count("<circle") == 5 and "<title>w3</title>" in page and "odd" in page
    assert "<script src" not in page and "<link" not in page and "https://" not in page


def test_html_page_escapes_words_and_group_names(tmp_path):
    words = ["<script>alert(1)</script>", 'say "hi" & go', "w2", "w3"]
    v = Vectors(words, np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32), source="<b>src</b>")
    page = plot.save(plot.word_map(v, words, groups={"<i>g</i>": ["w2"]}, method="pca"), tmp_path / "map.html").read_text()
    assert "<script>alert" not in page and "<i>g</i>" not in page and "<b>src" not in page
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert 'data-tip="say &#34;hi&#34; &amp; go"' in page and 'data-group="&lt;i&gt;g&lt;/i&gt;"' in page
    assert page.count("<script>") == 1  # only the page's own tooltip script


def test_tsne_is_seeded_and_needs_enough_words():
    v = _vectors()
    a = plot.word_map(v, list(v.words), method="tsne", seed=3).coords
    b = plot.word_map(v, list(v.words), method="tsne", seed=3).coords
    np.testing.assert_array_equal(a, b)
    with pytest.raises(VecliftError, match="at least 5 words"):
        plot.word_map(v, ["w0", "w1", "w2"], method="tsne")


def test_absent_words_and_bad_output(tmp_path):
    v = _vectors()
    with pytest.raises(VecliftError, match="not in the vectors .*: nope, gone"):
        plot.word_map(v, ["w0", "nope", "gone"], method="pca")
    word_map = plot.word_map(v, ["w0", "w1"], method="pca")
    with pytest.raises(VecliftError, match="name the output .png or .html"):
        plot.save(word_map, tmp_path / "map.svg")


def test_parallelogram_of_an_exact_analogy():
    # Equal norms, so the unit vectors drawn still form an exact parallelogram.
    rows = {"man": [1, 0, 1, 0], "woman": [1, 0, 0, 1], "king": [0, 1, 1, 0], "queen": [0, 1, 0, 1]}
    v = Vectors(list(rows), np.array(list(rows.values()), dtype=np.float32), source="toy")
    word_map = plot.parallelogram(v, "man", "woman", "king", "queen")
    c = word_map.coords
    np.testing.assert_allclose(c[1] - c[0], c[3] - c[2], atol=1e-5)
    assert "man : woman :: king : queen" in word_map.title
    with pytest.raises(VecliftError, match="four different words"):
        plot.parallelogram(v, "man", "man", "king", "queen")


def test_groups_and_word_list_files(tmp_path):
    groups = tmp_path / "groups.txt"
    groups.write_text("fruit: apple pear\n# comment\nvehicles: car\n")
    assert read_groups(groups) == {"fruit": ["apple", "pear"], "vehicles": ["car"]}
    groups.write_text("fruit apple pear\n")
    with pytest.raises(VecliftError, match="groups.txt:1"):
        read_groups(groups)
    words = tmp_path / "words.txt"
    words.write_text("a b\nc\n")
    assert read_word_list(words) == ["a", "b", "c"]


def test_bias_axis_map_puts_the_direction_on_x():
    rows = {"she": [1, 1, 0], "he": [-1, 1, 0], "nurse": [0.5, 0, 1], "doctor": [0, 0.2, 1]}
    v = Vectors(list(rows), np.array(list(rows.values()), dtype=np.float32), source="toy")
    word_map = plot.bias_axis_map(v, np.array([1, 0, 0]), {"people": ["she", "he"], "jobs": ["nurse", "doctor"]})
    x = dict(zip(word_map.words, word_map.coords[:, 0]))
    assert x["she"] == pytest.approx(2 ** -0.5) and x["he"] == pytest.approx(-(2 ** -0.5)) and x["doctor"] == pytest.approx(0)
    assert word_map.groups == ["people", "people", "jobs", "jobs"]
