"""Hyperparameters of the downstream models, as flat dataclasses that round-trip through JSON.

The defaults are the ones the benchmarks use; every field is a CLI option of `veclift train`, a key
of its config file and a keyword of ``train_and_evaluate``. Each field's metadata holds its help, the
section of the training config it belongs to (``model`` or ``trainer``) and, for the command line,
its range (``min``, ``max``) and option names (``flags``, default ``--field-name``).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from veclift.errors import VecliftError

EMBEDDING_STRATEGIES = ("scratch", "frozen", "finetune")
CONTEXTUAL_STRATEGIES = ("contextual-frozen", "contextual-finetune", "contextual-setfit")
STATIC_ALIASES = {"glove": "frozen"}  # `contextual-frozen+glove`: the --vectors rows, frozen


def setting(default: Any, help: str, *, section: str = "model", **cli: Any) -> Any:
    """A config field: its default, its help, its section of the training config and CLI hints
    (``min``, ``max``, ``flags``)."""
    return dataclasses.field(default=default, metadata={"help": help, "section": section, **cli})


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


TEST_ROWS = {
    "model": "the rows the trained model holds (the training words, the most frequent pre-trained words it keeps, "
             "its OOV chain for the rest), as `veclift predict MODEL` gives them",
    "vectors": "their pre-trained vectors where the vectors have them, as `veclift predict MODEL --vectors V` gives them",
}
"""Which rows a study trial (`train_and_evaluate`) gives test words never seen in training, and how a user gets the same."""


@dataclass
class TaskConfig:
    """Fields shared by every task: the embedding layer and the trainer."""

    # embedding layer
    embeddings: str = setting("finetune", "scratch | frozen | finetune | contextual-frozen | contextual-finetune | "
                              "contextual-setfit (classifier), or a stack such as contextual-frozen+frozen.")  # fmt: skip
    oov: str | None = setting("lower", "OOV chain used to build rows, e.g. lower,char-ngram, or none (exact lookup only).")
    # The most frequent pre-trained rows kept in a model for words unseen at training time. 50,000
    # GloVe 6B rows (10 MB at 50d) hold 94% of CoNLL-2003 dev tokens (all 400k rows: 98%).
    keep_vectors: int = setting(50_000, "Most frequent pre-trained rows kept in the model.", min=0)
    word_dim: int = setting(100, "Word vector size of scratch models trained without any vectors.", min=1)
    lowercase: bool | None = setting(None, "Look words up lower-cased (default: as the vectors do).")
    finetune_lr_ratio: float = setting(0.1, "Learning rate of fine-tuned rows / lr.", section="trainer", min=0.0)
    l2_pull: float = setting(0.0, "Weight of the L2 pull of fine-tuned rows to their original.", section="trainer", min=0.0)
    unk_replace: float = setting(0.5, "Probability of replacing a singleton training word without a vector by UNK.",
                                 section="trainer", min=0.0, max=1.0)  # fmt: skip
    embed_dropout: float = setting(0.5, "Dropout on the token features.", min=0.0, max=0.95)
    dropout: float = setting(0.5, "Dropout on the encoder output.", min=0.0, max=0.95)
    contextual_model: str = setting("minilm", "contextual: Hugging Face encoder directory (minilm: the packaged all-MiniLM-L6-v2).")
    contextual_pooling: str = setting("first", "contextual: sub-token of each word: first | mean | last.")
    contextual_layers: int = setting(1, "contextual: average of the last K hidden layers (all, in an encoder of fewer).", min=1)
    contextual_lr: float = setting(5e-5, "contextual-finetune: encoder learning rate (warm-up, then linear decay).",
                                   section="trainer", min=0.0)  # fmt: skip
    contextual_warmup: float = setting(0.1, "contextual-finetune: fraction of the training steps warming up the encoder.",
                                       section="trainer", min=0.0, max=1.0)  # fmt: skip
    contextual_cache: str | None = setting(None, "contextual-frozen: features cache directory (default: $VECLIFT_HOME/features).")
    # trainer
    optimizer: str = setting("adam", "adam | sgd.", section="trainer")
    lr: float = setting(1e-3, "Learning rate.", section="trainer", min=0.0)
    lr_decay: float = setting(0.05, "Learning rate decay: lr / (1 + lr_decay * epoch).", section="trainer", min=0.0)
    momentum: float = setting(0.9, "Momentum (sgd only).", section="trainer", min=0.0)
    weight_decay: float = setting(0.0, "Weight decay.", section="trainer", min=0.0)
    batch_size: int = setting(32, "Examples per batch.", section="trainer", min=1)
    min_batches: int = setting(10, "Batches per epoch at the least: smaller training sets get smaller batches.",
                               section="trainer", min=1)  # fmt: skip
    max_batches: int = setting(0, "Batches per epoch at the most (0: no limit): larger training sets get larger batches.",
                               section="trainer", min=0)  # fmt: skip
    max_batch_size: int = setting(0, "The most examples a batch grown by max_batches may hold (0: no limit).", section="trainer", min=0)
    lr_scaling: str = setting("none", "Learning rate of batches that max_batches made larger than batch_size: none | "
                              "sqrt (lr x the square root of how much larger) | linear.", section="trainer")  # fmt: skip
    max_epochs: int = setting(30, "Maximum number of epochs.", section="trainer", min=1, flags=("--epochs",))
    patience: int = setting(5, "Epochs without dev improvement before stopping (0: never stop early).", section="trainer", min=0)
    clip: float = setting(5.0, "Gradient norm clipping (0: off).", section="trainer", min=0.0)
    # self-training (veclift.tasks.self_training)
    self_train: str | None = setting(None, "Raw text, one sentence (text) per line, to self-train on: the trained model labels it, "
                                     "the items it is surest of join the training data and a new model is trained on both.",
                                     section="trainer")  # fmt: skip
    self_train_rounds: int = setting(1, "Self-training rounds, each a new model trained on what the last one labelled.",
                                     section="trainer", min=1)  # fmt: skip
    self_train_threshold: float = setting(0.9, "Self-training: an item joins when its least sure answer has at least this "
                                          "probability (a tagger's: every token's tag; a sentence joins only with an entity).",
                                          section="trainer", min=0.0, max=1.0)  # fmt: skip
    self_train_sentences: int = setting(2000, "Self-training: the most labelled items that join per round, the surest first.",
                                        section="trainer", min=1)  # fmt: skip

    task: ClassVar[str] = ""
    saved_before: ClassVar[dict[str, Any]] = {}
    """Fields added since models were first saved, with the value such a model was trained with:
    a saved config without the field reads as that, not as today's default."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        _check_types(self)
        split_strategy(self.embeddings)
        _choice("contextual_pooling", self.contextual_pooling, ("first", "mean", "last"))
        _choice("lr_scaling", self.lr_scaling, ("none", "sqrt", "linear"))
        if self.optimizer not in ("adam", "sgd"):
            raise VecliftError(f"unknown optimizer {self.optimizer!r}; choose adam or sgd")
        for name in ("lr", "batch_size", "min_batches", "max_epochs", "word_dim", "contextual_layers", "contextual_lr",
                     "self_train_rounds", "self_train_sentences"):
            _at_least(self, name, 0, strict=True)
        for name in ("max_batches", "max_batch_size", "keep_vectors", "finetune_lr_ratio", "l2_pull", "lr_decay", "momentum", "weight_decay", "patience", "clip"):
            _at_least(self, name, 0)
        if not 0.0 <= self.self_train_threshold <= 1.0:
            raise VecliftError(f"self_train_threshold must be between 0 and 1, not {self.self_train_threshold}")
        if self.max_batches and self.max_batches < self.min_batches:
            raise VecliftError(f"max_batches ({self.max_batches}) must be 0 (no limit) or at least min_batches ({self.min_batches})")
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
        unknown = sorted(set(values) - names)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(names), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise VecliftError(f"unknown {cls.task} option(s): {', '.join(unknown)}{hint}; the options are "
                               f"{', '.join(sorted(names))}")  # fmt: skip
        return cls(**values)

    def replace(self, **changes: Any) -> TaskConfig:
        return self.from_dict({**self.to_dict(), **changes})


