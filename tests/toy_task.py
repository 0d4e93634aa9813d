"""A task defined outside the package, as a user's own module would: topic of a short text from
the mean of its word rows. Importing this module registers it as "toy-topic"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from veclift.data import LabeledText, tokenize
from veclift.embeddings import TokenBatch, TokenEmbedder
from veclift.errors import VecliftError
from veclift.tasks import TaskConfig
from veclift.tasks.model import TaskModel
from veclift.tasks.registry import ScoreTable, Task, register_task

NAME = "toy-topic"


@dataclass
class ToyConfig(TaskConfig):
    task: ClassVar[str] = NAME


@dataclass
class ToyReaderOptions:
    separator: str = "\t"


class MeanNetwork(nn.Module):
    def __init__(self, embedder: TokenEmbedder, n_labels: int):
        super().__init__()
        self.embedder = embedder
        self.output = nn.Linear(embedder.dim, n_labels)

    def scores(self, batch: TokenBatch) -> torch.Tensor:
        rows = self.embedder(batch)
        return self.output(rows.sum(1) / batch.lengths[:, None].clamp(min=1))

    def collate(self, targets: Sequence[int], batch: TokenBatch) -> torch.Tensor:
        return torch.tensor(list(targets), dtype=torch.long)

    def loss(self, batch: TokenBatch, targets: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(self.scores(batch), targets)


class ToyTopicModel(TaskModel):
    task = NAME
    config_class = ToyConfig

    def _label_set(self, train: Sequence[Any]) -> list[str]:
        return sorted({item.label for item in train})

    def _target(self, item: Any) -> int:
        return self.labels.index(item.label)

    def _build_network(self, embedder: TokenEmbedder) -> nn.Module:
        return MeanNetwork(embedder, len(self.labels))

    def _dev_score(self, dev: Sequence[Any]) -> float:
        return self.evaluate(dev)["accuracy"]

    def predict(self, items: Iterable[Any], *, vectors: Any = None) -> list[str]:
        def best(batch: TokenBatch) -> list[str]:
            return [self.labels[i] for i in self.network.scores(batch).argmax(-1).tolist()]

        return self._run(self._tokens(items), best, empty=self.labels[0], vectors=vectors)

    def evaluate(self, data: Sequence[Any], *, vectors: Any = None, predictions: Sequence[str] | None = None) -> dict[str, Any]:
        data = list(data)
        predicted = self.predict(data, vectors=vectors) if predictions is None else predictions
        return {"accuracy": sum(p == item.label for p, item in zip(predicted, data)) / len(data), "texts": len(data)}


def read_toy(paths: Sequence[Path], *, separator: str = "\t") -> list[LabeledText]:
    items = []
    for path in paths:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            label, sep, text = line.partition(separator)
            if not sep:
                raise VecliftError(f"expected LABEL{separator!r}TEXT", path, number)
            items.append(LabeledText(tokenize(text), [label], text))
    return items


def _score_table(scores: dict[str, Any]) -> ScoreTable:
    return ScoreTable(columns=("metric", "value"), rows=[("accuracy", f"{scores['accuracy']:.4f}")], lines=[])


def _predict_records(model: ToyTopicModel, records: list[dict[str, Any]], vectors: Any, *,
                     marginals: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    labels = model.predict([r["tokens"] for r in records], vectors=vectors)
    return [{**record, "label": label} for record, label in zip(records, labels)]


TOY = register_task(Task(
    name=NAME, model_class=ToyTopicModel, read=read_toy, reader_options=ToyReaderOptions, primary_metric="accuracy",
    metric_label="accuracy", item_noun="text", scored_noun="texts", transfer_columns=(), score_table=_score_table,
    predict_records=_predict_records, stratify=lambda item: item.label,
))  # fmt: skip
