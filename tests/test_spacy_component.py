"""The spaCy components `veclift_ner` and `veclift_textcat`: spans on spaCy's own tokens, equal to what the
model and `veclift predict` answer; confidences; categories; batching; errors; entry points."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import numpy as np
import pytest
from task_fixtures import labeled_texts, tagged_sentences, tiny_vectors

from veclift.data import read_conll
from veclift.data.tokenize import tokenize
from veclift.errors import VecliftError
from veclift.tasks import SequenceTagger, TextClassifier, load_model
from veclift.tasks.onnx_export import export_onnx
from veclift.tasks.onnx_model import load_predictor
from veclift.vectors.core import Vectors
from veclift.vectors.evaluate import shared_data_dir

spacy = pytest.importorskip("spacy")
import veclift.integrations.spacy_component  # noqa: E402 - registers the factories in this process

TAGGER = dict(max_epochs=12, hidden=16, char_filters=8, batch_size=8, lr=0.01)
# one member: the toy model whose answers the tests check
CLASSIFIER = dict(encoder="cnn", hidden=8, filters=8, batch_size=8, lr=0.01, max_epochs=10, members=1)
# Sentences spaCy's English tokenizer and veclift's split into the same tokens (checked below); Lucy,
# Paul, Vienna and Madrid never occur in the training sentences, Zorblax and Quuxville in no vectors either.
SAME_TOKENS = ["Lucy lives in Vienna.", "Mary met Anna in Rome today, John said.", "Paul visited Madrid and Berlin.",
               "Peter met Lucy in Paris today.", "Anna's friend lives in London.",
               "Zorblax lives in Quuxville."]  # fmt: skip
NEW_WORDS = ["zorblax", "quuxville"]  # in the vectors given by the `vectors` config only
# Whitespace tokens (left out for the model), an empty text, and a spaCy-only split ("Jean-Paul").
SPACY_ONLY = ["Yesterday  Peter\nvisited Paris and   London.", "", "   ", "Jean-Paul met Mary in Berlin."]
FACTORIES = {"veclift_ner": "veclift.integrations.spacy_component:make_entity_recognizer",
             "veclift_textcat": "veclift.integrations.spacy_component:make_text_categorizer"}  # fmt: skip


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(tagger directory, classifier directory, vectors directory), trained on the tiny fixtures."""
    root = tmp_path_factory.mktemp("spacy-models")
    vectors = tiny_vectors()
    tagger = SequenceTagger(**TAGGER).fit(tagged_sentences(60), tagged_sentences(20, seed=1), vectors=vectors,
                                          progress=False)  # fmt: skip
    classifier = TextClassifier(**CLASSIFIER).fit(labeled_texts(40), labeled_texts(10, seed=1), vectors=vectors,
                                                  progress=False)  # fmt: skip
    # Vectors that also know two names the models have no row for, each beside its kind.
    wider = Vectors([*vectors.words, *NEW_WORDS], np.vstack([vectors.matrix, vectors[["lucy", "vienna"]]]),
                    meta={"lowercase": True})  # fmt: skip
    return tagger.save(root / "ner"), classifier.save(root / "classify"), wider.save(root / "vectors")


def pipeline(models, vectors: bool = False, **config):
    ner, classify, vector_dir = models
    extra = {"vectors": str(vector_dir)} if vectors else {}
    nlp = spacy.blank("en")
    nlp.add_pipe("veclift_ner", config={"model": str(ner), **extra, **config})
    nlp.add_pipe("veclift_textcat", config={"model": str(classify), **extra, **config})
    return nlp


def ents(doc) -> list[tuple[str, int, int]]:
    return [(span.label_, span.start_char, span.end_char) for span in doc.ents]


def scores(doc) -> list[float]:
    return [span._.veclift_score for span in doc.ents]


def cli_entities(model_dir, records: list[dict], tmp_path, *options: str) -> list[list[dict]]:
    """`veclift predict MODEL in.jsonl` run as a user runs it: each record's entities."""
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "veclift", "predict", str(model_dir), str(path), *options],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line)["entities"] for line in done.stdout.splitlines()]


def assert_same_entities(docs, answers: list[list[dict]]) -> None:
    """Each doc's entities are the answer's, with the same confidences."""
    assert [ents(doc) for doc in docs] == [[(e["label"], e["start"], e["end"]) for e in answer] for answer in answers]
    for doc, answer in zip(docs, answers):
        assert scores(doc) == pytest.approx([e["score"] for e in answer], abs=1e-5)


