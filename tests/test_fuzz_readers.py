"""Property-based fuzzing of every reader: random bytes, valid small files cut at any offset, and valid
files with random bytes replaced (headers and rows alike). Whatever the bytes, a reader either
succeeds or raises a one-line `VecliftError`; it warns only with `VecliftWarning`, and it never hangs
(each read runs under an alarm)."""

from __future__ import annotations

import contextlib
import gzip
import io
import shutil
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from veclift.errors import VecliftError, VecliftWarning  # noqa: E402

SECONDS_PER_READ = 5
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)


@dataclass
class Case:
    """A valid small input and the ways to read it; ``target`` is the file (inside ``root``) the fuzz replaces."""

    data: bytes = field(repr=False)
    reads: tuple[Callable[[Path], object], ...] = field(repr=False)
    target: str
    root: Path | None = None  # a directory copied for each example (native vectors, label folders)


class Hang(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: int):
    """Raise `Hang` in the reader if it runs longer than ``seconds`` (SIGALRM, where the platform has it)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def ring(signum, frame):
        raise Hang(f"a read took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _tiny_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return bytes(out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))


def _vector_cases(folder: Path) -> dict[str, Case]:
    from gensim.models.fasttext import FastText, save_facebook_model

    from veclift.vectors import Vectors
    from veclift.vectors.subword import SubwordModel

    vectors = Vectors(["the", "apple", "naïve", "x"], np.arange(12, dtype=np.float32).reshape(4, 3) / 7)

    def reader(format: str) -> tuple[Callable[[Path], object], ...]:
        """As detected, and forced through this format's reader (random bytes are rarely detected as binary)."""
        return (lambda p: Vectors.load(p, progress=False), lambda p: Vectors.load(p, format=format, progress=False))

    cases = {}
    for name, format in [("glove.txt", "glove"), ("w2v.vec", "word2vec"), ("w2v.bin", "word2vec-binary"),
                         ("glove.txt.gz", "glove"), ("w2v.bin.bz2", "word2vec-binary")]:  # fmt: skip
        cases[name] = Case(vectors.save(folder / name, format).read_bytes(), reader(format), name)
    model = FastText([["apple", "pie", "tart"]] * 4, vector_size=3, min_count=1, epochs=1, bucket=8, min_n=3, max_n=4, seed=1, workers=1)
    save_facebook_model(model, str(folder / "ft.bin"))
    cases["fasttext.bin"] = Case((folder / "ft.bin").read_bytes(), reader("fasttext-bin"), "fasttext.bin")
    native = Vectors(vectors.words, vectors.matrix, subwords=SubwordModel(np.ones((4, 3), np.float32), 3, 4, 4)).save(folder / "native")
    for file in ("vectors.npy", "norms.npy", "words.txt", "meta.json", "subwords/ngrams.npy", "subwords/subwords.json"):
        cases[f"native:{file}"] = Case((native / file).read_bytes(), (lambda path: Vectors.load(path, progress=False),), file, native)
    return cases


def _corpus(path: Path) -> list:
    from veclift.pretrain.corpus import Corpus

    return list(Corpus([path]))


CORPUS = (_corpus,)


def _text_cases(folder: Path) -> dict[str, Case]:
    from veclift.data import read_conll, read_label_folders, read_labeled_jsonl, read_table, read_tagged, read_tagged_jsonl

    labels = folder / "labels"
    for label, text in (("pos", b"a good film"), ("neg", b"a bad film")):
        (labels / label).mkdir(parents=True)
        (labels / label / "doc.txt").write_bytes(text)
    conll = b"-DOCSTART- O\n\nJohn B-PER\nlives O\nin O\nNew B-LOC\nYork I-LOC\n\nMary I-PER\n"  # an I- start: repaired
    return {
        "conll": Case(conll, (read_conll,), "data.conll"),
        "tagged-sniffed": Case(conll, (read_tagged,), "data.txt"),
        "tagged-tokens.jsonl": Case(b'{"tokens": ["John", "lives"], "tags": ["B-PER", "O"]}\n', (read_tagged,), "data.jsonl"),
        "tagged.jsonl": Case(
            b'{"text": "John lives", "spans": [[0, 4, "PER"]]}\n'
            b'{"text": "Mary in Rome", "spans": [[0, 4, "PER"], {"start": 8, "end": 12, "label": "LOC"}]}\n'
            b'\n{"text": "no entity here", "spans": []}\n',
            (read_tagged_jsonl,),
            "data.jsonl",
        ),
        "labeled.tsv": Case(b"label\ttext\npos\ta good film\nneg\tbad \"film\n", (read_table,), "data.tsv"),
        "labeled.csv": Case(b'label,text\npos,"good, film"\nneg,bad film\n', (lambda p: read_table(p, label_separator="|"),), "data.csv"),
        "labeled.jsonl": Case(b'{"text": "good", "label": "pos"}\n{"text": "bad", "label": ["neg", 1]}\n', (read_labeled_jsonl,), "data.jsonl"),
        "label-folders": Case(b"a good film", (read_label_folders,), "pos/doc.txt", labels),
        "corpus.txt": Case(b"Hello world. This is Mr. Smith!\n\nAnother para-\ngraph here\n", CORPUS, "c.txt"),
        "corpus.txt.gz": Case(gzip.compress(b"Hello world. Again.\n", mtime=0), CORPUS, "c.txt.gz"),
        "corpus.jsonl": Case(b'{"text": "Hello world. Again."}\n{"text": "More."}\n', CORPUS, "c.jsonl"),
        "corpus.pdf": Case(_tiny_pdf("Hello world. It works."), CORPUS, "c.pdf"),
    }


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, Case]:
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    return {**_vector_cases(folder / "vectors"), **_text_cases(folder)}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _place(case: Case, data: bytes, work: Path) -> Path:
    """Write ``data`` as the case's target in a fresh ``work`` folder; return what its readers open."""
    shutil.rmtree(work, ignore_errors=True)
    if case.root is not None:
        shutil.copytree(case.root, work, symlinks=True)
    else:
        work.mkdir(parents=True)
    (work / case.target).write_bytes(data)
    return work if case.root is not None else work / case.target