def retuned(name: str, default: Any) -> Any:
    """The `TaskConfig` field ``name`` with another default (same help, section and range)."""
    return dataclasses.field(default=default, metadata=TaskConfig.__dataclass_fields__[name].metadata)


@dataclass
class TaggerConfig(TaskConfig):
    """Sequence tagger: embeddings (+ characters, + casing) -> BiLSTM or dilated CNN -> CRF or softmax."""

    char: str = setting("cnn", "Character features: cnn | lstm | none.")
    char_dim: int = setting(30, "Size of a character embedding.", min=1)
    char_filters: int = setting(50, "Char CNN filters, or the char BiLSTM's units (both directions together).", min=1)
    casing: bool = setting(True, "Casing features.")
    casing_dim: int = setting(8, "Size of a casing embedding.", min=1)
    encoder: str = setting("bilstm", "bilstm | cnn (dilated).")
    layers: int = setting(1, "Encoder layers.", min=1)
    head: str = setting("crf", "crf | softmax.")
    # Forbidding them: +4.5 dev F1 at the first 200 CoNLL-2003 sentences, +1.0 at the first 1,000
    # (3 seeds each, ner_bench f).
    bio_constraints: bool = setting(True, "CRF: forbid the transitions no IOB2 sequence takes (O or another type -> I-X, "
                                    "a sentence opening with I-X), in training and decoding.")  # fmt: skip
    init_encoder: str | None = setting(None, "Start from a `veclift pretrain encoder` directory (encoder, char and casing weights).")
    # Continuing a trained tagger's training (veclift.tasks.update): its [model] settings are kept.
    init_model: str | None = setting(None, "Continue training this ner model directory: its rows and weights are kept, "
                                     "new entity types of the training data added.")  # fmt: skip
    rehearsal: str = setting("pseudo", "With --init-model, how the types the new data does not annotate are kept: pseudo (the "
                             "old model's tags for them are mixed in) | none (the new data as given).", section="trainer")  # fmt: skip
    rehearse: str | None = setting(None, "With --init-model and pseudo rehearsal: raw text, one sentence per line, that the old "
                                   "model tags for rehearsal (default: the training sentences kept in the model; none: "
                                   "the new sentences only).", section="trainer")  # fmt: skip
    # Rehearsing on 1,000 kept sentences held PER/LOC/ORG within a point through a CoNLL-2003 and a
    # WNUT-17 update (+0.24 and -0.33, 3 seeds) while the new types were learned better than by plain
    # fine-tuning; the pull cut the WNUT-17 new types from 14.4 to 3.9 F1, so it is off by default
    # (bench/results/update_bench.md).
    rehearsal_sentences: int = setting(1000, "Training sentences (their tokens, not their tags) kept in the saved model for "
                                       "later --init-model updates to rehearse on (0: none).", section="trainer", min=0)  # fmt: skip
    init_pull: float = setting(0.0, "With --init-model: weight of the L2 pull of the embedding and encoder weights back "
                               "to the old model's (0: none; plain fine-tuning is --rehearsal none).",
                               section="trainer", min=0.0)  # fmt: skip
    # Chosen on CoNLL-2003 subsets (bench/results/ner_settings_bench.md, 3 seeds each): against
    # the earlier dropout 0.5/0.5, hidden 200 and batch 16, these score +1.9 dev F1 at 200 sentences
    # and +1.5 at 1,000. lr 2e-3: 1e-3 with batch 32 was still rising after 25 epochs.
    hidden: int = setting(100, "LSTM units per direction (the CNN: channels / 2).", min=1)
    lr: float = retuned("lr", 2e-3)
    batch_size: int = retuned("batch_size", 8)
    dropout: float = retuned("dropout", 0.3)
    embed_dropout: float = retuned("embed_dropout", 0.1)
    # Unknown words get a vector from the character n-gram model: +0.3 dev F1 over `lower` alone at
    # 1,000 CoNLL-2003 sentences (3 seeds), +2.7 on unseen entities the vectors lack (ner_bench c).
    oov: str | None = retuned("oov", "lower,char-ngram")
    # 25 updates an epoch at the least (batch 4 at 100 sentences): 13 were too few to converge at 200.
    min_batches: int = retuned("min_batches", 25)
    # Batches of 8 up to 1,600 sentences, larger beyond (200 an epoch), at lr x the square root of
    # their growth. First 3,000 CoNLL-2003 sentences (batch 15): 0.8929 ± 0.0032 dev F1 in 0.64x the
    # time of batch 8 (0.8953 ± 0.0053); all of it (batch 71): 0.9358 ± 0.0028 in 0.69x the time of
    # 400 batches (batch 36) at lr x 2.1 (0.9379 ± 0.0021) or at the plain lr (0.9378 ± 0.0026); an
    # epoch of batch 36 takes 0.40x that of batch 8 (bench/results/ner_bench.md section f,
    # epoch_time_bench.md). At the plain lr, 200 batches scored 0.9344 ± 0.0020 on all of it.
    max_batches: int = retuned("max_batches", 200)
    lr_scaling: str = retuned("lr_scaling", "sqrt")
    # Frozen MiniLM beside fine-tuned GloVe on the first 200 / 1,000 CoNLL-2003 sentences: the average
    # of the last 4 layers 0.710 / 0.869 F1 against 0.680 / 0.855 for the last layer alone
    # (bench/results/ner_bench.md section f; all 6 layers: no better than 4).
    contextual_layers: int = retuned("contextual_layers", 4)

    task: ClassVar[str] = "ner"
    saved_before: ClassVar[dict[str, Any]] = {"bio_constraints": False, "max_batches": 0, "lr_scaling": "none", "max_batch_size": 0}

    def validate(self) -> None:
        super().validate()
        if split_strategy(self.embeddings)[1] == "setfit":
            raise VecliftError("contextual-setfit tunes the encoder on labelled texts: a classifier strategy, not a tagger's")
        for name in ("char_dim", "char_filters", "casing_dim", "layers", "hidden"):
            _at_least(self, name, 0, strict=True)
        _choice("char", self.char, ("cnn", "lstm", "none"))
        _choice("encoder", self.encoder, ("bilstm", "cnn"))
        _choice("head", self.head, ("crf", "softmax"))
        _choice("rehearsal", self.rehearsal, ("pseudo", "none"))
        _at_least(self, "init_pull", 0)
        if self.self_train is not None and self.init_model is not None:
            raise VecliftError("self_train (--self-train) trains a new model; it does not apply with --init-model")
        _at_least(self, "rehearsal_sentences", 0)


