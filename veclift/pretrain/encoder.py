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

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from veclift.data.tokenize import tokenize
from veclift.embeddings import UNK, CharEmbedder, TokenBatch, TokenEmbedder, WordEmbedder, build_word_embedder
from veclift.errors import VecliftError
from veclift.tasks.callbacks import Checkpoint, Progress
from veclift.tasks.config import TaggerConfig
from veclift.tasks.encoders import token_encoder
from veclift.tasks.loop import Callback, Loop, Step
from veclift.tasks.model import open_vectors
from veclift.tasks.pretrained_encoder import ARCHITECTURE_FIELDS, PretrainedEncoder
from veclift.tasks.tagger import feature_embedders
from veclift.tasks.trainer import length_buckets, seed_everything

MAX_SENTENCE_TOKENS = 100  # longer "sentences" (unpunctuated text) are cut into pieces of this size
CHUNK_SENTENCES = 4096  # sentences read at a time, length-bucketed and shuffled within the chunk


class MaskedVectorNetwork(nn.Module):
    """Token features -> the tagger's encoder -> a linear map to the vector space, on masked positions."""

    def __init__(self, words: WordEmbedder, features: Sequence[TokenEmbedder], config: TaggerConfig):
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


def _sentences(corpus: Iterable[Any], max_sentences: int | None) -> Iterator[list[str]]:
    """Token lists (strings are tokenised), long ones cut, at most ``max_sentences`` of them."""
    count = 0
    for item in corpus:
        tokens = tokenize(item) if isinstance(item, str) else list(item)
        for start in range(0, len(tokens), MAX_SENTENCE_TOKENS):
            if max_sentences is not None and count >= max_sentences:
                return
            yield tokens[start : start + MAX_SENTENCE_TOKENS]
            count += 1


class _Throughput(Callback):
    """Adds the scored positions and the words per second to each epoch's row."""

    def on_epoch_end(self, loop: Loop, row: dict[str, float]) -> None:
        seconds = row.pop("seconds")  # re-added after "scored": the key order encoder.json files have
        row.update(scored=loop.weight, seconds=seconds, words_per_second=loop.size / max(seconds, 1e-9))


def _words_per_second(loop: Loop) -> str:
    return f" · {loop.size / max(loop.epoch_seconds, 1e-9):,.0f} words/s"


def _batches(sentences: Iterator[list[str]], batch_size: int, rng: np.random.Generator) -> Iterator[list[list[str]]]:
    """Length-bucketed batches in a seeded order, one chunk of sentences in memory at a time."""
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
    checkpoint: str | Path | None = None,
) -> PretrainedEncoder:
    """Pre-train the encoder of a tagger shaped by ``config`` on ``corpus`` (a restartable iterable of
    token lists or strings, e.g. `Corpus`), predicting masked words' ``vectors`` rows from context.

    ``lr`` defaults to the config's; the first ``max_sentences`` sentences are read on every epoch.
    With ``checkpoint``, the state is written after every epoch and resumed from when it exists.
    """
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
    sentences = 0
    for tokens in _sentences(corpus, max_sentences):
        counts.update(tokens)
        sentences += 1
    tokens_total = sum(counts.values())
    if not tokens_total:
        raise VecliftError("the corpus has no text to pre-train on")
    frozen = config.replace(embeddings="frozen", unk_replace=0.0, keep_vectors=0)
    words = build_word_embedder([list(counts)], [], vectors, frozen, np.random.default_rng(seed))
    known_tokens = sum(c for w, c in counts.items() if words.index.get(words.key(w), UNK) >= words.n_new)
    if not known_tokens:
        raise VecliftError("no word of the corpus has a pre-trained vector: nothing to predict")
    features = feature_embedders(config, [list(counts)])
    network = MaskedVectorNetwork(words, features, config)
    optimizer = torch.optim.Adam([p for p in network.parameters() if p.requires_grad], lr=lr or config.lr)
    rng = np.random.default_rng(seed)
    masks = torch.Generator().manual_seed(seed)

    def step(token_lists: list[list[str]]) -> Step:
        batch = TokenBatch.of(token_lists)
        masked = batch.mask & (torch.rand(batch.mask.shape, generator=masks) < mask_prob)
        loss, count = network.loss(batch, masked)
        return Step(loss, count, int(batch.lengths.sum()))

    bar = Progress("Pre-training encoder", tokens_total, extra=_words_per_second, enabled=progress, log_epochs=False)
    callbacks = [_Throughput(), bar, *([Checkpoint(checkpoint, {"batches": rng, "masks": masks})] if checkpoint else [])]
    loop = Loop(network, optimizer, lambda: _batches(_sentences(corpus, max_sentences), batch_size, rng),
                max_epochs=epochs, step=step, clip=config.clip, callbacks=callbacks)  # fmt: skip
    history = loop.run()
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
        "seconds": loop.seconds,  # all epochs, a resumed run's earlier ones included
        "history": history,
    }
    return PretrainedEncoder(architecture, list(network.features), network.encoder, meta)
