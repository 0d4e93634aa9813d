"""Reading and writing vector files: every format, detection, compression, and each kind of bad input."""

from __future__ import annotations

import bz2
import gzip
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from veclift.errors import VecliftError, VecliftWarning
from veclift.vectors import Vectors
from veclift.vectors.formats.registry import detect_format
from veclift.vectors.subword import SubwordModel

WORDS = ["the", "Apple", "naïve", "x"]
MATRIX = np.array(
    [[0.418, 0.24968, -0.41242], [1.0, -2.5, 3.25], [1e-5, 0.333333, -7.0], [0.0, 0.0, 0.5]], dtype=np.float32
)


def glove_text(words=WORDS, matrix=MATRIX) -> str:
    return "".join(w + " " + " ".join(repr(float(x)) for x in row) + "\n" for w, row in zip(words, matrix))


@pytest.fixture
def small() -> Vectors:
    return Vectors(WORDS, MATRIX, source="small")


def read_quiet(path, **kwargs) -> Vectors:
    return Vectors.load(path, progress=False, **kwargs)


@pytest.mark.parametrize("format", ["glove", "word2vec", "word2vec-binary"])
@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2"])
def test_write_then_read_round_trips_exactly(tmp_path, small, format, suffix):
    path = small.save(tmp_path / f"v.{format}{suffix}", format)
    assert detect_format(path) == format
    back = read_quiet(path)
    assert back.words == small.words
    np.testing.assert_array_equal(back.matrix, small.matrix)
    assert back.meta["format"] == format


def test_compressed_files_are_really_compressed(tmp_path, small):
    assert gzip.decompress(small.save(tmp_path / "v.txt.gz", "glove").read_bytes()).startswith(b"the ")
    assert bz2.decompress(small.save(tmp_path / "v.txt.bz2", "word2vec").read_bytes()).startswith(b"4 3\n")


def test_chunked_fast_path_matches_line_by_line(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(500)]
    matrix = rng.normal(size=(500, 7)).astype(np.float32)
    path = tmp_path / "v.txt"
    path.write_text(glove_text(words, matrix) + "odd  0 1 2 3 4 5 6\n")  # a double space forces the slow path
    monkeypatch.setattr("veclift.vectors.formats.text.CHUNK_BYTES", 1000)
    vectors = read_quiet(path)
    assert len(vectors) == 501 and vectors.words[:500] == tuple(words)
    np.testing.assert_array_equal(vectors.matrix[:500], matrix)
    np.testing.assert_array_equal(vectors.matrix[500], np.arange(7, dtype=np.float32))


def test_max_words_crlf_trailing_spaces_and_blank_lines(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"\na 1 2 \r\nb 3 4\r\n\nc 5 6\nd 7 8")
    assert read_quiet(path).words == ("a", "b", "c", "d")
    limited = read_quiet(path, max_words=2)
    assert limited.words == ("a", "b")
    np.testing.assert_array_equal(limited.matrix, [[1, 2], [3, 4]])


