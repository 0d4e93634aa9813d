"""Encoder pre-training: masked words predict their vectors; the tagger starts from the saved encoder."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest
import torch
from task_fixtures import constant_baseline, tagged_sentences, tiny_vectors
from typer.testing import CliRunner

import veclift.cli
from veclift.errors import VecliftError
from veclift.pretrain.encoder import pretrain_encoder
from veclift.tasks.pretrained_encoder import PretrainedEncoder
from veclift.tasks import SequenceTagger, TaggerConfig, TrainResult
from veclift.embeddings import CasingEmbedder, CharEmbedder

veclift.cli._register()
runner = CliRunner()
SMALL = TaggerConfig(hidden=12, char_dim=6, char_filters=8, casing_dim=4, max_epochs=2)


def raw_sentences(n: int = 120, seed: int = 1) -> list[str]:
    return [" ".join(s.tokens) for s in tagged_sentences(n, seed=seed)]


@pytest.fixture(scope="module")
def encoder() -> PretrainedEncoder:
    return pretrain_encoder(raw_sentences(), tiny_vectors(), SMALL, epochs=5, mask_prob=0.3, seed=0, progress=False)


def test_loss_decreases_and_is_repeatable(encoder):
    losses = [h["loss"] for h in encoder.meta["history"]]
    assert losses[-1] < 0.8 * losses[0]
    again = pretrain_encoder(raw_sentences(), tiny_vectors(), SMALL, epochs=5, mask_prob=0.3, seed=0, progress=False)
    assert [h["loss"] for h in again.meta["history"]] == losses
    assert encoder.meta["known_tokens"] == encoder.meta["tokens"] > 0


def test_resuming_from_a_checkpoint_equals_pre_training_straight(encoder, tmp_path):
    options = dict(mask_prob=0.3, seed=0, progress=False)
    checkpoint = tmp_path / "pretrain.ckpt"
    pretrain_encoder(raw_sentences(), tiny_vectors(), SMALL, epochs=2, checkpoint=checkpoint, **options)
    resumed = pretrain_encoder(raw_sentences(), tiny_vectors(), SMALL, epochs=5, checkpoint=checkpoint, **options)
    rows = [{k: h[k] for k in ("epoch", "loss", "scored")} for h in resumed.meta["history"]]
    assert rows == [{k: h[k] for k in ("epoch", "loss", "scored")} for h in encoder.meta["history"]]
    a, b = encoder.encoder.state_dict(), resumed.encoder.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_saved_encoder_round_trip(encoder, tmp_path):
    encoder.save(tmp_path / "enc")
    loaded = PretrainedEncoder.load(tmp_path / "enc")
    assert loaded.architecture == encoder.architecture == {**{k: getattr(SMALL, k) for k in
        ("encoder", "hidden", "layers", "char", "char_dim", "char_filters", "casing", "casing_dim")}, "word_dim": 12}  # fmt: skip
    assert loaded.meta["history"] == encoder.meta["history"]
    for mine, theirs in [(encoder.encoder, loaded.encoder), *zip(encoder.features, loaded.features)]:
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert loaded.features[0].chars == encoder.features[0].chars


def _network_before_training(monkeypatch, config: TaggerConfig, train) -> dict[str, torch.Tensor]:
    """The tagger's weights as training receives them (training itself replaced by a no-op)."""
    seen = {}

    def no_training(network, examples, config, **options):
        seen.update({k: v.clone() for k, v in network.state_dict().items()})
        seen["model"] = network
        return TrainResult()

    monkeypatch.setattr("veclift.tasks.model.train_network", no_training)
    SequenceTagger(config).fit(train, vectors=tiny_vectors(), progress=False)
    return seen


def test_init_encoder_loads_the_weights(encoder, tmp_path, monkeypatch):
    encoder.save(tmp_path / "enc")
    train = tagged_sentences(20, seed=5, people=["Zoe", "Peter"])  # 'Z' is a character the pre-training never saw
    state = _network_before_training(monkeypatch, SMALL.replace(init_encoder=str(tmp_path / "enc")), train)
    for k, v in encoder.encoder.state_dict().items():
        assert torch.equal(state[f"encoder.{k}"], v)
    network = state["model"]
    chars, casing = network.embedder.part(CharEmbedder), network.embedder.part(CasingEmbedder)
    assert torch.equal(casing.embedding.weight, encoder.features[1].embedding.weight)
    source = encoder.features[0]
    assert torch.equal(chars.conv.weight, source.conv.weight)
    for char in "Peter":
        assert torch.equal(chars.embedding.weight[chars.char_index[char]], source.embedding.weight[source.char_index[char]])
    assert "Z" not in source.char_index
    plain = _network_before_training(monkeypatch, SMALL, train)
    assert not torch.equal(plain["encoder.lstm.weight_hh_l0"], state["encoder.lstm.weight_hh_l0"])


def test_initialised_tagger_saves_loads_and_predicts_identically(encoder, tmp_path):
    encoder.save(tmp_path / "enc")
    model = SequenceTagger(SMALL.replace(init_encoder=str(tmp_path / "enc")))
    model.fit(tagged_sentences(30), tagged_sentences(8, seed=3), vectors=tiny_vectors(), progress=False)
    model.save(tmp_path / "model")
    test = tagged_sentences(10, seed=4)
    assert SequenceTagger.load(tmp_path / "model").predict(test) == model.predict(test)
    scores = model.evaluate(test)
    assert scores["f1"] > 0 and scores["accuracy"] > constant_baseline(test)


