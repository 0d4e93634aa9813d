"""Hyperparameters of the downstream models, as flat dataclasses that round-trip through JSON.

The defaults are the ones the benchmarks use; every field is a CLI option or a keyword of
``train_and_evaluate``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from veclift.errors import VecliftError

EMBEDDING_STRATEGIES = ("scratch", "frozen", "finetune")
CONTEXTUAL_STRATEGIES = ("contextual-frozen", "contextual-finetune")
STATIC_ALIASES = {"glove": "frozen"}  # `contextual-frozen+glove`: the --vectors rows, frozen


def split_strategy(strategy: str) -> tuple[str | None, str | None]:
    """``"contextual-frozen+frozen"`` -> ``("frozen", "frozen")``: the static-vector strategy and the
    contextual mode (``"frozen"`` or ``"finetune"``) of a strategy or a ``+`` stack of one of each."""
    static = contextual = None
    for part in strategy.split("+"):
        part = STATIC_ALIASES.get(part.strip(), part.strip())
        if part in EMBEDDING_STRATEGIES and static is None:
            static = part
        elif part in CONTEXTUAL_STRATEGIES and contextual is None:
            contextual = part.removeprefix("contextual-")
        else:
            choices = ", ".join(EMBEDDING_STRATEGIES + CONTEXTUAL_STRATEGIES)
            raise VecliftError(f"unknown embedding strategy {strategy!r}; choose from {choices}, "
                               "or stack one static and one contextual strategy with '+'")
    return static, contextual


@dataclass
class TaskConfig:
    """Fields shared by every task: the embedding layer and the trainer."""

    # embedding layer
    embeddings: str = "finetune"  # scratch | frozen | finetune | contextual-frozen | contextual-finetune | stacks: contextual-frozen+frozen
    oov: str | None = "lower"  # OOV chain of the vector store used to build rows (None: exact lookup only)
    # The most frequent pre-trained rows kept in a model for words unseen at training time. 50,000
    # GloVe 6B rows (10 MB at 50d) hold 94% of CoNLL-2003 dev tokens (all 400k rows: 98%).
    keep_vectors: int = 50_000
    word_dim: int = 100  # only for scratch models trained without any vectors
    lowercase: bool | None = None  # key words lower-cased; None: follow the vectors
    finetune_lr_ratio: float = 0.1  # learning rate of pre-trained rows relative to `lr`
    l2_pull: float = 0.0  # weight of sum |row - original row|^2 for fine-tuned rows
    unk_replace: float = 0.5  # prob. of replacing a singleton train word without a vector by UNK
    embed_dropout: float = 0.5
    dropout: float = 0.5
    contextual_model: str = "minilm"  # Hugging Face encoder directory (minilm: the packaged all-MiniLM-L6-v2)
    contextual_pooling: str = "first"  # first | mean | last sub-token of each word
    contextual_layers: int = 1  # average of the last k hidden layers
    contextual_lr: float = 5e-5  # encoder learning rate (contextual-finetune), warm-up then linear decay
    contextual_warmup: float = 0.1  # fraction of the training steps spent warming up the encoder
    contextual_cache: str | None = None  # frozen features cache (None: $VECLIFT_HOME/features)
    # trainer
    optimizer: str = "adam"  # adam | sgd
    lr: float = 1e-3
    lr_decay: float = 0.05  # lr / (1 + lr_decay * epoch)
    momentum: float = 0.9  # sgd only
    weight_decay: float = 0.0
    batch_size: int = 32
    min_batches: int = 10  # batches per epoch at the least: smaller training sets get smaller batches
    max_epochs: int = 30
    patience: int = 5  # epochs without dev improvement before stopping (0: never stop early)
    clip: float = 5.0  # gradient norm clipping (0: off)

    task: ClassVar[str] = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        _check_types(self)
        split_strategy(self.embeddings)
        _choice("contextual_pooling", self.contextual_pooling, ("first", "mean", "last"))
        if self.optimizer not in ("adam", "sgd"):
            raise VecliftError(f"unknown optimizer {self.optimizer!r}; choose adam or sgd")
        for name in ("lr", "batch_size", "min_batches", "max_epochs", "word_dim", "contextual_layers", "contextual_lr"):
            _at_least(self, name, 0, strict=True)
        for name in ("keep_vectors", "finetune_lr_ratio", "l2_pull", "lr_decay", "momentum", "weight_decay", "patience", "clip"):
            _at_least(self, name, 0)
        for name in ("dropout", "embed_dropout", "unk_replace"):
            if not 0 <= getattr(self, name) < 1:
                raise VecliftError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0 <= self.contextual_warmup <= 1:
            raise VecliftError(f"contextual_warmup must be in [0, 1], got {self.contextual_warmup}")
        if self.oov in ("", "none"):
            self.oov = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TaskConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise VecliftError(f"unknown {cls.task} option(s): {', '.join(sorted(unknown))}")
        return cls(**values)

    def replace(self, **changes: Any) -> TaskConfig:
        return self.from_dict({**self.to_dict(), **changes})


@dataclass
class TaggerConfig(TaskConfig):
    """Sequence tagger: embeddings (+ characters, + casing) -> BiLSTM or dilated CNN -> CRF or softmax."""

    char: str = "cnn"  # cnn | lstm | none
    char_dim: int = 30
    char_filters: int = 50  # char CNN filters, or BiLSTM units per direction / 2
    casing: bool = True
    casing_dim: int = 8
    encoder: str = "bilstm"  # bilstm | cnn (dilated)
    layers: int = 1
    head: str = "crf"  # crf | softmax
    init_encoder: str | None = None  # directory of `veclift pretrain encoder`: initial encoder and char/casing weights
    # Chosen on CoNLL-2003 subsets (bench/results/ner_settings_bench.md, 3 seeds each): against
    # the earlier dropout 0.5/0.5, hidden 200 and batch 16, these score +1.9 dev F1 at 200 sentences
    # and +1.5 at 1,000. lr 2e-3: 1e-3 with batch 32 was still rising after 25 epochs.
    hidden: int = 100  # per direction for the BiLSTM; channels / 2 for the CNN
    lr: float = 2e-3
    batch_size: int = 8
    dropout: float = 0.3
    embed_dropout: float = 0.1
    # Unknown words get a vector from the character n-gram model: +0.3 dev F1 over `lower` alone at
    # 1,000 CoNLL-2003 sentences (3 seeds), +2.7 on unseen entities the vectors lack (ner_bench c).
    oov: str | None = "lower,char-ngram"
    # 25 updates an epoch at the least (batch 4 at 100 sentences): 13 were too few to converge at 200.
    min_batches: int = 25

    task: ClassVar[str] = "ner"

    def validate(self) -> None:
        super().validate()
        for name in ("char_dim", "char_filters", "casing_dim", "layers", "hidden"):
            _at_least(self, name, 0, strict=True)
        _choice("char", self.char, ("cnn", "lstm", "none"))
        _choice("encoder", self.encoder, ("bilstm", "cnn"))
        _choice("head", self.head, ("crf", "softmax"))


CLASSIFIER_ENCODERS = ("swem-mean", "swem-max", "swem-concat", "bilstm-max", "bilstm-attention", "cnn")


@dataclass
class ClassifierConfig(TaskConfig):
    """Text classifier: embeddings -> SWEM pooling / BiLSTM (max or attention) / Kim CNN -> softmax or sigmoid."""

    encoder: str = "cnn"
    hidden: int = 150  # BiLSTM units per direction
    filters: int = 100  # CNN filters per kernel size
    kernel_sizes: tuple[int, ...] = (3, 4, 5)
    mlp: int = 0  # units of a ReLU layer between the sentence vector and the output (0: none)
    multi_label: bool | None = None  # None: detected from the training data
    metric: str = "accuracy"  # dev score for early stopping: accuracy | macro_f1
    embed_dropout: float = 0.0
    lr_decay: float = 0.0

    task: ClassVar[str] = "classify"

    def validate(self) -> None:
        super().validate()
        for name in ("hidden", "filters"):
            _at_least(self, name, 0, strict=True)
        _at_least(self, "mlp", 0)
        _choice("encoder", self.encoder, CLASSIFIER_ENCODERS)
        _choice("metric", self.metric, ("accuracy", "macro_f1"))
        if not isinstance(self.kernel_sizes, list | tuple) or not self.kernel_sizes or not all(
            isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in self.kernel_sizes
        ):
            raise VecliftError(f"kernel_sizes must be a list of positive integers, got {self.kernel_sizes!r}")
        self.kernel_sizes = tuple(self.kernel_sizes)


_SCALAR_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def _check_types(config: TaskConfig) -> None:
    """Each scalar field holds its declared type (a study's options come as parsed JSON or text)."""
    for field in dataclasses.fields(config):
        declared = [part.strip() for part in str(field.type).split("|")]
        allowed = tuple(t for part in declared for t in _SCALAR_TYPES.get(part, ()))
        value = getattr(config, field.name)
        if not allowed or (value is None and "None" in declared):
            continue
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise VecliftError(f"option {field.name} must be {' or '.join(declared)}, got {value!r}")


def _at_least(config: TaskConfig, name: str, bound: float, *, strict: bool = False) -> None:
    value = getattr(config, name)
    if value < bound or (strict and value == bound):
        raise VecliftError(f"{name} must be {'above' if strict else 'at least'} {bound}, got {value}")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise VecliftError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")

