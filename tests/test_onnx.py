"""`veclift export --to onnx`: the exported graph run by onnxruntime answers as the torch model does
(tags identical, scores within 1e-5), through the Python API and `veclift predict`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from task_fixtures import PEOPLE, labeled_texts, tagged_sentences, tiny_vectors

from veclift.data import read_conll
from veclift.errors import VecliftError
from veclift.tasks import SequenceTagger, TextClassifier, load_model
from veclift.tasks.onnx_export import export_onnx, feature_descriptions
from veclift.tasks.onnx_model import OnnxModel, load_predictor

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

FAST = dict(hidden=16, char_filters=8, batch_size=8, lr=0.01)
DATA = Path(os.environ.get("VECLIFT_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def unseen_sentences() -> list[list[str]]:
    """Test sentences with names and characters the model never saw, and odd lengths."""
    rows = [list(s.tokens) for s in tagged_sentences(40, seed=5, people=PEOPLE[4:])]
    return [*rows, ["Zyxwv", "visited", "Qörtl", "."], ["a"], ["Über", "-", "1999", "X" * 40]]


def assert_same_entities(torch_answers, onnx_answers) -> None:
    assert [a["tags"] for a in torch_answers] == [b["tags"] for b in onnx_answers]
    for a, b in zip(torch_answers, onnx_answers):
        assert [(e["label"], e["start"], e["end"]) for e in a["entities"]] == [(e["label"], e["start"], e["end"]) for e in b["entities"]]
        assert np.allclose([e["score"] for e in a["entities"]], [e["score"] for e in b["entities"]], atol=1e-5)
        for x, y in zip(a["marginals"], b["marginals"]):
            assert max(abs(x[k] - y[k]) for k in x) <= 1e-5


@pytest.mark.parametrize("options", [
    dict(),  # the default: word rows + char CNN + casing -> BiLSTM -> CRF
    dict(char="lstm", encoder="cnn", head="softmax"),
    dict(embeddings="frozen", char="none", casing=False),
    dict(embeddings="scratch"),
])  # fmt: skip
def test_an_exported_tagger_answers_as_the_torch_one(options, tmp_path):
    model = SequenceTagger(max_epochs=6, **FAST, **options).fit(tagged_sentences(60), vectors=tiny_vectors(), seed=0, progress=False)
    export_onnx(model, tmp_path / "onnx")
    exported = OnnxModel(tmp_path / "onnx", threads=1)
    sentences = unseen_sentences()
    expected = model.predict_entities(sentences, marginals=True)
    assert_same_entities(expected, exported.predict_entities(sentences, marginals=True))
    assert any(e["score"] < 1 for a in expected for e in a["entities"])
    assert exported.predict([["Lucy", "lives", "in", "Vienna"]]) == model.predict([["Lucy", "lives", "in", "Vienna"]])
    assert exported.summary()["task"] == "ner" and exported.summary()["runtime"] == "onnxruntime"


@pytest.mark.parametrize("encoder", ["cnn", "swem-concat", "bilstm-attention"])
def test_an_exported_classifier_gives_the_same_probabilities(encoder, tmp_path):
    model = TextClassifier(max_epochs=6, encoder=encoder).fit(labeled_texts(60), vectors=tiny_vectors(), seed=0, progress=False)
    export_onnx(model, tmp_path / "onnx")
    exported = load_predictor(tmp_path / "onnx", threads=1)
    texts = [list(t.tokens) for t in labeled_texts(40, seed=4)] + [["a"], ["Zyxwv", "b"]]
    assert np.abs(model.predict_proba(texts) - exported.predict_proba(texts)).max() <= 1e-5
    assert exported.predict(texts) == model.predict(texts)
    with pytest.raises(VecliftError, match="text 1 is empty"):
        exported.predict_proba([[]])


def test_export_and_predict_from_the_command_line(tmp_path):
    model = SequenceTagger(max_epochs=6, **FAST).fit(tagged_sentences(60), vectors=tiny_vectors(), seed=0, progress=False)
    model.save(tmp_path / "model")
    veclift = [sys.executable, "-m", "veclift"]
    done = subprocess.run([*veclift, "export", str(tmp_path / "model"), "--to", "onnx", str(tmp_path / "onnx")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {"model.onnx", "export.json", "decoding.py"} <= {p.name for p in (tmp_path / "onnx").iterdir()}
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": " ".join(t)}) + "\n" for t in unseen_sentences()))
    answers = []
    for directory in ("model", "onnx"):
        run = subprocess.run([*veclift, "predict", str(tmp_path / directory), str(source)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        answers.append([json.loads(line) for line in run.stdout.splitlines()])
    assert [a["tags"] for a in answers[0]] == [b["tags"] for b in answers[1]]
    again = subprocess.run([*veclift, "export", str(tmp_path / "model"), "--to", "onnx", str(tmp_path / "onnx")], capture_output=True, text=True)
    assert again.returncode == 2 and "--overwrite" in again.stderr and again.stderr.count("\n") == 1
    evaluate = subprocess.run([*veclift, "evaluate", str(tmp_path / "onnx"), str(source)], capture_output=True, text=True)
    assert evaluate.returncode == 2 and "ONNX export" in evaluate.stderr and evaluate.stderr.count("\n") == 1


def test_a_decoder_shipped_beside_the_graph_runs_without_veclift(tmp_path):
    """The export's decoding.py imports nothing from veclift: a plain NumPy module."""
    model = SequenceTagger(max_epochs=3, **FAST).fit(tagged_sentences(30), vectors=tiny_vectors(), seed=0, progress=False)
    export_onnx(model, tmp_path / "onnx")
    source = (tmp_path / "onnx" / "decoding.py").read_text()
    assert "veclift" not in source.replace("`veclift", "").split('"""', 2)[2]
    meta = json.loads((tmp_path / "onnx" / "export.json").read_text())
    assert meta["labels"] == model.labels and set(meta["crf"]) == {"transitions", "start", "end"}


