"""Readers against hostile files: no pickle runs, NaN/inf refused or dropped, lying headers refused before
allocating, corrupt compression, broken native directories, undecodable data, and no regex that takes
quadratic time on long input. Every failure must be one `VecliftError` line naming the file."""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import os
import pickle
import struct
import time
import tracemalloc
import warnings

import numpy as np
import pytest

from veclift.errors import VecliftError, VecliftWarning
from veclift.vectors import Vectors

WORDS = ["the", "apple", "pie", "x"]
MATRIX = np.arange(12, dtype=np.float32).reshape(4, 3) / 7


class Payload:
    """Unpickling this runs code: ``os.system`` or ``open`` creates the marker file."""

    def __init__(self, marker, how):
        self.marker, self.how = str(marker), how

    def __reduce__(self):
        if self.how == "system":
            return (os.system, (f"touch '{self.marker}'",))
        return (open, (self.marker, "w"))


def load(path, **kwargs) -> Vectors:
    return Vectors.load(path, progress=False, **kwargs)


def refused(path, match: str, **kwargs) -> VecliftError:
    with pytest.raises(VecliftError, match=match) as caught:
        load(path, **kwargs)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path))
    return caught.value


def small() -> Vectors:
    return Vectors(WORDS, MATRIX, source="small")


# --- 1. no pickle from content ----------------------------------------------------------------
@pytest.mark.parametrize("how", ["system", "open"])
@pytest.mark.parametrize(
    "name, allow",
    [("vectors.txt", False), ("vectors.txt", True), ("vectors.bin", False), ("vectors.bin", True), ("vectors.vec", True),
     ("vectors.kv", False), ("vectors.model", False), ("vectors.kv.gz", True), ("vectors.txt.bz2", False)],
)  # fmt: skip
def test_a_pickle_never_runs_without_consent_and_a_gensim_name(tmp_path, name, allow, how):
    marker = tmp_path / "MARKER"
    data = pickle.dumps(Payload(marker, how), protocol=2)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else bz2.compress(data) if name.endswith(".bz2") else data)
    error = refused(path, "is a Python pickle.*name it .kv/.model and convert it once with .*--allow-pickle", allow_pickle=allow)
    assert error.path == str(path)
    with pytest.raises(VecliftError, match="is a Python pickle"):
        load(path, format="gensim", allow_pickle=allow)
    assert not marker.exists()


