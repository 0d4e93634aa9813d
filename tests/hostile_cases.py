"""Hostile input for the `veclift` command line: a table of cases and the harness that judges them.

Every case is a small function that writes its input into a fresh folder and returns a `Spec`: the
arguments of one `veclift` command, optional standard input, the outputs the command would write and
what must never appear. The project standard each case checks (see ../shared/DESIGN.md, "Rules of
thumb"): bad input gets exactly one line on stderr, ``error: <file>:<line>: <problem and what to do>``
(lines starting with ``warning:`` are allowed besides it), exit code 2, never a Python traceback or a
Python-format warning, and nothing left behind: a given output path that did not exist does not exist
afterwards, no temporary files appear beside it, and everything that existed before (the inputs, a
user's folder) is unchanged byte for byte.

Used by ``tests/test_hostile_cli.py`` (in-process, parametrized over `CASES`) and by
``bench/hostile_bench.py`` (one real subprocess per case). Keep every case cheap: tiny files, one
epoch, a 24-word vector file written here; never the built-in 400k vectors unless the command fails
before loading them.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import json
import os
import pickle
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# Bad UTF-8 in vector words is not here: it is repaired with one warning line by design (GoogleNews
# has such words), tested in tests/test_vector_formats.py.

# --- tiny data --------------------------------------------------------------------------------
NAMES = ["john", "mary", "peter", "anna"]
CITIES = ["paris", "london", "berlin", "rome"]
FILLER = ["the", "a", "in", "lives", "met", "today", "said", "and", "."]
SENTIMENT = ["good", "bad", "great"]
GENDER = ["he", "she", "man", "woman"]
WORDS = NAMES + CITIES + FILLER + SENTIMENT + GENDER  # 24 words
DIM = 5


def vector_rows(seed: int = 0, words=WORDS, dim: int = DIM) -> list[tuple[str, list[float]]]:
    rng = random.Random(seed)
    return [(w, [round(rng.uniform(-1, 1), 4) for _ in range(dim)]) for w in words]


def glove_text(seed: int = 0, words=WORDS, dim: int = DIM) -> str:
    return "".join(f"{w} {' '.join(f'{v:.4f}' for v in row)}\n" for w, row in vector_rows(seed, words, dim))


def word2vec_text(seed: int = 0, header: str | None = None) -> str:
    return (header if header is not None else f"{len(WORDS)} {DIM}") + "\n" + glove_text(seed)


def write_vectors(d: Path, name: str = "vectors.txt", seed: int = 0) -> str:
    (d / name).write_text(glove_text(seed), encoding="utf-8")
    return name


def conll_text(n: int = 10, seed: int = 0) -> str:
    rng = random.Random(seed)
    blocks = []
    for _ in range(n):
        p, q, c = rng.choice(NAMES).title(), rng.choice(NAMES).title(), rng.choice(CITIES).title()
        if rng.random() < 0.5:
            rows = [(p, "B-PER"), ("lives", "O"), ("in", "O"), (c, "B-LOC"), (".", "O")]
        else:
            rows = [(p, "B-PER"), ("met", "O"), (q, "B-PER"), ("in", "O"), (c, "B-LOC"), ("today", "O")]
        blocks.append("".join(f"{t} {g}\n" for t, g in rows))
    return "\n".join(blocks)


def write_conll(d: Path, name: str = "train.conll", n: int = 10, seed: int = 0) -> str:
    (d / name).write_text(conll_text(n, seed), encoding="utf-8")
    return name


def tsv_text(n: int = 12, seed: int = 0) -> str:
    rng = random.Random(seed)
    rows = ["label\ttext"]
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        word = "good" if label == "pos" else "bad"
        rows.append(f"{label}\tthe {rng.choice(['day', 'film', 'meal'])} was {word}")
    return "\n".join(rows) + "\n"


def write_tsv(d: Path, name: str = "train.tsv", n: int = 12) -> str:
    (d / name).write_text(tsv_text(n), encoding="utf-8")
    return name


def corpus_text(lines: int = 30, seed: int = 0) -> str:
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        out.append(f"{rng.choice(NAMES).title()} lives in {rng.choice(CITIES).title()} and said the day was {rng.choice(SENTIMENT)} .")
    return "\n".join(out) + "\n"


def write_corpus(d: Path, name: str = "corpus.txt") -> str:
    (d / name).write_text(corpus_text(), encoding="utf-8")
    return name


def binary_bytes(n: int = 4096, seed: int = 7) -> bytes:
    """Bytes that are neither text nor any known format (fixed seed: every run sees the same)."""
    rng = random.Random(seed)
    return bytes([0x89, 0x00, 0xFF, 0xFE]) + bytes(rng.getrandbits(8) for _ in range(n))


PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


class Payload:
    """Unpickling this creates the file ``path``: proof that a pickle ran code."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def pickle_payload(marker: Path) -> bytes:
    return pickle.dumps(Payload(marker), protocol=2)


# --- the case table -----------------------------------------------------------------------------
@dataclass
class Spec:
    """One command to run against hostile input, and what must (not) be left afterwards."""

    args: list[str]
    stdin: bytes | None = None  # standard input (None: empty)
    outputs: tuple[str, ...] = ()  # paths (relative to the case folder, or absolute) the command would write
    markers: tuple[str, ...] = ()  # files whose appearance proves input ran code
    expect: str | None = None  # regex (case-insensitive) the error line must match, e.g. the file at fault
    isolate: bool = False  # in-process runs use a subprocess for this case (may hang, crash or eat memory)
    mem_limit_gb: float | None = None  # address-space limit of an isolated run
    skip: str | None = None


@dataclass(frozen=True)
class Case:
    klass: str
    name: str
    build: Callable[[Path, Fixtures], Spec]
    doc: str = ""

    @property
    def id(self) -> str:
        return f"{self.klass}/{self.name}"


CASES: list[Case] = []
CLASSES = ("vectors", "numeric", "model", "data", "outputs", "usage", "download", "study")


def case(klass: str, name: str, doc: str = ""):
    assert klass in CLASSES, klass

    def register(build):
        CASES.append(Case(klass, name, build, doc or (build.__doc__ or "").strip()))
        return build

    return register


def add(klass: str, name: str, build: Callable[[Path, Fixtures], Spec], doc: str = "") -> None:
    CASES.append(Case(klass, name, build, doc))


def override(args: list[str], options: dict[str, str | None]) -> list[str]:
    """``args`` with each ``--option`` set to the value given (replaced where present, else appended);
    a value of None drops the option and its value."""
    args = list(args)
    for option, value in options.items():
        if option in args:
            i = args.index(option)
            if value is None:
                del args[i : i + 2]
            else:
                args[i + 1] = value
        elif value is not None:
            args += [option, value]
    return args


# --- fixtures shared by many cases ----------------------------------------------------------------
class Fixtures:
    """Things several cases copy into their folder: trained model directories, built once.

    ``runner(args, cwd, env) -> Result`` runs veclift (in-process or as a subprocess)."""

    def __init__(self, root: Path, runner: Callable[..., Result]):
        self.root = Path(root)
        self.runner = runner
        self._models: dict[str, Path | str] = {}

    def model(self, kind: str) -> Path:
        if kind not in self._models:
            self._models[kind] = self._train(kind)
        found = self._models[kind]
        if isinstance(found, str):
            raise RuntimeError(found)
        return found

    def _train(self, kind: str) -> Path | str:
        d = self.root / f"base-{kind}"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        write_vectors(d)
        if kind == "ner":
            write_conll(d)
            args = ["train", "ner", "--train", "train.conll", "--vectors", "vectors.txt", "--embeddings", "frozen",
                    "--oov", "lower,char-ngram", "--output", "model", "--epochs", "1", "--hidden", "4",
                    "--batch-size", "8", "--char", "none", "--quiet"]  # fmt: skip
        else:
            write_tsv(d)
            args = ["train", "classify", "--train", "train.tsv", "--vectors", "vectors.txt", "--embeddings", "frozen",
                    "--encoder", "swem-mean", "--output", "model", "--epochs", "1", "--quiet"]  # fmt: skip
        result = self.runner(args, cwd=d, env=case_env(home))
        if result.code != 0 or not (d / "model" / "config.json").is_file():
            return f"fixture: `veclift {' '.join(args)}` failed (exit {result.code}): {result.stderr.strip()[-500:]}"
        return d / "model"

    def copy_model(self, kind: str, dest: Path) -> Path:
        shutil.copytree(self.model(kind), dest, symlinks=True)
        return dest


# --- base commands: valid as they stand; a case changes one thing ---------------------------------
def b_info(d, fx):
    return Spec(["vectors", "info", write_vectors(d)])


def b_convert(d, fx):
    return Spec(["vectors", "convert", write_vectors(d), "out"], outputs=("out",))


def b_neighbors(d, fx):
    return Spec(["vectors", "neighbors", write_vectors(d), "john"])


def b_analogy(d, fx):
    return Spec(["vectors", "analogy", write_vectors(d), "john", "paris", "mary"])


def b_coverage(d, fx):
    return Spec(["vectors", "coverage", write_vectors(d), write_conll(d)])


def b_vevaluate(d, fx):
    (d / "sim.txt").write_text("john mary 7.5\nparis rome 8.0\ngood bad 2.0\nhe she 6.0\n", encoding="utf-8")
    (d / "analogy.txt").write_text(": people\njohn mary he she\nman woman he she\n", encoding="utf-8")
    return Spec(["vectors", "evaluate", write_vectors(d), "--similarity", "sim.txt", "--analogy", "analogy.txt"])


def b_align(d, fx):
    return Spec(["vectors", "align", write_vectors(d), write_vectors(d, "target.txt", seed=1), "--output", "out"], outputs=("out",))


def b_combine(d, fx):
    return Spec(["vectors", "combine", write_vectors(d), write_vectors(d, "other.txt", seed=1), "--output", "out"], outputs=("out",))


