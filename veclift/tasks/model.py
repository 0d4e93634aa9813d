"""What every trained model shares: fit (vocabulary, network, trainer), batched prediction,
save/load of the model directory, and the transfer-view bookkeeping.

`SequenceTagger` and `TextClassifier` subclass `TaskModel` and add their labels, network and scores.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from veclift.errors import VecliftError, warn
from veclift.tasks.config import TaskConfig, split_strategy
from veclift.embeddings import StackedEmbedder, TokenBatch, TokenEmbedder, WordEmbedder, build_word_embedder
from veclift.tasks.inputs import in_length_batches
from veclift.tasks.trainer import TrainResult, seed_everything
from veclift.tasks.trainer import train as train_network

PREDICT_BATCH = 256


def open_vectors(vectors: Any) -> Any:
    """A `Vectors` from a `Vectors`, a built-in name, a directory or a file; None stays None."""
    if vectors is None:
        return None
    from veclift.vectors.core import Vectors

    return vectors if isinstance(vectors, Vectors) else Vectors.load(vectors)


def as_token_lists(items: Iterable[Any], lowercase: bool = False) -> list[list[str]]:
    """Token lists from token lists, `TaggedSentence`/`LabeledText` items or raw strings (tokenised)."""
    from veclift.data.tokenize import tokenize

    out = []
    for item in items:
        if isinstance(item, str):
            out.append(tokenize(item, lowercase=lowercase))
        elif hasattr(item, "tokens"):
            out.append(list(item.tokens))
        else:
            out.append(list(item))
    return out


class TaskModel:
    """A trainable, savable model; subclasses define the task-specific parts."""

    task: ClassVar[str]
    config_class: ClassVar[type[TaskConfig]]

    def __init__(self, config: TaskConfig | None = None, **options: Any):
        config = config if config is not None else self.config_class()
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}")
        self.config = config.replace(**options) if options else config
        self.labels: list[str] = []
        self.network: nn.Module | None = None
        self.vectors_source: str | None = None
        self.train_result: TrainResult | None = None

    # --- to implement ---------------------------------------------------------------------------
    def _label_set(self, train: Sequence[Any]) -> list[str]:
        raise NotImplementedError

    def _target(self, item: Any) -> Any:
        raise NotImplementedError

    def _build_network(self, embedder: TokenEmbedder) -> nn.Module:
        raise NotImplementedError

    def _feature_embedders(self, train_tokens: Sequence[Sequence[str]]) -> list[TokenEmbedder]:
        """Embedders stacked after the word rows (characters, casing)."""
        return []

    def _initialise_network(self) -> None:
        """Load pre-trained weights into the freshly built network (a pre-trained encoder); none by default."""

    @property
    def dev_metric(self) -> str:
        """The name of what ``_dev_score`` measures, for messages ("F1", "accuracy")."""
        return "score"

    def _dev_score(self, dev: Sequence[Any]) -> float:
        raise NotImplementedError

    def _confident(self, token_lists: Sequence[Sequence[str]], *, vectors: Any, threshold: float, limit: int,
                   train: Sequence[Any]) -> tuple[list, dict[str, Any]]:  # fmt: skip
        """Self-training: the at most ``limit`` of ``token_lists`` this trained model answers surest,
        at least ``threshold`` sure, as training items with its answers; and a record of what they
        hold (``added_entities``, ``added_labels``). ``train``: the labelled training items. A task
        without it does not self-train (`veclift.tasks.self_training` says so before training)."""
        raise NotImplementedError

    def evaluate(self, data: Any, *, vectors: Any = None, predictions: Sequence[Any] | None = None) -> dict[str, Any]:
        """Scores on labeled ``data`` (the task's metric among them); ``predictions``: score these,
        as `predict` gave them for ``data``, instead of predicting again (a study trial times one
        prediction and scores it)."""
        raise NotImplementedError

    def _example(self, value: Any, number: int) -> Any:
        """One element of a user's sequence as this task's item (see `veclift.tasks.inputs`); by
        default the element itself, taken to be the task's item already."""
        return value

    def _as_items(self, data: Any, what: str) -> list:
        """A path, a ``datasets.Dataset`` or a sequence of examples as this task's items."""
        from veclift.tasks.inputs import task_items

        return task_items(data, self.task, self._example, what=what)

    def _training_sets(self, train: Any, dev: Any) -> tuple[list, list]:
        return self._as_items(train, "training data"), self._as_items(dev, "dev data")

    def _settled_config(self) -> TaskConfig:
        """The config with what the last fit chose by the training set's size written out, for the
        rounds of self-training to train as the first model did (the classifier's members)."""
        return self.config

    def _extra_state(self) -> dict[str, Any]:
        """Task-specific fields saved in config.json and restored by `_restore_extra`."""
        return {}

    def _restore_extra(self, state: dict[str, Any]) -> None:
        pass

    # --- training ---------------------------------------------------------------------------------
    def fit(
        self,
        train: Any,
        dev: Any = None,
        *,
        vectors: Any = None,
        seed: int = 0,
        extra_tokens: Iterable[Sequence[str]] = (),
        checkpoint: str | Path | None = None,
        progress: bool = True,
    ) -> TaskModel:
        """Train on ``train`` with early stopping on ``dev``; ``vectors`` a `Vectors` or a source name.

        ``train``/``dev``: a file path (read as ``veclift train`` reads it), a ``datasets.Dataset``, or a
        list of the task's items or plain pairs (``(tokens, tags)``, ``(text, label)``). Words of
        ``dev`` and ``extra_tokens`` (e.g. the test set) get frozen pre-trained rows. With
        ``self_train`` set, rounds of self-training on that raw text follow (`veclift.tasks.self_training`).
        """
        options = dict(vectors=vectors, seed=seed, extra_tokens=extra_tokens, checkpoint=checkpoint, progress=progress)
        if self.config.self_train is not None:
            from veclift.tasks.self_training import self_train

            return self_train(self, train, dev, **options)
        return self._fit(train, dev, **options)

    def _fit(self, train: Any, dev: Any, *, vectors: Any, seed: int, extra_tokens: Iterable[Sequence[str]],
             checkpoint: str | Path | None, progress: bool) -> TaskModel:  # fmt: skip
        """One model trained: the body of `fit`, and of each round of self-training."""
        train, dev = self._training_sets(train, dev)
        if not train:
            raise VecliftError("the training data is empty")
        vectors = open_vectors(vectors)
        self.vectors_source = vectors.source if vectors is not None else None
        self.labels = self._label_set(train)
        train_tokens = [list(item.tokens) for item in train]
        extra = [list(item.tokens) for item in dev] + [list(t) for t in extra_tokens]
        seed_everything(seed)
        static, contextual = split_strategy(self.config.embeddings)
        if static is None:  # no word rows; an empty layer keeps the train vocabulary for the transfer view
            words = WordEmbedder([], [], [], [], 0, lowercase=False, train_words=sorted({t for s in train_tokens for t in s}))
        else:
            static_config = self.config.replace(embeddings=static)
            words = build_word_embedder(train_tokens, extra, vectors, static_config, np.random.default_rng(seed))
        parts: list[TokenEmbedder] = [words]
        if contextual is not None:
            parts.append(self._contextual_embedder(contextual, train_tokens + extra, progress, train=train, seed=seed))
        embedder = StackedEmbedder([*parts, *self._feature_embedders(train_tokens)])
        self.network = self._build_network(embedder)
        self._initialise_network()
        self._train(train, dev, seed=seed, checkpoint=checkpoint, progress=progress)
        return self

    def _train(self, train: Sequence[Any], dev: Sequence[Any], *, seed: int, checkpoint: str | Path | None,
               progress: bool, dev_score: Callable[[Sequence[Any]], float] | None = None) -> None:  # fmt: skip
        """Train the built network on the items ``train``, early stopping on ``dev`` (its words have rows
        already) scored by ``dev_score`` (default `_dev_score`); also what continuing a trained model's
        training runs (`veclift.tasks.update`)."""
        examples = [(list(item.tokens), self._target(item)) for item in train]
        score = dev_score or self._dev_score
        self.train_result = train_network(
            self.network, examples, self.config, seed=seed, checkpoint=checkpoint, progress=progress,
            dev_score=(lambda: score(dev)) if dev else None, description=f"Training {self.task}",
        )  # fmt: skip

    def _contextual_embedder(self, mode: str, token_lists: list[list[str]], progress: bool, *,
                             train: Sequence[Any] = (), seed: int = 0) -> TokenEmbedder:  # fmt: skip
        from veclift.contextual.pooling import PoolingOptions
        from veclift.embeddings.contextual import build_contextual_embedder

        config = self.config
        options = PoolingOptions(pooling=config.contextual_pooling, layers=config.contextual_layers)
        if mode != "setfit":
            return build_contextual_embedder(mode, token_lists, model=config.contextual_model, options=options,
                                             cache_dir=config.contextual_cache, progress=progress)  # fmt: skip
        # The encoder tuned on the training texts first, then frozen. Its features are of this fit
        # only, so they are cached beside it in a scratch directory that the embedder holds, not in
        # the shared cache; the weights stay in memory (saving copies them from there).
        scratch = tempfile.TemporaryDirectory(prefix="veclift-setfit-")
        tuned = Path(scratch.name) / "encoder"  # made here, inside the scratch directory: removed once loaded
        self._contrastively_tuned(train, tuned, seed, progress)
        embedder = build_contextual_embedder("frozen", token_lists, model=str(tuned), options=options,
                                             cache_dir=Path(scratch.name) / "features", progress=progress)  # fmt: skip
        shutil.rmtree(tuned)
        embedder.scratch = scratch
        return embedder

    def _contrastively_tuned(self, train: Sequence[Any], output: Path, seed: int, progress: bool) -> Path:
        """The contextual encoder tuned on ``train`` for ``contextual-setfit``, written to ``output``."""
        raise VecliftError(f"contextual-setfit is not a strategy of {type(self).__name__}")

    # --- prediction helpers --------------------------------------------------------------------
    @property
    def embedder(self) -> StackedEmbedder:
        if self.network is None:
            raise VecliftError(f"this {type(self).__name__} is not trained yet: call fit() or load()")
        return self.network.embedder

    @property
    def words(self) -> WordEmbedder:
        return self.embedder.part(WordEmbedder)

    def _items(self, items: Iterable[Any]) -> list[Any]:
        from veclift.tasks.inputs import item_list

        return item_list(items, type(self).__name__)

    def _tokens(self, items: Iterable[Any]) -> list[list[str]]:
        return as_token_lists(self._items(items))

    def _run(
        self, token_lists: list[list[str]], fn: Callable[[TokenBatch], list], *, empty: Any = None,
        vectors: Any = None, prepare: bool = True,
    ) -> list:  # fmt: skip
        """``fn`` over length-sorted batches, results back in input order (``empty`` for empty token
        lists); with ``prepare``, unseen words first get rows (from ``vectors`` when given)."""
        network = self.network
        if network is None:
            raise VecliftError(f"this {type(self).__name__} is not trained yet: call fit() or load()")
        if prepare:
            self.embedder.prepare(token_lists, open_vectors(vectors))
        network.eval()
        with torch.no_grad():
            return in_length_batches(token_lists, lambda chunk: fn(TokenBatch.of(chunk)), empty, PREDICT_BATCH)

    def _evaluation_data(self, data: Any, unit: str, kind: str, outputs: Callable[[Any], Iterable[str]]) -> list:
        """The evaluation items (anything `fit` takes) as a list, refused when empty; a ``kind`` (tag,
        label) this model never learned is named in a warning and left in to count as missed, as
        conlleval and scikit-learn count it. ``unit`` names an item in the message ("sentence 3: tag ...")."""
        data = self._as_items(data, "evaluation data")
        if not data:
            raise VecliftError("the evaluation data is empty")
        known = set(self.labels)
        unknown = [(number, sorted(set(outputs(item)) - known)) for number, item in enumerate(data, 1)]
        unknown = [(number, values) for number, values in unknown if values]
        if unknown:
            number, values = unknown[0]
            warn(f"{unit} {number}: {kind} {values[0]!r} is not one the model knows ({', '.join(self.labels)}); "
                 f"{len(unknown)} {unit}(s) hold such {kind}s, scored as missed")
        return data

    def transfer_helpers(self) -> tuple[set[str], Callable[[str], bool], Callable[[str], str]]:
        """(train vocabulary as keys, known-to-the-vectors test, key function) for the metrics."""
        words = self.words
        return {words.key(w) for w in words.train_words}, words.knows, words.key

    # --- scikit-learn conventions ------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every option of the config, as scikit-learn's ``clone`` and ``GridSearchCV`` read them."""
        return {f.name: getattr(self.config, f.name) for f in dataclasses.fields(self.config)}

    def set_params(self, **params: Any) -> TaskModel:
        self.config = self.config.replace(**params)
        return self

    def summary(self) -> dict[str, Any]:
        """What a service tells of this model: task, labels, embeddings, vectors and the training scores."""
        words = self.words
        result = self.train_result
        training = None if result is None else {
            "dev_metric": self.dev_metric, "best_dev_score": result.best_score, "best_epoch": result.best_epoch,
            "epochs": len(result.history), "seconds": round(result.seconds, 3), "stopped_early": result.stopped_early,
        }  # fmt: skip
        return {"task": self.task, "labels": list(self.labels), "embeddings": self.config.embeddings,
                "vectors": {"source": self.vectors_source, "dim": words.dim, "rows": len(words.index)},
                "training": training}  # fmt: skip

    # --- model directory ------------------------------------------------------------------------
    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write the model directory atomically (see `veclift.tasks.model_dir`); an existing one is
        replaced only with ``overwrite`` and only when veclift wrote it."""
        from veclift.tasks.model_dir import save_model

        return save_model(self, directory, overwrite=overwrite)

    @classmethod
    def load(cls, directory: str | Path) -> TaskModel:
        from veclift.tasks.model_dir import load_model

        model = load_model(directory)
        if not isinstance(model, cls):
            raise VecliftError(f"the model is a {model.task} model, not a {cls.task} model", directory)
        return model

    def __repr__(self) -> str:
        state = f"{len(self.labels)} labels" if self.network is not None else "untrained"
        return f"{type(self).__name__}({self.config.embeddings}, {state})"

