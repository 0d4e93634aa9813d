"""The demo's sample tells the transfer story, and the demo runs end to end."""

import subprocess
import sys

import pytest

from veclift.demo import EXAMPLES, demo_data
from veclift.vectors import Vectors


def test_every_test_entity_is_unseen_in_training_and_known_to_glove():
    train, test = demo_data()
    train_words = {t.lower() for s in train for t in s.tokens}
    glove = Vectors.load("glove-6b-50d", progress=False)
    entities = [s.tokens[a:b] for s in test for _, a, b in s.entities()]
    assert len(train) >= 300 and len(entities) >= 150
    assert {kind for s in train + test for kind, _, _ in s.entities()} == {"PER", "LOC", "FOOD"}
    for tokens in entities:
        assert all(t.lower() not in train_words and t.lower() in glove for t in tokens), tokens


def test_example_sentences_hold_no_training_entity():
    train, test = demo_data()
    train_entities = {t.lower() for s in train for _, a, b in s.entities() for t in s.tokens[a:b]}
    test_entities = {t.lower() for s in test for _, a, b in s.entities() for t in s.tokens[a:b]}
    for text in EXAMPLES:
        words = {w.lower() for w in text.split()}
        assert words & test_entities and not words & train_entities, text


@pytest.mark.slow
def test_demo_command_writes_the_report(tmp_path):
    done = subprocess.run([sys.executable, "-m", "veclift", "demo", "--output", str(tmp_path / "demo"), "--seeds", "1"],
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo" / "report.html").is_file()
    assert "finetune" in done.stdout and "Example predictions" in done.stdout
