"""Teaching a trained tagger new entity types without forgetting the old ones
(``veclift train ner --init-model DIR --train NEW``, ``SequenceTagger(init_model=DIR).fit(NEW)``).

Training continues from the model in ``init_model``: its network, labels and word rows are kept.

- **Labels.** Tags of the new data the model lacks are appended after its own (the old order kept,
  so the old weights keep their meaning); the output layer and the CRF grow by rows and columns
  that start at zero (`TaggerNetwork.add_tags`).
- **Word rows.** Every row the model has is kept as it is (trainable rows stay trainable, frozen
  ones frozen). A word of the new data it has no row for gets a frozen pre-trained row, as at
  prediction time (`WordEmbedder.prepare`: from ``vectors`` when given, else the model's own OOV
  chain); a training word nothing finds a vector for gets a new trainable row, drawn as
  `build_word_embedder` draws one (none for ``frozen`` models, which read such words as UNK).
  Pre-trained rows stay frozen rather than tuned: the old model was trained with them fixed, and
  its rehearsal tags below are computed with the same rows.
- **Settings.** The ``[model]`` settings are the old model's (they shaped its network and rows); a
  ``[model]`` setting given with another value than both the default and the model's is refused.
  The ``[trainer]`` settings are this run's.
- **Rehearsal** (``rehearsal``), for the entity types the new data does not annotate:

  ``pseudo`` (default): pseudo-rehearsal. The old model tags the new sentences, and raw text: by
  default the training sentences it keeps (``rehearsal_sentences``, saved with every tagger), or the
  file ``rehearse`` (one sentence per line, tokenised by `veclift.data.tokenize`), or none with
  ``rehearse = "none"``. In each new sentence the gold entities stay and the old model's entities of
  the types the new data does not annotate are added where they overlap no gold entity. In the raw
  text the old model's entities are kept and every other token is `OPEN_TAG`: ``O`` or a type the
  new data annotates (a partial target: raw text is not annotated for those, and teaching it as
  ``O`` unlearns them: 500 raw CoNLL-2003 sentences taught as ``O`` cut MISC F1 from about 60 to 15
  in the benchmark). Raw text of the old domain is what holds the old types through an update from
  another domain: the new sentences alone move the features it relies on. The dev data is
  completed the same way (with the types it does not annotate), and early stopping watches both
  halves alike: its dev score is the mean of the F1 on the types the dev data annotates and the F1
  on the types rehearsed (agreement with the old model), so the many old entities do not drown the
  few new ones (`balanced_dev_score`).

  ``none``: no rehearsal, the new data as given (the old types are then taught as ``O`` wherever
  the new data leaves them unmarked): plain fine-tuning, the baseline that forgets, for comparison.
- **Pull** (``init_pull``, default 0: off): the loss adds ``init_pull`` x the squared distance of the
  embedding and encoder weights from the old model's (L2-SP, Li et al. 2018, `TaggerNetwork.anchor`);
  the output layer and the CRF are left free to make room for the new tags. It keeps the features
  where no old-domain text is at hand, but slows the learning of new types (half their F1 in the
  benchmark's WNUT-17 update).

``bench/update_bench.py`` measures these choices on CoNLL-2003 and WNUT-17.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from veclift.data.schemes import spans, split_tag, tags_from_spans
from veclift.data.tagged import TaggedSentence
from veclift.data.tokenize import raw_sentences
from veclift.embeddings import WordEmbedder
from veclift.errors import VecliftError
from veclift.tasks.config import TaggerConfig
from veclift.tasks.metrics import ner_scores
from veclift.tasks.model import open_vectors
from veclift.tasks.tagger import OPEN_TAG, SequenceTagger
from veclift.tasks.trainer import seed_everything

NO_REHEARSAL = "none"
"""``rehearse = "none"``: rehearse on the new sentences only, not on raw text."""
KEPT_SECTION = "model"
"""The section of the settings that an update takes from the model it continues."""


def continue_training(
    model: SequenceTagger, train: Any, dev: Any = None, *, vectors: Any = None, seed: int = 0,
    extra_tokens: Iterable[Sequence[str]] = (), checkpoint: str | Path | None = None, progress: bool = True,
) -> SequenceTagger:  # fmt: skip
    """Train ``model`` (its config's ``init_model`` set) from the tagger saved there on ``train``,
    early stopping on ``dev``, as the module docstring describes; ``fit``'s other options as `fit` takes them."""
    train, dev = model._training_sets(train, dev)
    if not train:
        raise VecliftError("the training data is empty")
    config = model.config
    if config.rehearse not in (None, NO_REHEARSAL) and config.rehearsal != "pseudo":
        raise VecliftError("rehearse (--rehearse) needs pseudo rehearsal, not --rehearsal none")
    base = load_base(config.init_model)
    model.config = kept_settings(base.config, config)
    vectors = open_vectors(vectors)
    rehearse = rehearsal_tokens(base, config.rehearse) if config.rehearsal == "pseudo" else []
    extra = [list(tokens) for tokens in extra_tokens]
    base.embedder.prepare([*(s.tokens for s in train), *(s.tokens for s in dev), *rehearse, *extra], vectors)
    dev_score, new_types = None, annotated_types(train)
    if config.rehearsal == "pseudo":
        train, dev, groups = pseudo_rehearsal(base, train, dev, rehearse)
        dev_score = functools.partial(balanced_dev_score, model, groups=groups)
    seed_everything(seed)
    network = base.network
    network.anchor(model.config.init_pull)  # before it grows: the new rows are free
    model.labels = [*base.labels, *sorted({tag for s in train for tag in s.tags} - {*base.labels, OPEN_TAG})]
    network.add_tags(model.labels)
    network.open_tags = open_tags(model.labels, new_types)
    parts = network.embedder.parts
    at = next(i for i, part in enumerate(parts) if isinstance(part, WordEmbedder))
    parts[at] = grown_word_rows(parts[at], [s.tokens for s in train], model.config, np.random.default_rng(seed))
    model.network = network
    model.vectors_source = vectors.source if vectors is not None else base.vectors_source
    model._train(train, dev, seed=seed, checkpoint=checkpoint, progress=progress, dev_score=dev_score)
    network.anchor(0.0)  # trained: the model is as it loads again
    network.open_tags = []
    return model


def load_base(directory: str | Path) -> SequenceTagger:
    """The tagger training continues from; anything else (no model, another task's) is one error."""
    from veclift.tasks.model_dir import load_model

    try:
        base = load_model(directory)
    except VecliftError as exc:
        raise VecliftError(f"--init-model: {exc.message}", exc.path, exc.line) from None
    if not isinstance(base, SequenceTagger):
        raise VecliftError(f"--init-model needs a ner model to continue; this directory holds a {base.task} model", directory)
    return base


def kept_settings(base: TaggerConfig, given: TaggerConfig) -> TaggerConfig:
    """``given`` with the ``[model]`` settings of ``base`` (``init_model`` apart); one given with a value
    other than both the default and ``base``'s is refused, since the model's network is kept as it is."""
    defaults = type(given)()
    kept = {}
    for field in dataclasses.fields(given):
        if field.metadata.get("section") != KEPT_SECTION or field.name == "init_model":
            continue
        value, old = getattr(given, field.name), getattr(base, field.name)
        if value != getattr(defaults, field.name) and value != old:
            raise VecliftError(f"{field.name} is {value!r} here but {old!r} in the model training continues from: "
                               "its [model] settings are kept", given.init_model)  # fmt: skip
        kept[field.name] = old
    return given.replace(**kept)


def rehearsal_tokens(base: SequenceTagger, rehearse: str | None) -> list[list[str]]:
    """The raw sentences to rehearse on: the file ``rehearse``, none for `NO_REHEARSAL`, else the
    training sentences kept in ``base`` (``rehearsal_sentences``)."""
    if rehearse == NO_REHEARSAL:
        return []
    return raw_sentences(rehearse, "rehearsal text") if rehearse is not None else [list(tokens) for tokens in base.rehearsal_tokens]


def entity_types(labels: Iterable[str]) -> set[str]:
    """The entity types of IOB2 tags: ``{"PER"}`` from ``["O", "B-PER", "I-PER"]``."""
    return {split_tag(label)[1] for label in labels if label != "O"}


def annotated_types(sentences: Iterable[TaggedSentence]) -> set[str]:
    """The entity types that occur in ``sentences``: those the data annotates."""
    return {kind for sentence in sentences for kind, _, _ in sentence.entities()}


def restricted_tags(tags: Sequence[str], types: set[str]) -> list[str]:
    """IOB2 ``tags`` with only the entities of ``types`` kept (the others tagged ``O``)."""
    return tags_from_spans([entity for entity in spans(tags) if entity[0] in types], len(tags))


def balanced_dev_score(model: SequenceTagger, dev: Sequence[TaggedSentence], groups: Sequence[set[str]]) -> float:
    """The mean over the non-empty ``groups`` of entity types of ``model``'s F1 on ``dev`` over each
    group's types (the other types left out of gold and predictions alike)."""
    pred = model._tag([list(s.tokens) for s in dev], prepare=False)
    scores = [ner_scores([restricted_tags(s.tags, types) for s in dev], [restricted_tags(p, types) for p in pred])["f1"]
              for types in groups if types]  # fmt: skip
    return sum(scores) / len(scores) if scores else 0.0


def merge_entities(sentence: TaggedSentence, predicted: Sequence[str], types: set[str]) -> TaggedSentence:
    """``sentence`` with the entities of ``types`` in the ``predicted`` tags added where they overlap
    none of its own (its entities win)."""
    gold = sentence.entities()
    taken = {i for _, start, end in gold for i in range(start, end)}
    added = [(kind, start, end) for kind, start, end in spans(predicted)
             if kind in types and taken.isdisjoint(range(start, end))]  # fmt: skip
    if not added:
        return sentence
    return TaggedSentence(sentence.tokens, tags_from_spans(gold + added, len(sentence)))


def pseudo_rehearsal(
    base: SequenceTagger, train: list[TaggedSentence], dev: list[TaggedSentence], raw: Sequence[Sequence[str]],
) -> tuple[list[TaggedSentence], list[TaggedSentence], list[set[str]]]:  # fmt: skip
    """(training sentences, dev sentences, dev type groups) of pseudo-rehearsal: ``train`` and ``dev``
    completed with ``base``'s entities of the old types they do not annotate, and the ``raw`` token
    lists tagged by ``base`` with those types, their other tokens `OPEN_TAG` (``O`` or a type ``train``
    annotates: raw text is not annotated for those); the groups are the types ``dev`` annotates and
    those completed (`balanced_dev_score`)."""
    old_types, new_types = entity_types(base.labels), annotated_types(train)
    rehearsed = pseudo_rehearsed(base, train, old_types - new_types)
    unannotated = [TaggedSentence(tokens, ["O"] * len(tokens)) for tokens in raw]
    rehearsed += [opened(s) for s in pseudo_rehearsed(base, unannotated, old_types - new_types)]
    gold_types = annotated_types(dev)
    dev = pseudo_rehearsed(base, dev, old_types - gold_types)
    return rehearsed, dev, [gold_types, annotated_types(dev) - gold_types]


def opened(sentence: TaggedSentence) -> TaggedSentence:
    """``sentence`` with its ``O`` tags made `OPEN_TAG`."""
    return TaggedSentence(sentence.tokens, [OPEN_TAG if tag == "O" else tag for tag in sentence.tags])


def open_tags(labels: Sequence[str], types: set[str]) -> list[int]:
    """The ids of ``O`` and of the tags of ``types`` in ``labels``: what an `OPEN_TAG` allows."""
    return [i for i, label in enumerate(labels) if label == "O" or split_tag(label)[1] in types]


def pseudo_rehearsed(base: SequenceTagger, sentences: list[TaggedSentence], types: set[str]) -> list[TaggedSentence]:
    """``sentences`` completed with ``base``'s entities of ``types`` (`merge_entities`); their words
    must have rows in ``base`` already (``prepare``)."""
    if not sentences or not types:
        return sentences
    predicted = base._tag([list(s.tokens) for s in sentences], prepare=False)
    return [merge_entities(s, tags, types) for s, tags in zip(sentences, predicted)]


def grown_word_rows(words: WordEmbedder, train_tokens: Sequence[Sequence[str]], config: TaggerConfig,
                    rng: np.random.Generator) -> WordEmbedder:  # fmt: skip
    """``words`` with its rows as they are, a new trainable row for each training word it has no row
    for (none in a ``frozen`` layer, nor in the empty one of a contextual model), the training words
    added to its train vocabulary, and this run's ``unk_replace`` and ``l2_pull``."""
    counts = Counter(words.key(t) for tokens in train_tokens for t in tokens)
    grows = words.strategy != "frozen" and words.dim > 0
    added = sorted((k for k in counts if k not in words.index), key=lambda k: (-counts[k], k)) if grows else []
    pretrained = torch.cat([words.anchor, words.fixed])  # new rows drawn as build_word_embedder draws them
    std = float(pretrained.std()) if pretrained.numel() > 1 else words.dim**-0.5 if added else 0.0
    rows = {
        "new": np.concatenate([words.new.detach().numpy(), rng.normal(0, std, (len(added), words.dim)).astype(np.float32)]),
        "tuned": words.tuned.detach().numpy(),
        "anchor": words.anchor.numpy(),
        "fixed": words.fixed.numpy(),
        "replaceable": np.concatenate([words.replaceable.numpy(), np.array([counts[k] == 1 for k in added], bool)]),
    }
    grown = WordEmbedder(
        words.new_words + added, words.tuned_words, words.fixed_words, words.origins, words.dim,
        lowercase=words.lowercase, unk_replace=config.unk_replace, l2_pull=config.l2_pull, strategy=words.strategy,
        train_words=sorted({*words.train_words, *(t for tokens in train_tokens for t in tokens)}),
        vector_known=sorted(words.vector_known), rows=rows,
    )  # fmt: skip
    grown.attach_oov(words.oov)
    return grown
