"""NER metrics equal to conlleval/seqeval, classification scores, and the transfer view."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from seqeval.metrics import classification_report

from veclift.data import TaggedSentence, convert_tags, read_conll
from veclift.errors import VecliftError
from veclift.tasks.metrics import (
    classification_scores,
    macro_f1,
    ner_scores,
    unseen_entity_scores,
    unseen_word_accuracy,
    vocabulary,
)

DATA = Path(os.environ.get("VECLIFT_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def test_ner_scores_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["I-ORG", "O"]]  # I-ORG after nothing is an ORG entity
    scores = ner_scores(gold, pred)
    assert (scores["correct_entities"], scores["predicted_entities"], scores["gold_entities"]) == (2, 3, 3)
    assert scores["precision"] == pytest.approx(2 / 3) and scores["f1"] == pytest.approx(2 / 3)
    assert scores["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["per_type"]["ORG"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    assert scores["accuracy"] == pytest.approx(4 / 6)  # token tags compared as written, as conlleval
    assert macro_f1(gold, pred) == pytest.approx((1 + 0 + 2 / 3) / 3)
    assert ner_scores([["O"]], [["O"]])["f1"] == 0.0


def test_ner_scores_length_mismatch():
    with pytest.raises(VecliftError, match="1 gold sentences but 2 predicted"):
        ner_scores([["O"]], [["O"], ["O"]])
    with pytest.raises(VecliftError, match="sentence 1: 1 gold tags but 2 predicted"):
        ner_scores([["O"]], [["O", "O"]])


def _assert_equal_to_seqeval(gold, pred):
    ours = ner_scores(gold, pred)
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    assert ours["precision"] == pytest.approx(report["micro avg"]["precision"])
    assert ours["recall"] == pytest.approx(report["micro avg"]["recall"])
    assert ours["f1"] == pytest.approx(report["micro avg"]["f1-score"])
    assert ours["macro_f1"] == pytest.approx(report["macro avg"]["f1-score"])
    for kind, scores in ours["per_type"].items():
        assert scores["f1"] == pytest.approx(report[kind]["f1-score"])
        assert scores["support"] == report[kind]["support"]


def _noisy(tags, rng, rate=0.15):
    labels = sorted({t for s in tags for t in s})
    return [[rng.choice(labels) if rng.random() < rate else t for t in s] for s in tags]


def test_ner_scores_equal_seqeval_on_random_ill_formed_sequences():
    rng = random.Random(0)
    labels = ["O", "O", "O", "B-A", "I-A", "B-B", "I-B", "E-A", "S-B"]
    gold = [[rng.choice(labels) for _ in range(rng.randint(1, 12))] for _ in range(300)]
    _assert_equal_to_seqeval(gold, _noisy(gold, rng, 0.3))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ner/conll2003/valid.txt", "ner/wnut17/dev.conll", "ner/wikigold/wikigold.conll"])
def test_ner_scores_equal_seqeval_on_real_files(name):
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    gold = [list(s.tags) for s in read_conll(path)]
    rng = random.Random(1)
    _assert_equal_to_seqeval(gold, _noisy(gold, rng))
    bioes_gold = [convert_tags(tags, "iob2", "bioes") for tags in gold]
    _assert_equal_to_seqeval(bioes_gold, _noisy(bioes_gold, rng))


def test_classification_scores_single_label():
    gold = ["pos", "pos", "neg", "neg", "neu"]
    pred = ["pos", "neg", "neg", "neg", "pos"]
    scores = classification_scores(gold, pred)
    assert scores["accuracy"] == pytest.approx(0.6)
    assert scores["per_class"]["neg"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert scores["macro_f1"] == pytest.approx((0.8 + 0.5 + 0.0) / 3)
    assert scores["confusion"] == {"labels": ["neg", "neu", "pos"], "matrix": [[2, 0, 0], [0, 0, 1], [1, 0, 1]]}
    assert classification_scores(gold, pred, labels=["pos", "neg"])["confusion"]["labels"] == ["pos", "neg"]
    with pytest.raises(VecliftError, match="5 gold labels but 1 predicted"):
        classification_scores(gold, ["pos"])


def test_classification_scores_multi_label():
    gold = [("a", "b"), ("a",), ("c",)]
    pred = [("a", "b"), ("a", "c"), ()]
    scores = classification_scores(gold, pred)
    assert scores["subset_accuracy"] == scores["accuracy"] == pytest.approx(1 / 3)
    assert scores["micro_f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    assert scores["per_class"]["c"]["f1"] == 0.0
    assert scores["macro_f1"] == pytest.approx((1.0 + 1.0 + 0.0) / 3)


def test_unseen_entity_scores_groups_and_precision():
    train = [TaggedSentence(("Orange", "sued", "Bob"), ("B-ORG", "O", "B-PER"))]
    test = [TaggedSentence(("Apple", "and", "Zyxq", "Corp", "met", "Bob", "Marley"), ("B-ORG", "O", "B-ORG", "I-ORG", "O", "B-PER", "I-PER"))]
    pred = [["B-ORG", "O", "B-ORG", "O", "B-LOC", "B-PER", "I-PER"]]  # Zyxq cut short; "met" spurious
    vectors = {"apple", "and", "corp", "met", "bob", "marley"}
    scores = unseen_entity_scores(test, pred, vocabulary(s.tokens for s in train), lambda w: w.lower() in vectors)
    assert scores["seen"] == pytest.approx({"precision": 1.0, "recall": 1.0, "f1": 1.0, "gold": 1, "predicted": 1, "correct": 1})
    # unseen gold: Apple (known), Zyxq Corp (unknown); unseen predictions: Apple, Zyxq (unknown), met (known)
    assert (scores["unseen"]["gold"], scores["unseen"]["predicted"], scores["unseen"]["correct"]) == (2, 3, 1)
    assert scores["known"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "gold": 1, "predicted": 2, "correct": 1})
    assert scores["unknown"]["recall"] == 0.0 and scores["unknown"]["predicted"] == 1
    lowered = unseen_entity_scores(test, pred, {"apple"}, lambda w: True, normalize=str.lower)
    assert lowered["seen"]["gold"] == 1 and lowered["unseen"]["gold"] == 2


def test_unseen_word_accuracy():
    texts = [["i", "'m", "ecstatic"], ["i", "'m", "happy"], ["qqzx", "film"]]
    scores = unseen_word_accuracy(texts, ["pos", "pos", "neg"], ["pos", "neg", "neg"], {"i", "'m", "happy", "film"}, lambda w: w != "qqzx")
    assert scores["unseen_known"] == {"accuracy": 1.0, "count": 1}
    assert scores["rest"] == {"accuracy": 0.5, "count": 2}
    assert scores["all"]["accuracy"] == pytest.approx(2 / 3)
    with pytest.raises(VecliftError, match="differ in number"):
        unseen_word_accuracy(texts, ["pos"], ["pos"], set(), lambda w: True)
