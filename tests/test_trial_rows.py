"""A study trial scores its test set the way `predict` and `veclift evaluate` score the saved
model: the same rows for words never seen in training, whichever `test_rows` says."""

from __future__ import annotations

import pytest
from task_fixtures import CITIES, PEOPLE, tagged_sentences, tiny_vectors

from veclift.errors import VecliftError
from veclift.study.spec import StudySpec
from veclift.tasks import SequenceTagger, train_and_evaluate

# No pre-trained rows kept beyond the training words: an unseen test name has a row only when the
# vectors are handed over at prediction time.
OPTIONS = dict(hidden=16, char="none", casing=False, batch_size=8, lr=0.01, max_epochs=15, patience=0, keep_vectors=0,
               oov="lower")  # fmt: skip
TRAIN = tagged_sentences(60, seed=0, people=PEOPLE[:3], cities=CITIES[:3])
TEST = tagged_sentences(40, seed=1, people=PEOPLE[3:], cities=CITIES[:3])


@pytest.fixture(scope="module")
def fitted():
    vectors = tiny_vectors()
    model = SequenceTagger(embeddings="finetune", **OPTIONS)
    model.fit(TRAIN, vectors=vectors, seed=0, progress=False)
    return vectors, model


@pytest.mark.parametrize("test_rows", ["model", "vectors"])
def test_a_trial_scores_what_evaluate_scores_on_the_same_model(fitted, test_rows):
    vectors, model = fitted
    trial = train_and_evaluate("ner", TRAIN, None, TEST, vectors, "finetune", 0, test_rows=test_rows, **OPTIONS)
    alone = model.evaluate(TEST, vectors=vectors if test_rows == "vectors" else None)
    assert trial["f1"] == alone["f1"] and trial["transfer"] == alone["transfer"]


def test_test_rows_change_what_unseen_names_get(fitted):
    vectors, _ = fitted
    runs = {rows: train_and_evaluate("ner", TRAIN, None, TEST, vectors, "finetune", 0, test_rows=rows, **OPTIONS)
            for rows in ("model", "vectors")}  # fmt: skip
    # the unseen names (Anna, Paul, Lucy...) are people in the vectors' space: only their vector rows say so
    assert runs["vectors"]["transfer"]["unseen"]["f1"] > runs["model"]["transfer"]["unseen"]["f1"] + 0.2
    assert runs["vectors"]["transfer"]["known"]["gold"] > 0 and runs["model"]["transfer"]["known"]["gold"] == 0


def test_unknown_test_rows_are_refused(tmp_path):
    with pytest.raises(VecliftError, match="test_rows"):
        train_and_evaluate("ner", TRAIN, None, TEST, tiny_vectors(), "finetune", test_rows="full", **OPTIONS)
    train = tmp_path / "train.txt"
    train.write_text("John B-PER\n")
    with pytest.raises(VecliftError, match="test_rows must be model or vectors"):
        StudySpec(task="ner", train=train, test_rows="everything")


def test_predictions_given_to_evaluate_must_match_the_data(fitted):
    _, model = fitted
    assert model.evaluate(TEST, predictions=model.predict(TEST)) == model.evaluate(TEST)
    with pytest.raises(ValueError, match="predictions for"):
        model.evaluate(TEST, predictions=model.predict(TEST)[:-1])


def test_rows_guessed_at_one_prediction_give_way_to_the_vectors_at_the_next(tmp_path):
    """A model that met a word without vectors (its spelling model guessed a row) and then meets it
    with the vectors tags as a fresh copy given the vectors does."""
    from veclift.tasks import load_model

    vectors = tiny_vectors()
    model = SequenceTagger(embeddings="finetune", **{**OPTIONS, "oov": "lower,char-ngram"})
    model.fit(TRAIN, vectors=vectors, seed=0, progress=False)
    model.save(tmp_path / "m")
    fresh = load_model(tmp_path / "m")
    guessed = model.predict(TEST)
    assert any(model.words._guessed(name.lower()) for name in PEOPLE[3:])  # the spelling model answered
    with_vectors = model.predict(TEST, vectors=vectors)
    assert with_vectors == fresh.predict(TEST, vectors=vectors) and len(guessed) == len(TEST)
    assert all(model.words.knows(name) and not model.words._guessed(name.lower()) for name in PEOPLE[3:])


def test_a_model_saved_after_predictions_holds_only_its_trained_rows(tmp_path):
    """Rows met at prediction time stay out of the saved model: its copy, given the vectors, gives the
    vectors' rows where the original had guessed from spelling before saving."""
    from veclift.tasks import load_model

    vectors = tiny_vectors()
    model = SequenceTagger(embeddings="finetune", **{**OPTIONS, "oov": "lower,char-ngram"})
    model.fit(TRAIN, vectors=vectors, seed=0, progress=False)
    trained_rows = len(model.words.fixed_words)
    model.predict(TEST)  # guesses rows for the unseen names
    assert len(model.words.fixed_words) > trained_rows
    model.save(tmp_path / "m")
    copy = load_model(tmp_path / "m")
    assert len(copy.words.fixed_words) == trained_rows == copy.words.base_fixed
    assert copy.predict(TEST, vectors=vectors) == model.predict(TEST, vectors=vectors)
