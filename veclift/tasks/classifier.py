"""Text classification: embeddings -> SWEM pooling, BiLSTM (max/attention) or Kim CNN -> softmax or sigmoid."""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from veclift.data.labeled import LabeledText
from veclift.data.readers import LabeledReaderOptions, read_labeled_files
from veclift.embeddings import TokenBatch, TokenEmbedder
from veclift.errors import VecliftError
from veclift.tasks.config import ClassifierConfig, split_strategy
from veclift.tasks.encoders import SentenceEncoder
from veclift.tasks.inputs import pair
from veclift.tasks.metrics import classification_scores, unseen_word_accuracy
from veclift.tasks.model import TaskModel
from veclift.tasks.registry import ScoreTable, Task, TransferColumn, fraction, group_size, register_task


def labeled_example(text: Any, label: Any, number: int) -> LabeledText:
    """A raw text (tokenised) or token list with its label (a list of labels: multi-label)."""
    from veclift.data.tokenize import tokenize

    if isinstance(text, str):
        tokens = tokenize(text)
    elif isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        tokens, text = list(text), " ".join(text)
    else:
        raise VecliftError(f"text {number}: expected a string or a list of token strings, got {type(text).__name__}")
    labels = [label] if isinstance(label, str) else list(label) if isinstance(label, (list, tuple)) else None
    if not labels or not all(isinstance(name, str) and name for name in labels):
        raise VecliftError(f"text {number}: a label must be a non-empty string (or a list of them), got {label!r}")
    return LabeledText(tokens, labels, text)


def _is_label_column(train: Any, dev: Any) -> bool:
    """Whether ``fit(train, dev)`` was called scikit-learn's way, ``fit(X, y)``: ``dev`` is one label
    per text (a string; or a list of labels when ``train`` holds raw strings), never a dev set of
    `LabeledText` items or ``(text, label)`` pairs."""
    if isinstance(train, (str, os.PathLike)) or not isinstance(dev, (list, tuple, np.ndarray)) or not len(dev):
        return False
    train = list(train)
    if len(train) != len(dev):
        return False
    if all(isinstance(y, str) for y in dev):
        return not any(isinstance(x, LabeledText) for x in train)
    label_lists = all(isinstance(y, (list, tuple)) and all(isinstance(t, str) for t in y) for y in dev)
    return label_lists and all(isinstance(x, str) for x in train)


@functools.lru_cache(maxsize=16)
def label_ids(labels: tuple[str, ...]) -> dict[str, int]:
    """Each label's output index (kept: a training set asks it once per text)."""
    return {label: i for i, label in enumerate(labels)}


# Three members against one (SST-2 sentences, 3 seeds; 5 at 2,000 rows; bench/results/classify_bench.md):
# +1.2 / +2.1 / +1.4 / +1.1 points at 100 / 200 / 500 / 2,000 training rows, in 2.5-6x the time;
# +0.3 at 3,000, -0.4 at 5,000 and -0.1 on all 51,022 rows. On the MiniLM probe, -0.5 / +0.1 at 200 /
# 2,000 rows: a model with contextual features keeps one member unless told otherwise.
SMALL_TRAINING_SET = 2000


def members_for(n_texts: int, config: ClassifierConfig) -> int:
    """The members of a classifier trained on ``n_texts`` texts: ``config.members``, or when 0 (by
    size) three up to `SMALL_TRAINING_SET` texts and one beyond, one with contextual features."""
    if config.members:
        return config.members
    return 3 if n_texts <= SMALL_TRAINING_SET and split_strategy(config.embeddings)[1] is None else 1


def labels_from_proba(proba: np.ndarray, labels: Sequence[str], multi_label: bool) -> list:
    """The label of each row of (texts, labels) probabilities; multi-label: those >= 0.5, at least the top one."""
    if not multi_label:
        return [labels[i] for i in proba.argmax(1)]
    out = []
    for row in proba:
        chosen = [labels[i] for i in np.flatnonzero(row >= 0.5)]
        out.append(chosen or [labels[int(row.argmax())]])
    return out


class SentenceHead(nn.Module):
    """One member's layers over the embedded tokens: encoder -> dropout -> (ReLU layer) -> label scores."""

    def __init__(self, config: ClassifierConfig, in_dim: int, n_labels: int):
        super().__init__()
        self.encoder = SentenceEncoder(config.encoder, in_dim, hidden=config.hidden, filters=config.filters,
                                       kernel_sizes=config.kernel_sizes)  # fmt: skip
        width = self.encoder.out_dim
        self.mlp = None
        if config.mlp:
            self.mlp = nn.Sequential(nn.Linear(width, config.mlp), nn.ReLU(), nn.Dropout(config.dropout))
            width = config.mlp
        self.output = nn.Linear(width, n_labels)