def test_entities_lie_on_spacy_tokens_and_equal_the_models_own(models):
    nlp = pipeline(models)
    tagger = load_predictor(models[0])
    docs = [nlp(text) for text in SAME_TOKENS + SPACY_ONLY]
    for doc in docs:
        words = [token for token in doc if not token.is_space]
        expected = tagger.entities([doc.text], [[t.text for t in words]], [[(t.idx, t.idx + len(t)) for t in words]])
        assert_same_entities([doc], [expected[0]["entities"]])
        assert all(0 < score <= 1 for score in scores(doc))
        group = doc.spans["veclift"]
        assert [(s.label_, s.start, s.end) for s in group] == [(s.label_, s.start, s.end) for s in doc.ents]
        assert np.allclose(group.attrs["scores"], scores(doc))
    assert ("PER", 0, 4) in ents(docs[0]) and ("LOC", 14, 20) in ents(docs[0])  # Lucy, Vienna: never in training
    spaced = docs[len(SAME_TOKENS)]
    assert {span.text for span in spaced.ents} >= {"Peter", "London"}
    assert not any(token.is_space for span in spaced.ents for token in (span[0], span[-1]))
    assert all(not doc.ents for doc in docs[len(SAME_TOKENS) + 1 : len(SAME_TOKENS) + 3])


@pytest.mark.parametrize("vectors", [False, True], ids=["saved-rows", "vectors"])
def test_entities_equal_veclift_predict(models, tmp_path, vectors):
    nlp = pipeline(models, vectors=vectors)
    docs = list(nlp.pipe(SAME_TOKENS + SPACY_ONLY))
    assert [[t.text for t in doc] for doc in docs[: len(SAME_TOKENS)]] == [tokenize(text) for text in SAME_TOKENS]
    options = ["--vectors", str(models[2])] if vectors else []
    records = [{"text": text} for text in SAME_TOKENS]  # tokenised by veclift, as spaCy tokenised them
    records += [{"text": doc.text, "tokens": [t.text for t in doc if not t.is_space]}
                for doc in docs[len(SAME_TOKENS) :]]  # fmt: skip
    assert_same_entities(docs, cli_entities(models[0], records, tmp_path, *options))
    assert sum(len(doc.ents) for doc in docs) >= 2 * len(SAME_TOKENS)
    if vectors:  # the rows the vectors give the unknown names change the answer
        assert scores(docs[len(SAME_TOKENS) - 1]) != scores(pipeline(models)(SAME_TOKENS[-1]))


def test_textcat_fills_cats_with_the_classifiers_probabilities(models):
    nlp = pipeline(models)
    classifier = load_predictor(models[1])
    texts = ["What a great day.", "The weather was awful today.", "Good news, said Mary."]
    docs = [nlp(text) for text in texts]
    proba = classifier.predict_proba([[t.text for t in doc] for doc in docs])
    for doc, row in zip(docs, proba):
        assert list(doc.cats) == classifier.labels == ["neg", "pos"]
        assert sum(doc.cats.values()) == pytest.approx(1.0, abs=1e-6)
        assert np.allclose(list(doc.cats.values()), row)
    assert [max(doc.cats, key=doc.cats.get) for doc in docs[:2]] == ["pos", "neg"]
    assert nlp("   ").cats == {} and nlp("").cats == {}  # nothing to classify


def test_pipe_over_many_texts_equals_per_doc_calls(models, monkeypatch):
    nlp = pipeline(models, batch_size=4)
    texts = [" ".join(s.tokens) for s in tagged_sentences(30, seed=3)] + SPACY_ONLY
    texts += [t.text for t in labeled_texts(5, seed=4)]
    one_by_one = [nlp(text) for text in texts]
    tagger, sizes = nlp.get_pipe("veclift_ner").model, []
    entities = tagger.entities

    def counted(texts, *args, **options):
        sizes.append(len(texts))
        return entities(texts, *args, **options)

    monkeypatch.setattr(tagger, "entities", counted)
    with nlp.select_pipes(enable=["veclift_ner"]):
        assert [doc.text for doc in nlp.pipe(texts, batch_size=7)] == texts
    assert len(texts) == 39 and sizes == [4] * 9 + [3]  # the config's batch_size, spaCy's 7 being larger
    sizes.clear()
    batched = list(nlp.pipe(texts, batch_size=3))
    assert [doc.text for doc in batched] == texts and sizes == [3] * 13  # spaCy's 3 being smaller
    for single, doc in zip(one_by_one, batched):
        assert ents(doc) == ents(single)
        assert scores(doc) == pytest.approx(scores(single), abs=1e-5)
        assert doc.cats.keys() == single.cats.keys()
        assert list(doc.cats.values()) == pytest.approx(list(single.cats.values()), abs=1e-5)