def test_words_with_spaces_take_all_but_the_last_dim_fields(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("the 1 2\n. . . 3 4\nat name@x.com 5 6\n")
    vectors = read_quiet(path)
    assert vectors.words == ("the", ". . .", "at name@x.com")
    np.testing.assert_array_equal(vectors["at name@x.com"], [5, 6])


def test_explicit_format_and_unknown_format(tmp_path, small):
    path = small.save(tmp_path / "v.vec", "word2vec")
    assert read_quiet(path, format="fasttext-vec").words == small.words
    with pytest.raises(VecliftError, match="unknown or unsupported vector format 'glove2'"):
        read_quiet(path, format="glove2")
    with pytest.raises(VecliftError, match=r"reads but does not write 'fasttext-bin' \(choose from native, word2vec, glove, word2vec-binary\)"):
        small.save(tmp_path / "x", "fasttext-bin")


@pytest.mark.parametrize(
    "content, message, line",
    [
        ("a 1 2 3\nb 1 2\n", r"row has 2 values, expected 3", 2),
        ("a 1 2 3\nb 1 2 3 4\n", r"row has 4 values, expected 3", 2),
        ("2 3\na 1 2 3\nb 1 2\n", r"row has 2 values, expected 3 \(the header's dimension\)", 3),
        ("a 1 2 3\nb 1 x 3\n", r"non-numeric value 'x'", 2),
        ("a 1 2 3\nb 1 2 nan3\n", r"non-numeric value 'nan3'", 2),
        ("a\n", r"row has no values", 1),
    ],
)
def test_bad_text_rows_name_the_line(tmp_path, content, message, line):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(VecliftError, match=message) as caught:
        read_quiet(path)
    assert caught.value.path == str(path) and caught.value.line == line
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(VecliftError, match="empty file"):
        read_quiet(path)


def test_header_only_has_no_vectors(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("0 3\n")
    with pytest.raises(VecliftError, match="no vectors"), warnings.catch_warnings():
        warnings.simplefilter("ignore", VecliftWarning)
        read_quiet(path, format="word2vec")


def test_header_that_lies_about_the_count(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("1 2\na 1 2\nb 3 4\n")
    with pytest.warns(VecliftWarning, match="header says 1 words but the file has 2 rows"):
        assert len(read_quiet(path)) == 2
    path.write_text("5 2\na 1 2\nb 3 4\n")
    with pytest.raises(VecliftError, match=r"header says 5 words but the file ends after 2 rows \(truncated\?\)") as caught:
        read_quiet(path)
    assert caught.value.line == 1
    assert len(read_quiet(path, max_words=2)) == 2


def test_duplicates_keep_the_first_and_warn_once_with_the_count(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("a 1 2\nb 3 4\na 5 6\nb 7 8\nc 9 9\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectors = read_quiet(path)
    messages = [str(w.message) for w in caught if w.category is VecliftWarning]
    assert len(messages) == 1 and "2 duplicate words ignored" in messages[0]
    assert vectors.words == ("a", "b", "c")
    np.testing.assert_array_equal(vectors["a"], [1, 2])


@pytest.mark.parametrize("format", ["glove", "word2vec-binary"])
def test_invalid_utf8_words_are_replaced_with_a_warning(tmp_path, format):
    path = tmp_path / "v"
    if format == "glove":
        path.write_bytes(b"ok 1 2\nbad\xff\xfe 3 4\n")
    else:
        row = np.array([3, 4], "<f4").tobytes()
        path.write_bytes(b"2 2\nok " + row + b"\nbad\xe2\x82 " + row + b"\n")
    with pytest.warns(VecliftWarning, match="1 words are not valid UTF-8"):
        vectors = read_quiet(path)
    assert vectors.words[1].startswith("bad") and "\ufffd" in vectors.words[1]


def test_truncated_binary_file_is_an_error(tmp_path, small):
    path = small.save(tmp_path / "v.bin", "word2vec-binary")
    path.write_bytes(path.read_bytes()[:-9])
    with pytest.raises(VecliftError, match="file ends inside row 4 of the 4 the header announces"):
        read_quiet(path)


def test_binary_with_extra_data_warns(tmp_path, small):
    path = small.save(tmp_path / "v.bin", "word2vec-binary")
    data = path.read_bytes().replace(b"4 3\n", b"3 3\n", 1)
    path.write_bytes(data)
    with pytest.warns(VecliftWarning, match="data after the 3 rows"):
        assert len(read_quiet(path)) == 3


def test_binary_writer_refuses_words_with_spaces(tmp_path):
    with pytest.raises(VecliftError, match="word2vec binary cannot store it"):
        Vectors(["a b"], MATRIX[:1]).save(tmp_path / "v.bin", "word2vec-binary")


def test_writer_is_atomic_on_error(tmp_path):
    target = tmp_path / "v.txt"
    target.write_text("old\n")
    with pytest.raises(VecliftError):
        Vectors(["ok", "line\nbreak"], MATRIX[:2]).save(target, "glove")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["v.txt"]


def _tiny_fasttext(tmp_path):
    from gensim.models import FastText

    sentences = [["apple", "orange", "banana", "fruit", "juice"], ["apple", "pie", "orange", "juice"]] * 20
    return FastText(sentences, vector_size=8, min_count=1, epochs=2, bucket=500, min_n=3, max_n=4, seed=1, workers=1)


def test_fasttext_bin_keeps_subwords_and_native_round_trip(tmp_path):
    from gensim.models.fasttext import save_facebook_model

    model = _tiny_fasttext(tmp_path)
    path = tmp_path / "model.bin"
    save_facebook_model(model, str(path))
    assert detect_format(path) == "fasttext-bin"
    vectors = read_quiet(path)
    assert vectors.subwords is not None and vectors.subwords.bucket == 500
    assert set(vectors.words) == set(model.wv.index_to_key)
    np.testing.assert_allclose(vectors.subwords.vector("applejuice"), model.wv["applejuice"], rtol=1e-5, atol=1e-6)
    native = vectors.save(tmp_path / "native")
    reopened = Vectors.load(native)
    assert isinstance(reopened.subwords, SubwordModel)
    np.testing.assert_array_equal(reopened.subwords.vector("applejuice"), vectors.subwords.vector("applejuice"))
    assert json.loads((native / "meta.json").read_text())["subwords"] is True


def test_truncated_fasttext_bin_is_an_error(tmp_path):
    from gensim.models.fasttext import save_facebook_model

    path = tmp_path / "model.bin"
    save_facebook_model(_tiny_fasttext(tmp_path), str(path))
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(VecliftError, match="file ends inside the input matrix"):
        read_quiet(path)


def test_gensim_keyed_vectors_and_models(tmp_path, small):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(3)
    kv.add_vectors(list(small.words), small.matrix)
    kv.save(str(tmp_path / "v.kv"))
    assert detect_format(tmp_path / "v.kv") == "gensim"
    with pytest.raises(VecliftError, match="is a Python pickle"):
        read_quiet(tmp_path / "v.kv")
    vectors = read_quiet(tmp_path / "v.kv", max_words=2, allow_pickle=True)
    assert vectors.words == ("the", "Apple")
    model = _tiny_fasttext(tmp_path)
    model.save(str(tmp_path / "ft.model"))
    assert read_quiet(tmp_path / "ft.model", allow_pickle=True).subwords is not None


def test_subword_model_without_ngrams_gives_none():
    model = SubwordModel(np.ones((10, 2), np.float32), min_n=3, max_n=2, bucket=10)
    assert model.vector("word") is None


def test_spacy_missing_gives_a_clear_error():
    try:
        import spacy  # noqa: F401
    except ImportError:
        with pytest.raises(VecliftError, match="needs spaCy: pip install spacy"):
            read_quiet("es_core_news_md", format="spacy")
    else:
        with pytest.raises(VecliftError, match="cannot load the spaCy pipeline"):
            read_quiet("no_such_pipeline_xyz", format="spacy")


def _cli():
    import veclift.cli

    veclift.cli._register()
    return veclift.cli.app


def test_cli_info_and_convert(tmp_path, small):
    source = small.save(tmp_path / "v.txt", "glove")
    runner = CliRunner()
    result = runner.invoke(_cli(), ["vectors", "info", str(source), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["count"] == 4 and report["dim"] == 3 and report["format"] == "glove"
    assert report["sample"] == list(WORDS) and report["subwords"] is False
    result = runner.invoke(_cli(), ["vectors", "convert", str(source), str(tmp_path / "out.bin"), "--to", "word2vec-binary", "--max-words", "2"])
    assert result.exit_code == 0, result.output
    assert read_quiet(tmp_path / "out.bin").words == ("the", "Apple")


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2\nb 1\n")
    result = subprocess.run([sys.executable, "-m", "veclift", "vectors", "info", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"error: {bad}:2: row has 1 values, expected 2 (the row at line 1 has 2)"
    result = subprocess.run([sys.executable, "-m", "veclift", "vectors", "convert", str(bad), str(tmp_path / "o"), "--to", "xml"], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith("error: unknown output format 'xml'")


def test_text_reader_matches_gensim_exactly(tmp_path):
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(300)]
    path = tmp_path / "v.txt"
    path.write_text("".join(w + " " + " ".join(f"{x:.6f}" for x in row) + "\n" for w, row in zip(words, rng.normal(size=(300, 5)))))
    ours = read_quiet(path)
    theirs = KeyedVectors.load_word2vec_format(str(path), no_header=True)
    assert list(ours.words) == theirs.index_to_key
    np.testing.assert_array_equal(ours.matrix, theirs.vectors)


def test_missing_file_is_not_mistaken_for_a_spacy_package(tmp_path):
    with pytest.raises(VecliftError, match="no such file"):
        read_quiet("glove_typo")


def test_cli_download_uses_the_named_source(tmp_path, monkeypatch):
    from veclift.vectors import download as dl

    monkeypatch.setenv("VECLIFT_HOME", str(tmp_path))
    calls = []
    monkeypatch.setattr(dl, "download", lambda name, sha256=None: calls.append((name, sha256)) or tmp_path / "v.txt")
    result = CliRunner().invoke(_cli(), ["vectors", "download", "glove-6b-100d", "--sha256", "ab"])
    assert result.exit_code == 0 and calls == [("glove-6b-100d", "ab")]
    assert result.stdout.strip() == str(tmp_path / "v.txt")


def test_truncated_gzip_is_an_error(tmp_path, small):
    path = small.save(tmp_path / "v.txt.gz", "glove")
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(VecliftError, match=r"cannot read \(gzip data\)"):
        read_quiet(path)


@pytest.fixture
def toy_format():
    """A format defined here: a JSON object ``{"word": [floats]}`` in a ``.toyvec`` file, registered for one test."""
    from veclift.atomic import atomic_path
    from veclift.vectors.formats.registry import VectorFormat, register, unregister

    def read(path, options):
        rows = json.loads(path.read_text(encoding="utf-8"))
        words = list(rows)[: options.max_words]
        return Vectors(words, np.array([rows[w] for w in words], np.float32), source=str(path), meta={"format": "toyvec"})

    def write(vectors, path, *, overwrite=False):
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.write_text(json.dumps({w: vectors[w].tolist() for w in vectors.words}), encoding="utf-8")
        return path

    register(VectorFormat("toyvec", "JSON word -> list of floats", read=read, write=write, suffixes=(".toyvec",)))
    yield
    unregister("toyvec")


def test_a_format_registered_from_outside_is_detected_read_written_and_listed(tmp_path, small, toy_format):
    from veclift.vectors.formats.registry import formats, writable

    path = tmp_path / "v.toyvec"
    path.write_text(json.dumps(dict(zip(WORDS, MATRIX.tolist()))), encoding="utf-8")
    assert detect_format(path) == "toyvec" and "toyvec" in writable()
    vectors = Vectors.load(path, max_words=3)
    assert vectors.words == tuple(WORDS[:3]) and vectors.meta["format"] == "toyvec"
    np.testing.assert_array_equal(vectors.matrix, MATRIX[:3])
    runner = CliRunner()
    result = runner.invoke(_cli(), ["vectors", "info", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == "toyvec" and json.loads(result.stdout)["count"] == 4
    result = runner.invoke(_cli(), ["vectors", "convert", str(tmp_path / "v.toyvec"), str(tmp_path / "v.txt"), "--to", "glove"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(_cli(), ["vectors", "convert", str(tmp_path / "v.txt"), str(tmp_path / "back.toyvec"), "--to", "toyvec"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(Vectors.load(tmp_path / "back.toyvec").matrix, MATRIX)
    assert [f.name for f in formats()][-1] == "toyvec"


def test_unregistered_formats_are_gone_and_names_cannot_be_taken(tmp_path, small):
    from veclift.vectors.formats.registry import VectorFormat, formats, register

    assert "toyvec" not in [f.name for f in formats()]  # the fixture above cleaned up
    path = tmp_path / "v.toyvec"
    path.write_text("the 1 2\n")
    assert detect_format(path) == "glove"
    with pytest.raises(ValueError, match="'vec' is already taken by 'word2vec'"):
        register(VectorFormat("mine", "", aliases=("vec",)))
    with pytest.raises(VecliftError, match="unknown output format 'toyvec'"):
        small.save(tmp_path / "x.toyvec", "toyvec")


def test_native_directories_keep_the_row_norms_and_old_ones_still_open(tmp_path, small):
    native = small.save(tmp_path / "native")
    reopened = Vectors.load(native)
    assert isinstance(reopened.__dict__["norms"], np.memmap)  # read, not computed
    np.testing.assert_array_equal(reopened.norms, np.linalg.norm(MATRIX, axis=1))
    (native / "norms.npy").unlink()  # as written before veclift stored them
    old = Vectors.load(native)
    assert "norms" not in old.__dict__
    assert old.most_similar("the", topn=3) == reopened.most_similar("the", topn=3)
    np.testing.assert_array_equal(old.norms, reopened.norms)
    assert Vectors.load(native, max_words=2).norms.shape == (2,)


def test_a_builtin_cache_without_norms_gets_them_on_its_next_open(tmp_path, monkeypatch, small):
    from veclift.vectors.builtin import builtin_path

    monkeypatch.setenv("VECLIFT_HOME", str(tmp_path))
    cache = small.save(builtin_path("glove-6b-50d"))  # stands in for a cache converted by an older veclift
    (cache / "norms.npy").unlink()
    vectors = Vectors.load("glove-6b-50d")
    assert (cache / "norms.npy").is_file() and isinstance(vectors.__dict__["norms"], np.memmap)
    np.testing.assert_array_equal(vectors.norms, np.linalg.norm(MATRIX, axis=1))
    assert sorted(p.name for p in cache.iterdir()) == [".veclift", "meta.json", "norms.npy", "vectors.npy", "words.txt"]


def _native(tmp_path, n=300, dim=8):
    rng = np.random.default_rng(0)
    Vectors([f"w{i}" for i in range(n)], rng.normal(size=(n, dim)).astype(np.float32)).save(tmp_path / "nat")
    return tmp_path / "nat"


def test_a_cut_load_does_not_keep_the_full_sets_digest(tmp_path):
    """The char n-gram cache is keyed on the digest: a 10-word load must not pose as the full set."""
    path = _native(tmp_path)
    assert "sha256" in Vectors.load(path).meta
    cut = Vectors.load(path, max_words=10)
    assert len(cut) == 10 and "sha256" not in cut.meta and "count" not in cut.meta


def test_stored_norms_of_a_folder_from_elsewhere_are_checked_on_every_row(tmp_path):
    path = _native(tmp_path)
    norms = np.load(path / "norms.npy")
    norms[157] *= 3  # not one of the rows a sample would hit first
    np.save(path / "norms.npy", norms)
    with pytest.raises(VecliftError, match="norms do not match"):
        Vectors.load(path)