def b_reduce(d, fx):
    return Spec(["vectors", "reduce", write_vectors(d), "--output", "out", "--dim", "2"], outputs=("out",))


def b_debias(d, fx):
    (d / "pairs.txt").write_text("he she\nman woman\n", encoding="utf-8")
    (d / "neutral.txt").write_text("paris\nrome\ngood\n", encoding="utf-8")
    (d / "sim.txt").write_text("john mary 7.5\nparis rome 8.0\ngood bad 2.0\n", encoding="utf-8")
    weat = {"name": "tiny", "targets": {"X": ["john", "peter"], "Y": ["mary", "anna"]},
            "attributes": {"A": ["good", "great"], "B": ["bad", "the"]}}  # fmt: skip
    (d / "weat.json").write_text(json.dumps(weat), encoding="utf-8")
    return Spec(["vectors", "debias", write_vectors(d), "--output", "out", "--pairs", "pairs.txt", "--equalize", "pairs.txt",
                 "--neutral", "neutral.txt", "--weat", "weat.json", "--similarity", "sim.txt", "--permutations", "50"],
                outputs=("out",))  # fmt: skip


def b_plot(d, fx):
    return Spec(["vectors", "plot", write_vectors(d), "john", "mary", "paris", "rome", "--method", "pca",
                 "--output", "map.png"], outputs=("map.png",))  # fmt: skip


def b_parallelogram(d, fx):
    return Spec(["vectors", "parallelogram", write_vectors(d), "man", "woman", "he", "she", "--output", "p.png"], outputs=("p.png",))


TRAIN_NER = ["--embeddings", "frozen", "--output", "model", "--epochs", "1", "--hidden", "4", "--batch-size", "8",
             "--char", "none", "--quiet"]  # fmt: skip


def b_train_ner(d, fx):
    return Spec(["train", "ner", "--train", write_conll(d), "--vectors", write_vectors(d), *TRAIN_NER], outputs=("model",))


def b_train_clf(d, fx):
    return Spec(["train", "classify", "--train", write_tsv(d), "--vectors", write_vectors(d), "--embeddings", "frozen",
                 "--encoder", "swem-mean", "--output", "model", "--epochs", "1", "--quiet"], outputs=("model",))  # fmt: skip


def b_evaluate(d, fx):
    fx.copy_model("ner", d / "model")
    return Spec(["evaluate", "model", write_conll(d, "test.conll", n=4, seed=1)])


def b_predict(d, fx):
    fx.copy_model("ner", d / "model")
    (d / "input.txt").write_text("Mary lives in Rome .\n", encoding="utf-8")
    return Spec(["predict", "model", "input.txt"])


def b_predict_clf(d, fx):
    fx.copy_model("classify", d / "model")
    (d / "input.txt").write_text("the day was good\n", encoding="utf-8")
    return Spec(["predict", "model", "input.txt"])


def b_export(d, fx):
    fx.copy_model("ner", d / "model")
    return Spec(["export", "model", "--to", "onnx", "out"], outputs=("out",))


def b_predict_onnx(d, fx):
    """predict on an ONNX export of the ner fixture (made by the case's own `veclift export`)."""
    fx.copy_model("ner", d / "model")
    done = fx.runner(["export", "model", "--to", "onnx", "onnx"], cwd=d, env=case_env(fx.root / "home"))
    if done.code != 0:
        raise RuntimeError(f"fixture: veclift export failed: {done.stderr.strip()[-300:]}")
    (d / "input.txt").write_text("Mary lives in Rome .\n", encoding="utf-8")
    return Spec(["predict", "onnx", "input.txt"])


def b_study(d, fx):
    return Spec(["study", "ner", "--train", write_conll(d), "--test", write_conll(d, "test.conll", n=4, seed=1),
                 "--vectors", write_vectors(d), "--sizes", "5", "--strategies", "scratch", "--seeds", "1",
                 "--epochs", "1", "--jobs", "1", "--output", "study", "--quiet", "--hidden", "4", "--char", "none"],
                outputs=("study",))  # fmt: skip


PRETRAIN_SMALL = ["--output", "out", "--dim", "5", "--epochs", "1", "--min-count", "1"]


def b_word2vec(d, fx):
    return Spec(["pretrain", "word2vec", write_corpus(d), *PRETRAIN_SMALL], outputs=("out",))


def b_fasttext(d, fx):
    return Spec(["pretrain", "fasttext", write_corpus(d), *PRETRAIN_SMALL, "--buckets", "1000"], outputs=("out",))


def b_glove(d, fx):
    return Spec(["pretrain", "glove", write_corpus(d), *PRETRAIN_SMALL], outputs=("out",))


def b_encoder(d, fx):
    return Spec(["pretrain", "encoder", write_corpus(d), "--vectors", write_vectors(d), "--output", "out", "--hidden", "4",
                 "--char", "none", "--epochs", "1", "--batch-size", "8"], outputs=("out",))  # fmt: skip


def b_terms(d, fx):
    return Spec(["terms", "--vectors", write_vectors(d), "--seed", "john,mary", "--auto", "2", "--output", "terms.txt"],
                outputs=("terms.txt", "terms.patterns.jsonl"))  # fmt: skip


def b_label(d, fx):
    (d / "raw.txt").write_text("John lives in Paris .\nMary met Anna .\n", encoding="utf-8")
    (d / "patterns.jsonl").write_text('{"label": "PER", "pattern": "John"}\n{"label": "LOC", "pattern": "Paris"}\n', encoding="utf-8")
    return Spec(["label", "raw.txt", "--patterns", "patterns.jsonl", "--output", "labeled.conll"], outputs=("labeled.conll",))


def b_demo(d, fx):
    return Spec(["demo", "--output", "demo", "--vectors", write_vectors(d), "--seeds", "1", "--jobs", "1"],
                outputs=("demo",), isolate=True)  # fmt: skip


BASES: dict[str, Callable[[Path, Fixtures], Spec]] = {
    name[2:]: fn for name, fn in dict(globals()).items() if name.startswith("b_") and callable(fn)
}


def variant(base, options: dict[str, str | None] | None = None, *, extra: list[str] | None = None, **spec_changes):
    """A case builder: ``base`` with options overridden, arguments appended and Spec fields changed."""

    def build(d, fx):
        spec = base(d, fx)
        args = override(spec.args, options or {}) + list(extra or [])
        return replace(spec, args=args, **spec_changes)

    return build


# === class: vectors — hostile vector files, through every reader ===================================
def vector_file_case(name: str, filename: str, content: bytes | Callable[[Path], bytes], command=b_info,
                     doc: str = "", **spec_changes) -> None:  # fmt: skip
    """A case whose vector file is ``content``; the command opens it as SOURCE (``vectors info`` by default)."""

    def build(d, fx):
        spec = command(d, fx)
        data = content(d) if callable(content) else content
        (d / filename).write_bytes(data)
        args = [filename if a == "vectors.txt" else a for a in spec.args]
        return replace(spec, args=args, expect=spec_changes.pop("expect", re.escape(filename)), **spec_changes)

    add("vectors", name, build, doc)


def _glove_with(row_index: int, new_row: str) -> bytes:
    """The tiny GloVe file with row ``row_index`` replaced (the new row keeps that row's word)."""
    lines = glove_text().splitlines()
    assert new_row.split()[0] == WORDS[row_index], (new_row, WORDS[row_index])
    lines[row_index] = new_row
    return ("\n".join(lines) + "\n").encode()


