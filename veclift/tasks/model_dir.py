"""The model directory: everything a trained model needs, without the original vector file.

```
config.json          task, veclift version, hyperparameters, labels, vectors source, training history
embedders.json       the embedding stack: word lists of each row segment, character set, dims
weights.safetensors  every tensor of the network, pre-trained rows included
oov/                 the OOV chain (`OOVChain.save`), when the model has one
```
Written atomically; loading and predicting gives the same outputs bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors.torch import load_file, save_file

from veclift.errors import VecliftError
from veclift.tasks.embeddings import StackedEmbedder, TokenEmbedder, WordEmbedder
from veclift.tasks.features import CasingEmbedder, CharCNNEmbedder, CharLSTMEmbedder

if TYPE_CHECKING:
    from veclift.tasks.model import TaskModel

CONFIG_FILE = "config.json"
EMBEDDERS_FILE = "embedders.json"
WEIGHTS_FILE = "weights.safetensors"
OOV_DIR = "oov"
FORMAT_VERSION = 1

EMBEDDER_KINDS: dict[str, type[TokenEmbedder]] = {
    cls.kind: cls for cls in (WordEmbedder, CharCNNEmbedder, CharLSTMEmbedder, CasingEmbedder)
}


def embedder_from_description(description: dict[str, Any]) -> TokenEmbedder:
    """Rebuild an embedder (weights zero) from `TokenEmbedder.describe()` output."""
    kind = description.get("kind")
    if kind == StackedEmbedder.kind:
        return StackedEmbedder([embedder_from_description(d) for d in description["parts"]])
    if kind == "contextual":  # imported here: transformers is an optional dependency
        from veclift.contextual.embedder import ContextualEmbedder

        return ContextualEmbedder.from_description(description)
    if kind not in EMBEDDER_KINDS:
        raise VecliftError(f"unknown embedder kind {kind!r} (a model from a newer veclift?)")
    return EMBEDDER_KINDS[kind].from_description(description)


def save_model(model: TaskModel, directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``model`` into ``directory`` atomically (an existing one replaced as a whole, with ``overwrite``)."""
    from veclift import __version__
    from veclift.atomic import atomic_path

    network = model.network
    if network is None:
        raise VecliftError(f"this {type(model).__name__} is not trained yet: nothing to save")
    config = {
        "format": FORMAT_VERSION,
        "task": model.task,
        "veclift_version": __version__,
        "labels": model.labels,
        "vectors": {"source": model.vectors_source, "dim": model.words.dim, "lowercase": model.words.lowercase,
                    "oov": model.words.oov.spec if model.words.oov is not None else None},  # fmt: skip
        "config": model.config.to_dict(),
        "extra": model._extra_state(),
        "training": model.train_result.to_dict() if model.train_result is not None else None,
    }
    directory = Path(directory)
    with atomic_path(directory, directory=True, overwrite=overwrite) as tmp:
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / EMBEDDERS_FILE).write_text(json.dumps(network.embedder.describe(), ensure_ascii=False), encoding="utf-8")
        save_file({k: v.detach().contiguous() for k, v in network.state_dict().items()}, str(tmp / WEIGHTS_FILE))
        if model.words.oov is not None:
            model.words.oov.save(tmp / OOV_DIR)
    return directory


def load_model(directory: str | Path) -> TaskModel:
    """A `SequenceTagger` or `TextClassifier` from its directory."""
    from veclift.tasks.classifier import TextClassifier
    from veclift.tasks.model import TrainResult
    from veclift.tasks.tagger import SequenceTagger

    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not directory.is_dir():
        raise VecliftError("not a model directory (no such directory)", directory)
    try:
        meta = json.loads(config_path.read_text(encoding="utf-8"))
        description = json.loads((directory / EMBEDDERS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise VecliftError(f"not a veclift model directory: {Path(exc.filename).name} is missing", directory) from None
    except ValueError as exc:
        raise VecliftError(f"broken model file: {exc}", directory) from None
    classes = {cls.task: cls for cls in (SequenceTagger, TextClassifier)}
    cls = classes.get(meta.get("task"))
    if cls is None:
        raise VecliftError(f"unknown task {meta.get('task')!r} in {CONFIG_FILE}", directory)
    model = cls(cls.config_class.from_dict(meta["config"]))
    model.labels = list(meta["labels"])
    model.vectors_source = meta["vectors"]["source"]
    model._restore_extra(meta.get("extra") or {})
    if meta.get("training"):
        model.train_result = TrainResult(**meta["training"])
    embedder = embedder_from_description(description)
    network = model._build_network(embedder)
    try:
        state = load_file(str(directory / WEIGHTS_FILE))
    except Exception as exc:  # safetensors raises its own error types for broken or missing files
        raise VecliftError(f"cannot read {WEIGHTS_FILE}: {exc}", directory) from None
    for name, module in network.named_modules():
        if isinstance(module, WordEmbedder):
            module.load_rows(state, f"{name}.")
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        raise VecliftError(f"{WEIGHTS_FILE} does not match {EMBEDDERS_FILE}: {str(exc).splitlines()[0]}", directory) from None
    network.eval()
    model.network = network
    if (directory / OOV_DIR).is_dir():
        from veclift.vectors.oov import OOVChain

        words = model.words
        words.oov = OOVChain.load(directory / OOV_DIR, words.pretrained())
    return model