@pytest.mark.parametrize(
    "change, expected",
    [({"hidden": 8}, "hidden 12 vs 8"), ({"encoder": "cnn"}, "encoder bilstm vs cnn"),
     ({"char": "none"}, "char cnn vs none"), ({"casing": False}, "embeddings words+char-cnn+casing vs words+char-cnn")],
)  # fmt: skip
def test_architecture_mismatch_is_one_line_error(encoder, tmp_path, change, expected):
    encoder.save(tmp_path / "enc")
    model = SequenceTagger(SMALL.replace(init_encoder=str(tmp_path / "enc"), **change))
    with pytest.raises(VecliftError) as error:
        model.fit(tagged_sentences(10), vectors=tiny_vectors(), progress=False)
    message = str(error.value)
    assert expected in message and "\n" not in message and str(tmp_path / "enc") in message


def test_not_an_encoder_directory(tmp_path):
    (tmp_path / "enc").mkdir()
    with pytest.raises(VecliftError, match="encoder.json is missing"):
        PretrainedEncoder.load(tmp_path / "enc")
    (tmp_path / "enc" / "encoder.json").write_text(json.dumps({"kind": "something else"}))
    (tmp_path / "enc" / "weights.safetensors").write_bytes(b"")
    with pytest.raises(VecliftError):
        PretrainedEncoder.load(tmp_path / "enc")


def test_cli_pretrains_and_trains_from_it(tmp_path):
    vectors = tmp_path / "vectors"
    tiny_vectors().save(vectors)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(raw_sentences(60)) + "\n", encoding="utf-8")  # a paragraph each
    conll = tmp_path / "train.conll"
    conll.write_text("".join("".join(f"{t} {g}\n" for t, g in zip(s.tokens, s.tags)) + "\n" for s in tagged_sentences(20)))
    result = runner.invoke(veclift.cli.app, ["pretrain", "encoder", str(corpus), "--vectors", str(vectors), "--output",
                                             str(tmp_path / "enc"), "--hidden", "6", "--epochs", "2", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["sentences"] == 60 and len(summary["history"]) == 2
    train = ["train", "ner", "--train", str(conll), "--vectors", str(vectors), "--output", str(tmp_path / "model"),
             "--epochs", "1", "--quiet", "--init-encoder", str(tmp_path / "enc")]  # fmt: skip
    assert runner.invoke(veclift.cli.app, [*train, "--hidden", "6"]).exit_code == 0
    mismatch = subprocess.run([sys.executable, "-m", "veclift", *train, "--overwrite"], capture_output=True, text=True, check=False)
    assert mismatch.returncode == 2 and mismatch.stderr.count("\n") == 1 and f"hidden 6 vs {TaggerConfig().hidden}" in mismatch.stderr


@pytest.mark.parametrize(
    "arguments",
    [["missing.txt", "--vectors", "VECTORS"], ["corpus.txt", "--vectors", "VECTORS", "--encoder", "gru"],
     ["corpus.txt", "--vectors", "VECTORS", "--mask-prob", "1.5"]],
)  # fmt: skip
def test_cli_bad_input_exits_2(tmp_path, arguments):
    tiny_vectors().save(tmp_path / "vectors")
    (tmp_path / "corpus.txt").write_text("John lives in Paris .\n", encoding="utf-8")
    arguments = [str(tmp_path / a) if a.endswith(".txt") else a.replace("VECTORS", str(tmp_path / "vectors")) for a in arguments]
    command = [sys.executable, "-m", "veclift", "pretrain", "encoder", *arguments, "--output", str(tmp_path / "enc")]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "enc").exists()


@pytest.mark.parametrize("edit, expected", [
    (lambda c: c.pop("architecture"), "broken pre-trained encoder description"),
    (lambda c: c["features"][0].pop("chars"), "broken pre-trained encoder description"),
    (lambda c: c["features"].append({"kind": "contextual", "mode": "frozen", "model": "/somewhere/else", "options": {}}),
     "features may only be of the kinds"),
])  # fmt: skip
def test_an_edited_encoder_description_is_one_line_error(encoder, tmp_path, edit, expected):
    encoder.save(tmp_path / "enc")
    config = json.loads((tmp_path / "enc" / "encoder.json").read_text())
    edit(config)
    (tmp_path / "enc" / "encoder.json").write_text(json.dumps(config))
    with pytest.raises(VecliftError, match=expected):
        PretrainedEncoder.load(tmp_path / "enc")


def test_the_cli_encoder_defaults_are_the_taggers(tmp_path):
    """`veclift pretrain encoder` with no shape options makes what `train ner --init-encoder` takes."""
    from veclift.cli.pretrain import encoder as command

    defaults = {p.name: p.default.default for p in inspect.signature(command).parameters.values()
                if p.name in ("encoder_kind", "hidden", "layers", "char", "casing")}  # fmt: skip
    tagger = TaggerConfig()
    assert defaults == {"encoder_kind": tagger.encoder, "hidden": tagger.hidden, "layers": tagger.layers,
                        "char": tagger.char, "casing": tagger.casing}  # fmt: skip
