"""Model directories and checkpoints from elsewhere: nothing runs, nothing outside is read, every
defect is one VecliftError."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch
from task_fixtures import tagged_sentences, tiny_vectors

from veclift.errors import VecliftError
from veclift.tasks import SequenceTagger, load_model

FAST = dict(hidden=8, char_filters=6, batch_size=8, max_epochs=1, oov="lower,char-ngram")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("model")
    model = SequenceTagger(**FAST).fit(tagged_sentences(12), vectors=tiny_vectors(), progress=False)
    model.save(root / "good")
    return root / "good"


@pytest.fixture
def copy(saved, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(saved, target)
    return target


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _corrupt_oov(directory):
    (directory / "oov" / "char_ngram.safetensors").write_bytes(b"\x00garbage" * 10)


def _wrong_dim_oov(directory):
    from safetensors.numpy import save_file

    save_file({"weights": np.zeros((16, 3), np.float32)}, str(directory / "oov" / "char_ngram.safetensors"))


def _wrong_dim_weights(directory):
    from safetensors.torch import load_file, save_file

    state = load_file(str(directory / "weights.safetensors"))
    key = next(k for k in state if k.endswith("tagger.weight") or k.endswith(".weight"))
    state[key] = torch.zeros(3, 3)
    save_file(state, str(directory / "weights.safetensors"))


DEFECTS = {
    "config-missing": lambda d: (d / "config.json").unlink(),
    "config-not-json": lambda d: (d / "config.json").write_text("{not json"),
    "config-not-object": lambda d: (d / "config.json").write_text("[1, 2]"),
    "config-missing-labels": lambda d: _edit_json(d / "config.json", lambda c: c.pop("labels")),
    "labels-a-string": lambda d: _edit_json(d / "config.json", lambda c: c.update(labels="B-PER")),
    "config-missing-config": lambda d: _edit_json(d / "config.json", lambda c: c.pop("config")),
    "hidden-a-string": lambda d: _edit_json(d / "config.json", lambda c: c["config"].update(hidden="big")),
    "unknown-option": lambda d: _edit_json(d / "config.json", lambda c: c["config"].update(epochs=3)),
    "unknown-task": lambda d: _edit_json(d / "config.json", lambda c: c.update(task="parse")),
    "embedders-broken": lambda d: (d / "embedders.json").write_text('{"kind": "stack"}'),
    "embedders-wrong-kind": lambda d: (d / "embedders.json").write_text('{"kind": "telepathy"}'),
    "weights-missing": lambda d: (d / "weights.safetensors").unlink(),
    "weights-corrupt": lambda d: (d / "weights.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{"),
    "weights-wrong-dim": _wrong_dim_weights,
    "oov-corrupt": _corrupt_oov,
    "oov-wrong-dim": _wrong_dim_oov,
    "oov-spec-wrong-type": lambda d: (d / "oov" / "oov.json").write_text('{"spec": 5}'),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_every_defect_of_a_model_directory_is_one_clear_error(copy, defect):
    DEFECTS[defect](copy)
    with pytest.raises(VecliftError) as info:
        load_model(copy)
    assert "\n" not in str(info.value) and str(copy) in str(info.value)


def test_a_symlinked_weights_file_is_refused(copy, tmp_path):
    outside = tmp_path / "elsewhere.safetensors"
    (copy / "weights.safetensors").rename(outside)
    os.symlink(outside, copy / "weights.safetensors")
    with pytest.raises(VecliftError, match="symbolic link"):
        load_model(copy)


def test_a_contextual_encoder_path_that_leaves_the_directory_is_refused(copy, tmp_path):
    description = {"kind": "stack", "parts": [{"kind": "contextual", "mode": "frozen", "model": "../../etc",
                                                 "options": {}}]}  # fmt: skip
    (copy / "embedders.json").write_text(json.dumps(description))
    with pytest.raises(VecliftError, match="leaves the folder"):
        load_model(copy)
    description["parts"][0]["model"] = str(tmp_path)
    (copy / "embedders.json").write_text(json.dumps(description))
    with pytest.raises(VecliftError, match="leaves the folder"):
        load_model(copy)


class _Payload:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_checkpoint_carrying_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    checkpoint = tmp_path / "train.ckpt"
    torch.save({"network": _Payload(marker)}, checkpoint)
    assert not marker.exists()
    with pytest.raises(VecliftError, match="cannot read as a veclift checkpoint"):
        SequenceTagger(**FAST).fit(tagged_sentences(12), vectors=tiny_vectors(), checkpoint=checkpoint, progress=False)
    assert not marker.exists()


def test_a_checkpoint_of_another_configuration_is_one_error(tmp_path):
    checkpoint = tmp_path / "train.ckpt"
    data = tagged_sentences(12)
    SequenceTagger(**FAST).fit(data, vectors=tiny_vectors(), checkpoint=checkpoint, progress=False)
    resumed = SequenceTagger(**{**FAST, "max_epochs": 2}).fit(data, vectors=tiny_vectors(), checkpoint=checkpoint,
                                                              progress=False)  # fmt: skip
    assert len(resumed.train_result.history) == 2
    with pytest.raises(VecliftError, match="another model configuration"):
        SequenceTagger(**{**FAST, "hidden": 12}).fit(data, vectors=tiny_vectors(), checkpoint=checkpoint, progress=False)
