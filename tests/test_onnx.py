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


@pytest.mark.parametrize("options", [{"encoder": "cnn", "members": 1}, {"encoder": "swem-concat", "members": 1},
                                     {"encoder": "bilstm-attention"}, {"encoder": "bilstm-max"},
                                     {"encoder": "swem-max", "members": 3, "multi_label": True}])  # fmt: skip
def test_an_exported_classifier_gives_the_same_probabilities(options, tmp_path):
    """One member (as models saved before members) or three (60 texts: by size), single- or multi-label."""
    model = TextClassifier(max_epochs=6, **options).fit(labeled_texts(60), vectors=tiny_vectors(), seed=0, progress=False)
    assert model.members == options.get("members", 3)
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
    inside = subprocess.run([*veclift, "export", str(tmp_path / "model"), "--to", "onnx", str(tmp_path / "model" / "x")], capture_output=True, text=True)
    assert inside.returncode == 2 and "inside the model" in inside.stderr
    again = subprocess.run([*veclift, "export", str(tmp_path / "model"), "--to", "onnx", str(tmp_path / "onnx")], capture_output=True, text=True)
    assert again.returncode == 2 and "--overwrite" in again.stderr and again.stderr.count("\n") == 1
    evaluate = subprocess.run([*veclift, "evaluate", str(tmp_path / "onnx"), str(source)], capture_output=True, text=True)
    assert evaluate.returncode == 2 and "ONNX export" in evaluate.stderr and evaluate.stderr.count("\n") == 1


def test_a_decoder_shipped_beside_the_graph_runs_without_veclift(tmp_path):
    """The export's graph and decoding.py, run by onnxruntime and NumPy in a process where veclift
    cannot be imported, give the torch model's tags."""
    model = SequenceTagger(max_epochs=3, char="none", casing=False, **FAST).fit(
        tagged_sentences(30), vectors=tiny_vectors(), seed=0, progress=False)  # fmt: skip
    export_onnx(model, tmp_path / "onnx")
    sentence = ["Lucy", "lives", "in", "Vienna"]
    script = f"""
import json, sys
sys.modules["veclift"] = None  # importing veclift now fails
import numpy as np, onnxruntime
sys.path.insert(0, {str(tmp_path / "onnx")!r})
from decoding import Decoder
meta = json.load(open({str(tmp_path / "onnx" / "export.json")!r}))
words = meta["features"][0]
index = {{w: i for i, w in enumerate(words["words"]) if w}}
ids = np.array([[index.get(t.lower() if words["lowercase"] else t, 1) for t in {sentence!r}]])
session = onnxruntime.InferenceSession({str(tmp_path / "onnx" / "model.onnx")!r})
emissions = session.run(None, {{"mask": ids > -1, "word_ids": ids, "extra_rows": np.zeros((0, words["dim"]), np.float32)}})[0]
crf = {{k: np.array(v, np.float32) for k, v in meta["crf"].items()}}
print(json.dumps(Decoder(meta["labels"], crf).decode(emissions, np.array([4]))[0]["tags"]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == model.predict([sentence])[0]


def test_models_that_cannot_be_exported_and_broken_exports_are_one_error(tmp_path):
    model = SequenceTagger(max_epochs=1, **FAST).fit(tagged_sentences(20), vectors=tiny_vectors(), seed=0, progress=False)
    export_onnx(model, tmp_path / "onnx")
    good = {name: (tmp_path / "onnx" / name).read_bytes() for name in ("model.onnx", "export.json", "oov_rows.npy")}
    (tmp_path / "onnx" / "oov_rows.npy").write_bytes(good["oov_rows.npy"][:100])
    with pytest.raises(VecliftError, match="cannot read the OOV chain's rows"):
        OnnxModel(tmp_path / "onnx")
    np.save(tmp_path / "onnx" / "oov_rows.npy", np.zeros((2, 3), np.float32))
    with pytest.raises(VecliftError, match="float32 rows, found"):
        OnnxModel(tmp_path / "onnx")
    (tmp_path / "onnx" / "oov_rows.npy").write_bytes(good["oov_rows.npy"])
    meta = json.loads(good["export.json"])
    (tmp_path / "onnx" / "export.json").write_text(json.dumps({**meta, "inputs": meta["inputs"][::-1]}))
    with pytest.raises(VecliftError, match="inputs .* do not match export.json"):
        OnnxModel(tmp_path / "onnx")
    (tmp_path / "onnx" / "export.json").write_text(json.dumps({**meta, "labels": ["O", "O"]}))
    with pytest.raises(VecliftError, match="labels must be distinct"):
        OnnxModel(tmp_path / "onnx")
    (tmp_path / "onnx" / "export.json").write_bytes(good["export.json"])
    (tmp_path / "onnx" / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(VecliftError, match="cannot read model.onnx"):
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


def test_vectors_given_at_prediction_give_the_same_rows_in_both_runtimes(tmp_path):
    from veclift.vectors import Vectors

    model = SequenceTagger(max_epochs=4, **FAST).fit(tagged_sentences(40), vectors=tiny_vectors(), seed=0, progress=False)
    export_onnx(model, tmp_path / "onnx")
    exported = OnnxModel(tmp_path / "onnx", threads=1)
    base = tiny_vectors()
    rng = np.random.default_rng(0)
    extra = Vectors([*base.words, "zyxwv", "qortl"], np.vstack([base.matrix, rng.normal(size=(2, base.dim)).astype(np.float32)]))
    sentences = [["Zyxwv", "lives", "in", "Qortl"], ["Lucy", "met", "Zyxwv"]]
    for vectors in (None, extra, None):
        assert_same_entities(model.predict_entities(sentences, vectors=vectors, marginals=True),
                             exported.predict_entities(sentences, vectors=vectors, marginals=True))  # fmt: skip
    wrong = Vectors(["zyxwv"], np.zeros((1, base.dim + 1), np.float32))
    for runtime in (model, exported):
        with pytest.raises(VecliftError, match="dimensions"):
            runtime.predict_entities([["Zyxwv", "Qortl", "x"]], vectors=wrong)


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
