"""`veclift export MODEL --to onnx OUTPUT`: a trained model's network as an ONNX graph.

```
model.onnx    the network, word rows included: token ids (+ characters, casing) in, tag scores
              (taggers) or class probabilities (classifiers) out
export.json   labels, the CRF weights, what the inputs are made of (word list in row order, the
              character set), the model's summary
decoding.py   NumPy Viterbi / forward-backward / entity confidences (a copy of
              `veclift.tasks.decoding`), so a tagger's graph decodes without veclift
oov/, oov_rows.npy  the OOV chain and the pre-trained rows it is fitted on, when the model has one
```
Graph inputs: ``mask`` (B, T) bool; ``word_ids`` (B, T) into the word rows followed by
``extra_rows`` (N, dim), rows found at prediction time for words the model has none for; with
character features ``char_ids`` (U, C), ``char_lengths`` (U,) and ``char_where`` (B, T) (each
distinct word once, see `veclift.data.features.char_inputs`); with casing ``casing_ids`` (B, T).
`veclift.tasks.onnx_model.OnnxModel` runs it with onnxruntime. Contextual encoders are not exported.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from veclift.data.features import casing_ids, char_index, char_inputs, word_ids
from veclift.embeddings import CasingEmbedder, CharEmbedder, WordEmbedder
from veclift.errors import VecliftError
from veclift.tasks.model_dir import EXPORT_FILE

GRAPH_FILE = "model.onnx"
DECODER_FILE = "decoding.py"
OOV_DIR = "oov"
OOV_ROWS_FILE = "oov_rows.npy"
FORMAT_VERSION = 1
OPSET = 17
OUTPUTS = {"ner": "emissions", "classify": "probabilities"}


class ExportGraph(nn.Module):
    """The network over the graph's plain tensor inputs, in the stack's order of features."""

    def __init__(self, network: nn.Module, task: str):
        super().__init__()
        self.network = network
        self.task = task
        self.parts = list(network.embedder.parts)

    def forward(self, mask: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        given = iter(inputs)
        features = []
        for part in self.parts:
            if isinstance(part, WordEmbedder):
                features.append(part.from_ids(next(given), next(given), mask))
            elif isinstance(part, CharEmbedder):
                features.append(part.from_inputs(next(given), next(given), next(given), mask))
            else:
                features.append(part.embedding(next(given)))
        scores = self.network.from_features(torch.cat(features, dim=-1), mask)
        return scores if self.task == "ner" else self.network.probabilities_from(scores)


def feature_descriptions(network: nn.Module) -> list[dict[str, Any]]:
    """What each graph input is made of, per embedder of the stack; a kind the graph cannot take is refused."""
    described = []
    for part in network.embedder.parts:
        if isinstance(part, WordEmbedder):
            words = [""] * (part.n_new + part.n_tuned + len(part.fixed_words))
            for word, row in part.index.items():
                words[row] = word
            described.append({"kind": "words", "words": words, "lowercase": part.lowercase, "dim": part.dim,
                              "strategy": part.strategy, "oov_words": part.tuned_words + part.fixed_words,
                              "inputs": ["word_ids", "extra_rows"]})  # fmt: skip
        elif isinstance(part, CharEmbedder):
            described.append({"kind": "chars", "chars": part.chars, "inputs": ["char_ids", "char_lengths", "char_where"]})
        elif isinstance(part, CasingEmbedder):
            described.append({"kind": "casing", "inputs": ["casing_ids"]})
        else:
            raise VecliftError(f"a model with {part.kind!r} features cannot be exported to ONNX (word, character "
                               "and casing features can; contextual encoders are not exported)")  # fmt: skip
    return described


def example_inputs(described: list[dict[str, Any]], min_width: int) -> list[np.ndarray]:
    """Inputs of a small two-sentence batch, to trace the graph (an extra row and an unknown character included)."""
    width = max(min_width, 3)
    tokens = [["The", "Qx\u00e9", "1999"][:width] + ["a"] * (width - 3), ["of"]]
    mask = np.arange(width)[None, :] < np.array([len(t) for t in tokens])[:, None]
    arrays: list[np.ndarray] = [mask]
    for part in described:
        if part["kind"] == "words":
            index = {w: i for i, w in enumerate(part["words"]) if w}
            ids = word_ids(tokens, index, part["lowercase"], width)
            ids[0, 1] = len(part["words"])  # the first extra row
            arrays += [ids, np.zeros((1, part["dim"]), np.float32)]
        elif part["kind"] == "chars":
            arrays += list(char_inputs(tokens, char_index(part["chars"]), width))
        else:
            arrays.append(casing_ids(tokens, width))
    return arrays


def min_width(model: Any) -> int:
    """Batches are padded to at least this many tokens (a CNN classifier needs room for its widest kernel)."""
    config = model.config
    return max(config.kernel_sizes) if model.task == "classify" and config.encoder == "cnn" else 1


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence what the exporter's C++ side prints straight to file descriptor 2 (shape-inference notes
    on packed sequences, not errors: those raise)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def export_onnx(model: Any, output: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``model`` (a trained tagger or classifier) as an ONNX export directory (see the module docstring)."""
    from veclift import __version__
    from veclift.atomic import atomic_path
    from veclift.tasks import decoding

    if model.task not in OUTPUTS:
        raise VecliftError(f"ONNX export supports ner and classify models, not {model.task!r}")
    if tuple(int(p) for p in torch.__version__.split(".")[:2]) < (2, 5):
        raise VecliftError(f"ONNX export needs torch 2.5 or later (this is {torch.__version__})")
    model.words.forget_added()  # as `save_model`: the rows of the trained model only
    network = model.network
    described = feature_descriptions(network)
    width = min_width(model)
    names = ["mask", *(name for part in described for name in part["inputs"])]
    output_name = OUTPUTS[model.task]
    axes = {"mask": {0: "batch", 1: "time"}, "word_ids": {0: "batch", 1: "time"}, "extra_rows": {0: "extra"},
            "char_ids": {0: "words", 1: "chars"}, "char_lengths": {0: "words"}, "char_where": {0: "batch", 1: "time"},
            "casing_ids": {0: "batch", 1: "time"}, output_name: {0: "batch", 1: "time"}}  # fmt: skip
    crf = getattr(network, "crf", None)
    meta = {
        "format": FORMAT_VERSION, "task": model.task, "veclift_version": __version__, "labels": model.labels,
        "output": output_name, "inputs": names, "min_width": width, "features": described,
        "crf": None if crf is None else {k: v.tolist() for k, v in crf.weights().items()},
        "multi_label": bool(getattr(model, "multi_label", False)), "vectors_source": model.vectors_source,
        "summary": model.summary(),
    }  # fmt: skip
    graph = ExportGraph(network, model.task).eval()
    inputs = tuple(torch.from_numpy(a) for a in example_inputs(described, width))
    words = model.words
    output = Path(output)
    with atomic_path(output, directory=True, overwrite=overwrite) as tmp:
        with warnings.catch_warnings(), torch.no_grad(), _quiet_stderr():
            warnings.simplefilter("ignore")  # the TorchScript exporter's notes on deprecation and RNN batch sizes
            try:
                torch.onnx.export(graph, inputs, str(tmp / GRAPH_FILE), input_names=names, output_names=[output_name],
                                  dynamic_axes={n: axes[n] for n in [*names, output_name]}, opset_version=OPSET,
                                  dynamo=False)  # fmt: skip
            except (RuntimeError, ValueError, TypeError) as exc:  # an operator without ONNX form, a graph over 2 GiB
                raise VecliftError(f"the exporter failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        (tmp / EXPORT_FILE).write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")
        shutil.copyfile(decoding.__file__, tmp / DECODER_FILE)
        if words.oov is not None:
            words.oov.save(tmp / OOV_DIR)
            np.save(tmp / OOV_ROWS_FILE, words.pretrained().matrix, allow_pickle=False)
    return output