class ClassifierNetwork(nn.Module):
    """Token features -> sentence vector -> one score per label (softmax, or sigmoid when multi-label).

    With ``members`` > 1, as many heads share the word rows; each learns on its own loss (so each is
    a classifier of its own, started from other weights and dropped out otherwise) and the scores are
    their average log-probability (multi-label: their average score), a seed ensemble in one network.
    """

    def __init__(self, embedder: TokenEmbedder, config: ClassifierConfig, n_labels: int, multi_label: bool, *, members: int):
        super().__init__()
        if members < 1:
            raise ValueError(f"a classifier has at least one member, not {members}")
        self.embedder = embedder
        self.multi_label = multi_label
        self.n_labels = n_labels
        self.embed_dropout = nn.Dropout(config.embed_dropout)
        self.dropout = nn.Dropout(config.dropout)
        # The first head's layers sit on the network itself, where a one-member model saved them
        # before members existed; the others follow in ``more_members``.
        first = SentenceHead(config, embedder.dim, n_labels)
        self.encoder, self.mlp, self.output = first.encoder, first.mlp, first.output
        self.more_members = nn.ModuleList(SentenceHead(config, embedder.dim, n_labels) for _ in range(members - 1))

    def logits(self, batch: TokenBatch) -> torch.Tensor:
        return self.from_features(self.embedder(batch), batch.mask)

    def member_logits(self, features: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """Each member's label scores (B, labels) from the embedded tokens (B, T, dim)."""
        return [self._head_logits(head, features, mask) for head in [self, *self.more_members]]

    def _head_logits(self, head: nn.Module, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        sentence = self.dropout(head.encoder(self.embed_dropout(features), mask))
        return head.output(head.mlp(sentence) if head.mlp is not None else sentence)

    def from_features(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Label scores (B, labels) from the embedded tokens (B, T, dim): the members' combined."""
        return self._combined(self.member_logits(features, mask))

    def _combined(self, scores: list[torch.Tensor]) -> torch.Tensor:
        if len(scores) == 1:
            return scores[0]
        if self.multi_label:
            return torch.stack(scores).mean(0)
        return torch.stack([torch.log_softmax(s, dim=-1) for s in scores]).mean(0)

    def collate(self, targets: Sequence[Any], batch: TokenBatch) -> torch.Tensor:
        if not self.multi_label:
            return torch.tensor(targets, dtype=torch.long)
        hot = torch.zeros(len(targets), self.n_labels)
        for b, indices in enumerate(targets):
            hot[b, list(indices)] = 1.0
        return hot

    def loss(self, batch: TokenBatch, targets: torch.Tensor) -> torch.Tensor:
        """The members' mean loss: each member learns the labels on its own, not through the others."""
        scores = self.member_logits(self.embedder(batch), batch.mask)
        if self.multi_label:
            losses = [nn.functional.binary_cross_entropy_with_logits(s, targets) for s in scores]
        else:
            losses = [nn.functional.cross_entropy(s, targets) for s in scores]
        return torch.stack(losses).mean()

    def probabilities(self, batch: TokenBatch) -> torch.Tensor:
        return self.probabilities_from(self.logits(batch))

    def probabilities_from(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)


class TextClassifier(TaskModel):
    """A sentence classifier: ``TextClassifier(config).fit(train, dev, vectors=...)`` on `LabeledText` lists.

    Single-label data gives one label per text; multi-label data (detected, or ``multi_label=True``)
    a list of labels with probability >= 0.5 (at least the most probable one).
    """

    task = "classify"
    config_class = ClassifierConfig

    @property
    def dev_metric(self) -> str:
        return self.config.metric

    def __init__(self, config: ClassifierConfig | None = None, **options: Any):
        super().__init__(config, **options)
        self.multi_label = bool(self.config.multi_label)
        self.members = 0  # decided by fit (by the training set's size) or by load

    def _example(self, value: Any, number: int) -> LabeledText:
        if isinstance(value, LabeledText):
            return value
        text, label = pair(value, number, ("text", "label"))
        return labeled_example(text, label, number)

    def _training_sets(self, train: Any, dev: Any) -> tuple[list, list]:
        """``fit(X, y)`` as in scikit-learn (texts or token lists, then their labels; no dev set), or
        ``fit(train, dev)``."""
        if _is_label_column(train, dev):
            return [labeled_example(x, label, n) for n, (x, label) in enumerate(zip(train, dev), 1)], []
        return super()._training_sets(train, dev)

    def _contrastively_tuned(self, train: Sequence[Any], output: Path, seed: int, progress: bool) -> Path:
        """The ``contextual_model`` encoder tuned by SetFit on (a seeded sample of) the training texts."""
        from veclift.contextual.setfit_tuning import contrastive_tune, pair_sample

        if self.multi_label:
            raise VecliftError("contextual-setfit trains on single-label texts; this data is multi-label")
        chosen = pair_sample(train, seed, label=lambda item: item.labels[0])
        return contrastive_tune(self.config.contextual_model, [" ".join(item.tokens) for item in chosen],
                                [self._target(item) for item in chosen], output, pairs=self.config.setfit_pairs,
                                seed=seed, progress=progress)  # fmt: skip

    # --- scikit-learn conventions -------------------------------------------------------------------
    @property
    def classes_(self) -> np.ndarray:
        """The labels, in the column order of `predict_proba` (scikit-learn's name)."""
        return np.array(self.labels)

    def score(self, X: Sequence[Any], y: Sequence[Any]) -> float:
        """Accuracy of ``predict(X)`` against ``y`` (multi-label: exact label sets)."""
        pred = self.predict(X)
        gold = [sorted(label) if isinstance(label, (list, tuple)) else label for label in y]
        pred = [sorted(label) if isinstance(label, list) else label for label in pred]
        return float(np.mean([p == g for p, g in zip(pred, gold)])) if gold else 0.0

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True), classifier_tags=ClassifierTags(),
                    input_tags=InputTags(one_d_array=True, two_d_array=False, string=True))  # fmt: skip

    def _label_set(self, train: Sequence[Any]) -> list[str]:
        labels = sorted({label for item in train for label in item.labels})
        self.multi_label = self.config.multi_label if self.config.multi_label is not None else any(len(i.labels) != 1 for i in train)
        self.members = members_for(len(train), self.config)
        if len(labels) < 2:
            raise VecliftError(f"the training data has one class only ({labels[0]!r}): nothing to learn")
        return labels

    def _target(self, item: Any) -> Any:
        index = label_ids(tuple(self.labels))
        if self.multi_label:
            return [index[label] for label in item.labels]
        return index[item.labels[0]]

    def _build_network(self, embedder: TokenEmbedder) -> ClassifierNetwork:
        return ClassifierNetwork(embedder, self.config, len(self.labels), self.multi_label, members=self.members)

    def _settled_config(self) -> ClassifierConfig:
        return self.config.replace(members=self.members)

    def _extra_state(self) -> dict[str, Any]:
        return {"multi_label": self.multi_label, "members": self.members}

    def _restore_extra(self, state: dict[str, Any]) -> None:
        self.multi_label = bool(state["multi_label"])
        self.members = int(state.get("members", 1))  # saved before members existed: one

    def _dev_score(self, dev: Sequence[Any]) -> float:
        pred = self.labels_from_proba(self._proba([list(i.tokens) for i in dev], prepare=False))
        return classification_scores(self._gold(dev), pred, self.labels)[self.config.metric]

    def _confident(self, token_lists: Sequence[Sequence[str]], *, vectors: Any, threshold: float, limit: int,
                   train: Sequence[Any]) -> tuple[list[LabeledText], dict[str, Any]]:  # fmt: skip
        """The texts whose answer is at least ``threshold`` likely (multi-label: each label's yes or
        no, and at least one yes), surest first, with their labels: at most ``limit``, and each single
        label at most its share of ``limit`` in ``train`` (one place at the least), so that the surest
        class does not take every place. Also how many of each label joined."""
        proba = self.predict_proba([list(tokens) for tokens in token_lists], vectors=vectors)
        answers = self.labels_from_proba(proba)
        if self.multi_label:
            confidence = np.where(proba.max(1) >= 0.5, np.maximum(proba, 1 - proba).min(1), -1.0)  # no yes: never
        else:
            confidence = proba.max(1)
            shares = Counter(item.labels[0] for item in train)
            places = {label: max(1, round(limit * shares[label] / len(train))) for label in self.labels}
        chosen, taken = [], Counter()
        for i in np.argsort(-confidence, kind="stable"):
            if confidence[i] < threshold or len(chosen) == limit:
                break
            if not self.multi_label:
                if taken[answers[i]] == places[answers[i]]:
                    continue
                taken[answers[i]] += 1
            chosen.append(int(i))
        labels = [answers[i] if self.multi_label else [answers[i]] for i in chosen]
        texts = [LabeledText(list(token_lists[i]), label, " ".join(token_lists[i])) for i, label in zip(chosen, labels)]
        joined = Counter(label for text in texts for label in text.labels)
        return texts, {"added_labels": dict(sorted(joined.items()))}

    # --- prediction --------------------------------------------------------------------------------
    def _proba(self, token_lists: list[list[str]], *, vectors: Any = None, prepare: bool = True) -> np.ndarray:
        for number, tokens in enumerate(token_lists, 1):
            if not tokens:
                raise VecliftError(f"text {number} is empty: nothing to classify")
        rows = self._run(token_lists, lambda batch: list(self.network.probabilities(batch).numpy()), vectors=vectors, prepare=prepare)
        return np.stack(rows) if rows else np.zeros((0, len(self.labels)), np.float32)

    def labels_from_proba(self, proba: np.ndarray) -> list:
        return labels_from_proba(proba, self.labels, self.multi_label)

    def _gold(self, data: Sequence[Any]) -> list:
        return [list(item.labels) if self.multi_label else item.labels[0] for item in data]

    def predict_proba(self, items: Iterable[Any], *, vectors: Any = None) -> np.ndarray:
        """(texts, labels) probabilities, columns in ``self.labels`` order; items are token lists,
        `LabeledText` or raw strings (tokenised)."""
        return self._proba(self._tokens(items), vectors=vectors)

    def predict(self, items: Iterable[Any], *, vectors: Any = None) -> list:
        """The label of each text (a list of labels when multi-label)."""
        return self.labels_from_proba(self.predict_proba(items, vectors=vectors))

    def evaluate(self, data: Sequence[Any], *, vectors: Any = None, predictions: Sequence[Any] | None = None) -> dict[str, Any]:
        """``accuracy``, ``macro_f1``, per-class scores, confusion matrix and the transfer view;
        ``predictions``: score these labels of ``data`` (as `predict` gave them) instead of predicting again."""
        data = self._evaluation_data(data, "text", "label", lambda item: item.labels)
        tokens = [list(item.tokens) for item in data]
        if predictions is not None and len(predictions) != len(data):
            raise ValueError(f"{len(predictions)} predictions for {len(data)} texts")
        pred = self.labels_from_proba(self._proba(tokens, vectors=vectors)) if predictions is None else list(predictions)
        gold = self._gold(data)
        unknown = sorted({label for item in data for label in item.labels} - set(self.labels))
        scores = classification_scores(gold, pred, [*self.labels, *unknown])
        vocab, knows, key = self.transfer_helpers()
        scores["transfer"] = unseen_word_accuracy(tokens, gold, pred, vocab, knows, key)
        scores["texts"] = len(data)
        return scores


def _score_table(scores: dict[str, Any]) -> ScoreTable:
    return ScoreTable(
        columns=("class", "precision", "recall", "f1", "support"),
        rows=[(name, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(s["support"]))
              for name, s in scores["per_class"].items()],  # fmt: skip
        lines=[f"accuracy {scores['accuracy']:.4f}  macro-F1 {scores['macro_f1']:.4f}",
               *(f"{group:>12}: accuracy {fraction(s['accuracy'])} ({group_size(s['count'], 'texts')})"
                 for group, s in scores["transfer"].items())],  # fmt: skip
    )


def _predict_records(model: TextClassifier, records: list[dict[str, Any]], vectors: Any, *,
                     marginals: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    """Each record with its label(s) and every class's probability (``marginals``: no per-token view)."""
    proba = model.predict_proba([record["tokens"] for record in records], vectors=vectors)
    key = "labels" if model.multi_label else "label"
    return [{**record, key: label, "probabilities": {name: round(float(p), 6) for name, p in zip(model.labels, row)}}
            for record, label, row in zip(records, model.labels_from_proba(proba), proba)]  # fmt: skip


def _first_label(item: Any) -> str:
    return item.label


register_task(Task(
    name="classify", model_class=TextClassifier, read=read_labeled_files, reader_options=LabeledReaderOptions,
    primary_metric="accuracy", metric_label="accuracy", item_noun="text", scored_noun="texts",
    transfer_columns=(
        TransferColumn("transfer.unseen_known.accuracy", "with unseen words known to the vectors", "-",
                       "On test texts with words never seen in training but known to the vectors"),
        TransferColumn("transfer.rest.accuracy", "without such words", "--", "On the other test texts"),
    ),
    score_table=_score_table, predict_records=_predict_records, stratify=_first_label,
))  # fmt: skip
