"""The first guesses of a user who knows gensim, flair, scikit-learn and spaCy, each as a test (issue
16): every one of them works, or fails with one clear message."""

from __future__ import annotations

import numpy as np
import pytest
from task_fixtures import labeled_texts, tagged_sentences, tiny_vectors

from veclift.data import write_conll
from veclift.errors import VecliftError

FAST = dict(hidden=16, char_filters=8, batch_size=8, lr=0.01)


def test_the_models_and_readers_come_from_the_top_level():
    import veclift
    from veclift import SequenceTagger, TextClassifier, TransferStudy, Vectors, load_model, read_conll  # noqa: F401

    assert veclift.SequenceTagger is __import__("veclift.tasks", fromlist=["SequenceTagger"]).SequenceTagger
    assert set(veclift.__all__) >= {"Vectors", "SequenceTagger", "TextClassifier", "load_model", "read_conll", "TransferStudy"}


def test_an_unknown_option_lists_the_valid_ones_with_the_closest():
    from veclift import SequenceTagger

    with pytest.raises(VecliftError) as error:
        SequenceTagger(epochs=1)
    message = str(error.value)
    assert "did you mean max_epochs?" in message and "patience" in message and "\n" not in message


def test_a_tagger_fits_a_path_pairs_and_sentences_alike(tmp_path):
    from veclift import SequenceTagger

    sentences = tagged_sentences(60)
    write_conll(sentences, tmp_path / "train.conll")
    test = tagged_sentences(20, seed=1)
    predictions = []
    for data in (str(tmp_path / "train.conll"), tmp_path / "train.conll", [(s.tokens, s.tags) for s in sentences], sentences):
        model = SequenceTagger(max_epochs=8, **FAST).fit(data, vectors=tiny_vectors(), seed=0, progress=False)
        predictions.append(model.predict(test))
    assert all(p == predictions[0] for p in predictions)
    assert model.evaluate([(s.tokens, s.tags) for s in test])["f1"] > 0.8
    assert model.evaluate(str(tmp_path / "train.conll"))["f1"] > 0.8


def test_a_bare_string_is_refused_not_tagged_per_character():
    from veclift import SequenceTagger

    model = SequenceTagger(max_epochs=2, **FAST).fit(tagged_sentences(20), vectors=tiny_vectors(), progress=False)
    with pytest.raises(VecliftError, match=r"pass \[text\]"):
        model.predict("Kevin flew to Vienna .")
    assert len(model.predict(["Kevin flew to Vienna ."])[0]) == 5


def test_predict_reads_a_file_given_as_a_path(tmp_path):
    from veclift import SequenceTagger

    model = SequenceTagger(max_epochs=4, **FAST).fit(tagged_sentences(40), vectors=tiny_vectors(), progress=False)
    (tmp_path / "in.txt").write_text("Lucy lives in Vienna .\nPaul met Anna\n")
    assert model.predict(tmp_path / "in.txt") == model.predict(["Lucy lives in Vienna .", "Paul met Anna"])
    [first, _] = model.predict_entities(tmp_path / "in.txt")
    assert first["text"] == "Lucy lives in Vienna ." and first["entities"][0]["end"] == 4
    write_conll(tagged_sentences(3, seed=4), tmp_path / "in.conll")
    assert len(model.predict(tmp_path / "in.conll")) == 3


def test_tags_that_fit_no_scheme_are_refused_unless_the_scheme_is_named():
    from veclift import SequenceTagger

    plain = [(["Anna", "lives", "in", "New", "York"], ["PER", "O", "O", "LOC", "LOC"])] * 10
    with pytest.raises(VecliftError, match=r"sentence 1: tag 'PER' is not a valid IOB2 tag: .*scheme io"):
        SequenceTagger(max_epochs=1, **FAST).fit(plain, vectors=tiny_vectors(), progress=False)
    model = SequenceTagger(max_epochs=1, **FAST).fit(plain, vectors=tiny_vectors(), scheme="io", progress=False)
    assert model.labels == ["O", "B-LOC", "B-PER", "I-LOC"]
    with pytest.raises(VecliftError, match="tokens must be a list of strings"):
        SequenceTagger().fit([("Anna lives", ["B-PER", "O"])], vectors=tiny_vectors(), progress=False)
    with pytest.raises(VecliftError, match=r"expected a \(tokens, tags\) pair"):
        SequenceTagger().fit([42], vectors=tiny_vectors(), progress=False)


def sklearn_data(n: int, seed: int) -> tuple[list[str], list[str]]:
    texts = labeled_texts(n, seed=seed)
    return [t.text for t in texts], [t.label for t in texts]