def test_trusted_gensim_keyed_vectors_load_only_with_allow_pickle(tmp_path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(3)
    kv.add_vectors(WORDS, MATRIX)
    kv.save(str(tmp_path / "vectors.kv"))
    refused(tmp_path / "vectors.kv", "is a Python pickle")
    vectors = load(tmp_path / "vectors.kv", allow_pickle=True)
    assert vectors.words == tuple(WORDS)
    np.testing.assert_array_equal(vectors.matrix, MATRIX)
    (tmp_path / "vectors.kv").rename(tmp_path / "vectors.bin")
    refused(tmp_path / "vectors.bin", "is a Python pickle", allow_pickle=True)


def test_native_matrix_that_is_an_object_pickle_is_never_unpickled(tmp_path):
    marker = tmp_path / "MARKER"
    native = small().save(tmp_path / "native")
    array = np.empty((4, 3), dtype=object)
    array[0, 0] = Payload(marker, "open")
    np.save(native / "vectors.npy", array, allow_pickle=True)
    refused(native, "cannot open the matrix")
    assert not marker.exists()


# --- 2. NaN and infinity ------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "-inf", "Infinity", "1e39"])
@pytest.mark.parametrize("header", [False, True])
def test_nonfinite_text_row_names_the_line_or_is_dropped_with_one_warning(tmp_path, value, header):
    path = tmp_path / "v.txt"
    path.write_text(("3 2\n" if header else "") + f"a 1 2\nb 3 {value}\nc 5 6\n")
    error = refused(path, r"NaN or infinite value.*nonfinite='drop'")
    assert error.line == 2 + header
    with pytest.warns(VecliftWarning, match="1 vector rows with NaN or infinite values dropped") as caught:
        vectors = load(path, nonfinite="drop")
    assert len(caught) == 1 and vectors.words == ("a", "c")


def test_nonfinite_binary_row_names_the_row(tmp_path):
    matrix = MATRIX.copy()
    matrix[2, 1] = np.inf
    path = Vectors(WORDS, matrix).save(tmp_path / "v.bin", "word2vec-binary")
    refused(path, "vector row 3 has a NaN")
    with pytest.warns(VecliftWarning, match="1 vector rows .* dropped, the first at row 3"):
        assert load(path, nonfinite="drop").words == ("the", "apple", "x")


def _fasttext_model():
    from gensim.models.fasttext import FastText

    sentences = [["apple", "orange", "banana", "pie"]] * 10
    return FastText(sentences, vector_size=4, min_count=1, epochs=1, bucket=50, min_n=3, max_n=4, seed=1, workers=1)


def test_nonfinite_fasttext_word_row_or_ngram_bucket(tmp_path):
    from gensim.models.fasttext import save_facebook_model

    model = _fasttext_model()
    model.wv.vectors_vocab[1, 0] = np.nan
    save_facebook_model(model, str(tmp_path / "words.bin"))
    refused(tmp_path / "words.bin", "vector row 2 has a NaN")
    with pytest.warns(VecliftWarning, match="1 vector rows"):
        assert len(load(tmp_path / "words.bin", nonfinite="drop")) == 3
    model = _fasttext_model()
    model.wv.vectors_ngrams[7] = np.inf
    save_facebook_model(model, str(tmp_path / "ngrams.bin"))
    refused(tmp_path / "ngrams.bin", "n-gram bucket 7 has a NaN or infinite value", nonfinite="drop")


def test_nonfinite_native_matrix_is_refused_or_dropped(tmp_path):
    matrix = MATRIX.copy()
    matrix[0, 0] = np.nan
    with pytest.raises(VecliftError, match="vector row 1 has a NaN"):
        Vectors(WORDS, matrix).save(tmp_path / "refused")  # veclift never writes one
    assert not (tmp_path / "refused").exists()
    native = Vectors(WORDS, MATRIX).save(tmp_path / "native")
    np.save(native / "vectors.npy", matrix)  # as a directory from elsewhere may hold
    refused(native, "vector row 1 has a NaN")
    with pytest.warns(VecliftWarning, match="1 vector rows"):
        assert load(native, nonfinite="drop").words == tuple(WORDS[1:])


def test_nonfinite_option_is_checked(tmp_path):
    path = small().save(tmp_path / "v.txt", "glove")
    with pytest.raises(VecliftError, match="nonfinite must be one of error, drop, got 'skip'"):
        load(path, nonfinite="skip")


# --- 3. lying headers -----------------------------------------------------------------------------
def _peak_mib(read) -> float:
    tracemalloc.start()
    try:
        read()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 2**20


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("a.bin", b"1000000000 3\nthe " + bytes(12) + b"\n", "file ends inside row 2 of the 1000000000"),
        ("b.bin", b"2 1000000000\nthe " + bytes(12), "dimension 1,000,000,000, above the 65,536"),
        ("c.bin", b"2 60000\nthe " + bytes(12), "one row of it needs at least 240,000 bytes and the file has 16"),
        ("d.bin.gz", gzip.compress(b"1000000000 60000\nthe " + bytes(12), mtime=0), "file ends inside row 1"),
        ("e.vec", b"1000000000 1000000000\nthe 1 2 3\n", "dimension 1,000,000,000"),
        ("f.vec", b"2 50000\nthe 1 2 3\n", "dimension 50,000, but one row"),
        ("g.vec", b"2 3\nthe 1 2 3\nx 1 2\n", r"row has 2 values, expected 3 \(the header's dimension\)"),
        ("h.vec", b"2 2\nthe 1 2 3\nx 1 2\n", r"row has 3 values, expected 2"),
    ],
)
def test_lying_word2vec_header_is_refused_fast_and_small(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    start = time.perf_counter()
    assert _peak_mib(lambda: refused(path, match)) < 64
    assert time.perf_counter() - start < 5


def test_lying_count_in_a_compressed_binary_reads_only_what_is_there(tmp_path):
    path = tmp_path / "v.bin.bz2"
    path.write_bytes(bz2.compress(b"1000000000 3\n" + (b"w " + bytes(12)) * 1000))
    assert _peak_mib(lambda: refused(path, "file ends inside row 1001")) < 64


def _fasttext_bin(tmp_path) -> bytes:
    from gensim.models.fasttext import save_facebook_model

    save_facebook_model(_fasttext_model(), str(tmp_path / "model.bin"))
    return (tmp_path / "model.bin").read_bytes()


@pytest.mark.parametrize(
    "offset, value, match",
    [
        (8, 2**31 - 1, "dimension 2,147,483,647, above"),  # dim
        (8, 0, "dimension 0"),
        (40, 2**31 - 1, r"input matrix is \d+ x 4, expected"),  # bucket
        (40, -5, "-5 n-gram buckets"),
        (44, -1, "n-gram lengths -1..4"),  # minn
        (48, 2**30, "n-gram lengths 3..1073741824"),  # maxn
        (64, 2**31 - 1, r"file ends inside the dictionary \(word 25 of 2,147,483,647\)"),  # dictionary size
        (68, 2**31 - 1, "dictionary claims"),  # words
        (72, 3, "supervised"),  # labels
    ],
)
def test_lying_fasttext_header_is_refused_before_gensim_reads_it(tmp_path, offset, value, match):
    data = bytearray(_fasttext_bin(tmp_path))
    data[offset : offset + 4] = struct.pack("<i", value)
    path = tmp_path / "lying.bin"
    path.write_bytes(bytes(data))
    assert _peak_mib(lambda: refused(path, match)) < 64


def test_fasttext_matrix_header_and_every_truncation(tmp_path):
    data = _fasttext_bin(tmp_path)
    path = tmp_path / "cut.bin"
    slowest = 0.0
    for cut in range(0, len(data), 7):  # gensim alone loops forever when the file ends inside a word
        path.write_bytes(data[:cut])
        start = time.perf_counter()
        try:
            load(path)
        except VecliftError as error:
            assert "\n" not in str(error)
        slowest = max(slowest, time.perf_counter() - start)
    assert slowest < 2
    quantized = bytearray(data)
    rows_at = data.index(struct.pack("<2q", 4 + 50, 4), data.index(b"banana\0"))  # words + buckets, dim
    quantized[rows_at - 1] = 1
    path.write_bytes(bytes(quantized))
    refused(path, "quantized fastText model")
    huge = bytearray(data)
    huge[rows_at : rows_at + 16] = struct.pack("<2q", 2**40, 4)
    path.write_bytes(bytes(huge))
    refused(path, "input matrix is 1099511627776 x 4")


def test_fasttext_suffix_gensim_cannot_decompress_is_refused(tmp_path):
    path = tmp_path / "model.bin.gzip"
    path.write_bytes(gzip.compress(_fasttext_bin(tmp_path)))
    refused(path, "rename the file to .gz")


# --- 4. corrupt compression ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, content",
    [
        ("v.txt.gz", b"\x1f\x8b\x08\x00" + bytes(range(40))),
        ("v.txt.gz", b"this is not gzip at all"),
        ("v.bin.gz", gzip.compress(b"2 3\n" + bytes(range(256)), mtime=0)[:-9]),
        ("v.txt.bz2", b"BZh9" + b"\x31\x41\x59\x26" * 10),
        ("v.txt.bz2", bz2.compress(b"a 1 2\n" * 100)[:-5]),
        ("v.txt.gz", gzip.compress(bytes(range(256)) * 4, mtime=0)),
        ("v.bin.gz", gzip.compress(b"a 1 2\n", mtime=0) + b"trailing garbage"),
    ],
)
def test_corrupt_compressed_vector_file_is_one_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    refused(path, ".")