CLASSIFIER_ENCODERS = ("swem-mean", "swem-max", "swem-concat", "bilstm-max", "bilstm-attention", "cnn")


@dataclass
class ClassifierConfig(TaskConfig):
    """Text classifier: embeddings -> SWEM pooling / BiLSTM (max or attention) / Kim CNN -> softmax or sigmoid."""

    encoder: str = setting("bilstm-max", "swem-mean | swem-max | swem-concat | bilstm-max | bilstm-attention | cnn.")
    hidden: int = setting(150, "BiLSTM units per direction.", min=1)
    filters: int = setting(100, "CNN filters per kernel size.", min=1)
    kernel_sizes: tuple[int, ...] = setting((3, 4, 5), "CNN kernel sizes.", min=1)
    mlp: int = setting(0, "Units of a ReLU layer between the sentence vector and the output (0: none).", min=0)
    members: int = setting(0, "Classifiers in the model, each an encoder and output layer of its own over the shared word "
                           "rows, trained on its own loss; the answer is their average log-probability (multi-label: their "
                           "average score), a seed ensemble in one model. 0: by size, 3 up to 2,000 training texts, "
                           "1 beyond (and with contextual features).", min=0)  # fmt: skip
    multi_label: bool | None = setting(None, "Multi-label (sigmoid) or single-label (softmax); default: detected from the data.",
                                       flags=("--multi-label/--single-label",))  # fmt: skip
    metric: str = setting("accuracy", "Dev score for early stopping: accuracy | macro_f1.", section="trainer")
    # 3,840 pairs against 1,280: SST-2 +1.9 / +1.7 / +0.7 points at 100 / 200 / 500 training rows (3 seeds,
    # bench/results/classify_bench.md) in 2.5-2.8x the time, about 4.5 minutes on 2 cores.
    setfit_pairs: int = setting(3840, "contextual-setfit: sentence pairs of the contrastive fine-tuning (batches of 16).",
                                section="trainer", min=16)  # fmt: skip
    embed_dropout: float = retuned("embed_dropout", 0.0)
    lr_decay: float = retuned("lr_decay", 0.0)
    # The most accurate static setting measured (bench/results/classify_bench.md, 3 seeds or 10 folds):
    # a BiLSTM with max pooling over GloVe rows tuned at the full rate, batches of 64 at lr 2e-3. MR
    # 0.789 (SWEM mean+max, batches of 256 at lr 8e-3: 0.781); on SST-2 sentences, from 100 to 51,022
    # training rows, within a point of the best of SWEM, Kim's CNN and itself, and 0.5-3.4 points above
    # SWEM at every size but 200 (level). It trains 8-14x slower than SWEM on MR and from 2,000 rows: SWEM with batches grown to
    # 16 an epoch (at most 1,024, the rate with them) is the option for fastText's speed (README).
    finetune_lr_ratio: float = retuned("finetune_lr_ratio", 1.0)
    batch_size: int = retuned("batch_size", 64)
    lr: float = retuned("lr", 2e-3)
    patience: int = retuned("patience", 3)

    task: ClassVar[str] = "classify"
    saved_before: ClassVar[dict[str, Any]] = {"members": 1}

    def validate(self) -> None:
        super().validate()
        for name in ("hidden", "filters"):
            _at_least(self, name, 0, strict=True)
        _at_least(self, "mlp", 0)
        _at_least(self, "members", 0)
        _choice("encoder", self.encoder, CLASSIFIER_ENCODERS)
        _choice("metric", self.metric, ("accuracy", "macro_f1"))
        _at_least(self, "setfit_pairs", 16)
        if not isinstance(self.kernel_sizes, list | tuple) or not self.kernel_sizes or not all(
            isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in self.kernel_sizes
        ):
            raise VecliftError(f"kernel_sizes must be a list of positive integers, got {self.kernel_sizes!r}")
        self.kernel_sizes = tuple(self.kernel_sizes)


MAX_INT = 2**31 - 1  # beyond it torch and numpy overflow instead of refusing
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
        if isinstance(value, float) and not math.isfinite(value):
            raise VecliftError(f"option {field.name} must be a finite number, got {value!r}")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise VecliftError(f"option {field.name} is out of range (at most {MAX_INT:,}), got {value}")


def _at_least(config: TaskConfig, name: str, bound: float, *, strict: bool = False) -> None:
    value = getattr(config, name)
    if value < bound or (strict and value == bound):
        raise VecliftError(f"{name} must be {'above' if strict else 'at least'} {bound}, got {value}")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise VecliftError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")

