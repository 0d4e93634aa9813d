"""An exported model (`veclift.tasks.onnx_export`) run by onnxruntime, behind the prediction methods
of the torch models, so `veclift predict`, `veclift serve` and a task's ``predict_records`` take either.

Words the model has no row for get one as the torch model gives it (from ``vectors`` when given,
else the saved OOV chain), passed to the graph as ``extra_rows`` for that batch only.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from veclift.data.features import casing_ids, char_index, char_inputs, word_ids
from veclift.data.textfile import read_json
from veclift.errors import VecliftError
from veclift.tasks.decoding import Decoder
from veclift.tasks.inputs import in_length_batches, item_list
from veclift.tasks.tagger import EntityPredictor
from veclift.tasks.onnx_export import EXPORT_FILE, FORMAT_VERSION, GRAPH_FILE, OOV_DIR, OOV_ROWS_FILE

MAX_MIN_WIDTH = 64  # a CNN classifier's widest kernel; export.json asking more is not veclift's


def is_onnx_export(directory: str | Path) -> bool:
    return (Path(directory) / EXPORT_FILE).is_file()


class WordInputs:
    """``word_ids`` and ``extra_rows`` of a batch, as `WordEmbedder` looks words up and adds rows."""

    def __init__(self, description: dict[str, Any], directory: Path):
        self.lowercase = bool(description["lowercase"])
        self.dim = int(description["dim"])
        self.strategy = description["strategy"]
        self.n_rows = len(description["words"])
        self.index = {word: row for row, word in enumerate(description["words"]) if word}
        self.found: dict[str, np.ndarray | None] = {}  # rows resolved so far for unseen words (None: nothing found)
        self.guessed: set[str] = set()  # words in ``found`` whose row came from the OOV chain, not from vectors
        self.oov = None
        if (directory / OOV_DIR).is_dir():
            from veclift.vectors.core import Vectors
            from veclift.vectors.oov import OOVChain

            words = list(description["oov_words"])
            base = Vectors(words, read_rows(directory / OOV_ROWS_FILE, len(words), self.dim), meta={"lowercase": self.lowercase})
            self.oov = OOVChain.load(directory / OOV_DIR, base)

    def key(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    def arrays(self, token_lists: Sequence[Sequence[str]], width: int, vectors: Any) -> list[np.ndarray]:
        from veclift.embeddings.words import KNOWN, MAX_ADDED_ROWS, resolve_rows

        keys = [] if self.strategy == "scratch" else sorted({self.key(t) for tokens in token_lists for t in tokens} - self.index.keys())
        vindex = vectors.index if vectors is not None else {}
        asked = [k for k in keys if k not in self.found or (k in vindex and (self.found[k] is None or k in self.guessed))]
        if asked:
            if len(self.found) + len(asked) > MAX_ADDED_ROWS:  # a long-running service meets no end of new words
                self.found.clear()
                self.guessed.clear()
            words, rows, origins, unresolved = resolve_rows(asked, vectors, self.oov, self.dim)
            self.found.update(zip(words, rows))
            self.guessed.difference_update(words)
            self.guessed.update(w for w, origin in zip(words, origins) if origin != KNOWN)
            self.found.update((k, self.found.get(k)) for k in unresolved)
        extra = [k for k in keys if self.found.get(k) is not None]
        index = ChainMap({k: self.n_rows + i for i, k in enumerate(extra)}, self.index)
        rows = np.stack([self.found[k] for k in extra]) if extra else np.zeros((0, self.dim), np.float32)
        return [word_ids(token_lists, index, self.lowercase, width), rows.astype(np.float32)]


def read_rows(path: Path, count: int, dim: int) -> np.ndarray:
    """The OOV chain's pre-trained rows: a plain float32 (count, dim) ``.npy``, never a pickle."""
    try:
        rows = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise VecliftError(f"cannot read the OOV chain's rows: {exc}", path) from None
    if rows.dtype != np.float32 or rows.shape != (count, dim):
        raise VecliftError(f"expected {count} x {dim} float32 rows, found {rows.shape} {rows.dtype}", path)
    return rows