# --- 5. native directories --------------------------------------------------------------------------
def _native(tmp_path, subwords: bool = False):
    vectors = small()
    if subwords:
        from veclift.vectors.subword import SubwordModel

        vectors = Vectors(WORDS, MATRIX, subwords=SubwordModel(np.ones((5, 3), np.float32), 3, 4, 5))
    return vectors.save(tmp_path / "native")


def _write_npz(path) -> None:
    with open(path, "wb") as out:
        np.savez(out, a=MATRIX)


NATIVE_DEFECTS = {
    "meta-not-json": (lambda n: (n / "meta.json").write_text("{not json"), "meta.json:1: cannot read the vectors' metadata"),
    "meta-deep": (lambda n: (n / "meta.json").write_text("[" * 100_000), "meta.json"),
    "meta-list": (lambda n: (n / "meta.json").write_text("[1, 2]"), "metadata must be a JSON object"),
    "meta-bad-utf8": (lambda n: (n / "meta.json").write_bytes(b'{"source": "\xff"}'), "meta.json"),
    "meta-source-type": (lambda n: (n / "meta.json").write_text('{"source": [1]}'), "field 'source' must be a str"),
    "meta-digest-path": (lambda n: (n / "meta.json").write_text('{"sha256": "../../../../etc"}'), "not a SHA-256"),
    "meta-dim-wrong": (lambda n: (n / "meta.json").write_text('{"dim": 300}'), "metadata gives dim 300"),
    "npy-float64": (lambda n: np.save(n / "vectors.npy", MATRIX.astype(np.float64)), "float64 of shape"),
    "npy-1d": (lambda n: np.save(n / "vectors.npy", np.ones(12, np.float32)), "expected a 2-D float32"),
    "npy-big-endian": (lambda n: np.save(n / "vectors.npy", MATRIX.astype(">f4")), "expected a 2-D float32"),
    "npy-garbage": (lambda n: (n / "vectors.npy").write_bytes(b"\x93NUMPY\x01\x00" + bytes(200)), "cannot open the matrix"),
    "npy-lying-shape": (lambda n: (n / "vectors.npy").write_bytes(
        b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 300), }".ljust(128, b" ")[:127] + b"\n"),
        "cannot open the matrix"),  # fmt: skip
    "npz": (lambda n: _write_npz(n / "vectors.npy"), ".npz archive"),
    "norms-count": (lambda n: np.save(n / "norms.npy", np.ones(3, np.float32)), "3 row norms for 4 rows"),
    "norms-2d": (lambda n: np.save(n / "norms.npy", np.ones((4, 1), np.float32)), "expected a 1-D float32"),
    "norms-stale": (lambda n: np.save(n / "norms.npy", np.full(4, 2.0, np.float32)), "row norms do not match the matrix"),
    "norms-nan": (lambda n: np.save(n / "norms.npy", np.full(4, np.nan, np.float32)), "row norms do not match the matrix"),
    "words-fewer": (lambda n: (n / "words.txt").write_text("the\napple\n"), "2 words but the matrix has shape"),
    "words-bad-utf8": (lambda n: (n / "words.txt").write_bytes(b"the\n\xff\npie\nx\n"), "not valid UTF-8"),
}


