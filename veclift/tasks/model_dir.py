"""The model directory: everything a trained model needs, without the original vector file.

```
config.json          task, veclift version, hyperparameters, labels, vectors source, training history;
                     a tagger's kept training sentences, tokens only (`rehearsal_sentences`)
embedders.json       the embedding stack: word lists of each row segment, character set, dims
weights.safetensors  every tensor of the network, pre-trained rows included
oov/                 the OOV chain (`OOVChain.save`), when the model has one
contextual/          the transformer encoder (config, tokenizer, weights), unless it is the packaged MiniLM
```
Written atomically; loading and predicting gives the same outputs bit for bit. Loading reads
nothing outside the directory and follows no symbolic link.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors.torch import load_file, save_file

from veclift.data.textfile import read_json
from veclift.embeddings import WordEmbedder, embedder_from_dict
from veclift.errors import VecliftError

if TYPE_CHECKING:
    from veclift.tasks.model import TaskModel

CONFIG_FILE = "config.json"
EMBEDDERS_FILE = "embedders.json"
WEIGHTS_FILE = "weights.safetensors"
OOV_DIR = "oov"
FORMAT_VERSION = 1
EXPORT_FILE = "export.json"  # marks an ONNX export (`veclift.tasks.onnx_export`), not a model directory


def save_model(model: TaskModel, directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``model`` into ``directory`` atomically (an existing one replaced as a whole, with ``overwrite``).

    Embedders copy in what they name outside it (`TokenEmbedder.bundle`: a contextual encoder other
    than the packaged default goes to ``contextual/``), so the directory names no outside path."""
    from veclift import __version__
    from veclift.atomic import atomic_path

    network = model.network
    if network is None:
        raise VecliftError(f"this {type(model).__name__} is not trained yet: nothing to save")
    model.words.forget_added()  # rows met at prediction time are not the model's: a loaded copy finds them again
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
        description = network.embedder.bundle(tmp)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / EMBEDDERS_FILE).write_text(json.dumps(description, ensure_ascii=False), encoding="utf-8")
        save_file({k: v.detach().contiguous() for k, v in network.state_dict().items()}, str(tmp / WEIGHTS_FILE))
        if model.words.oov is not None:
            model.words.oov.save(tmp / OOV_DIR)
    return directory


def _read_json(directory: Path, name: str) -> Any:
    return read_json(directory / name, missing=f"not a veclift model directory: {name} is missing")


def _check_meta(meta: Any, path: Path) -> None:
    """``config.json`` has the keys and types a model needs."""
    if not isinstance(meta, dict):
        raise VecliftError("expected a JSON object", path)
    for key, kind in (("task", str), ("labels", list), ("config", dict), ("vectors", dict)):
        if not isinstance(meta.get(key), kind):
            found = "missing" if key not in meta else f"a {type(meta[key]).__name__}"
            raise VecliftError(f"{key!r} must be a {kind.__name__}, found {found}", path)
    if not all(isinstance(label, str) for label in meta["labels"]) or not meta["labels"]:
        raise VecliftError("'labels' must be a non-empty list of strings", path)
    if not isinstance(meta.get("extra") or {}, dict) or not isinstance(meta.get("training") or {}, dict):
        raise VecliftError("'extra' and 'training' must be JSON objects", path)


def load_model(directory: str | Path) -> TaskModel:
    """A model of any registered task from its directory; every file it reads is inside it."""
    from veclift.confined import refuse_symlinks
    from veclift.tasks.model import TrainResult
    from veclift.tasks.registry import TASKS, task_names

    directory = Path(directory)
    if not directory.is_dir():
        raise VecliftError("not a model directory (no such directory)", directory)
    refuse_symlinks(directory)
    if (directory / EXPORT_FILE).is_file() and not (directory / CONFIG_FILE).exists():
        raise VecliftError("this is an ONNX export (`veclift export`): `predict` and `serve` run it; this command "
                           "needs the model directory it was exported from", directory)  # fmt: skip
    meta = _read_json(directory, CONFIG_FILE)
    _check_meta(meta, directory / CONFIG_FILE)
    if not isinstance(meta.get("format", FORMAT_VERSION), int) or meta.get("format", FORMAT_VERSION) > FORMAT_VERSION:
        raise VecliftError(f"model format {meta.get('format')!r} is newer than this veclift reads ({FORMAT_VERSION}): "
                           "upgrade veclift", directory / CONFIG_FILE)  # fmt: skip
    description = _read_json(directory, EMBEDDERS_FILE)
    if meta["task"] not in task_names():
        raise VecliftError(f"unknown task {meta['task']!r} in {CONFIG_FILE}", directory)
    cls = TASKS[meta["task"]].model_class
    try:
        model = cls(cls.config_class.from_dict({**cls.config_class.saved_before, **meta["config"]}))
        model.labels = list(meta["labels"])
        model.vectors_source = meta["vectors"].get("source")
        model._restore_extra(meta.get("extra") or {})
        if meta.get("training"):
            model.train_result = TrainResult(**meta["training"])
        network = model._build_network(embedder_from_dict(description, directory))
    except VecliftError as exc:
        raise VecliftError(exc.message, exc.path or directory) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise VecliftError(f"broken model description ({type(exc).__name__}: {exc}); "
                           f"was {CONFIG_FILE} or {EMBEDDERS_FILE} edited?", directory) from None  # fmt: skip
    try:
        state = load_file(str(directory / WEIGHTS_FILE))
    except Exception as exc:  # safetensors raises its own error types for broken or missing files
        raise VecliftError(f"cannot read {WEIGHTS_FILE}: {exc}", directory) from None
    try:
        for name, module in network.named_modules():
            if isinstance(module, WordEmbedder):
                module.load_rows(state, f"{name}.")
        network.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise VecliftError(f"{WEIGHTS_FILE} does not match {EMBEDDERS_FILE}: {str(exc).splitlines()[0]}", directory) from None
    network.eval()
    model.network = network
    if (directory / OOV_DIR).is_dir():
        from veclift.vectors.oov import OOVChain

        words = model.words
        words.oov = OOVChain.load(directory / OOV_DIR, words.pretrained())
    return model
