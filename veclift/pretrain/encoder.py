"""Encoder pre-training on raw text, in the spirit of `spacy pretrain`.

The tagger's own token features (word rows, characters, casing) and encoder (BiLSTM or dilated
CNN, same hyperparameters) learn to predict each word's pre-trained vector from its context: a
share of the positions is masked (word row replaced by the UNK row, character features zeroed)
and the encoder output there, through a linear layer, is scored by cosine against the word's
unit-normalised vector. Only words the vectors know (via the OOV chain, ``lower`` by default)
count. The word rows stay frozen and are not saved: a tagger takes them from the vectors as usual.

The result is a directory (``encoder.json`` + ``weights.safetensors``) that
``SequenceTagger(init_encoder=DIR)`` / ``veclift train ner --init-encoder DIR`` starts from.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from veclift.errors import VecliftError
from veclift.tasks.config import TaggerConfig
from veclift.tasks.embeddings import (
    UNK,
    TokenBatch,
    TokenEmbedder,
    WordEmbedder,
    build_word_embedder,
)
from veclift.tasks.features import CharEmbedder

CONFIG_FILE = "encoder.json"
WEIGHTS_FILE = "weights.safetensors"
KIND = "veclift-pretrained-encoder"
FORMAT_VERSION = 1
MAX_SENTENCE_TOKENS = 100  # longer "sentences" (unpunctuated text) are cut into pieces of this size
CHUNK_SENTENCES = 4096  # sentences read at a time, length-bucketed and shuffled within the chunk
# The tagger options that shape the saved weights: a tagger must have the same ones to load them.
ARCHITECTURE_FIELDS = ("encoder", "hidden", "layers", "char", "char_dim", "char_filters", "casing", "casing_dim")


class MaskedVectorNetwork(nn.Module):
    """Token features -> the tagger's encoder -> a linear map to the vector space, on masked positions."""

    def __init__(self, words: WordEmbedder, features: Sequence[TokenEmbedder], config: TaggerConfig):
        from veclift.tasks.tagger import token_encoder

        super().__init__()
        self.words = words
        self.features = nn.ModuleList(features)
        self.embed_dropout = nn.Dropout(config.embed_dropout)
        self.encoder = token_encoder(words.dim + sum(f.dim for f in features), config)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(self.encoder.out_dim, words.dim)

    def loss(self, batch: TokenBatch, masked: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Mean (1 - cosine) over the masked positions whose word has a pre-trained vector, and their count."""
        rows = self.words(batch)
        known = (self.words.ids(batch) >= self.words.n_new) & masked
        count = int(known.sum())
        if count == 0:
            return rows.sum() * 0.0, 0
        unk = self.words.new[UNK].expand_as(rows)
        parts = [torch.where(masked[..., None], unk, rows)]
        for feature in self.features:
            x = feature(batch)
            parts.append(x * ~masked[..., None] if isinstance(feature, CharEmbedder) else x)
        hidden = self.encoder(self.embed_dropout(torch.cat(parts, dim=-1)), batch.mask)
        predicted = self.output(self.dropout(hidden))[known]
        target = nn.functional.normalize(rows.detach()[known], dim=-1)
        return (1.0 - nn.functional.cosine_similarity(predicted, target, dim=-1)).mean(), count


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
            "features": [f.describe() for f in self.features],
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
        from veclift.tasks.model_dir import embedder_from_description
        from veclift.tasks.tagger import token_encoder

        directory = Path(directory)
        if not directory.is_dir():
            raise VecliftError("not a pre-trained encoder directory (no such directory)", directory)
        try:
            config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
            state = load_file(str(directory / WEIGHTS_FILE))
        except FileNotFoundError as exc:
            raise VecliftError(f"not a pre-trained encoder: {Path(exc.filename).name} is missing", directory) from None
        except Exception as exc:  # broken JSON or safetensors (each library has its own error types)
            raise VecliftError(f"broken pre-trained encoder: {exc}", directory) from None
        if not isinstance(config, dict) or config.get("kind") != KIND:
            raise VecliftError(f"not a pre-trained encoder ({CONFIG_FILE} is not one of `veclift pretrain encoder`)", directory)
        architecture = config["architecture"]
        features = [embedder_from_description(d) for d in config["features"]]
        tagger = TaggerConfig(**{k: architecture[k] for k in ARCHITECTURE_FIELDS})
        encoder = token_encoder(architecture["word_dim"] + sum(f.dim for f in features), tagger)
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


def _sentences(corpus: Iterable[Any], max_sentences: int | None) -> Iterator[list[str]]:
    """Token lists (strings are tokenised), long ones cut, at most ``max_sentences`` of them."""
    from veclift.data.tokenize import tokenize

    count = 0
    for item in corpus:
        tokens = tokenize(item) if isinstance(item, str) else list(item)
        for start in range(0, len(tokens), MAX_SENTENCE_TOKENS):
            if max_sentences is not None and count >= max_sentences:
                return
            yield tokens[start : start + MAX_SENTENCE_TOKENS]
            count += 1


def _batches(sentences: Iterator[list[str]], batch_size: int, rng: np.random.Generator) -> Iterator[list[list[str]]]:
    """Length-bucketed batches in a seeded order, one chunk of sentences in memory at a time."""
    from veclift.tasks.trainer import length_buckets

    while True:
        chunk = [s for _, s in zip(range(CHUNK_SENTENCES), sentences) if s]
        if not chunk:
            return
        for index in length_buckets([len(s) for s in chunk], batch_size, rng):
            yield [chunk[i] for i in index]


def pretrain_encoder(
    corpus: Iterable[Any],
    vectors: Any,
    config: TaggerConfig | None = None,
    *,
    epochs: int = 1,
    max_sentences: int | None = None,
    mask_prob: float = 0.15,
    batch_size: int = 32,
    lr: float | None = None,
    seed: int = 0,
    progress: bool = True,
) -> PretrainedEncoder:
    """Pre-train the encoder of a tagger shaped by ``config`` on ``corpus`` (a restartable iterable of
    token lists or strings, e.g. `Corpus`), predicting masked words' ``vectors`` rows from context.

    ``lr`` defaults to the config's; the first ``max_sentences`` sentences are read on every epoch.
    """
    from veclift.progress import progress as progress_bar
    from veclift.tasks.features import CasingEmbedder, CharCNNEmbedder, CharLSTMEmbedder
    from veclift.tasks.model import open_vectors
    from veclift.tasks.trainer import deterministic, seed_everything

    config = config if config is not None else TaggerConfig()
    if epochs <= 0 or batch_size <= 0:
        raise VecliftError("epochs and batch size must be positive")
    if not 0 < mask_prob < 1:
        raise VecliftError(f"the mask probability must be in (0, 1), got {mask_prob}")
    if lr is not None and lr <= 0:
        raise VecliftError(f"the learning rate must be above 0, got {lr}")
    if iter(corpus) is corpus:  # a one-shot iterator: keep what the epochs read
        corpus = list(_sentences(corpus, max_sentences))
    vectors = open_vectors(vectors)
    if vectors is None:
        raise VecliftError("encoder pre-training needs pre-trained vectors (its targets)")
    seed_everything(seed)
    counts: Counter = Counter()
    chars: set[str] = set()
    sentences = 0
    for tokens in _sentences(corpus, max_sentences):
        counts.update(tokens)
        sentences += 1
    for word in counts:
        chars.update(word)
    tokens_total = sum(counts.values())
    if not tokens_total:
        raise VecliftError("the corpus has no text to pre-train on")
    frozen = config.replace(embeddings="frozen", unk_replace=0.0, keep_vectors=0)
    words = build_word_embedder([list(counts)], [], vectors, frozen, np.random.default_rng(seed))
    known_tokens = sum(c for w, c in counts.items() if words.index.get(words.key(w), UNK) >= words.n_new)
    if not known_tokens:
        raise VecliftError("no word of the corpus has a pre-trained vector: nothing to predict")
    features: list[TokenEmbedder] = []
    if config.char != "none":
        kind = CharCNNEmbedder if config.char == "cnn" else CharLSTMEmbedder
        features.append(kind(sorted(chars), config.char_dim, config.char_filters))
    if config.casing:
        features.append(CasingEmbedder(config.casing_dim))
    network = MaskedVectorNetwork(words, features, config)
    optimizer = torch.optim.Adam([p for p in network.parameters() if p.requires_grad], lr=lr or config.lr)
    rng = np.random.default_rng(seed)
    masks = torch.Generator().manual_seed(seed)
    history: list[dict[str, float]] = []
    began = time.perf_counter()
    with deterministic(), progress_bar("Pre-training encoder", epochs * tokens_total, enabled=progress) as update:
        for epoch in range(1, epochs + 1):
            network.train()
            epoch_began, loss_sum, scored, seen = time.perf_counter(), 0.0, 0, 0
            for token_lists in _batches(_sentences(corpus, max_sentences), batch_size, rng):
                batch = TokenBatch.of(token_lists)
                masked = batch.mask & (torch.rand(batch.mask.shape, generator=masks) < mask_prob)
                loss, count = network.loss(batch, masked)
                n = int(batch.lengths.sum())
                seen += n
                if count:
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if config.clip > 0:
                        nn.utils.clip_grad_norm_(network.parameters(), config.clip)
                    optimizer.step()
                    loss_sum += loss.item() * count
                    scored += count
                rate = seen / max(time.perf_counter() - epoch_began, 1e-9)
                update(advance=n, info=f"epoch {epoch} loss {loss_sum / max(scored, 1):.4f} · {rate:,.0f} words/s")
            seconds = time.perf_counter() - epoch_began
            history.append({"epoch": epoch, "loss": loss_sum / max(scored, 1), "scored": scored,
                            "seconds": seconds, "words_per_second": seen / max(seconds, 1e-9)})  # fmt: skip
    network.eval()
    architecture = {k: getattr(config, k) for k in ARCHITECTURE_FIELDS} | {"word_dim": words.dim}
    meta = {
        "vectors": vectors.source,
        "oov": config.oov,
        "sentences": sentences,
        "tokens": tokens_total,
        "known_tokens": known_tokens,
        "epochs": epochs,
        "mask_prob": mask_prob,
        "batch_size": batch_size,
        "lr": lr or config.lr,
        "seed": seed,
        "seconds": time.perf_counter() - began,
        "history": history,
    }
    return PretrainedEncoder(architecture, list(network.features), network.encoder, meta)