def _gzip_truncated(d: Path) -> bytes:
    data = gzip.compress(glove_text().encode() * 20)
    return data[: len(data) // 2]


def _bz2_truncated(d: Path) -> bytes:
    data = bz2.compress(glove_text().encode() * 20)
    return data[: len(data) // 2]


def _pickled_for(marker: str):
    return lambda d: pickle_payload(d / marker)


vector_file_case("nan-in-row", "vectors.txt", _glove_with(2, "peter 0.1 nan 0.2 0.3 0.4"))
vector_file_case("inf-in-row", "vectors.txt", _glove_with(4, "paris 0.1 0.2 inf 0.3 0.4"))
vector_file_case("negative-inf-word2vec", "vectors.vec", (f"{len(WORDS)} {DIM}\n" + _glove_with(2, "peter -inf 0.1 0.2 0.3 0.4").decode()).encode())
vector_file_case("nan-in-row-via-train", "vectors.txt", _glove_with(2, "peter 0.1 nan 0.2 0.3 0.4"), command=b_train_ner)
vector_file_case("nan-in-row-via-convert", "vectors.txt", _glove_with(2, "peter 0.1 nan 0.2 0.3 0.4"), command=b_convert)
vector_file_case("header-billion-words", "vectors.vec", word2vec_text(header=f"1000000000 {DIM}").encode(),
                 isolate=True, mem_limit_gb=6)  # fmt: skip
vector_file_case("header-billion-dims", "vectors.vec", word2vec_text(header=f"{len(WORDS)} 1000000000").encode(),
                 isolate=True, mem_limit_gb=6)  # fmt: skip
vector_file_case("header-billion-both", "vectors.vec", word2vec_text(header="1000000000 1000000000").encode(),
                 isolate=True, mem_limit_gb=6)  # fmt: skip
vector_file_case("header-dim-disagrees", "vectors.vec", word2vec_text(header=f"{len(WORDS)} 7").encode())
vector_file_case("header-count-too-large", "vectors.vec", word2vec_text(header=f"{len(WORDS) + 5} {DIM}").encode())
vector_file_case("header-negative", "vectors.vec", word2vec_text(header=f"-3 {DIM}").encode())
vector_file_case("ragged-row-short", "vectors.txt", _glove_with(3, "anna 0.1 0.2 0.3"))
vector_file_case("ragged-row-long", "vectors.txt", _glove_with(3, "anna 0.1 0.2 0.3 0.4 0.5 0.6"))
vector_file_case("ragged-row-word2vec", "vectors.vec", (f"{len(WORDS)} {DIM}\n" + _glove_with(6, "berlin 0.1 0.2").decode()).encode())
vector_file_case("row-word-only", "vectors.txt", _glove_with(3, "anna"))
vector_file_case("non-numeric-value", "vectors.txt", _glove_with(2, "peter 0.1 abc 0.3 0.4 0.5"))
vector_file_case("non-numeric-via-neighbors", "vectors.txt", _glove_with(2, "peter 0.1 abc 0.3 0.4 0.5"), command=b_neighbors)
vector_file_case("empty-file", "vectors.txt", b"")
vector_file_case("blank-lines-only", "vectors.txt", b"\n\n   \n\n")
vector_file_case("empty-file-via-train", "vectors.txt", b"", command=b_train_ner)
vector_file_case("only-header", "vectors.vec", f"{len(WORDS)} {DIM}\n".encode())
vector_file_case("gz-not-gzip", "vectors.txt.gz", binary_bytes(2048))
vector_file_case("gz-truncated", "vectors.txt.gz", _gzip_truncated)
vector_file_case("bz2-not-bz2", "vectors.txt.bz2", binary_bytes(2048, seed=3))
vector_file_case("bz2-truncated", "vectors.txt.bz2", _bz2_truncated)
vector_file_case("gz-truncated-via-convert", "vectors.txt.gz", _gzip_truncated, command=b_convert)
vector_file_case("random-bytes-txt", "vectors.txt", binary_bytes())
vector_file_case("random-bytes-bin", "vectors.bin", binary_bytes(seed=11))
vector_file_case("word2vec-binary-truncated", "vectors.bin",
                 f"{len(WORDS)} {DIM}\n".encode() + b"".join(w.encode() + b" " + struct.pack(f"{DIM}f", *r) for w, r in vector_rows()[:5])
                 + b"peter " + b"\x00\x01")  # fmt: skip
vector_file_case("fasttext-magic-then-garbage", "vectors.bin", struct.pack("<ii", 793712314, 12) + binary_bytes(512, seed=5),
                 isolate=True, mem_limit_gb=6)  # fmt: skip
vector_file_case("pickle-named-txt", "vectors.txt", _pickled_for("PWNED-txt"), markers=("PWNED-txt",))
vector_file_case("pickle-named-bin", "vectors.bin", _pickled_for("PWNED-bin"), markers=("PWNED-bin",))
vector_file_case("pickle-named-kv", "vectors.kv", _pickled_for("PWNED-kv"), markers=("PWNED-kv",))
vector_file_case("pickle-named-kv-via-train", "vectors.kv", _pickled_for("PWNED-kv"), command=b_train_ner, markers=("PWNED-kv",))
vector_file_case("pickle-named-kv-via-convert", "vectors.kv", _pickled_for("PWNED-kv"), command=b_convert, markers=("PWNED-kv",))


def native_dir_case(name: str, change: Callable[[Path], None], command=b_info, markers=(), expect="vectors"):
    """A case whose SOURCE is a native directory (written by veclift's own writer) then damaged."""

    def build(d, fx):
        spec = command(d, fx)
        native = d / "native"
        native.mkdir()
        rows = vector_rows()
        import numpy as np

        np.save(native / "vectors.npy", np.asarray([r for _, r in rows], dtype=np.float32))
        (native / "words.txt").write_text("".join(w + "\n" for w, _ in rows), encoding="utf-8")
        (native / "meta.json").write_text(json.dumps({"format": "veclift-native/1", "dim": DIM, "count": len(rows)}), encoding="utf-8")
        change(native)
        args = ["native" if a == "vectors.txt" else a for a in spec.args]
        return replace(spec, args=args, markers=tuple(markers), expect=expect)

    add("vectors", name, build)


def _npy(dtype):
    def change(native: Path):
        import numpy as np

        np.save(native / "vectors.npy", np.ones((len(WORDS), DIM), dtype=dtype))

    return change


def _npy_object(native: Path):
    import numpy as np

    array = np.empty((len(WORDS), DIM), dtype=object)
    array[0, 0] = Payload(native.parent / "PWNED-npy")
    np.save(native / "vectors.npy", array, allow_pickle=True)


native_dir_case("native-meta-not-json", lambda n: (n / "meta.json").write_text("{not json", encoding="utf-8"))
native_dir_case("native-meta-a-list", lambda n: (n / "meta.json").write_text("[1, 2]", encoding="utf-8"))
native_dir_case("native-meta-dim-wrong", lambda n: (n / "meta.json").write_text(json.dumps({"dim": 300, "count": 3}), encoding="utf-8"))
native_dir_case("native-npy-float64", _npy("float64"))
native_dir_case("native-npy-int32", _npy("int32"))
native_dir_case("native-npy-garbage", lambda n: (n / "vectors.npy").write_bytes(binary_bytes(1024)))
native_dir_case("native-npy-object-pickle", _npy_object, markers=("PWNED-npy",))
native_dir_case("native-npy-1d", lambda n: __import__("numpy").save(n / "vectors.npy", __import__("numpy").ones(7, "float32")))
native_dir_case("native-npy-nan", lambda n: __import__("numpy").save(n / "vectors.npy", __import__("numpy").full((len(WORDS), DIM), float("nan"), "float32")))
native_dir_case("native-words-count-mismatch", lambda n: (n / "words.txt").write_text("john\nmary\n", encoding="utf-8"))
native_dir_case("native-words-bad-utf8", lambda n: (n / "words.txt").write_bytes((n / "words.txt").read_bytes().replace(b"mary", b"m\xffry")))
native_dir_case("native-meta-not-json-via-train", lambda n: (n / "meta.json").write_text("{not json", encoding="utf-8"), command=b_train_ner)


@case("vectors", "directory-not-vectors")
def _(d, fx):
    (d / "somedir").mkdir()
    (d / "somedir" / "notes.txt").write_text("hello\n")
    return Spec(["vectors", "info", "somedir"], expect="somedir")


@case("vectors", "missing-file")
def _(d, fx):
    return Spec(["vectors", "info", "nope.txt"], expect="nope.txt")


@case("vectors", "missing-file-via-study")
def _(d, fx):
    spec = b_study(d, fx)
    return replace(spec, args=override(spec.args, {"--vectors": "nope.txt"}), expect="nope.txt")


@case("vectors", "ragged-via-study")
def _(d, fx):
    """A broken vector file must be refused before the study starts trials and writes its folder."""
    spec = b_study(d, fx)
    (d / "vectors.txt").write_bytes(_glove_with(3, "anna 0.1 0.2 0.3"))
    return replace(spec, expect="vectors.txt")


# === class: numeric — every count, size or rate option at zero / negative / out of range ============
def numeric(name: str, base, options: dict[str, str | None], **spec_changes) -> None:
    add("numeric", name, variant(base, options, **spec_changes))


for value in ("0", "-1"):
    numeric(f"info-max-words-{value}", b_info, {"--max-words": value})
numeric("convert-max-words-0", b_convert, {"--max-words": "0"})
for value in ("0", "-1"):
    numeric(f"neighbors-topn-{value}", b_neighbors, {"--topn": value})
numeric("neighbors-restrict-0", b_neighbors, {"--restrict": "0"})
numeric("analogy-topn-0", b_analogy, {"--topn": "0"})
numeric("analogy-restrict-negative", b_analogy, {"--restrict": "-5"})
numeric("coverage-top-0", b_coverage, {"--top": "0"})
numeric("vectors-evaluate-restrict-0", b_vevaluate, {"--restrict": "0"})
numeric("align-max-anchors-0", b_align, {"--max-anchors": "0"})
numeric("align-held-out-1", b_align, {"--held-out": "1.0"})
numeric("align-held-out-negative", b_align, {"--held-out": "-0.1"})
numeric("align-search-vocab-0", b_align, {"--search-vocab": "0"})
numeric("align-seed-negative", b_align, {"--seed": "-1"})
numeric("combine-reduce-0", b_combine, {"--reduce": "0"})
numeric("reduce-dim-0", b_reduce, {"--dim": "0"})
numeric("reduce-dim-negative", b_reduce, {"--dim": "-3"})
numeric("reduce-dim-above-source", b_reduce, {"--dim": "50"})
numeric("reduce-remove-top-negative", b_reduce, {"--remove-top": "-1"})
numeric("reduce-remove-top-above-dim", b_reduce, {"--dim": None, "--remove-top": "9"})
numeric("reduce-seed-negative", b_reduce, {"--seed": "-1"})
numeric("debias-permutations-0", b_debias, {"--permutations": "0"})
numeric("debias-seed-negative", b_debias, {"--seed": "-1"})
numeric("plot-topn-0", b_plot, {"--topn": "0", "--neighbors-of": "john"})
numeric("plot-seed-negative", b_plot, {"--seed": "-1"})
TRAIN_NUMERIC = {
    "max-sentences-0": {"--max-sentences": "0"},
    "max-sentences-negative": {"--max-sentences": "-5"},
    "seed-negative": {"--seed": "-1"},
    "epochs-0": {"--epochs": "0"},
    "epochs-negative": {"--epochs": "-1"},
    "lr-0": {"--lr": "0"},
    "lr-negative": {"--lr": "-0.1"},
    "finetune-lr-ratio-negative": {"--embeddings": "finetune", "--finetune-lr-ratio": "-1"},
    "l2-pull-negative": {"--embeddings": "finetune", "--l2-pull": "-1"},
    "batch-size-0": {"--batch-size": "0"},
    "batch-size-negative": {"--batch-size": "-8"},
    "patience-negative": {"--patience": "-1"},
    "dropout-1": {"--dropout": "1.0"},
    "dropout-negative": {"--dropout": "-0.1"},
    "hidden-0": {"--hidden": "0"},
    "hidden-negative": {"--hidden": "-4"},
    "threads-0": {"--threads": "0"},
    "threads-negative": {"--threads": "-1"},
    "contextual-layers-0": {"--embeddings": "contextual-frozen", "--contextual-layers": "0"},
    "contextual-lr-negative": {"--embeddings": "contextual-finetune", "--contextual-lr": "-1"},
    "contextual-warmup-above-1": {"--embeddings": "contextual-finetune", "--contextual-warmup": "1.5"},
    "tag-column-out-of-range": {"--tag-column": "7"},
}
for _name, _options in TRAIN_NUMERIC.items():
    numeric(f"train-ner-{_name}", b_train_ner, _options)
numeric("train-classify-max-sentences-0", b_train_clf, {"--max-sentences": "0"})
numeric("train-classify-batch-size-0", b_train_clf, {"--batch-size": "0"})
numeric("train-classify-lr-negative", b_train_clf, {"--lr": "-1"})
numeric("train-classify-members-negative", b_train_clf, {"--members": "-1"})
numeric("train-classify-members-not-a-number", b_train_clf, {"--members": "three"})
numeric("evaluate-tag-column-out-of-range", b_evaluate, {"--tag-column": "9"})
STUDY_NUMERIC = {
    "seeds-0": {"--seeds": "0"},
    "seeds-negative": {"--seeds": "-2"},
    "jobs-0": {"--jobs": "0"},
    "jobs-negative": {"--jobs": "-2"},
    "epochs-0": {"--epochs": "0"},
    "test-fraction-1": {"--test": None, "--test-fraction": "1.0"},
    "test-fraction-0": {"--test": None, "--test-fraction": "0"},
    "test-fraction-negative": {"--test": None, "--test-fraction": "-0.2"},
    "dev-fraction-1": {"--dev-fraction": "1.0"},
    "dev-fraction-negative": {"--dev-fraction": "-0.5"},
}
for _name, _options in STUDY_NUMERIC.items():
    numeric(f"study-{_name}", b_study, _options)
W2V_NUMERIC = {
    "dim-0": {"--dim": "0"}, "dim-negative": {"--dim": "-5"}, "window-0": {"--window": "0"},
    "epochs-0": {"--epochs": "0"}, "min-count-0": {"--min-count": "0"}, "negative-negative": {"--negative": "-1"},
    "sample-negative": {"--sample": "-0.1"}, "workers-0": {"--workers": "0"}, "seed-negative": {"--seed": "-1"},
}  # fmt: skip
for _name, _options in W2V_NUMERIC.items():
    numeric(f"word2vec-{_name}", b_word2vec, _options)
numeric("word2vec-warmup-epochs-negative", lambda d, fx: replace(b_word2vec(d, fx), args=[*b_word2vec(d, fx).args, "--init", write_vectors(d)]),
        {"--warmup-epochs": "-1"})  # fmt: skip
FT_NUMERIC = {
    "dim-0": {"--dim": "0"}, "window-0": {"--window": "0"}, "epochs-0": {"--epochs": "0"},
    "min-count-0": {"--min-count": "0"}, "min-n-0": {"--min-n": "0"}, "max-n-0": {"--max-n": "0"},
    "min-n-above-max-n": {"--min-n": "6", "--max-n": "3"}, "workers-0": {"--workers": "0"},
}  # fmt: skip
for _name, _options in FT_NUMERIC.items():
    numeric(f"fasttext-{_name}", b_fasttext, _options)
numeric("fasttext-buckets-0", b_fasttext, {"--buckets": "0"}, isolate=True)
GLOVE_NUMERIC = {
    "dim-0": {"--dim": "0"}, "window-0": {"--window": "0"}, "epochs-0": {"--epochs": "0"},
    "min-count-0": {"--min-count": "0"}, "x-max-0": {"--x-max": "0"}, "x-max-negative": {"--x-max": "-1"},
    "learning-rate-0": {"--learning-rate": "0"}, "learning-rate-negative": {"--learning-rate": "-0.05"},
    "batch-size-0": {"--batch-size": "0"}, "threads-0": {"--threads": "0"},
}  # fmt: skip
for _name, _options in GLOVE_NUMERIC.items():
    numeric(f"glove-{_name}", b_glove, _options)
ENCODER_NUMERIC = {
    "hidden-0": {"--hidden": "0"}, "layers-0": {"--layers": "0"}, "epochs-0": {"--epochs": "0"},
    "max-sentences-0": {"--max-sentences": "0"}, "mask-prob-0": {"--mask-prob": "0"}, "mask-prob-1": {"--mask-prob": "1.0"},
    "batch-size-0": {"--batch-size": "0"}, "lr-0": {"--lr": "0"}, "lr-negative": {"--lr": "-1"}, "threads-0": {"--threads": "0"},
}  # fmt: skip
for _name, _options in ENCODER_NUMERIC.items():
    numeric(f"encoder-{_name}", b_encoder, _options)
numeric("terms-auto-0", b_terms, {"--auto": "0"})
numeric("terms-auto-negative", b_terms, {"--auto": "-2"})
numeric("terms-candidates-0", b_terms, {"--candidates": "0"})
numeric("terms-rounds-0", b_terms, {"--rounds": "0"})
numeric("terms-restrict-0", b_terms, {"--restrict": "0"})
numeric("demo-seeds-0", b_demo, {"--seeds": "0"})
numeric("demo-jobs-0", b_demo, {"--jobs": "0"})


# === class: model — damaged model directories given to evaluate / predict ===========================
def model_case(name: str, change: Callable[[Path, Path], None], *, command: str = "evaluate", kind: str = "ner",
               expect: str | None = "model", markers=()) -> None:  # fmt: skip
    """Copy the trained fixture model into the case folder, damage it with ``change(model, case_dir)``,
    then run ``evaluate`` (on valid data) or ``predict`` (on a valid input file) with it."""

    def build(d, fx):
        base = {"evaluate": b_evaluate, "predict": b_predict if kind == "ner" else b_predict_clf}[command]
        if command == "evaluate" and kind == "classify":
            fx.copy_model("classify", d / "model")
            spec = Spec(["evaluate", "model", write_tsv(d, "test.tsv", n=6)])
        else:
            spec = base(d, fx)
        change(d / "model", d)
        return replace(spec, expect=expect, markers=tuple(markers))

    add("model", f"{command}-{name}" if kind == "ner" else f"{command}-{kind}-{name}", build)


def _edit_config(edit: Callable[[dict], None]):
    def change(model: Path, d: Path):
        config = json.loads((model / "config.json").read_text(encoding="utf-8"))
        edit(config)
        (model / "config.json").write_text(json.dumps(config), encoding="utf-8")

    return change


def _reshape_weights(model: Path, d: Path):
    """Rewrite weights.safetensors with every 2-D tensor one column wider (wrong dimension)."""
    from safetensors.numpy import load_file, save_file

    import numpy as np

    state = load_file(str(model / "weights.safetensors"))
    state = {k: (np.concatenate([v, v[:, :1]], axis=1) if v.ndim == 2 else v) for k, v in state.items()}
    save_file(state, str(model / "weights.safetensors"))


def _drop_tensor(model: Path, d: Path):
    from safetensors.numpy import load_file, save_file

    state = load_file(str(model / "weights.safetensors"))
    state.pop(sorted(state)[0])
    save_file(state, str(model / "weights.safetensors"))


def _symlink_weights(model: Path, d: Path):
    outside = d / "elsewhere"
    outside.mkdir()
    (model / "weights.safetensors").rename(outside / "weights.safetensors")
    (model / "weights.safetensors").symlink_to(outside / "weights.safetensors")


def _symlink_config_outside(model: Path, d: Path):
    outside = d / "elsewhere"
    outside.mkdir()
    (model / "config.json").rename(outside / "config.json")
    (model / "config.json").symlink_to(Path("..") / "elsewhere" / "config.json")


def _corrupt_oov(model: Path, d: Path):
    files = sorted(p for p in (model / "oov").rglob("*") if p.is_file() and p.suffix != ".json")
    target = files[0] if files else model / "oov" / "oov.json"
    target.write_bytes(binary_bytes(256))


def _oov_json_broken(model: Path, d: Path):
    found = sorted((model / "oov").glob("*.json"))
    (found[0] if found else model / "oov" / "oov.json").write_text("{broken", encoding="utf-8")


LEAVES = r"leave|outside|escape|\.\./"


def _contextual_path_escape(model: Path, d: Path):
    """embedders.json names a contextual encoder two folders up (a real, loadable-looking folder)."""
    outside = d.parent / "outside-model"
    outside.mkdir(exist_ok=True)
    (outside / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    description = json.loads((model / "embedders.json").read_text(encoding="utf-8"))
    contextual = {"kind": "contextual", "mode": "frozen", "model": "../../outside-model", "options": {}}
    parts = description["parts"] if description.get("kind") == "stack" else [description]
    description = {"kind": "stack", "parts": [*parts, contextual]}
    (model / "embedders.json").write_text(json.dumps(description), encoding="utf-8")


def _pickle_weights(model: Path, d: Path):
    (model / "weights.safetensors").write_bytes(pickle_payload(d / "PWNED-weights"))


def _set(path: tuple, value):
    def edit(config):
        target = config
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _delete(path: tuple):
    def edit(config):
        target = config
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


for _command in ("evaluate", "predict"):
    model_case("config-missing", lambda m, d: (m / "config.json").unlink(), command=_command)
    model_case("config-not-json", lambda m, d: (m / "config.json").write_text("{task: ner", encoding="utf-8"), command=_command)
    model_case("config-missing-labels", _edit_config(_delete(("labels",))), command=_command)
    model_case("labels-a-string", _edit_config(_set(("labels",), "PER")), command=_command)
    model_case("weights-corrupt", lambda m, d: (m / "weights.safetensors").write_bytes(binary_bytes(2048)), command=_command)
    model_case("weights-wrong-dimension", _reshape_weights, command=_command)
    model_case("oov-file-corrupt", _corrupt_oov, command=_command)
    model_case("weights-symlink-outside", _symlink_weights, command=_command)
    model_case("embedders-path-leaves-directory", _contextual_path_escape, command=_command, expect=LEAVES)
model_case("config-a-list", lambda m, d: (m / "config.json").write_text("[]", encoding="utf-8"))
model_case("config-binary", lambda m, d: (m / "config.json").write_bytes(binary_bytes(300)))
model_case("config-missing-config-key", _edit_config(_delete(("config",))))
model_case("config-missing-vectors-key", _edit_config(_delete(("vectors",))))
model_case("config-unknown-task", _edit_config(_set(("task",), "parse")))
model_case("config-hidden-a-string", _edit_config(_set(("config", "hidden"), "many")))
model_case("config-hidden-negative", _edit_config(_set(("config", "hidden"), -4)))
model_case("config-labels-empty", _edit_config(_set(("labels",), [])))
model_case("config-labels-numbers", _edit_config(_set(("labels",), [1, 2, 3])))
model_case("config-format-from-future", _edit_config(_set(("format",), 99)))
model_case("embedders-missing", lambda m, d: (m / "embedders.json").unlink())
model_case("embedders-not-json", lambda m, d: (m / "embedders.json").write_text("not json", encoding="utf-8"))
model_case("embedders-unknown-kind", lambda m, d: (m / "embedders.json").write_text('{"kind": "telepathy"}', encoding="utf-8"))
model_case("weights-missing", lambda m, d: (m / "weights.safetensors").unlink())
model_case("weights-truncated", lambda m, d: (m / "weights.safetensors").write_bytes((m / "weights.safetensors").read_bytes()[:300]))
model_case("weights-tensor-missing", _drop_tensor)
model_case("weights-a-pickle", _pickle_weights, markers=("PWNED-weights",))
model_case("oov-json-broken", _oov_json_broken)
model_case("config-symlink-outside", _symlink_config_outside)
model_case("labels-a-string", _edit_config(_set(("labels",), "pos")), kind="classify")
model_case("weights-corrupt", lambda m, d: (m / "weights.safetensors").write_bytes(binary_bytes(2048)), kind="classify", command="predict")


@case("model", "evaluate-model-is-a-file")
def _(d, fx):
    spec = b_evaluate(d, fx)
    shutil.rmtree(d / "model")
    (d / "model").write_text("not a model\n")
    return replace(spec, expect="model")


@case("model", "predict-model-empty-folder")
def _(d, fx):
    spec = b_predict(d, fx)
    shutil.rmtree(d / "model")
    (d / "model").mkdir()
    return replace(spec, expect="model")


@case("model", "predict-model-missing")
def _(d, fx):
    (d / "input.txt").write_text("Mary lives in Rome .\n", encoding="utf-8")
    return Spec(["predict", "no-model", "input.txt"], expect="no-model")


@case("model", "export-model-missing")
def _(d, fx):
    return Spec(["export", "no-model", "--to", "onnx", "out"], outputs=("out",), expect="no-model")


@case("model", "export-model-empty-folder")
def _(d, fx):
    spec = b_export(d, fx)
    shutil.rmtree(d / "model")
    (d / "model").mkdir()
    return replace(spec, expect="model")


@case("model", "export-into-its-own-model")
def _(d, fx):
    spec = b_export(d, fx)
    return replace(spec, args=["export", "model", "--to", "onnx", "model/onnx", "--overwrite"], outputs=("model/onnx",),
                   expect="inside the model")  # fmt: skip


def _broken_export(name: str, change: Callable[[Path], None], markers: tuple[str, ...] = ()) -> None:
    def build(d, fx):
        spec = b_predict_onnx(d, fx)
        change(d / "onnx")
        return replace(spec, expect="onnx", markers=markers)

    add("model", f"onnx-{name}", build)


_broken_export("graph-not-onnx", lambda e: (e / "model.onnx").write_bytes(binary_bytes()))
_broken_export("graph-missing", lambda e: (e / "model.onnx").unlink())
_broken_export("graph-truncated", lambda e: (e / "model.onnx").write_bytes((e / "model.onnx").read_bytes()[:5000]))
_broken_export("export-json-not-json", lambda e: (e / "export.json").write_text("{nope"))
_broken_export("export-json-a-list", lambda e: (e / "export.json").write_text("[1, 2]"))
_broken_export("export-json-no-labels", lambda e: (e / "export.json").write_text(
    json.dumps({k: v for k, v in json.loads((e / "export.json").read_text()).items() if k != "labels"})))
_broken_export("export-json-huge-min-width", lambda e: (e / "export.json").write_text(
    json.dumps({**json.loads((e / "export.json").read_text()), "min_width": 10**12})))
_broken_export("export-json-crf-wrong-shape", lambda e: (e / "export.json").write_text(
    json.dumps({**json.loads((e / "export.json").read_text()), "crf": {"transitions": [[0]], "start": [0], "end": [0]}})))
_broken_export("oov-rows-pickle", lambda e: (e / "oov_rows.npy").write_bytes(pickle_payload(e / "ran-code")), ("onnx/ran-code",))
_broken_export("oov-rows-truncated", lambda e: (e / "oov_rows.npy").write_bytes((e / "oov_rows.npy").read_bytes()[:90]))
_broken_export("graph-symlink", lambda e: ((e / "model.onnx").rename(e.parent / "elsewhere.onnx"), (e / "model.onnx").symlink_to(e.parent / "elsewhere.onnx")))


# === class: data — hostile data files for train / evaluate / predict / coverage / pretrain / label ===
def data_case(name: str, base, filename: str, content: bytes | Callable[[Path], bytes], replaces: str | None,
              *, stdin: bytes | None = None, options: dict | None = None) -> None:  # fmt: skip
    """``base`` with the data file argument ``replaces`` swapped for ``filename`` holding ``content``
    (``replaces`` None: the file is named by ``options`` instead)."""

    def build(d, fx):
        spec = base(d, fx)
        (d / filename).write_bytes(content(d) if callable(content) else content)
        args = [filename if a == replaces else a for a in spec.args]
        return replace(spec, args=override(args, options or {}), stdin=stdin, expect=re.escape(filename))

    add("data", name, build)


CONLL_ROWS = conll_text(10).encode()
data_case("conll-tag-fits-no-scheme", b_train_ner, "bad.conll", CONLL_ROWS.replace(b"B-PER", b"Q-PER", 3), "train.conll")
data_case("conll-tag-fits-no-scheme-bioes", b_train_ner, "bad.conll", CONLL_ROWS.replace(b"B-LOC", b"X-LOC"), "train.conll",
          options={"--scheme": "bioes"})  # fmt: skip
data_case("conll-only-docstart", b_train_ner, "bad.conll", b"-DOCSTART- -X- O O\n\n-DOCSTART- -X- O O\n", "train.conll")
data_case("conll-empty", b_train_ner, "bad.conll", b"", "train.conll")
data_case("conll-binary", b_train_ner, "bad.conll", binary_bytes(), "train.conll")
data_case("conll-bad-utf8", b_train_ner, "bad.conll", CONLL_ROWS.replace(b"lives", b"l\xffves\xfe", 1), "train.conll")
data_case("conll-one-column", b_train_ner, "bad.conll", b"John\nlives\nin\nParis\n", "train.conll")
data_case("conll-ragged-columns", b_train_ner, "bad.conll", b"John NNP B-PER\nlives O\nin IN O\n", "train.conll")
data_case("conll-dev-empty", b_train_ner, "dev.conll", b"", None, options={"--dev": "dev.conll"})
data_case("conll-utf16", b_train_ner, "bad.conll", conll_text(4).encode("utf-16"), "train.conll")
data_case("ner-jsonl-not-json", b_train_ner, "bad.jsonl", b'{"tokens": ["John"], "tags": ["B-PER"]}\n{tokens: oops\n', "train.conll")
data_case("ner-jsonl-tokens-a-string", b_train_ner, "bad.jsonl", b'{"tokens": "John lives", "tags": ["B-PER", "O"]}\n', "train.conll")
data_case("ner-jsonl-length-mismatch", b_train_ner, "bad.jsonl", b'{"tokens": ["John", "lives"], "tags": ["B-PER"]}\n', "train.conll")
data_case("ner-jsonl-span-out-of-range", b_train_ner, "bad.jsonl", b'{"text": "John lives", "spans": [[0, 400, "PER"]]}\n', "train.conll")
data_case("ner-jsonl-a-list-per-line", b_train_ner, "bad.jsonl", b'["John", "B-PER"]\n', "train.conll")
data_case("classify-jsonl-not-json", b_train_clf, "bad.jsonl", b'{"text": "good", "label": "pos"}\nnot json at all\n', "train.tsv")
data_case("classify-jsonl-label-a-dict", b_train_clf, "bad.jsonl", b'{"text": "good", "label": {"x": 1}}\n{"text": "bad", "label": "neg"}\n', "train.tsv")
data_case("classify-jsonl-text-a-number", b_train_clf, "bad.jsonl", b'{"text": 42, "label": "pos"}\n{"text": "bad", "label": "neg"}\n', "train.tsv")
data_case("classify-tsv-missing-column", b_train_clf, "bad.tsv", b"label\ttext\npos\tthe day was good\nneg\nneg\tbad\n", "train.tsv")
data_case("classify-tsv-no-such-column", b_train_clf, "bad.tsv", tsv_text().encode(), "train.tsv", options={"--label-column": "sentiment"})
data_case("classify-tsv-one-class", b_train_clf, "bad.tsv", b"label\ttext\npos\tgood\npos\tgreat\npos\tfine\n", "train.tsv")
data_case("classify-tsv-empty", b_train_clf, "bad.tsv", b"", "train.tsv")
data_case("classify-tsv-binary", b_train_clf, "bad.tsv", binary_bytes(), "train.tsv")
data_case("classify-tsv-bad-utf8", b_train_clf, "bad.tsv", tsv_text().encode().replace(b"good", b"g\xffod", 1), "train.tsv")
data_case("classify-csv-unclosed-quote", b_train_clf, "bad.csv", b'label,text\npos,"the day was good\nneg,bad\n', "train.tsv")
data_case("evaluate-conll-unknown-scheme", b_evaluate, "bad.conll", CONLL_ROWS.replace(b"B-PER", b"Q-PER"), "test.conll")
data_case("evaluate-conll-empty", b_evaluate, "bad.conll", b"", "test.conll")
data_case("evaluate-conll-binary", b_evaluate, "bad.conll", binary_bytes(), "test.conll")
data_case("predict-binary-file", b_predict, "input.bin", PNG_BYTES, "input.txt")
data_case("predict-bad-utf8-file", b_predict, "input.txt", b"Mary lives in R\xf6me .\nJohn \xff\xfe met\n", "input.txt")
data_case("predict-empty-file", b_predict, "empty.txt", b"", "input.txt")
data_case("predict-jsonl-not-json", b_predict, "input.jsonl", b'{"text": "Mary lives in Rome ."}\n{oops\n', "input.txt")
data_case("predict-jsonl-tokens-numbers", b_predict, "input.jsonl", b'{"tokens": [1, 2, 3]}\n', "input.txt")
data_case("predict-jsonl-bad-utf8", b_predict, "input.jsonl", b'{"text": "Mary \xff lives"}\n', "input.txt")
data_case("predict-classify-binary-file", b_predict_clf, "input.bin", PNG_BYTES, "input.txt")


def stdin_case(name: str, base, data: bytes, options: dict | None = None) -> None:
    def build(d, fx):
        spec = base(d, fx)
        args = [a for a in spec.args if a != "input.txt"]
        return replace(spec, args=override(args, options or {}), stdin=data, expect="stdin")

    add("data", name, build)


stdin_case("predict-binary-stdin", b_predict, PNG_BYTES)
stdin_case("predict-bad-utf8-stdin", b_predict, b"Mary lives in R\xf6me .\n\xff\xfe\n")
stdin_case("predict-jsonl-bad-utf8-stdin", b_predict, b'{"text": "Mary \xff"}\n', {"--format": "jsonl"})
stdin_case("predict-empty-stdin", b_predict, b"")
stdin_case("predict-classify-bad-utf8-stdin", b_predict_clf, b"the day was \xff good\n")
stdin_case("predict-classify-binary-stdin", b_predict_clf, binary_bytes(1024))


@case("data", "predict-input-is-a-folder")
def _(d, fx):
    spec = b_predict(d, fx)
    (d / "folder").mkdir()
    return replace(spec, args=["folder" if a == "input.txt" else a for a in spec.args], expect="folder")


@case("data", "classify-label-folder-empty")
def _(d, fx):
    spec = b_train_clf(d, fx)
    (d / "labels").mkdir()
    return replace(spec, args=["labels" if a == "train.tsv" else a for a in spec.args], expect="labels")


data_case("coverage-binary-data", b_coverage, "data.bin", binary_bytes(), "train.conll")
data_case("coverage-bad-utf8-data", b_coverage, "data.txt", b"John lives in \xff\xfeParis\n", "train.conll")
data_case("vectors-evaluate-similarity-bad-score", b_vevaluate, "sim-bad.txt", b"john mary high\nparis rome 8.0\n", "sim.txt")
data_case("vectors-evaluate-similarity-binary", b_vevaluate, "sim-bad.txt", binary_bytes(), "sim.txt")
data_case("vectors-evaluate-analogy-three-words", b_vevaluate, "analogy-bad.txt", b": people\njohn mary he\n", "analogy.txt")
data_case("align-dictionary-malformed", b_align, "dict.txt", b"john\nmary mary extra words\n", None,
          options={"--dictionary": "dict.txt"})  # fmt: skip
data_case("debias-pairs-malformed-json", b_debias, "pairs-bad.txt", b'[["he", "she"], ["man"', "pairs.txt")
data_case("debias-weat-wrong-shape", b_debias, "weat-bad.json", b'{"name": "x", "targets": ["john"]}', "weat.json")
data_case("plot-groups-malformed", b_plot, "groups.txt", binary_bytes(300), None, options={"--groups": "groups.txt"})
data_case("plot-words-file-binary", b_plot, "words.bin", binary_bytes(300), None, options={"--words-file": "words.bin"})
data_case("pretrain-corpus-binary", b_word2vec, "corpus.bin", binary_bytes(), "corpus.txt")
data_case("pretrain-corpus-empty", b_word2vec, "empty.txt", b"", "corpus.txt")
data_case("pretrain-corpus-gz-truncated", b_word2vec, "corpus.txt.gz", lambda d: gzip.compress(corpus_text().encode())[:40], "corpus.txt")
data_case("pretrain-corpus-jsonl-not-json", b_glove, "corpus.jsonl", b'{"text": "John lives in Paris ."}\n{nope\n', "corpus.txt")
data_case("pretrain-corpus-fake-pdf", b_fasttext, "corpus.pdf", b"%PDF-1.4\n" + binary_bytes(500), "corpus.txt")
data_case("self-train-text-binary", b_train_ner, "raw.bin", binary_bytes(), None, options={"--self-train": "raw.bin"})
data_case("self-train-text-bad-utf8", b_train_ner, "raw.txt", b"John lives in \xff\xfeParis\n", None, options={"--self-train": "raw.txt"})
data_case("self-train-text-blank", b_train_ner, "raw.txt", b"\n  \n", None, options={"--self-train": "raw.txt"})
data_case("classify-self-train-text-binary", b_train_clf, "raw.bin", binary_bytes(), None, options={"--self-train": "raw.bin"})
data_case("label-patterns-not-json", b_label, "patterns-bad.jsonl", b'{"label": "PER", "pattern": "John"}\nnot json\n', "patterns.jsonl")
data_case("label-patterns-wrong-shape", b_label, "patterns-bad.jsonl", b'{"label": "PER", "pattern": 42}\n', "patterns.jsonl")
data_case("label-input-binary", b_label, "raw.bin", binary_bytes(), "raw.txt")
data_case("study-train-binary", b_study, "train.bin", binary_bytes(), "train.conll")
data_case("study-config-not-toml", b_study, "study.toml", b"task = ner\n[[[broken\n", None, options={"--config": "study.toml"})


# === class: outputs — where the output must not (or cannot) go ======================================
USER_FILE = "keep-me.txt"
USER_TEXT = b"a user's own file: must survive\n"


def _user_folder(d: Path, name: str) -> None:
    (d / name).mkdir()
    (d / name / USER_FILE).write_bytes(USER_TEXT)


def _user_file(d: Path, name: str) -> None:
    (d / name).write_bytes(USER_TEXT)


def unwritable_place(d: Path) -> tuple[str, str | None]:
    """A folder the command cannot write into: a chmod 0o500 folder, or for root (who ignores
    permissions) a path under /sys, where even root may not create files."""
    if not IS_ROOT:
        (d / "readonly").mkdir()
        os.chmod(d / "readonly", 0o500)
        return str(d / "readonly"), None
    probe = Path("/sys/veclift-hostile-probe")
    try:
        probe.mkdir()
    except OSError:
        return "/sys/veclift-hostile", None
    probe.rmdir()
    return "", "running as root and /sys is writable: no unwritable place to test"


OUTPUT_TARGETS = {
    # base, the option naming the output (or None: positional 'out'), whether it is a folder
    "train": (b_train_ner, "--output", True),
    "convert": (b_convert, None, True),
    "convert-glove": (variant(b_convert, extra=["--to", "glove"]), None, False),
    "word2vec": (b_word2vec, "--output", True),
    "glove": (b_glove, "--output", True),
    "encoder": (b_encoder, "--output", True),
    "reduce": (b_reduce, "--output", True),
    "study": (b_study, "--output", True),
    "terms": (b_terms, "--output", False),
    "label": (b_label, "--output", False),
    "plot": (b_plot, "--output", False),
    "export": (b_export, None, True),
}


def output_case(name: str, target: str, setup: Callable[[Path, str], tuple[str, str | None]] | None, *,
                overwrite: bool = False, expect: str | None = None) -> None:  # fmt: skip
    """``target``'s command with its output at the path ``setup(case_dir, default_name)`` returns."""
    base, option, _ = OUTPUT_TARGETS[target]

    def build(d, fx):
        spec = base(d, fx)
        default = spec.outputs[0]
        path, skip = setup(d, default) if setup else (default, None)
        args = list(spec.args)
        if option is None:
            args[args.index(default)] = path
        else:
            args = override(args, {option: path})
        if overwrite:
            args.append("--overwrite")
        outputs = (path, *spec.outputs[1:]) if not Path(path).is_absolute() else spec.outputs[1:] + (path,)
        return replace(spec, args=args, outputs=outputs, skip=skip, expect=expect)

    add("outputs", f"{target}-{name}", build)


def _existing_user_folder(d, default):
    _user_folder(d, default)
    return default, None


def _existing_user_file(d, default):
    _user_file(d, default)
    return default, None


def _parent_is_file(d, default):
    _user_file(d, "afile")
    return f"afile/{default}", None


def _deep_under_file(d, default):
    _user_file(d, "afile")
    return f"afile/sub/deeper/{default}", None


def _unwritable(d, default):
    place, skip = unwritable_place(d)
    return f"{place}/{default}", skip


def _symlink_to_user_folder(d, default):
    _user_folder(d, "real")
    (d / default).symlink_to("real")
    return default, None


for _target, (_b, _o, _is_dir) in OUTPUT_TARGETS.items():
    if _is_dir:
        output_case("onto-user-folder", _target, _existing_user_folder)
        if _target in ("train", "convert", "study", "word2vec"):
            output_case("onto-user-folder-overwrite", _target, _existing_user_folder, overwrite=True)
            output_case("onto-plain-file", _target, _existing_user_file)
    else:
        output_case("onto-existing-file", _target, _existing_user_file)
        output_case("onto-user-folder", _target, _existing_user_folder)
    if _target in ("train", "convert", "convert-glove", "terms", "study", "glove"):
        output_case("parent-is-a-file", _target, _parent_is_file)
    if _target in ("train", "word2vec", "label", "plot", "study"):
        output_case("unwritable-folder", _target, _unwritable)
output_case("deep-under-a-file", "encoder", _deep_under_file)
output_case("symlink-to-user-folder", "train", _symlink_to_user_folder)
output_case("symlink-to-user-folder-overwrite", "convert", _symlink_to_user_folder, overwrite=True)


@case("outputs", "terms-patterns-onto-existing-file")
def _(d, fx):
    spec = b_terms(d, fx)
    _user_file(d, "terms.patterns.jsonl")
    return spec


@case("outputs", "demo-onto-user-folder")
def _(d, fx):
    spec = b_demo(d, fx)
    _user_folder(d, "demo")
    return spec


@case("outputs", "train-output-is-the-training-file")
def _(d, fx):
    spec = b_train_ner(d, fx)
    return replace(spec, args=override(spec.args, {"--output": "train.conll"}), outputs=("train.conll",))


# === class: usage — command-line mistakes: each one line ============================================
def usage_case(name: str, args_or_build, expect: str | None = None) -> None:
    def build(d, fx):
        if callable(args_or_build):
            return replace(args_or_build(d, fx), expect=expect)
        write_vectors(d)
        return Spec(list(args_or_build), expect=expect)

    add("usage", name, build)


usage_case("unknown-command", ["frobnicate"], "frobnicate")
usage_case("unknown-subcommand", ["vectors", "frobnicate"], "frobnicate")
usage_case("unknown-pretrain-kind", ["pretrain", "bert", "corpus.txt", "--output", "out"], "bert")
usage_case("unknown-option", ["vectors", "info", "vectors.txt", "--bogus"], "bogus")
usage_case("unknown-option-train", variant(b_train_ner, extra=["--frobnicate", "3"]), "frobnicate")
usage_case("missing-argument", ["vectors", "info"], "SOURCE")
usage_case("missing-required-output", variant(b_train_ner, {"--output": None}), "output")
usage_case("missing-required-train", ["train", "ner", "--output", "model"], "train")
usage_case("missing-option-value", ["vectors", "neighbors", "vectors.txt", "john", "--topn"], "topn")
usage_case("bad-choice-predict-format", variant(b_predict, extra=["--format", "xml"]), "format")
usage_case("bad-choice-train-task", lambda d, fx: replace(b_train_ner(d, fx), args=["train", "parse", *b_train_ner(d, fx).args[2:]]), "parse")
usage_case("bad-choice-study-task", lambda d, fx: replace(b_study(d, fx), args=["study", "parse", *b_study(d, fx).args[2:]]), "parse")
usage_case("bad-choice-convert-to", variant(b_convert, extra=["--to", "xml"]), "xml")
usage_case("bad-choice-info-format", ["vectors", "info", "vectors.txt", "--format", "xyz"], "xyz")
usage_case("bad-choice-embeddings", variant(b_train_ner, {"--embeddings": "telepathy"}), "telepathy")
usage_case("bad-choice-encoder", variant(b_train_ner, {"--encoder": "quantum"}), "quantum")
usage_case("bad-choice-head", variant(b_train_ner, {"--head": "hydra"}), "hydra")
usage_case("bad-choice-scheme", variant(b_train_ner, {"--scheme": "iob9"}), "iob9")
usage_case("bad-choice-optimizer", variant(b_train_ner, {"--optimizer": "hope"}), "hope")
usage_case("bad-choice-oov", ["vectors", "neighbors", "vectors.txt", "john", "--oov", "guess"], "guess")
usage_case("bad-choice-analogy-method", ["vectors", "analogy", "vectors.txt", "john", "paris", "mary", "--method", "4cos"], "4cos")
usage_case("bad-choice-plot-method", variant(b_plot, {"--method": "umap"}), "umap")
usage_case("bad-choice-label-format", variant(b_label, {"--format": "xml"}), "xml")
usage_case("bad-choice-study-executor", variant(b_study, extra=["--executor", "slurm"]), "slurm")
usage_case("bad-choice-combine-vocab", variant(b_combine, {"--vocab": "some"}), "some")
usage_case("option-not-for-task", variant(b_train_clf, {"--head": "crf"}), "head")
usage_case("not-an-integer", variant(b_train_ner, {"--epochs": "abc"}), "epochs")
usage_case("not-an-integer-float", ["vectors", "neighbors", "vectors.txt", "john", "--topn", "1.5"], "topn")
usage_case("not-a-number-lr", variant(b_train_ner, {"--lr": "fast"}), "lr")
usage_case("flag-given-a-value", ["vectors", "info", "vectors.txt", "--json=maybe"], "json")
usage_case("neighbors-unknown-word", ["vectors", "neighbors", "vectors.txt", "zyzzyva"], "zyzzyva")
usage_case("combine-one-source", lambda d, fx: Spec(["vectors", "combine", write_vectors(d), "--output", "out"], outputs=("out",)))
usage_case("terms-seed-unknown", variant(b_terms, {"--seed": "zyzzyva,qwxz"}), "zyzzyva")
usage_case("plot-no-words", lambda d, fx: Spec(["vectors", "plot", write_vectors(d), "--output", "map.png"], outputs=("map.png",)))


def config_case(name: str, content: bytes, expect: str, extra: tuple[str, ...] = ()) -> None:
    """`veclift train ner --config run.toml` (otherwise valid) with ``content`` in the config file."""

    def build(d, fx):
        spec = b_train_ner(d, fx)
        (d / "run.toml").write_bytes(content)
        return replace(spec, args=[*spec.args, "--config", "run.toml", *extra], expect=expect)

    add("usage", f"config-{name}", build)


config_case("broken-toml", b"[trainer\nlr = 0.001\n", r"run\.toml:1: not valid TOML")
config_case("unknown-section", b"[trainr]\nlr = 0.001\n", r"run\.toml: unknown section \[trainr\]")
config_case("unknown-key", b"[trainer]\nlearning_rate = 0.001\n", r"run\.toml: unknown setting trainer\.learning_rate")
config_case("wrong-type", b'[trainer]\nlr = "fast"\n', r"run\.toml: trainer\.lr must be a number")
config_case("out-of-range", b"[trainer]\nbatch_size = 0\n", r"run\.toml: trainer\.batch_size must be at least 1")
config_case("key-outside-a-section", b"hidden = 4\n", r"run\.toml: 'hidden' is not a section")
config_case("other-task", b'task = "classify"\n', r"run\.toml: this config is for task 'classify'")
config_case("bad-utf8", b'[model]\nchar = "\xff"\n', r"run\.toml:2: not valid utf-8")
config_case("override-unknown-key", b"", r"--trainer\.lrr: unknown setting", extra=("--trainer.lrr", "0.1"))
config_case("override-wrong-type", b"", r"--model\.hidden: model\.hidden must be a whole number", extra=("--model.hidden", "4.5"))
config_case("override-no-value", b"", r"--model\.hidden needs a value", extra=("--model.hidden",))
config_case("not-a-number", b"[trainer]\nlr = nan\n", r"lr must be a finite number")
config_case("override-infinite", b"", r"--trainer\.lr: option lr must be a finite number", extra=("--trainer.lr", "inf"))
config_case("override-huge-int", b"", r"hidden is out of range", extra=("--model.hidden", "99999999999999999999"))
config_case("override-value-is-an-option", b"", r"--trainer\.lr needs a value", extra=("--trainer.lr", "--model.hidden", "3"))
config_case("task-a-table", b"[task]\nname = 1\n", r"run\.toml: 'task' must be the name of a task")
usage_case("config-missing", variant(b_train_ner, extra=["--config", "nope.toml"]), r"nope\.toml: no such config file")


# === class: download — named sources and URLs (never the internet: proxies point at a closed port) ===
def download_case(name: str, args: list[str], expect: str | None) -> None:
    add("download", name, lambda d, fx: Spec(["vectors", "download", *args], expect=expect))


download_case("sha256-malformed", ["glove-6b-100d", "--sha256", "xyz"], "sha-?256")
download_case("sha256-too-short", ["glove-6b-100d", "--sha256", "ab" * 31 + "a"], "sha-?256")
download_case("sha256-not-hex", ["glove-6b-100d", "--sha256", "z" * 64], "sha-?256")
download_case("sha256-malformed-url", ["http://127.0.0.1:9/vectors.txt", "--sha256", "not-a-hash"], "sha-?256")
download_case("unknown-name", ["glove-7b-12d"], "glove-7b-12d")
download_case("empty-name", [""], None)
download_case("path-traversal-name", ["../../etc/passwd"], None)
download_case("ftp-url", ["ftp://127.0.0.1/vectors.txt"], None)
download_case("url-without-file-name", ["http://127.0.0.1:9/"], None)
download_case("url-unreachable", ["http://127.0.0.1:9/vectors.txt"], None)


# === class: study — the grid's own options ===========================================================
def study_case(name: str, options: dict[str, str | None] | None = None, extra: list[str] | None = None,
               expect: str | None = None, setup: Callable[[Path], None] | None = None) -> None:  # fmt: skip
    def build(d, fx):
        spec = b_study(d, fx)
        if setup:
            setup(d)
        return replace(spec, args=override(spec.args, options or {}) + list(extra or []), expect=expect)

    add("study", name, build)


study_case("sizes-not-numbers", {"--sizes": "abc"}, expect="abc")
study_case("sizes-empty-item", {"--sizes": "5,,8"})
study_case("sizes-empty", {"--sizes": ""})
study_case("sizes-zero", {"--sizes": "0"})
study_case("sizes-negative", {"--sizes": "-5"})
study_case("sizes-fraction", {"--sizes": "5.5"})
study_case("sizes-repeat", {"--sizes": "5,5"})
study_case("sizes-only-commas", {"--sizes": ",,"})
study_case("strategies-unknown", {"--strategies": "telepathy"}, expect="telepathy")
study_case("strategies-one-unknown", {"--strategies": "scratch,telepathy"}, expect="telepathy")
study_case("strategies-empty", {"--strategies": ""})
study_case("strategies-repeat", {"--strategies": "scratch,scratch"})
study_case("unknown-model-option", extra=["--frobnicate", "3"], expect="frobnicate")
study_case("model-option-bad-value", {"--hidden": "many"}, expect="hidden")
study_case("model-option-negative", {"--hidden": "-4"}, expect="hidden")
study_case("model-option-no-value", extra=["--dropout"], expect="dropout")
study_case("stray-positional", extra=["stray"], expect="stray")
study_case("train-missing", {"--train": "nope.conll"}, expect="nope.conll")
study_case("test-missing", {"--test": "nope-test.conll"}, expect="nope-test.conll")
study_case("dev-missing", {"--dev": "nope-dev.conll"}, expect="nope-dev.conll")
study_case("train-is-a-folder", {"--train": "folder"}, expect="folder", setup=lambda d: (d / "folder").mkdir())
study_case("train-empty", {"--train": "empty.conll"}, expect="empty.conll", setup=lambda d: (d / "empty.conll").write_bytes(b""))
study_case("no-train", {"--train": None})
study_case("config-missing", extra=["--config", "nope.toml"], expect="nope.toml")
study_case("config-unknown-setting", extra=["--config", "study.toml"], expect="study.toml",
           setup=lambda d: (d / "study.toml").write_text('task = "ner"\ntrain = "train.conll"\nfrobnicate = 3\n'))  # fmt: skip
study_case("config-wrong-type", {"--sizes": None, "--seeds": None}, extra=["--config", "study.toml"], expect="study.toml",
           setup=lambda d: (d / "study.toml").write_text('task = "ner"\ntrain = "train.conll"\nseeds = "three"\nsizes = "lots"\n'))  # fmt: skip
study_case("address-without-ray", extra=["--address", "127.0.0.1:9"])


# --- harness ------------------------------------------------------------------------------------
@dataclass
class Result:
    code: int | None
    stdout: str
    stderr: str
    traceback: str | None = None  # an exception that escaped main() (in-process runs)
    timed_out: bool = False
    seconds: float = 0.0


def case_env(home: Path) -> dict[str, str]:
    """Environment of every case: its own cache, wide terminal, no network, no debug tracebacks."""
    closed = "http://127.0.0.1:9"
    return {
        "VECLIFT_HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb",
        "http_proxy": closed, "https_proxy": closed, "HTTP_PROXY": closed, "HTTPS_PROXY": closed,
        "ftp_proxy": closed, "no_proxy": "", "NO_PROXY": "",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONWARNINGS": "", "VECLIFT_DEBUG": "",
    }  # fmt: skip


def run_subprocess(args: list[str], *, cwd: Path, env: dict[str, str], stdin: bytes | None = None,
                   timeout: float = 60, mem_limit_gb: float | None = None, executable: list[str] | None = None) -> Result:  # fmt: skip
    """``veclift ARGS`` as a real process (its own process group, killed whole on timeout)."""
    command = (executable or [sys.executable, "-m", "veclift"]) + list(args)
    full_env = {**os.environ, **env}
    full_env.pop("VECLIFT_DEBUG", None)

    def limit():
        if mem_limit_gb:
            import resource

            size = int(mem_limit_gb * (1 << 30))
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=full_env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, preexec_fn=limit)  # fmt: skip
    try:
        out, err = process.communicate(stdin, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        timed_out = True
    return Result(process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                  timed_out=timed_out, seconds=time.perf_counter() - start)  # fmt: skip


def run_in_process(args: list[str], stdin: bytes | None, read_output: Callable[[], tuple[str, str]]) -> Result:
    """Call ``veclift.cli.main()`` with ``sys.argv`` and ``sys.stdin`` replaced; ``read_output`` returns
    (and clears) what was written to stdout and stderr since its last call (pytest's ``capfd``)."""
    import veclift.cli

    saved = sys.argv, sys.stdin, warnings.showwarning, signal.getsignal(signal.SIGTERM)
    sys.argv = ["veclift", *args]
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="utf-8")
    read_output()
    code, tb = None, None
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            veclift.cli.main()
        code = 0
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    except BaseException as exc:  # noqa: BLE001 - anything else escaping main() is a traceback
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    finally:
        seconds = time.perf_counter() - start
        sys.argv, sys.stdin, warnings.showwarning, old_term = saved
        signal.signal(signal.SIGTERM, old_term)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
    out, err = read_output()
    return Result(code, out, err, traceback=tb, seconds=seconds)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: files by content digest, links by target, folders."""
    entries: dict[str, tuple] = {}
    if not root.exists():
        return entries
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                entries[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                entries[rel] = ("dir",)
            elif path.is_file():
                try:
                    entries[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
                except OSError:
                    entries[rel] = ("file", "unreadable", path.stat().st_size)
            else:
                entries[rel] = ("other",)
    return entries


def outside_state(spec: Spec, root: Path) -> dict[str, bool]:
    return {o: Path(o).exists() for o in spec.outputs if Path(o).is_absolute()}


PY_TRACEBACK = "Traceback (most recent call last)"
PY_WARNING = re.compile(r"\b[A-Z]\w*Warning: |^\s*\S+\.py:\d+: ")
PROGRESS = re.compile(r"^[^:]{1,80}: +\d{1,3}% ·|^[^:]{1,80}: .*· [\d.]+ s$")  # progress log lines
TEMP_NAME = re.compile(r"^\..*\.(tmp|old)$|\.part$")


def _top_level(new: list[str]) -> list[str]:
    """New paths without those inside another new folder (one mention per new tree)."""
    out: list[str] = []
    for rel in sorted(new):
        if not any(rel.startswith(parent + "/") for parent in out):
            out.append(rel)
    return out


def _traceback_summary(text: str) -> str:
    lines = [l for l in text.strip().splitlines() if l.strip()]
    last = lines[-1].strip() if lines else "?"
    where = ""
    for line in lines:
        found = re.search(r'File "([^"]*veclift[^"]*)", line (\d+)', line)
        if found and "/tests/" not in found.group(1):
            where = f" in {found.group(1).split('veclift/', 1)[-1] if 'site-packages' not in found.group(1) else found.group(1).rsplit('/', 1)[-1]}:{found.group(2)}"
    return f"traceback {last[:140]}{where}"


def judge(spec: Spec, result: Result, before: dict, after: dict, outside_before: dict | None = None) -> list[str]:
    """What the run got wrong against the standard; empty when the case held."""
    problems: list[str] = []
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("error: ")]
    others = [l for l in lines if not (l.startswith("error: ") or l.startswith("warning:"))]
    progress = [l for l in others if PROGRESS.search(l)]
    others = [l for l in others if not PROGRESS.search(l)]
    if result.timed_out:
        problems.append(f"timed out after {result.seconds:.0f} s")
    if result.traceback:
        problems.append(_traceback_summary(result.traceback))
    elif PY_TRACEBACK in result.stderr:
        problems.append(_traceback_summary(result.stderr[result.stderr.index(PY_TRACEBACK):]) + f" (exit {result.code})")
    elif not result.timed_out:
        if result.code != 2:
            problems.append(f"exit {result.code}" + (f" (signal {-result.code})" if result.code and result.code < 0 else ""))
        if not errors:
            problems.append("no error line" + (f"; stderr: {lines[0][:120]!r}" if lines else ""))
        elif len(errors) > 1:
            problems.append(f"{len(errors)} error lines")
        if progress:
            problems.append(f"{len(progress)} progress line(s) on stderr ({progress[0].strip()[:60]!r})")
        if others:
            problems.append(f"{len(others)} other line(s) on stderr ({others[0].strip()[:100]!r})")
    python_warnings = [l for l in lines if PY_WARNING.search(l)]
    if python_warnings:
        problems.append(f"Python warning format: {python_warnings[0].strip()[:100]!r}")
    if errors and result.code == 2 and spec.expect and not re.search(spec.expect, errors[0], re.IGNORECASE):
        problems.append(f"error line does not name {spec.expect!r}")
    for marker in spec.markers:
        if marker in after and marker not in before:
            problems.append(f"input ran code: {marker} was created")
    outputs = [o for o in spec.outputs if not Path(o).is_absolute()]
    for output in outputs:
        if output not in before and output in after:
            problems.append(f"output left behind: {output}{'/' if after[output][0] == 'dir' else ''}")
    for output, existed in (outside_before or {}).items():
        if not existed and Path(output).exists():
            problems.append(f"output left behind: {output}")
    deleted = [rel for rel in before if rel not in after]
    changed = [rel for rel in before if rel in after and after[rel] != before[rel]]
    new = [rel for rel in after if rel not in before and rel not in spec.markers]
    new_top = [rel for rel in _top_level(new) if rel not in outputs]
    stray = [rel for rel in new_top if after[rel][0] != "dir" or TEMP_NAME.search(rel.rsplit("/", 1)[-1])]
    if deleted:
        problems.append(f"deleted: {', '.join(_top_level(deleted)[:3])}")
    if changed:
        problems.append(f"changed: {', '.join(changed[:3])}")
    if stray:
        problems.append(f"left behind: {', '.join(stray[:3])}")
    return problems


def stray_in_home(home: Path) -> list[str]:
    """Temporary files a command left in its cache folder."""
    if not home.exists():
        return []
    return [p.relative_to(home).as_posix() for p in home.rglob("*") if TEMP_NAME.search(p.name)]


def case_by_id(case_id: str) -> Case:
    for c in CASES:
        if c.id == case_id:
            return c
    raise KeyError(case_id)


def counts() -> dict[str, int]:
    found = {k: 0 for k in CLASSES}
    for c in CASES:
        found[c.klass] += 1
    return found


_ids = [c.id for c in CASES]
assert len(_ids) == len(set(_ids)), sorted({i for i in _ids if _ids.count(i) > 1})