def test_an_onnx_export_answers_as_the_model_directory(models, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    exported = [export_onnx(load_model(directory), tmp_path / directory.name) for directory in models[:2]]
    torch_nlp, onnx_nlp = pipeline(models), pipeline((*exported, models[2]))
    for text in SAME_TOKENS + SPACY_ONLY:
        by_torch, by_onnx = torch_nlp(text), onnx_nlp(text)
        assert ents(by_onnx) == ents(by_torch) and scores(by_onnx) == pytest.approx(scores(by_torch), abs=1e-5)
        assert by_onnx.cats == pytest.approx(by_torch.cats, abs=1e-5)
    assert sum(len(onnx_nlp(text).ents) for text in SAME_TOKENS) >= 2 * len(SAME_TOKENS)


def test_a_model_that_does_not_load_is_an_error_naming_its_path(models, tmp_path):
    nlp = spacy.blank("en")
    missing = tmp_path / "no-such-model"
    with pytest.raises(VecliftError, match="not a model directory") as caught:
        nlp.add_pipe("veclift_ner", config={"model": str(missing)})
    assert str(missing) in str(caught.value)
    with pytest.raises(VecliftError, match="use veclift_textcat") as caught:
        nlp.add_pipe("veclift_ner", config={"model": str(models[1])})
    assert str(models[1]) in str(caught.value)
    with pytest.raises(VecliftError, match="batch_size must be at least 1"):
        nlp.add_pipe("veclift_textcat", config={"model": str(models[1]), "batch_size": 0})
    assert nlp.pipe_names == []


def test_a_saved_pipeline_reads_the_model_from_its_path_again(models, tmp_path):
    nlp = pipeline(models)
    nlp.to_disk(tmp_path / "pipeline")
    assert not list((tmp_path / "pipeline").rglob("*.safetensors"))  # the model is not copied
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == ["veclift_ner", "veclift_textcat"]
    for text in SAME_TOKENS:
        assert ents(loaded(text)) == ents(nlp(text)) and loaded(text).cats == pytest.approx(nlp(text).cats)


def test_factories_are_registered_through_entry_points(models):
    found = {ep.name: ep.value for ep in entry_points(group="spacy_factories") if ep.value.startswith("veclift.")}
    if not found:
        pytest.skip("veclift's spacy_factories entry points are not installed yet "
                    "([project.entry-points.spacy_factories] in pyproject.toml, then pip install -e .)")  # fmt: skip
    assert found == FACTORIES
    # A fresh process that never imports veclift: spaCy must find both factories by their entry points.
    code = ("import json, sys, spacy; nlp = spacy.blank('en'); "
            "nlp.add_pipe('veclift_ner', config={'model': sys.argv[1]}); "
            "nlp.add_pipe('veclift_textcat', config={'model': sys.argv[2]}); doc = nlp('Lucy lives in Vienna.'); "
            "print(json.dumps([[e.label_, e.start_char, e.end_char] for e in doc.ents] + "
            "[sum(doc.cats.values())]))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, str(models[0]), str(models[1])], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    *found_ents, total = json.loads(done.stdout)
    assert ["PER", 0, 4] in found_ents and total == pytest.approx(1.0)


@pytest.mark.slow
def test_conll_sentences_get_the_entities_veclift_predict_gives(tmp_path):
    data = shared_data_dir() / "ner" / "conll2003"
    if not (data / "valid.txt").is_file():
        pytest.skip(f"{data} not present")
    train, valid = read_conll(data / "train.txt")[:200], read_conll(data / "valid.txt")[:50]
    model_dir = SequenceTagger(max_epochs=2).fit(train, vectors="glove-6b-50d", progress=False).save(tmp_path / "ner")
    nlp = spacy.blank("en")
    nlp.add_pipe("veclift_ner", config={"model": str(model_dir), "vectors": "glove-6b-50d"})
    texts = [" ".join(sentence.tokens) for sentence in valid]
    docs = list(nlp.pipe(texts))
    records = [{"text": doc.text, "tokens": [t.text for t in doc if not t.is_space]} for doc in docs]
    same = [i for i, doc in enumerate(docs) if [t.text for t in doc] == tokenize(doc.text)]
    records += [{"text": texts[i]} for i in same]  # tokenised by veclift, as spaCy tokenised them
    answers = cli_entities(model_dir, records, tmp_path, "--vectors", "glove-6b-50d")
    assert_same_entities(docs + [docs[i] for i in same], answers)
    assert len(same) >= 20 and sum(len(doc.ents) for doc in docs) >= 10  # 26 and 28 when written