def check_graph(path: Path, inputs: list[str], output: str) -> None:
    """The graph keeps its weights inside its own file and has the inputs and output export.json names."""
    import onnx

    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:  # onnx raises protobuf's and its own error types for broken files
        raise VecliftError(f"cannot read {GRAPH_FILE}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", path) from None
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer):
        raise VecliftError(f"{GRAPH_FILE} names weights in other files; veclift's exports keep them inside", path)
    found = [i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    if found != inputs or [o.name for o in graph.output] != [output]:
        raise VecliftError(f"the graph's inputs {found} and outputs do not match {EXPORT_FILE}", path)


class OnnxModel(EntityPredictor):
    """An exported tagger or classifier; ``threads``: onnxruntime's intra-op threads (0: its default)."""

    def __init__(self, directory: str | Path, *, threads: int = 0):
        import onnxruntime

        from veclift.confined import refuse_symlinks

        directory = Path(directory)
        refuse_symlinks(directory)
        meta = read_json(directory / EXPORT_FILE, missing=f"not an ONNX export: {EXPORT_FILE} is missing")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION or meta.get("task") not in ("ner", "classify"):
            raise VecliftError(f"not an ONNX export this veclift reads (format {FORMAT_VERSION}, task ner or classify)",
                               directory / EXPORT_FILE)  # fmt: skip
        try:
            self.task: str = meta["task"]
            self.labels: list[str] = list(meta["labels"])
            if not self.labels or len(set(self.labels)) != len(self.labels) or not all(isinstance(x, str) for x in self.labels):
                raise ValueError("labels must be distinct strings")
            self.multi_label = bool(meta["multi_label"])
            self.vectors_source = meta["vectors_source"]
            self.min_width = int(meta["min_width"])
            if not 1 <= self.min_width <= MAX_MIN_WIDTH:
                raise ValueError(f"min_width must be in 1..{MAX_MIN_WIDTH}")
            self.input_names = list(meta["inputs"])
            self._summary = dict(meta["summary"])
            self.parts = []
            for part in meta["features"]:
                if part["kind"] == "words":
                    self.parts.append(("words", WordInputs(part, directory)))
                elif part["kind"] == "chars":
                    self.parts.append(("chars", char_index(part["chars"])))
                else:
                    self.parts.append(("casing", None))
            crf = None if meta["crf"] is None else {k: np.asarray(meta["crf"][k], np.float32) for k in ("transitions", "start", "end")}
            n = len(self.labels)
            if crf is not None and [crf[k].shape for k in ("transitions", "start", "end")] != [(n, n), (n,), (n,)]:
                raise ValueError(f"the CRF weights must be {n} x {n}, {n} and {n} for {n} labels")
            self.decoder = Decoder(self.labels, crf)
            self.output_name = str(meta["output"])
        except (KeyError, TypeError, ValueError) as exc:
            raise VecliftError(f"broken {EXPORT_FILE} ({type(exc).__name__}: {exc})", directory / EXPORT_FILE) from None
        check_graph(directory / GRAPH_FILE, self.input_names, self.output_name)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(str(directory / GRAPH_FILE), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own error types for missing or broken graphs
            raise VecliftError(f"cannot load {GRAPH_FILE}: {str(exc).splitlines()[0]}", directory) from None
        self._char_cache: dict[str, list[int]] = {}

    def summary(self) -> dict[str, Any]:
        return {**self._summary, "runtime": "onnxruntime"}

    # --- running the graph ------------------------------------------------------------------------
    def _outputs(self, token_lists: Sequence[Sequence[str]], vectors: Any) -> np.ndarray:
        width = max(self.min_width, max(len(t) for t in token_lists))
        lengths = np.array([len(t) for t in token_lists], np.int64)
        arrays = [np.arange(width)[None, :] < lengths[:, None]]
        for kind, part in self.parts:
            if kind == "words":
                arrays += part.arrays(token_lists, width, vectors)
            elif kind == "chars":
                arrays += list(char_inputs(token_lists, part, width, self._char_cache))
            else:
                arrays.append(casing_ids(token_lists, width))
        return self.session.run(None, dict(zip(self.input_names, arrays)))[0]

    def _batches(self, token_lists: list[list[str]], vectors: Any, fn, empty: Any) -> list:
        """``fn(outputs, lengths)`` over length-sorted batches, answers back in input order."""
        from veclift.tasks.model import PREDICT_BATCH, open_vectors

        vectors = open_vectors(vectors)
        return in_length_batches(
            token_lists, lambda batch: fn(self._outputs(batch, vectors), np.array([len(t) for t in batch], np.int64)),
            empty, PREDICT_BATCH,
        )  # fmt: skip

    def _items(self, items: Iterable[Any]) -> list[Any]:
        return item_list(items, "an ONNX model")

    # --- tagger ---------------------------------------------------------------------------------
    def entities(
        self, texts: Sequence[str], token_lists: list[list[str]], offsets: Sequence[Sequence[tuple[int, int]]], *,
        vectors: Any = None, marginals: bool = False,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """As `SequenceTagger.entities`."""
        from veclift.tasks.tagger import entity_answer

        self._need("ner")
        decoded = self._batches(token_lists, vectors, lambda out, n: self.decoder.decode(out, n, marginals=marginals),
                                {"tags": [], "entities": [], "marginals": []})  # fmt: skip
        return [entity_answer(text, tokens, spans, row, self.labels, marginals)
                for text, tokens, spans, row in zip(texts, token_lists, offsets, decoded)]  # fmt: skip

    # --- classifier -----------------------------------------------------------------------------
    def predict_proba(self, items: Iterable[Any], *, vectors: Any = None) -> np.ndarray:
        """As `TextClassifier.predict_proba`."""
        from veclift.tasks.model import as_token_lists

        self._need("classify")
        token_lists = as_token_lists(self._items(items))
        for number, tokens in enumerate(token_lists, 1):
            if not tokens:
                raise VecliftError(f"text {number} is empty: nothing to classify")
        rows = self._batches(token_lists, vectors, lambda out, n: list(out), None)
        return np.stack(rows) if rows else np.zeros((0, len(self.labels)), np.float32)

    def labels_from_proba(self, proba: np.ndarray) -> list:
        from veclift.tasks.classifier import labels_from_proba

        return labels_from_proba(proba, self.labels, self.multi_label)

    # --- both -------------------------------------------------------------------------------------
    def predict(self, items: Iterable[Any], *, vectors: Any = None) -> list:
        """Tags per token (taggers) or the label of each text (classifiers), as the torch model's ``predict``."""
        if self.task == "ner":
            return [answer["tags"] for answer in self.predict_entities(items, vectors=vectors)]
        return self.labels_from_proba(self.predict_proba(items, vectors=vectors))

    def _need(self, task: str) -> None:
        if self.task != task:
            raise VecliftError(f"this ONNX export is a {self.task} model, not a {task} model")

    def __repr__(self) -> str:
        return f"OnnxModel({self.task}, {len(self.labels)} labels)"


def load_predictor(directory: str | Path, *, threads: int = 0) -> Any:
    """A model directory (`veclift.tasks.load_model`) or an ONNX export (`OnnxModel`), whichever it is."""
    if is_onnx_export(directory):
        try:
            import onnxruntime  # noqa: F401 - only to say which extra is missing
        except ImportError:
            raise VecliftError("running an ONNX export needs onnxruntime: pip install 'veclift[onnx]'", directory) from None
        return OnnxModel(directory, threads=threads)
    from veclift.tasks.model_dir import load_model

    return load_model(directory)