@pytest.mark.parametrize("defect", sorted(NATIVE_DEFECTS))
def test_broken_native_directory_is_one_error(tmp_path, defect):
    change, match = NATIVE_DEFECTS[defect]
    native = _native(tmp_path)
    change(native)
    start = time.perf_counter()
    assert _peak_mib(lambda: refused(native, match)) < 64
    assert time.perf_counter() - start < 5


SUBWORD_DEFECTS = {
    "config-not-json": (lambda s: (s / "subwords.json").write_text("{"), "cannot read the subword settings"),
    "config-list": (lambda s: (s / "subwords.json").write_text("[]"), "expected a JSON object"),
    "config-huge-max-n": (lambda s: (s / "subwords.json").write_text('{"min_n": 3, "max_n": 100000000, "bucket": 5}'), r"n-gram lengths 3..100000000"),
    "config-bucket-text": (lambda s: (s / "subwords.json").write_text('{"min_n": 3, "max_n": 4, "bucket": "5"}'), "bucket '5'"),
    "ngrams-rows": (lambda s: np.save(s / "ngrams.npy", np.ones((4, 3), np.float32)), "4 n-gram rows but"),
    "ngrams-dim": (lambda s: np.save(s / "ngrams.npy", np.ones((5, 2), np.float32)), "n-gram vectors have 2 dimensions"),
    "ngrams-nan": (lambda s: np.save(s / "ngrams.npy", np.full((5, 3), np.nan, np.float32)), "n-gram bucket 0 has a NaN"),
    "ngrams-missing": (lambda s: (s / "ngrams.npy").unlink(), "cannot open the matrix"),
}


@pytest.mark.parametrize("defect", sorted(SUBWORD_DEFECTS))
def test_broken_native_subwords_are_one_error(tmp_path, defect):
    change, match = SUBWORD_DEFECTS[defect]
    native = _native(tmp_path, subwords=True)
    change(native / "subwords")
    refused(native, match)


@pytest.mark.parametrize("name", ["vectors.npy", "norms.npy", "words.txt", "meta.json", "subwords", "subwords/ngrams.npy"])
def test_native_files_linking_outside_the_directory_are_refused(tmp_path, name):
    native = _native(tmp_path, subwords=True)
    outside = tmp_path / "outside"
    (native / name).rename(outside)
    (native / name).symlink_to(outside)
    refused(native, "links outside the folder")


