"""Scores for taggers and classifiers, and the transfer view (how a model does on words it never saw).

All scores are fractions in 0..1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Hashable, Sequence

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from veclift.data.schemes import spans
from veclift.data.tagged import TaggedSentence
from veclift.errors import VecliftError

Label = str | Sequence[str]


def prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0 where a denominator is 0), as conlleval."""
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _check_lengths(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> None:
    if len(gold) != len(pred):
        raise VecliftError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise VecliftError(f"sentence {i + 1}: {len(g)} gold tags but {len(p)} predicted")


def ner_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Entity-level scores exactly as conlleval computes them: micro precision/recall/F1, per
    type P/R/F1 with support (gold entities), macro F1 over the types in gold or predictions,
    and token accuracy.

    Entities come from :func:`veclift.data.schemes.spans`, a port of conlleval's chunk rules;
    an entity is correct when type, start and end all match. Written on our own ``spans``
    rather than calling seqeval: the same chunks serve the transfer view below, and one pass
    over the spans is about 12x faster than seqeval's report (0.036 s vs 0.46 s on CoNLL-2003
    dev, which matters for per-epoch dev scoring); tests check that the figures equal seqeval's
    (default, conlleval-compatible mode) on real files.
    """
    _check_lengths(gold, pred)
    gold_count: Counter[str] = Counter()
    pred_count: Counter[str] = Counter()
    correct_count: Counter[str] = Counter()
    tokens = correct_tokens = 0
    for g, p in zip(gold, pred):
        gold_spans, pred_spans = spans(g), spans(p)
        gold_count.update(kind for kind, _, _ in gold_spans)
        pred_count.update(kind for kind, _, _ in pred_spans)
        correct_count.update(kind for kind, _, _ in set(gold_spans).intersection(pred_spans))
        tokens += len(g)
        correct_tokens += sum(a == b for a, b in zip(g, p))
    per_type = {
        kind: {**prf(correct_count[kind], pred_count[kind], gold_count[kind]), "support": gold_count[kind]}
        for kind in sorted(gold_count.keys() | pred_count.keys())
    }
    total = prf(sum(correct_count.values()), sum(pred_count.values()), sum(gold_count.values()))
    macro = sum(s["f1"] for s in per_type.values()) / len(per_type) if per_type else 0.0
    return {
        **total,
        "macro_f1": macro,
        "accuracy": correct_tokens / tokens if tokens else 0.0,
        "gold_entities": sum(gold_count.values()),
        "predicted_entities": sum(pred_count.values()),
        "correct_entities": sum(correct_count.values()),
        "per_type": per_type,
    }


def macro_f1(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> float:
    """Entity-level F1 averaged over entity types (unweighted), as seqeval's macro average."""
    return ner_scores(gold, pred)["macro_f1"]


def _is_multi_label(labels: Sequence[Label]) -> bool:
    return any(not isinstance(label, str) for label in labels)


def classification_scores(
    gold: Sequence[Label], pred: Sequence[Label], labels: Sequence[str] | None = None
) -> dict:
    """Accuracy, macro F1, per-class precision/recall/F1/support and the confusion matrix
    (rows gold, columns predicted, in ``labels`` order), via scikit-learn.

    Multi-label data (each item a list/tuple/set of labels) gives subset accuracy (as
    ``accuracy`` and ``subset_accuracy``), micro and macro F1 and per-class scores instead of
    a confusion matrix.
    """
    if len(gold) != len(pred):
        raise VecliftError(f"{len(gold)} gold labels but {len(pred)} predicted")
    if not gold:
        raise VecliftError("nothing to score")
    if _is_multi_label(gold) or _is_multi_label(pred):
        return _multi_label_scores(gold, pred, labels)
    names = list(labels) if labels is not None else sorted(set(gold) | set(pred))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, pred, labels=names, zero_division=0
    )
    per_class = {
        name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for name, p, r, f, s in zip(names, precision, recall, f1, support)
    }
    return {
        "accuracy": float(accuracy_score(gold, pred)),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
        "confusion": {"labels": names, "matrix": confusion_matrix(gold, pred, labels=names).tolist()},
    }


def _as_set(label: Label) -> set[str]:
    return {label} if isinstance(label, str) else set(label)


def _multi_label_scores(gold: Sequence[Label], pred: Sequence[Label], labels: Sequence[str] | None) -> dict:
    gold_sets, pred_sets = [_as_set(g) for g in gold], [_as_set(p) for p in pred]
    names = list(labels) if labels is not None else sorted(set().union(*gold_sets, *pred_sets))
    binarizer = MultiLabelBinarizer(classes=names)
    y_true, y_pred = binarizer.fit_transform(gold_sets), binarizer.transform(pred_sets)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    subset = float(accuracy_score(y_true, y_pred))
    return {
        "accuracy": subset,
        "subset_accuracy": subset,
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1.mean()),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support)
        },
    }