def test_models_that_cannot_be_exported_and_broken_exports_are_one_error(tmp_path):
    model = SequenceTagger(max_epochs=1, **FAST).fit(tagged_sentences(20), vectors=tiny_vectors(), seed=0, progress=False)
    export_onnx(model, tmp_path / "onnx")
    (tmp_path / "onnx" / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(VecliftError, match="cannot load model.onnx"):
        OnnxModel(tmp_path / "onnx")
    (tmp_path / "onnx" / "export.json").write_text('{"format": 1, "task": "ner"}')
    with pytest.raises(VecliftError, match="broken export.json"):
        OnnxModel(tmp_path / "onnx")
    with pytest.raises(VecliftError, match="ONNX export"):
        load_model(tmp_path / "onnx")

    class ContextualFeatures:
        kind = "contextual-frozen"

    class Network:  # a network whose stack holds a contextual encoder
        embedder = type("Stack", (), {"parts": [ContextualFeatures()]})

    with pytest.raises(VecliftError, match="cannot be exported to ONNX"):
        feature_descriptions(Network())


@pytest.mark.slow
def test_onnx_parity_on_a_real_conll_sample(tmp_path):
    """The default tagger on 200 CoNLL-2003 sentences with GloVe: its export tags 500 dev sentences the same."""
    train = read_conll(DATA / "ner/conll2003/train.txt")[:200]
    dev = read_conll(DATA / "ner/conll2003/valid.txt")[:500]
    model = SequenceTagger(max_epochs=3).fit(train, vectors="glove-6b-50d", seed=1, progress=False)
    export_onnx(model, tmp_path / "onnx")
    exported = OnnxModel(tmp_path / "onnx", threads=1)
    sentences = [list(s.tokens) for s in dev]
    assert_same_entities(model.predict_entities(sentences, marginals=True), exported.predict_entities(sentences, marginals=True))