def test_links_inside_a_native_directory_are_fine(tmp_path):
    native = _native(tmp_path)
    (native / "words.txt").rename(native / "real-words.txt")
    (native / "words.txt").symlink_to("real-words.txt")
    assert load(native).words == tuple(WORDS)


# --- 6. data and corpus readers -------------------------------------------------------------------
def test_data_readers_refuse_undecodable_and_hostile_json_with_the_line(tmp_path):
    from veclift.data import read_conll, read_labeled_jsonl, read_table, read_tagged_jsonl

    cases = [
        (read_conll, "a.conll", b"John B-PER\n\xff\xfe O\n", 2),
        (read_table, "a.tsv", b"label\ttext\npos\tgood\nneg\tb\xc3\n", 3),
        (read_tagged_jsonl, "a.jsonl", b'{"tokens": ["a"], "tags": ["O"]}\n' + b"[" * 100_000 + b"\n", 2),
        (read_labeled_jsonl, "b.jsonl", b'{"text": "a", "label": ' + b"1" * 5000 + b"}\n", 1),
    ]
    for reader, name, content, line in cases:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(VecliftError) as caught:
            reader(path)
        assert caught.value.path == str(path) and caught.value.line == line and "\n" not in str(caught.value)


def test_corpus_readers_on_random_pdf_corrupt_gzip_and_hostile_json(tmp_path, caplog):
    from veclift.pretrain.corpus import Corpus

    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(bytes(range(256)) * 8)
    good = tmp_path / "good.txt"
    good.write_text("Hello there. It works.\n")
    corpus = Corpus([pdf, good])
    with caplog.at_level(logging.DEBUG), pytest.warns(VecliftWarning, match="skipped: unreadable PDF"):
        assert list(corpus) == [["Hello", "there", "."], ["It", "works", "."]]
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert str(pdf) in corpus.skipped
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(gzip.compress(b"some text here\n" * 100)[:-20])
    deep = tmp_path / "deep.jsonl"
    deep.write_bytes(b"[" * 100_000 + b"\n")
    for path in (broken, deep):
        with pytest.raises(VecliftError) as caught:
            list(Corpus([path]))
        assert caught.value.path == str(path) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text", ["http://" + "." * 200_000 + "a", "!" * 200_000 + "a", "x" * 200_000 + " y. Z", "a." * 100_000, '."' * 100_000]
)
def test_tokenizer_and_sentence_splitter_are_linear_on_long_input(text):
    from veclift.data.tokenize import tokenize
    from veclift.pretrain.corpus import split_sentences

    start = time.perf_counter()
    tokenize(text)
    split_sentences(text)
    assert time.perf_counter() - start < 2


def test_url_tokens_unchanged_by_the_linear_pattern():
    from veclift.data.tokenize import tokenize

    assert tokenize("see http://a.b/c?d=1). and https://x.y/z...") == ["see", "http://a.b/c?d=1", ")", ".", "and", "https://x.y/z", "..."]
    assert tokenize("http://...") == ["http://.", ".."]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert json.loads(json.dumps(tokenize("http://x"))) == ["http://x"]


@pytest.mark.parametrize(
    "config, weights, match",
    [
        ({"min_n": 3, "max_n": 10**9, "seed": 0}, np.zeros((8, 3), np.float32), r"bad n-gram sizes 3..1000000000"),
        ({"min_n": 3, "max_n": 6, "seed": 0}, np.full((8, 3), np.nan, np.float32), "non-empty finite float32"),
        ({"min_n": 3, "max_n": 6, "seed": 0}, np.zeros(8, np.float64), "non-empty finite float32"),
        ([1, 2], np.zeros((8, 3), np.float32), "cannot read the character n-gram model"),
    ],
)
def test_broken_char_ngram_model_is_one_error(tmp_path, config, weights, match):
    from safetensors.numpy import save_file

    from veclift.vectors.charngram import CharNgramModel

    save_file({"weights": weights}, str(tmp_path / "char_ngram.safetensors"))
    (tmp_path / "char_ngram.json").write_text(json.dumps(config))
    with pytest.raises(VecliftError, match=match) as caught:
        CharNgramModel.load(tmp_path)
    assert "\n" not in str(caught.value)