def unseen_entity_scores(
    sentences_gold: Sequence[TaggedSentence],
    pred_tags: Sequence[Sequence[str]],
    train_vocab: Collection[str],
    known: Callable[[str], bool],
    normalize: Callable[[str], str] | None = None,
) -> dict:
    """Entity F1 split by whether the model could have seen the entity's words in training.

    An entity (gold or predicted) is *unseen* when none of its tokens is in ``train_vocab``
    (exact strings, or ``normalize(token)`` looked up when given, e.g. ``str.lower`` with a
    lower-cased vocabulary); unseen entities split into *known* (``known(token)`` is true for every
    token: the vectors have them) and *unknown* (at least one token the vectors lack); *seen*
    is everything else. For each group G: recall = correct gold entities in G / gold entities
    in G; precision = correct predicted entities in G / predicted entities in G, where a
    predicted entity belongs to G by its own tokens. A correct prediction has the same tokens
    as its gold entity, so it lands in the same group. Returns ``{"seen", "unseen", "known",
    "unknown"}``, each with precision, recall, f1, gold, predicted and correct counts; recall and
    f1 are None for a group without gold entities (undefined, not zero).
    """
    _check_lengths([s.tags for s in sentences_gold], pred_tags)
    groups = ("seen", "unseen", "known", "unknown")
    counts = {group: Counter() for group in groups}
    groups_of = _unseen_groups(train_vocab, known, normalize)
    for sentence, pred in zip(sentences_gold, pred_tags):
        gold_spans, pred_spans = set(spans(sentence.tags)), set(spans(pred))
        for which, found in (("gold", gold_spans), ("predicted", pred_spans), ("correct", gold_spans & pred_spans)):
            for _, start, end in found:
                for group in groups_of(sentence.tokens[start:end]):
                    counts[group][which] += 1
    return {
        group: {
            **prf(c["correct"], c["predicted"], c["gold"]),
            **({"recall": None, "f1": None} if not c["gold"] else {}),
            "gold": c["gold"],
            "predicted": c["predicted"],
            "correct": c["correct"],
        }
        for group, c in counts.items()
    }


def _unseen_groups(
    train_vocab: Collection[str], known: Callable[[str], bool], normalize: Callable[[str], str] | None
) -> Callable[[Sequence[str]], tuple[str, ...]]:
    """The transfer-view groups of an entity's tokens: ``("seen",)``, ``("unseen", "known")`` or
    ``("unseen", "unknown")``, as :func:`unseen_entity_scores` defines them."""

    def groups_of(tokens: Sequence[str]) -> tuple[str, ...]:
        if any((normalize(token) if normalize else token) in train_vocab for token in tokens):
            return ("seen",)
        return ("unseen", "known" if all(known(token) for token in tokens) else "unknown")

    return groups_of


def sentence_counts(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> list[list[int]]:
    """Per sentence ``[correct, predicted, gold]`` entity counts: the micro F1 of any resample of the
    sentences is ``2 * correct / (predicted + gold)`` over its sums (the paired bootstrap's input)."""
    _check_lengths(gold, pred)
    counts = []
    for g, p in zip(gold, pred):
        gold_spans, pred_spans = set(spans(g)), set(spans(p))
        counts.append([len(gold_spans & pred_spans), len(pred_spans), len(gold_spans)])
    return counts


def unseen_entities(
    sentences_gold: Sequence[TaggedSentence],
    pred_tags: Sequence[Sequence[str]],
    train_vocab: Collection[str],
    known: Callable[[str], bool],
    normalize: Callable[[str], str] | None = None,
) -> list[list]:
    """Every gold entity none of whose words is in ``train_vocab``, as ``[sentence index, start token,
    text, type, right, known]`` (``right``: predicted with the same type, start and end; ``known``:
    the vectors have all its words); arguments as :func:`unseen_entity_scores`."""
    _check_lengths([s.tags for s in sentences_gold], pred_tags)
    groups_of = _unseen_groups(train_vocab, known, normalize)
    found = []
    for number, (sentence, pred) in enumerate(zip(sentences_gold, pred_tags)):
        predicted = set(spans(pred))
        for entity in spans(sentence.tags):
            kind, start, end = entity
            groups = groups_of(sentence.tokens[start:end])
            if groups[0] == "unseen":
                found.append([number, start, " ".join(sentence.tokens[start:end]), kind,
                              int(entity in predicted), int(groups[1] == "known")])  # fmt: skip
    return found


def text_outcomes(gold: Sequence[Label], pred: Sequence[Label]) -> list[int]:
    """Per text 1 when the prediction is right (multi-label: the same label set), else 0."""
    if len(gold) != len(pred):
        raise VecliftError(f"{len(gold)} gold labels but {len(pred)} predicted")
    return [int(_as_set(g) == _as_set(p)) for g, p in zip(gold, pred)]


def unseen_word_accuracy(
    texts: Sequence[Sequence[str]],
    gold: Sequence[Label],
    pred: Sequence[Label],
    train_vocab: Collection[str],
    known: Callable[[str], bool],
    normalize: Callable[[str], str] | None = None,
) -> dict:
    """Accuracy on texts (token sequences) containing a word absent from ``train_vocab`` but
    known to the vectors (``"unseen_known"``: the "I'm ecstatic" case) and on the rest
    (``"rest"``), plus ``"all"``; each ``{"accuracy", "count"}``. Multi-label items are
    correct when the label sets are equal. ``normalize`` as in :func:`unseen_entity_scores`."""
    if not len(texts) == len(gold) == len(pred):
        raise VecliftError(f"{len(texts)} texts, {len(gold)} gold labels and {len(pred)} predictions differ in number")
    hits: dict[str, list[bool]] = {"unseen_known": [], "rest": [], "all": []}
    for tokens, right in zip(texts, map(bool, text_outcomes(gold, pred))):
        novel = any(
            (normalize(token) if normalize else token) not in train_vocab and known(token) for token in tokens
        )
        hits["unseen_known" if novel else "rest"].append(right)
        hits["all"].append(right)
    return {
        group: {"accuracy": sum(values) / len(values) if values else 0.0, "count": len(values)}
        for group, values in hits.items()
    }


def vocabulary(token_sequences: Sequence[Sequence[Hashable]]) -> set:
    """The set of tokens in a training set (for the ``train_vocab`` arguments above)."""
    return {token for tokens in token_sequences for token in tokens}