def _judge(case: Case, data: bytes, scratch: Path) -> None:
    """Read ``data`` as the case's target: success or one VecliftError line, in time, only VecliftWarnings."""
    source = _place(case, data, scratch / "work")
    for read in case.reads:
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught, _deadline(SECONDS_PER_READ):
            warnings.simplefilter("always")
            try:
                read(source)
            except VecliftError as error:
                assert "\n" not in str(error), str(error)
        assert time.perf_counter() - start < SECONDS_PER_READ
        assert all(issubclass(w.category, VecliftWarning) for w in caught), [f"{w.category.__name__}: {w.message}" for w in caught]


VECTOR_CASES = ["glove.txt", "w2v.vec", "w2v.bin", "glove.txt.gz", "w2v.bin.bz2", "fasttext.bin"]
NATIVE_CASES = ["native:vectors.npy", "native:words.txt", "native:meta.json", "native:subwords/ngrams.npy", "native:subwords/subwords.json"]  # fmt: skip
TEXT_CASES = ["conll", "tagged-sniffed", "tagged.jsonl", "tagged-tokens.jsonl", "labeled.tsv", "labeled.csv", "labeled.jsonl", "label-folders",
              "corpus.txt", "corpus.txt.gz", "corpus.jsonl", "corpus.pdf"]  # fmt: skip
ALL_CASES = VECTOR_CASES + NATIVE_CASES + TEXT_CASES


def test_every_seed_is_valid(cases, scratch):
    """The fuzz starts from files that every reader reads without error."""
    for name in ALL_CASES:
        source = _place(cases[name], cases[name].data, scratch / "seed")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VecliftWarning)  # the CoNLL seed has a tag to repair, on purpose
            for read in cases[name].reads:
                assert read(source)


@pytest.mark.parametrize("name", ALL_CASES)
@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes(cases, scratch, name, data):
    _judge(cases[name], data, scratch)


@pytest.mark.parametrize("name", ALL_CASES)
@FUZZ
@given(cut=st.floats(0, 1))
def test_truncated_valid_file(cases, scratch, name, cut):
    data = cases[name].data
    _judge(cases[name], data[: int(len(data) * cut)], scratch)


def _mutations(size: int):
    """Up to 8 bytes replaced, each by a random byte or one that means something to a parser."""
    meaningful = st.sampled_from(list(b" \t\n\r\x00\xff.-+0123456789eEnaif{}[]\",:\x80\x1f\x8b"))
    return st.lists(st.tuples(st.integers(0, max(size - 1, 0)), st.one_of(st.integers(0, 255), meaningful)), min_size=1, max_size=8)


@pytest.mark.parametrize("name", ALL_CASES)
@FUZZ
@given(st.data())
def test_mutated_valid_file(cases, scratch, name, data):
    mutated = bytearray(cases[name].data)
    for position, value in data.draw(_mutations(len(mutated))):
        mutated[position] = value
    _judge(cases[name], bytes(mutated), scratch)


@pytest.mark.parametrize("name", ["w2v.vec", "w2v.bin", "glove.txt"])
@FUZZ
@given(count=st.integers(-3, 2**62), dim=st.integers(-3, 2**62), sep=st.sampled_from([b" ", b"\t", b"  "]))
def test_lying_word2vec_header(cases, scratch, name, count, dim, sep):
    body = cases[name].data.partition(b"\n")[2] if name != "glove.txt" else cases[name].data
    _judge(cases[name], str(count).encode() + sep + str(dim).encode() + b"\n" + body, scratch)


@FUZZ
@given(fields=st.lists(st.tuples(st.integers(0, 120), st.integers(-(2**31), 2**31 - 1)), min_size=1, max_size=4))
def test_lying_fasttext_header_ints(cases, scratch, fields):
    data = bytearray(cases["fasttext.bin"].data)
    for offset, value in fields:
        data[offset : offset + 4] = value.to_bytes(4, "little", signed=True)
    _judge(cases["fasttext.bin"], bytes(data), scratch)


@FUZZ
@given(payload=st.binary(max_size=300), compress=st.sampled_from(["gzip", "bz2"]))
def test_valid_compression_of_garbage(cases, scratch, payload, compress):
    import bz2

    name = "glove.txt.gz" if compress == "gzip" else "w2v.bin.bz2"
    data = gzip.compress(payload) if compress == "gzip" else bz2.compress(payload)
    _judge(cases[name], data, scratch)
    _judge(cases["corpus.txt.gz"], data, scratch)


def test_tiny_pdf_helper_is_a_real_pdf():
    from pypdf import PdfReader

    assert PdfReader(io.BytesIO(_tiny_pdf("Hi there."))).pages[0].extract_text() == "Hi there."
