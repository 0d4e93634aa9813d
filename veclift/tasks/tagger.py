"""Sequence tagging (NER): embeddings (+ characters, + casing) -> BiLSTM or dilated CNN -> CRF or softmax."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from veclift.data.readers import TaggedReaderOptions, read_tagged_files
from veclift.data.schemes import INTERNAL_SCHEME, check_scheme, iob2_transitions, repair_tags
from veclift.data.tagged import TaggedSentence
from veclift.data.tokenize import joined_with_offsets, token_offsets, tokenize_with_offsets
from veclift.embeddings import CasingEmbedder, CharCNNEmbedder, CharLSTMEmbedder, TokenBatch, TokenEmbedder
from veclift.tasks.config import TaggerConfig
from veclift.errors import VecliftError
from veclift.tasks.crf import CRF, DISALLOWED
from veclift.tasks.decoding import Decoder
from veclift.tasks.encoders import token_encoder
from veclift.tasks.inputs import is_hf_dataset, pair, task_items
from veclift.tasks.metrics import ner_scores, unseen_entity_scores
from veclift.tasks.model import TaskModel
from veclift.tasks.registry import ScoreTable, Task, TransferColumn, fraction, group_size, register_task

OPEN_TAG = "?"
"""A training sentence's tag for a token whose tag is not known but among the network's
``open_tags`` (``O`` or a new type's: rehearsal text the old model tags, `veclift.tasks.update`)."""
OPEN = -1  # OPEN_TAG as a target id


def feature_embedders(config: TaggerConfig, token_lists: Sequence[Sequence[str]]) -> list[TokenEmbedder]:
    """The tagger's character and casing features as ``config`` asks, characters from ``token_lists``."""
    parts: list[TokenEmbedder] = []
    if config.char != "none":
        chars = sorted({c for tokens in token_lists for t in tokens for c in t})
        kind = CharCNNEmbedder if config.char == "cnn" else CharLSTMEmbedder
        parts.append(kind(chars, config.char_dim, config.char_filters))
    if config.casing:
        parts.append(CasingEmbedder(config.casing_dim))
    return parts


class TaggerNetwork(nn.Module):
    """Token features -> encoder -> per-token tag scores, decoded by a CRF or per token."""

    def __init__(self, embedder: TokenEmbedder, config: TaggerConfig, labels: Sequence[str]):
        super().__init__()
        self.bio_constraints = config.bio_constraints
        self.embedder = embedder
        self.embed_dropout = nn.Dropout(config.embed_dropout)
        self.encoder = token_encoder(embedder.dim, config)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(self.encoder.out_dim, len(labels))
        self.crf = self._crf(labels) if config.head == "crf" else None
        self.anchors: dict[str, torch.Tensor] = {}  # see `anchor`; not part of the saved state
        self.pull_weight = 0.0
        self.open_tags: list[int] = []  # the tags an OPEN target allows; set for training only

    def anchor(self, weight: float) -> None:
        """Pull the token features (embedder and encoder) back to their present values from now on:
        `loss` adds ``weight`` x the squared distance (of the leading rows, for word rows added after
        this); 0 drops the pull. The output layer and the CRF stay free to make room for new tags.
        Continued training uses it to stay near the old model."""
        features = [(name, p) for name, p in self.named_parameters() if not name.startswith(("output.", "crf."))]
        self.anchors = {name: p.detach().clone() for name, p in features} if weight > 0 else {}
        self.pull_weight = weight

    def pull(self) -> torch.Tensor | float:
        """The anchor term of `loss` (0 without anchors)."""
        total: torch.Tensor | float = 0.0
        for name, parameter in self.named_parameters():
            anchor = self.anchors.get(name)
            if anchor is not None:
                total = total + (parameter[tuple(slice(0, n) for n in anchor.shape)] - anchor).pow(2).sum()
        return self.pull_weight * total

    def _crf(self, labels: Sequence[str]) -> CRF:
        return CRF(len(labels), iob2_transitions(labels) if self.bio_constraints else None)

    def add_tags(self, labels: Sequence[str]) -> None:
        """Grow the output layer and the CRF to ``labels``, which begin with the present ones: those
        keep their weights, the new ones start at zero (no emission, no transition preference)."""
        old = self.output
        count, n_tags = old.out_features, len(labels)
        if n_tags < count:
            raise ValueError(f"cannot shrink {count} tags to {n_tags}")
        self.output = nn.Linear(old.in_features, n_tags)
        crf = self._crf(labels) if self.crf is not None else None
        with torch.no_grad():
            for new, kept in ((self.output.weight, old.weight), (self.output.bias, old.bias)):
                new.zero_()
                new[:count] = kept
            if crf is not None:
                crf.transitions[:count, :count] = self.crf.transitions
                crf.start[:count] = self.crf.start
                crf.end[:count] = self.crf.end
        self.crf = crf

    def emissions(self, batch: TokenBatch) -> torch.Tensor:
        return self.from_features(self.embedder(batch), batch.mask)

    def from_features(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Tag scores (B, T, tags) from the embedded tokens (B, T, dim)."""
        return self.output(self.dropout(self.encoder(self.embed_dropout(features), mask)))

    def collate(self, targets: Sequence[Sequence[int]], batch: TokenBatch) -> torch.Tensor:
        tags = torch.zeros(batch.mask.shape, dtype=torch.long)
        for b, row in enumerate(targets):
            tags[b, : len(row)] = torch.tensor(row, dtype=torch.long)
        return tags

    def loss(self, batch: TokenBatch, tags: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of ``tags`` (B, T); an `OPEN` target counts every path through
        the ``open_tags`` there (a partial target), plus the pull to the anchors."""
        scores = self.emissions(batch)
        allowed = self.allowed_tags(tags) if bool((tags == OPEN).any()) else None
        if self.crf is not None:
            loss = self.crf.nll(scores, tags, batch.mask, allowed).mean()
        elif allowed is None:
            loss = nn.functional.cross_entropy(scores[batch.mask], tags[batch.mask])
        else:
            real, kept = scores[batch.mask], allowed[batch.mask]
            loss = (torch.logsumexp(real, -1) - torch.logsumexp(real.masked_fill(~kept, DISALLOWED), -1)).mean()
        return loss + self.pull() if self.anchors else loss

    def allowed_tags(self, tags: torch.Tensor) -> torch.Tensor:
        """(B, T, tags) bool: the tag of each target, every one of ``open_tags`` for an `OPEN` one."""
        if not self.open_tags:
            raise ValueError("open (partial) targets need the network's open_tags")
        n_tags = self.output.out_features
        allowed = nn.functional.one_hot(tags.clamp(min=0), n_tags).bool()
        open_row = torch.zeros(n_tags, dtype=torch.bool)
        open_row[self.open_tags] = True
        return torch.where((tags == OPEN)[..., None], open_row, allowed)

    def decode(self, batch: TokenBatch, labels: Sequence[str], *, confidences: bool = False,
               marginals: bool = False) -> list[dict[str, Any]]:
        """Per sentence: ``tags`` and, with ``confidences``, ``entities`` with their confidence (and
        per-token ``marginals`` if asked); see `veclift.tasks.decoding`."""
        decoder = Decoder(labels, self.crf.weights() if self.crf is not None else None)
        emissions, lengths = self.emissions(batch).numpy(), batch.lengths.numpy()
        if not confidences:
            return [{"tags": [labels[i] for i in row]} for row in decoder.tag_ids(emissions, lengths)]
        return decoder.decode(emissions, lengths, marginals=marginals)


def tagged_example(value: Any, number: int, scheme: str) -> TaggedSentence:
    """A `TaggedSentence` or a ``(tokens, tags)`` pair as an IOB2 sentence; tags that fit no ``scheme``
    are refused with the scheme's rule (ill-formed transitions are read as conlleval reads them)."""
    tokens, tags = (value.tokens, value.tags) if isinstance(value, TaggedSentence) else pair(value, number, ("tokens", "tags"))
    for name, values in (("tokens", tokens), ("tags", tags)):
        if isinstance(values, str) or not all(isinstance(v, str) for v in values):
            raise VecliftError(f"sentence {number}: {name} must be a list of strings")
    if len(tokens) != len(tags):
        raise VecliftError(f"sentence {number}: {len(tokens)} tokens but {len(tags)} tags")
    try:
        iob2, _ = repair_tags(list(tags), scheme)
    except VecliftError as exc:
        raise VecliftError(f"sentence {number}: {exc.message}") from None
    return TaggedSentence(tokens, iob2)


def texts_with_offsets(items: Sequence[Any]) -> tuple[list[str], list[list[str]], list[list[tuple[int, int]]]]:
    """(texts, token lists, token offsets) of raw strings (tokenised, offsets kept) and token lists or
    sentences (offsets into the tokens joined by spaces)."""
    texts, token_lists, offsets = [], [], []
    for item in items:
        if isinstance(item, str):
            found = tokenize_with_offsets(item)
            texts.append(item)
            token_lists.append([token for token, _, _ in found])
            offsets.append([(start, end) for _, start, end in found])
        else:
            tokens = list(item.tokens) if hasattr(item, "tokens") else list(item)
            text, spans = joined_with_offsets(tokens)
            texts.append(text)
            token_lists.append(tokens)
            offsets.append(spans)
    return texts, token_lists, offsets


def entity_answer(
    text: str, tokens: list[str], offsets: Sequence[tuple[int, int]], decoded: dict[str, Any], labels: Sequence[str],
    marginals: bool,
) -> dict[str, Any]:  # fmt: skip
    """One tagged text as `SequenceTagger.predict_entities` answers it, from a `Decoder` result."""
    entities = [{"text": text[offsets[s][0] : offsets[e - 1][1]], "label": kind, "start": offsets[s][0],
                 "end": offsets[e - 1][1], "token_start": s, "token_end": e, "score": round(score, 6)}
                for kind, s, e, score in decoded["entities"]]  # fmt: skip
    answer = {"text": text, "tokens": tokens, "tags": decoded["tags"], "entities": entities}
    if marginals:
        answer["marginals"] = [{label: round(float(p), 6) for label, p in zip(labels, row)} for row in decoded["marginals"]]
    return answer


class EntityPredictor:
    """`predict_entities` over a model's ``entities`` (the torch tagger and its ONNX export alike)."""

    def predict_entities(self, items: Iterable[Any], *, vectors: Any = None, marginals: bool = False) -> list[dict[str, Any]]:
        """Per text (a raw string, tokenised with its offsets kept) or token list (offsets into the
        tokens joined by spaces): ``text``, ``tokens``, ``tags`` and ``entities``, each with ``text``,
        ``label``, character ``start``/``end`` (end exclusive), ``token_start``/``token_end`` and a
        confidence ``score`` in 0..1; per-token label probabilities under ``marginals`` if asked."""
        texts, token_lists, offsets = texts_with_offsets(self._items(items))
        return self.entities(texts, token_lists, offsets, vectors=vectors, marginals=marginals)


class SequenceTagger(EntityPredictor, TaskModel):
    """A named-entity (or any IOB2) tagger: ``SequenceTagger(config).fit(train, dev, vectors=...)``.

    ``train``/``dev`` are `veclift.data.TaggedSentence` lists; ``predict`` takes token lists.
    """

    task = "ner"
    config_class = TaggerConfig
    dev_metric = "F1"

    def __init__(self, config: TaggerConfig | None = None, **options: Any):
        super().__init__(config, **options)
        self.rehearsal_tokens: list[list[str]] = []  # see `_train`

    def fit(self, train: Any, dev: Any = None, *, scheme: str = INTERNAL_SCHEME, **options: Any) -> SequenceTagger:
        """`TaskModel.fit`; ``scheme``: the tags of plain ``(tokens, tags)`` examples and sentences
        (iob2, iob1, bioes, or io for bare type tags such as ``PER``), converted to IOB2.

        With ``init_model`` set, training continues from that tagger (`veclift.tasks.update`): its rows
        and weights are kept, new entity types added, the types ``train`` does not annotate rehearsed
        as ``rehearsal`` says and the features pulled to the old weights by ``init_pull``."""
        train, dev = self._tagged(train, scheme, "training data"), self._tagged(dev, scheme, "dev data")
        if self.config.init_model is not None:
            from veclift.tasks.update import continue_training

            return continue_training(self, train, dev, **options)
        if self.config.rehearse is not None:
            raise VecliftError("rehearse (--rehearse) applies only when training continues from a model (--init-model)")
        return super().fit(train, dev, **options)

    def _tagged(self, data: Any, scheme: str, what: str) -> Any:
        if data is None or isinstance(data, (str, os.PathLike)) or is_hf_dataset(data):
            return data  # the readers convert files and datasets themselves
        scheme = check_scheme(scheme)
        return task_items(data, self.task, lambda value, number: tagged_example(value, number, scheme), what=what)

    def _example(self, value: Any, number: int) -> TaggedSentence:
        return tagged_example(value, number, INTERNAL_SCHEME)

    def _train(self, train: Sequence[Any], dev: Sequence[Any], *, seed: int, **options: Any) -> None:
        """`TaskModel._train`, then a seeded sample of ``rehearsal_sentences`` training sentences'
        tokens (not their tags) is kept, saved with the model, for `--init-model` updates to rehearse on."""
        super()._train(train, dev, seed=seed, **options)
        rng = np.random.default_rng(seed)
        count = min(self.config.rehearsal_sentences, len(train))
        self.rehearsal_tokens = [list(train[i].tokens) for i in sorted(rng.choice(len(train), count, replace=False))]

    def _extra_state(self) -> dict[str, Any]:
        return {"rehearsal_tokens": self.rehearsal_tokens}

    def _restore_extra(self, state: dict[str, Any]) -> None:
        tokens = state.get("rehearsal_tokens", [])  # none in models saved before veclift kept them
        if not isinstance(tokens, list) or not all(
            isinstance(row, list) and all(isinstance(t, str) for t in row) for row in tokens
        ):
            raise VecliftError("broken model description: rehearsal_tokens must be a list of token lists")
        self.rehearsal_tokens = tokens

    def _label_set(self, train: Sequence[Any]) -> list[str]:
        tags = {t for s in train for t in s.tags}
        return ["O", *sorted(tags - {"O"})]

    def _target(self, item: Any) -> list[int]:
        index = {t: i for i, t in enumerate(self.labels)} | {OPEN_TAG: OPEN}
        return [index[t] for t in item.tags]

    def _feature_embedders(self, train_tokens: Sequence[Sequence[str]]) -> list[TokenEmbedder]:
        return feature_embedders(self.config, train_tokens)

    def _build_network(self, embedder: TokenEmbedder) -> TaggerNetwork:
        return TaggerNetwork(embedder, self.config, self.labels)

    def _initialise_network(self) -> None:
        if self.config.init_encoder:
            from veclift.tasks.pretrained_encoder import PretrainedEncoder

            PretrainedEncoder.load(self.config.init_encoder).initialise(self.network, self.config)

    def _dev_score(self, dev: Sequence[Any]) -> float:
        pred = self._tag([list(s.tokens) for s in dev], prepare=False)
        return ner_scores([s.tags for s in dev], pred)["f1"]

    def _confident(self, token_lists: Sequence[Sequence[str]], *, vectors: Any, threshold: float, limit: int,
                   train: Sequence[Any]) -> tuple[list[TaggedSentence], dict[str, Any]]:  # fmt: skip
        """The sentences with an entity whose least sure token's tag (the decoded one) is at least
        ``threshold`` likely (the CRF marginal), surest first, with their tags; without an entity, a
        weak model's all-O sentences would win and teach it to tag nothing. Also their entity count."""
        answers = self.predict_entities(token_lists, vectors=vectors, marginals=True)
        confidence = [min(row[tag] for row, tag in zip(answer["marginals"], answer["tags"])) for answer in answers]
        order = sorted(range(len(answers)), key=lambda i: -confidence[i])
        chosen = [i for i in order if confidence[i] >= threshold and answers[i]["entities"]][:limit]
        sentences = [TaggedSentence(answers[i]["tokens"], answers[i]["tags"]) for i in chosen]
        return sentences, {"added_entities": sum(len(answers[i]["entities"]) for i in chosen)}

    def _tag(self, token_lists: list[list[str]], *, vectors: Any = None, prepare: bool = True) -> list[list[str]]:
        decoded = self._run(token_lists, lambda batch: self.network.decode(batch, self.labels), empty={"tags": []},
                            vectors=vectors, prepare=prepare)  # fmt: skip
        return [row["tags"] for row in decoded]

    def predict(self, items: Iterable[Any], *, vectors: Any = None) -> list[list[str]]:
        """IOB2 tags for each token list (or `TaggedSentence`, or raw string, tokenised).

        ``vectors``: a vector source giving rows to words this model has no row for.
        """
        return self._tag(self._tokens(items), vectors=vectors)

    def entities(
        self, texts: Sequence[str], token_lists: list[list[str]], offsets: Sequence[Sequence[tuple[int, int]]], *,
        vectors: Any = None, marginals: bool = False,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """`predict_entities` for texts already tokenised, ``offsets`` the (start, end) of each token."""
        decoded = self._run(
            token_lists, lambda batch: self.network.decode(batch, self.labels, confidences=True, marginals=marginals),
            empty={"tags": [], "entities": [], "marginals": []}, vectors=vectors,
        )  # fmt: skip
        return [entity_answer(text, tokens, spans, row, self.labels, marginals)
                for text, tokens, spans, row in zip(texts, token_lists, offsets, decoded)]  # fmt: skip

    def evaluate(self, data: Any, *, vectors: Any = None, scheme: str = INTERNAL_SCHEME,
                 predictions: Sequence[Sequence[str]] | None = None) -> dict[str, Any]:  # fmt: skip
        """conlleval scores (``f1``, ``precision``, ``recall``, ``per_type``...) and the transfer view;
        ``data`` and ``scheme`` as `fit` takes them; ``predictions``: score these tags of ``data``
        (as `predict` gave them) instead of tagging it again."""
        data = self._evaluation_data(self._tagged(data, scheme, "evaluation data"), "sentence", "tag",
                                     lambda sentence: sentence.tags)  # fmt: skip
        if predictions is not None and len(predictions) != len(data):
            raise ValueError(f"{len(predictions)} predictions for {len(data)} sentences")
        pred = self._tag([list(s.tokens) for s in data], vectors=vectors) if predictions is None else list(predictions)
        scores = ner_scores([s.tags for s in data], pred)
        vocab, knows, key = self.transfer_helpers()
        scores["transfer"] = unseen_entity_scores(data, pred, vocab, knows, key)
        scores["sentences"] = len(data)
        scores["tokens"] = sum(len(s.tokens) for s in data)
        return scores


def _score_table(scores: dict[str, Any]) -> ScoreTable:
    def row(name: str, s: dict[str, Any], support: Any) -> tuple[str, ...]:
        return (name, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(support))

    return ScoreTable(
        columns=("type", "precision", "recall", "f1", "support"),
        rows=[row(kind, s, s["support"]) for kind, s in scores["per_type"].items()],
        total=row("all", scores, scores["gold_entities"]),
        lines=[f"{group:>8} entities: F1 {fraction(s['f1'])} ({group_size(s['gold'], 'gold')})"
               for group, s in scores["transfer"].items()],  # fmt: skip
    )


def _predict_records(model: SequenceTagger, records: list[dict[str, Any]], vectors: Any, *,
                     marginals: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    texts, offsets = [], []
    for number, record in enumerate(records, 1):
        text = record.get("text")
        if isinstance(text, str):
            spans = token_offsets(text, record["tokens"])
            if spans is None:
                raise VecliftError(f"record {number}: its tokens do not spell its text (in order, only whitespace between)")
        else:
            text, spans = joined_with_offsets(record["tokens"])
        texts.append(text)
        offsets.append(spans)
    answers = model.entities(texts, [list(record["tokens"]) for record in records], offsets, vectors=vectors,
                             marginals=marginals)  # fmt: skip
    return [{**record, **answer} for record, answer in zip(records, answers)]


register_task(Task(
    name="ner", model_class=SequenceTagger, read=read_tagged_files, reader_options=TaggedReaderOptions,
    primary_metric="f1", metric_label="entity F1", item_noun="sentence", scored_noun="entities",
    transfer_columns=(
        TransferColumn("transfer.known.f1", "unseen, known to the vectors", "-",
                       "On test entities never seen in training but known to the vectors"),
        TransferColumn("transfer.unknown.f1", "unseen, unknown to the vectors", "--",
                       "On test entities never seen in training and unknown to the vectors"),
    ),
    score_table=_score_table, predict_records=_predict_records, token_tags=True,
))  # fmt: skip
