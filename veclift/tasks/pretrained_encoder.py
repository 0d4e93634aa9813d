"""A pre-trained tagger encoder on disk (``encoder.json`` + ``weights.safetensors``): the encoder and
its character and casing features, written by `veclift pretrain encoder` and loaded by
``SequenceTagger(init_encoder=DIR)`` to start from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from veclift.data.textfile import read_json
from veclift.embeddings import CharEmbedder, TokenEmbedder, embedder_from_dict
from veclift.errors import VecliftError
from veclift.tasks.config import TaggerConfig
from veclift.tasks.encoders import token_encoder

CONFIG_FILE = "encoder.json"
WEIGHTS_FILE = "weights.safetensors"
KIND = "veclift-pretrained-encoder"
FORMAT_VERSION = 1
FEATURE_KINDS = ("char-cnn", "char-lstm", "casing")
"""The token features a pre-trained encoder carries (never a transformer: it would name a folder)."""
# The tagger options that shape the saved weights: a tagger must have the same ones to load them.
ARCHITECTURE_FIELDS = ("encoder", "hidden", "layers", "char", "char_dim", "char_filters", "casing", "casing_dim")


@dataclass
class PretrainedEncoder:
    """A pre-trained tagger encoder with its character and casing features; ``save``/``load``/``initialise``."""

    architecture: dict[str, Any]  # ARCHITECTURE_FIELDS plus word_dim
    features: list[TokenEmbedder]
    encoder: nn.Module
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``encoder.json`` and ``weights.safetensors`` into ``directory`` (replaced atomically)."""
        from veclift import __version__
        from veclift.atomic import atomic_path

        config = {
            "kind": KIND,
            "format": FORMAT_VERSION,
            "veclift_version": __version__,
            "architecture": self.architecture,
            "features": [f.to_dict() for f in self.features],
            "meta": self.meta,
        }
        weights = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items()}
        for i, feature in enumerate(self.features):
            weights.update({f"features.{i}.{k}": v for k, v in feature.state_dict().items()})
        directory = Path(directory)
        with atomic_path(directory, directory=True, overwrite=overwrite) as tmp:
            (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            save_file({k: v.detach().contiguous() for k, v in weights.items()}, str(tmp / WEIGHTS_FILE))
        self.path = directory
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> PretrainedEncoder:
        directory = Path(directory)
        if not directory.is_dir():
            raise VecliftError("not a pre-trained encoder directory (no such directory)", directory)
        config = read_json(directory / CONFIG_FILE, missing=f"not a pre-trained encoder: {CONFIG_FILE} is missing")
        try:
            state = load_file(str(directory / WEIGHTS_FILE))
        except FileNotFoundError as exc:
            raise VecliftError(f"not a pre-trained encoder: {Path(exc.filename).name} is missing", directory) from None
        except Exception as exc:  # a broken safetensors file (the library has its own error types)
            raise VecliftError(f"broken pre-trained encoder: {exc}", directory) from None
        if not isinstance(config, dict) or config.get("kind") != KIND:
            raise VecliftError(f"not a pre-trained encoder ({CONFIG_FILE} is not one of `veclift pretrain encoder`)", directory)
        try:
            architecture = config["architecture"]
            if not all(isinstance(d, dict) and d.get("kind") in FEATURE_KINDS for d in config["features"]):
                raise VecliftError(f"features may only be of the kinds {', '.join(FEATURE_KINDS)}", directory / CONFIG_FILE)
            features = [embedder_from_dict(d, directory) for d in config["features"]]
            tagger = TaggerConfig(**{k: architecture[k] for k in ARCHITECTURE_FIELDS})
            encoder = token_encoder(architecture["word_dim"] + sum(f.dim for f in features), tagger)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise VecliftError(f"broken pre-trained encoder description ({type(exc).__name__}: {exc}); "
                               f"was {CONFIG_FILE} edited?", directory) from None  # fmt: skip
        try:
            encoder.load_state_dict(_part(state, "encoder."))
            for i, feature in enumerate(features):
                feature.load_state_dict(_part(state, f"features.{i}."))
        except RuntimeError as exc:
            raise VecliftError(f"{WEIGHTS_FILE} does not match {CONFIG_FILE}: {str(exc).splitlines()[0]}", directory) from None
        return cls(architecture, features, encoder, config.get("meta", {}), directory)

    def initialise(self, network: nn.Module, config: TaggerConfig) -> None:
        """Copy the encoder and feature weights into a freshly built `TaggerNetwork` shaped by ``config``.

        Character rows are copied by character; characters the pre-training never saw keep their
        initial rows. A different architecture raises a one-line `VecliftError`.
        """
        parts = list(network.embedder.parts)
        ours = ["words", *(f.kind for f in self.features)]
        theirs = [p.kind for p in parts]
        problems = [f"{name} {self.architecture[name]} vs {getattr(config, name)}" for name in _relevant_fields(config)
                    if self.architecture[name] != getattr(config, name)]  # fmt: skip
        if ours != theirs:
            problems.append(f"embeddings {'+'.join(ours)} vs {'+'.join(theirs)}")
        if parts[0].dim != self.architecture["word_dim"]:
            problems.append(f"word vector dim {self.architecture['word_dim']} vs {parts[0].dim}")
        if problems:
            raise VecliftError(f"the pre-trained encoder does not match this tagger (pre-trained vs tagger): {'; '.join(problems)}",
                               self.path)  # fmt: skip
        network.encoder.load_state_dict(self.encoder.state_dict())
        for mine, target in zip(self.features, parts[1:]):
            if isinstance(mine, CharEmbedder):
                _copy_char_features(mine, target)
            else:
                target.load_state_dict(mine.state_dict())


def _relevant_fields(config: TaggerConfig) -> list[str]:
    """The architecture options that shape weights under ``config`` (no char sizes without char features...)."""
    skip = {"char_dim", "char_filters"} if config.char == "none" else set()
    skip |= set() if config.casing else {"casing_dim"}
    return [name for name in ARCHITECTURE_FIELDS if name not in skip]


def _part(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def _copy_char_features(source: CharEmbedder, target: CharEmbedder) -> None:
    state = source.state_dict()
    rows = state.pop("embedding.weight")
    with torch.no_grad():
        weight = target.embedding.weight
        weight[1] = rows[1]
        for char, i in target.char_index.items():
            j = source.char_index.get(char)
            if j is not None:
                weight[i] = rows[j]
        target.load_state_dict({**state, "embedding.weight": weight.detach().clone()})