def test_the_classifier_follows_scikit_learn():
    from veclift import TextClassifier

    X, y = sklearn_data(80, 0)
    X_test, y_test = sklearn_data(40, 1)
    clf = TextClassifier(max_epochs=15, lr=0.02, batch_size=4, encoder="swem-concat").fit(X, y, vectors=tiny_vectors(), progress=False)
    assert list(clf.classes_) == sorted(set(y))
    proba = clf.predict_proba(X_test)
    assert proba.shape == (40, len(clf.classes_)) and np.allclose(proba.sum(1), 1, atol=1e-5)
    majority = max(y_test.count(label) for label in set(y_test)) / len(y_test)
    assert clf.score(X_test, y_test) > majority + 0.1
    assert clf.predict(["a wonderful film"])[0] in clf.classes_
    assert clf.get_params()["encoder"] == "swem-concat"
    assert clf.set_params(lr=0.05) is clf and clf.config.lr == 0.05


def test_the_classifier_works_in_grid_search():
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    from veclift import TextClassifier

    X, y = sklearn_data(60, 2)
    base = TextClassifier(max_epochs=6, batch_size=4, encoder="swem-mean")
    assert clone(base).get_params() == base.get_params()
    search = GridSearchCV(base, {"lr": [1e-4, 0.05]}, cv=2).fit(X, y, vectors=tiny_vectors(), progress=False)
    assert search.best_params_ == {"lr": 0.05}  # 6 epochs at 1e-4 barely move from the majority class
    assert search.best_estimator_.score(X, y) > 0.6


def test_the_classifier_refuses_a_bare_string_too():
    from veclift import TextClassifier

    X, y = sklearn_data(20, 3)
    clf = TextClassifier(max_epochs=1).fit(X, y, vectors=tiny_vectors(), progress=False)
    with pytest.raises(VecliftError, match=r"pass \[text\]"):
        clf.predict("a wonderful film")


def test_vectors_answer_to_gensim_names():
    from gensim.models import KeyedVectors

    from veclift import Vectors

    v = tiny_vectors()
    assert v.key_to_index["paris"] == v.index_to_key.index("paris") and v.vector_size == v.dim
    assert np.allclose(np.linalg.norm(v.get_vector("paris", norm=True)), 1, atol=1e-6)
    assert v.vectors.shape == (len(v), v.dim)
    kv = v.to_gensim()
    assert isinstance(kv, KeyedVectors) and kv.n_similarity(["paris"], ["rome"]) == pytest.approx(v.n_similarity(["paris"], ["rome"]), abs=1e-6)
    assert Vectors.from_gensim(kv).index_to_key == v.index_to_key


def test_in_agrees_with_lookup_under_the_oov_chain():
    v = tiny_vectors()
    assert ("Paris" in v) is False
    lowered = v.with_oov("lower")
    assert "Paris" in lowered and np.array_equal(lowered["Paris"], v["paris"])
    assert "Qwzx" not in lowered
    with pytest.raises(KeyError):
        lowered["Qwzx"]


def test_fit_takes_a_hugging_face_dataset():
    datasets = pytest.importorskip("datasets")
    from veclift import SequenceTagger, TextClassifier

    sentences = tagged_sentences(60)
    names = sorted({t for s in sentences for t in s.tags})
    features = datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                                  "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names))})  # fmt: skip
    dataset = datasets.Dataset.from_dict({"tokens": [list(s.tokens) for s in sentences],
                                          "ner_tags": [[names.index(t) for t in s.tags] for s in sentences]}, features=features)  # fmt: skip
    from_dataset = SequenceTagger(max_epochs=4, **FAST).fit(dataset, vectors=tiny_vectors(), seed=0, progress=False)
    from_list = SequenceTagger(max_epochs=4, **FAST).fit(sentences, vectors=tiny_vectors(), seed=0, progress=False)
    test = [list(s.tokens) for s in tagged_sentences(20, seed=1)]
    assert from_dataset.predict(test) == from_list.predict(test)
    texts = labeled_texts(40)
    label_names = sorted({t.label for t in texts})
    labeled = datasets.Dataset.from_dict({"text": [t.text for t in texts], "label": [label_names.index(t.label) for t in texts]},
                                         features=datasets.Features({"text": datasets.Value("string"),
                                                                     "label": datasets.ClassLabel(names=label_names)}))  # fmt: skip
    clf = TextClassifier(max_epochs=2).fit(labeled, vectors=tiny_vectors(), progress=False)
    assert sorted(clf.labels) == label_names
