"""Decoding in NumPy: Viterbi equal to the torch CRF's, marginals and entity confidences equal to
their brute-force values, and what `predict_entities` / `veclift predict` answer with them."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from task_fixtures import tagged_sentences, tiny_vectors

from veclift.data.tokenize import joined_with_offsets, token_offsets
from veclift.errors import VecliftError
from veclift.tasks import SequenceTagger
from veclift.tasks.crf import CRF
from veclift.tasks.decoding import Decoder, chunks, forward_backward, viterbi

LABELS = ["O", "B-PER", "I-PER", "B-LOC"]
FAST = dict(hidden=16, char_filters=8, batch_size=8, lr=0.01)


def random_crf(seed: int) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(len(LABELS))
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def path_probabilities(crf: CRF, emissions: np.ndarray) -> dict[tuple[int, ...], float]:
    """P(path) for every tag sequence of one sentence, by enumeration."""
    length = len(emissions)
    scores = {}
    for path in itertools.product(range(len(LABELS)), repeat=length):
        tags = torch.tensor([path])
        scores[path] = crf.score(torch.tensor(emissions)[None], tags, torch.ones(1, length, dtype=torch.bool))[0].item()
    top = max(scores.values())
    weights = {p: np.exp(s - top) for p, s in scores.items()}
    total = sum(weights.values())
    return {p: w / total for p, w in weights.items()}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_marginals_and_entity_confidences_equal_brute_force(seed):
    crf = random_crf(seed)
    rng = np.random.default_rng(seed)
    lengths = np.array([4, 1, 3])
    emissions = rng.normal(size=(3, 4, len(LABELS))).astype(np.float32) * 2
    padded = emissions.copy()
    padded[1, 1:] = 50.0  # garbage beyond a length must not matter
    padded[2, 3:] = -50.0
    decoder = Decoder(LABELS, crf.weights())
    answers = decoder.decode(padded, lengths, marginals=True)
    _, _, log_z = forward_backward(padded, lengths, **crf.weights())
    assert log_z[0] == pytest.approx(crf.log_partition(torch.tensor(padded[:1]), torch.ones(1, 4, dtype=torch.bool)).item(), abs=1e-4)
    for b, n in enumerate(lengths):
        probabilities = path_probabilities(crf, emissions[b, :n])
        best = max(probabilities, key=probabilities.get)
        assert [LABELS.index(t) for t in answers[b]["tags"]] == list(best)
        for t in range(n):
            for label in range(len(LABELS)):
                expected = sum(p for path, p in probabilities.items() if path[t] == label)
                assert answers[b]["marginals"][t, label] == pytest.approx(expected, abs=1e-6)
        for kind, s, e, score in answers[b]["entities"]:
            def same_entity(path):
                tags = [LABELS[i] for i in path]
                return tags[s:e] == answers[b]["tags"][s:e] and (kind, s, e) in chunks(tags)

            expected = sum(p for path, p in probabilities.items() if same_entity(path))
            assert score == pytest.approx(expected, abs=1e-6)
            assert 0 < score <= 1


def test_a_span_opened_by_a_stray_inside_tag_counts_only_paths_where_it_is_a_span():
    """[O, I-PER] decoded: paths with B-PER or I-PER before it make one longer entity, not this one."""
    labels = ["O", "B-PER", "I-PER"]
    zeros = {"transitions": np.zeros((3, 3), np.float32), "start": np.zeros(3, np.float32), "end": np.zeros(3, np.float32)}
    emissions = np.log(np.array([[[0.4, 0.35, 0.25], [0.05, 0.05, 0.9]]], np.float32))
    answer = Decoder(labels, zeros).decode(emissions, np.array([2]))[0]
    assert answer["tags"] == ["O", "I-PER"]
    assert answer["entities"] == [("PER", 1, 2, pytest.approx(0.4 * 0.9, abs=1e-6))]


@pytest.mark.parametrize("seed", range(20))
def test_chunks_equal_the_conlleval_spans_on_random_tags(seed):
    from veclift.data.schemes import spans

    rng = np.random.default_rng(seed)
    tags = list(rng.choice(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], size=int(rng.integers(0, 12))))
    assert chunks(tags) == [tuple(s) for s in spans(tags)]


def test_numpy_viterbi_is_the_torch_viterbi_it_replaced():
    """The batched Viterbi that was in `CRF` (same operations in torch) gives the same paths."""
    crf = random_crf(7)
    rng = np.random.default_rng(7)
    emissions = torch.tensor(rng.normal(size=(64, 12, len(LABELS))).astype(np.float32))
    lengths = torch.tensor(rng.integers(1, 13, size=64))
    mask = torch.arange(12)[None, :] < lengths[:, None]
    score, history = crf.start + emissions[:, 0], []
    with torch.no_grad():
        for t in range(1, 12):
            best, index = (score[:, :, None] + crf.transitions).max(dim=1)
            score = torch.where(mask[:, t, None], best + emissions[:, t], score)
            history.append(index)
        current = (score + crf.end).argmax(dim=1)
        path = torch.empty(mask.shape, dtype=torch.long)
        for t in range(11, -1, -1):
            path[:, t] = current
            if t > 0:
                current = torch.where(t < lengths, history[t - 1].gather(1, current[:, None]).squeeze(1), current)
    expected = [path[b, :n].tolist() for b, n in enumerate(lengths.tolist())]
    assert viterbi(emissions.numpy(), lengths.numpy(), **crf.weights()) == expected


def test_softmax_head_confidence_is_the_product_of_token_probabilities():
    emissions = np.log(np.array([[[0.1, 0.8, 0.05, 0.05], [0.1, 0.1, 0.7, 0.1], [0.9, 0.05, 0.03, 0.02]]], np.float32))
    answer = Decoder(LABELS).decode(emissions, np.array([3]))[0]
    assert answer["tags"] == ["B-PER", "I-PER", "O"]
    assert answer["entities"] == [("PER", 0, 2, pytest.approx(0.8 * 0.7, rel=1e-5))]


@pytest.mark.parametrize("tags, expected", [
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
    (["I-PER", "I-PER", "B-PER", "I-LOC"], [("PER", 0, 2), ("PER", 2, 3), ("LOC", 3, 4)]),
    (["O", "O"], []),
])  # fmt: skip
def test_chunks_agree_with_the_conlleval_reading(tags, expected):
    from veclift.data.schemes import spans

    assert chunks(tags) == expected == [tuple(s) for s in spans(tags)]


def test_offsets_of_tokens_in_their_text():
    assert token_offsets("Kevin  flew to\tVienna.", ["Kevin", "flew", "to", "Vienna", "."]) == [(0, 5), (7, 11), (12, 14), (15, 21), (21, 22)]
    assert token_offsets("Kevin flew", ["Kevin", "ran"]) is None
    assert token_offsets("Parisian Paris", ["Paris"]) is None and token_offsets("the cat sat", ["a", "sat"]) is None
    assert joined_with_offsets(["New", "York"]) == ("New York", [(0, 3), (4, 8)])


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """``veclift ARGS`` in this process: (code, stdout, stderr)."""
    import sys
    from types import SimpleNamespace

    from veclift.cli import main

    def run(*args: str) -> SimpleNamespace:
        monkeypatch.setattr(sys, "argv", ["veclift", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        captured = capsys.readouterr()
        return SimpleNamespace(code=exit_info.value.code, out=captured.out, err=captured.err)

    return run


@pytest.fixture(scope="module")
def tagger():
    train, dev = tagged_sentences(60, seed=0), tagged_sentences(20, seed=1)
    return SequenceTagger(max_epochs=12, **FAST).fit(train, dev, vectors=tiny_vectors(), seed=0, progress=False)


def test_entities_carry_character_offsets_and_confidences(tagger):
    text = "Lucy  lives in\tVienna ."
    [answer] = tagger.predict_entities([text])
    assert [(e["label"], e["text"]) for e in answer["entities"]] == [("PER", "Lucy"), ("LOC", "Vienna")]
    for entity in answer["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"]
        assert 0.5 < entity["score"] <= 1
    assert answer["tags"] == tagger.predict([text])[0]
    [joined] = tagger.predict_entities([["Lucy", "lives", "in", "Vienna", "."]], marginals=True)
    assert joined["text"] == "Lucy lives in Vienna ."
    assert [(e["start"], e["end"]) for e in joined["entities"]] == [(0, 4), (14, 20)]
    assert len(joined["marginals"]) == 5
    for row in joined["marginals"]:
        assert set(row) == set(tagger.labels) and sum(row.values()) == pytest.approx(1, abs=1e-4)
    assert max(joined["marginals"][0], key=joined["marginals"][0].get) == "B-PER"


def test_a_bare_string_is_refused_rather_than_read_per_character(tagger):
    with pytest.raises(VecliftError, match=r"not one string: pass \[text\]"):
        tagger.predict("Lucy lives in Vienna .")
    with pytest.raises(VecliftError, match="not one string"):
        tagger.predict_entities("Lucy lives in Vienna .")


def test_predict_cli_writes_offsets_confidences_and_marginals(tagger, tmp_path, run_cli):
    tagger.save(tmp_path / "model")
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "Lucy  lives in Vienna .", "id": 7}) + "\n" + json.dumps({"tokens": ["Paul", "lives", "in", "Rome"]}) + "\n")
    result = run_cli("predict", str(tmp_path / "model"), str(source), "--marginals")
    assert result.code == 0, result.err
    first, second = (json.loads(line) for line in result.out.splitlines())
    assert first["id"] == 7 and [(e["text"], e["start"], e["end"]) for e in first["entities"]][0] == ("Lucy", 0, 4)
    assert all(0 < e["score"] <= 1 for e in first["entities"]) and len(first["marginals"]) == 5
    assert second["text"] == "Paul lives in Rome" and second["entities"][-1]["start"] == 14
    plain = tmp_path / "in.txt"
    plain.write_text("Lucy lives in Vienna .\n")
    columns = run_cli("predict", str(tmp_path / "model"), str(plain))
    assert columns.out.splitlines()[0] == "Lucy\tB-PER"
    lines = run_cli("predict", str(tmp_path / "model"), str(plain), "--output-format", "jsonl")
    assert json.loads(lines.out)["entities"][0]["label"] == "PER"
    source.write_text(json.dumps({"text": "Lucy lives", "tokens": ["Lucy", "sleeps"]}) + "\n")
    mismatch = run_cli("predict", str(tmp_path / "model"), str(source))
    assert mismatch.code == 2 and "tokens do not spell its text" in mismatch.err and mismatch.err.count("\n") == 1


def test_rows_for_words_met_at_prediction_stay_bounded(tagger, monkeypatch):
    """A service meets endless new words: the rows added for them are dropped past a bound, and
    predictions stay what a fresh model gives."""
    import veclift.embeddings.words as words_module

    monkeypatch.setattr(words_module, "MAX_ADDED_ROWS", 50)
    words = tagger.words
    start = len(words.fixed_words)
    rng = np.random.default_rng(0)
    for _ in range(10):
        batch = [["".join(rng.choice(list("abcdefgh"), 7)) for _ in range(20)] + ["lives", "in", "Vienna"]]
        first = tagger.predict(batch)
        assert len(words.fixed_words) - start <= 50 + 23 and len(words.fixed) == len(words.fixed_words)
    assert tagger.predict(batch) == first
    assert tagger.predict([["Lucy", "lives", "in", "Vienna", "."]]) == [["B-PER", "O", "O", "B-LOC", "O"]]


BIO_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_iob2_transitions_allow_inside_tags_only_inside_their_entity():
    from veclift.data.schemes import iob2_transitions

    allowed, start = iob2_transitions(BIO_LABELS)
    forbidden = {(a, b) for a in BIO_LABELS for b in BIO_LABELS if not allowed[BIO_LABELS.index(a)][BIO_LABELS.index(b)]}
    assert forbidden == {("O", "I-PER"), ("O", "I-LOC"), ("B-LOC", "I-PER"), ("I-LOC", "I-PER"),
                         ("B-PER", "I-LOC"), ("I-PER", "I-LOC")}  # fmt: skip
    assert start == [True, True, False, True, False]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_constrained_crf_gives_forbidden_paths_no_probability(seed):
    """log Z sums the IOB2-valid paths only (brute force); Viterbi, marginals and entity scores
    never take a forbidden path even when the emissions push to one."""
    from veclift.data.schemes import iob2_transitions, tag_problems

    torch.manual_seed(seed)
    crf = CRF(len(BIO_LABELS), iob2_transitions(BIO_LABELS))
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    free = CRF(len(BIO_LABELS))
    free.load_state_dict(crf.state_dict())  # the mask is not part of the state: the same parameters
    rng = np.random.default_rng(seed)
    emissions = rng.normal(size=(2, 4, len(BIO_LABELS))).astype(np.float32)
    emissions[:, :, 2] += 3.0  # I-PER everywhere, from the first token
    lengths = np.array([4, 3])
    ones = torch.ones(1, 4, dtype=torch.bool)
    valid = [p for p in itertools.product(range(len(BIO_LABELS)), repeat=4)
             if not tag_problems([BIO_LABELS[i] for i in p], "iob2")]  # fmt: skip
    scores = torch.stack([free.score(torch.tensor(emissions[:1]), torch.tensor([p]), ones)[0] for p in valid])
    assert crf.log_partition(torch.tensor(emissions[:1]), ones).item() == pytest.approx(torch.logsumexp(scores, 0).item(), abs=1e-3)
    assert free.log_partition(torch.tensor(emissions[:1]), ones).item() > torch.logsumexp(scores, 0).item() + 1e-3
    answers = Decoder(BIO_LABELS, crf.weights()).decode(emissions, lengths, marginals=True)
    unconstrained = Decoder(BIO_LABELS, free.weights()).decode(emissions, lengths)
    assert any(tag_problems(a["tags"], "iob2") for a in unconstrained)  # the push works without the mask
    for answer in answers:
        assert not tag_problems(answer["tags"], "iob2")
        assert answer["marginals"][0, 2] < 1e-6 and answer["marginals"][0, 4] < 1e-6  # no sentence opens inside


def test_bio_constraints_survive_saving_and_growing(tmp_path):
    from veclift.data.schemes import tag_problems
    from veclift.tasks import load_model

    from veclift.data import TaggedSentence

    two_word = [TaggedSentence([first, "Smith", "visited", city, "."], ["B-PER", "I-PER", "O", "B-LOC", "O"])
                for first in ("John", "Mary", "Anna") for city in ("Paris", "Rome")]  # fmt: skip
    model = SequenceTagger(embeddings="scratch", bio_constraints=True, max_epochs=2, **FAST)
    model.fit(two_word * 4, seed=0, progress=False)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.network.crf.constrained and loaded.config.bio_constraints
    assert np.array_equal(loaded.network.crf.weights()["transitions"], model.network.crf.weights()["transitions"])
    with torch.no_grad():
        loaded.network.output.bias[loaded.labels.index("I-PER")] += 100.0  # the model would say I-PER everywhere
    assert all(not tag_problems(tags, "iob2") for tags in loaded.predict([["Paris", "is", "nice"], ["John"]]))
    loaded.network.add_tags([*loaded.labels, "B-ORG", "I-ORG"])
    transitions = loaded.network.crf.weights()["transitions"]
    assert transitions[0, -1] < -1e3 and transitions[-2, -1] == 0.0  # O -> I-ORG forbidden, B-ORG -> I-ORG free


def test_a_model_saved_before_bio_constraints_existed_loads_without_them(tmp_path):
    import json

    from veclift.tasks import load_model

    model = SequenceTagger(embeddings="scratch", max_epochs=1, **FAST)
    model.fit(tagged_sentences(20), seed=0, progress=False)
    assert model.config.bio_constraints and model.network.crf.constrained  # today's default
    model.save(tmp_path / "m")
    config = tmp_path / "m" / "config.json"
    meta = json.loads(config.read_text())
    del meta["config"]["bio_constraints"]
    config.write_text(json.dumps(meta))
    old = load_model(tmp_path / "m")
    assert not old.config.bio_constraints and not old.network.crf.constrained
