"""The tagger: CRF against brute force, masks, learning, determinism, resumable training."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from task_fixtures import CITIES, PEOPLE, constant_baseline, tagged_sentences, tiny_vectors

from veclift.data import TaggedSentence
from veclift.errors import VecliftError, VecliftWarning
from veclift.tasks import SequenceTagger
from veclift.tasks.crf import CRF
from veclift.tasks.tagger import OPEN, TaggerNetwork
from veclift.tasks.decoding import viterbi

FAST = dict(hidden=16, char_filters=8, batch_size=8, lr=0.01)


def random_crf(n_tags: int, seed: int) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(n_tags)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def brute_force(crf: CRF, emissions: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """log Z and the best path of one sequence by enumerating every tag sequence."""
    length, n_tags = emissions.shape
    scores = {}
    for path in itertools.product(range(n_tags), repeat=length):
        tags = torch.tensor([path])
        scores[path] = crf.score(emissions[None], tags, torch.ones(1, length, dtype=torch.bool))[0]
    log_z = torch.logsumexp(torch.stack(list(scores.values())), 0)
    return log_z, list(max(scores, key=lambda p: scores[p]))


@pytest.mark.parametrize("seed", [0, 1])
def test_partial_targets_count_every_allowed_path(seed):
    """An OPEN target: minus the log of the summed probability of the paths through the open tags
    there (brute force); one-hot targets as plain ones."""
    crf = random_crf(3, seed)
    torch.manual_seed(seed + 20)
    emissions = torch.randn(2, 3, 3)
    mask = torch.tensor([[True, True, True], [True, True, False]])
    tags = torch.tensor([[2, OPEN, 1], [OPEN, 0, 0]])
    network = SimpleNamespace(open_tags=[0, 2], output=SimpleNamespace(out_features=3))
    allowed = TaggerNetwork.allowed_tags(network, tags)
    assert allowed[0, 1].tolist() == [True, False, True] and allowed[0, 0].tolist() == [False, False, True]
    nll = crf.nll(emissions, tags, mask, allowed)
    for b, length in enumerate((3, 2)):
        log_z, _ = brute_force(crf, emissions[b, :length])
        paths = [p for p in itertools.product(range(3), repeat=length) if all(allowed[b, t, p[t]] for t in range(length))]
        scores = torch.stack([crf.score(emissions[b : b + 1, :length], torch.tensor([p]), torch.ones(1, length, dtype=torch.bool))[0]
                              for p in paths])  # fmt: skip
        assert nll[b].item() == pytest.approx((log_z - torch.logsumexp(scores, 0)).item(), abs=1e-4)
    plain = torch.tensor([[2, 0, 1], [1, 0, 0]])
    one_hot = torch.nn.functional.one_hot(plain, 3).bool()
    assert torch.allclose(crf.nll(emissions, plain, mask, one_hot), crf.nll(emissions, plain, mask), atol=1e-4)
    with pytest.raises(ValueError, match="open_tags"):
        TaggerNetwork.allowed_tags(SimpleNamespace(open_tags=[], output=network.output), tags)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crf_matches_brute_force_with_padding(seed):
    crf = random_crf(3, seed)
    torch.manual_seed(seed + 10)
    lengths = [4, 1, 3]
    emissions = torch.randn(3, 4, 3)
    mask = torch.arange(4)[None, :] < torch.tensor(lengths)[:, None]
    padded = emissions.masked_fill(~mask[..., None], 99.0)  # garbage in padding must not matter
    log_z = crf.log_partition(padded, mask)
    paths = viterbi(padded.numpy(), np.array(lengths), **crf.weights())
    for b, n in enumerate(lengths):
        expected_z, expected_path = brute_force(crf, emissions[b, :n])
        assert log_z[b].item() == pytest.approx(expected_z.item(), abs=1e-5)
        assert paths[b] == expected_path
    best = torch.zeros(3, 4, dtype=torch.long)
    for b, path in enumerate(paths):
        best[b, : len(path)] = torch.tensor(path)
    nll = crf.nll(padded, best, mask)
    assert torch.all(nll >= -1e-5)


def test_learns_an_easy_pattern_and_reports_the_transfer_view():
    train, test = tagged_sentences(60, seed=0), tagged_sentences(20, seed=1)
    model = SequenceTagger(max_epochs=12, **FAST).fit(train, test, vectors=tiny_vectors(), seed=0, progress=False)
    scores = model.evaluate(test)
    assert scores["f1"] > 0.9 and scores["accuracy"] > constant_baseline(test)
    assert set(scores["per_type"]) == {"PER", "LOC"}
    unseen = tagged_sentences(20, seed=2, people=PEOPLE[4:], cities=CITIES[4:])
    unseen_scores = model.evaluate(unseen)
    assert unseen_scores["f1"] > 0 and unseen_scores["accuracy"] > constant_baseline(unseen)
    transfer = unseen_scores["transfer"]
    assert transfer["unseen"]["gold"] == sum(len(s.entities()) for s in unseen)
    assert transfer["known"]["gold"] == transfer["unseen"]["gold"]  # the vectors know every new name
    assert model.predict(["Lucy lives in Vienna ."]) == [["B-PER", "O", "O", "B-LOC", "O"]]


@pytest.mark.parametrize("options", [dict(encoder="cnn", head="softmax", char="lstm"), dict(char="none", casing=False)])
def test_other_architectures_train(options):
    train = tagged_sentences(40)
    model = SequenceTagger(max_epochs=8, **{**FAST, **options}).fit(train, vectors=tiny_vectors(), progress=False)
    scores = model.evaluate(train)
    assert scores["f1"] > 0.8 and scores["accuracy"] > constant_baseline(train)
    assert model.predict([[]]) == [[]]


def test_same_seed_same_weights():
    train = tagged_sentences(16)

    def weights(seed):
        model = SequenceTagger(max_epochs=2, **FAST).fit(train, train[:4], vectors=tiny_vectors(), seed=seed, progress=False)
        return model.network.state_dict()

    a, b, c = weights(3), weights(3), weights(4)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_resuming_from_a_checkpoint_equals_training_straight(tmp_path):
    train, dev = tagged_sentences(16), tagged_sentences(4, seed=5)
    straight = SequenceTagger(max_epochs=4, patience=0, **FAST).fit(train, dev, vectors=tiny_vectors(), progress=False)
    checkpoint = tmp_path / "run.ckpt"
    SequenceTagger(max_epochs=2, patience=0, **FAST).fit(train, dev, vectors=tiny_vectors(), checkpoint=checkpoint, progress=False)
    resumed = SequenceTagger(max_epochs=4, patience=0, **FAST).fit(train, dev, vectors=tiny_vectors(), checkpoint=checkpoint, progress=False)
    assert [r["epoch"] for r in resumed.train_result.history] == [1, 2, 3, 4]
    a, b = straight.network.state_dict(), resumed.network.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_early_stopping_keeps_the_best_epoch():
    train = tagged_sentences(30)
    model = SequenceTagger(max_epochs=30, patience=2, **FAST).fit(train, train[:10], vectors=tiny_vectors(), progress=False)
    result = model.train_result
    assert result.stopped_early and len(result.history) == result.best_epoch + 2
    scores = model.evaluate(train[:10])
    assert scores["f1"] == result.best_score > 0 and scores["accuracy"] > constant_baseline(train[:10])


def test_bad_input_is_reported():
    model = SequenceTagger(max_epochs=1, **FAST)
    with pytest.raises(VecliftError, match="empty"):
        model.fit([], vectors=tiny_vectors(), progress=False)
    with pytest.raises(VecliftError, match="not trained"):
        model.predict([["a"]])
    model.fit(tagged_sentences(8), vectors=tiny_vectors(), progress=False)
    trained = model.evaluate(tagged_sentences(8))
    assert trained["f1"] > 0 and trained["accuracy"] > constant_baseline(tagged_sentences(8))
    with pytest.warns(VecliftWarning, match="sentence 2: tag 'B-ORG' is not one the model knows.*1 sentence"):
        scores = model.evaluate([TaggedSentence(["Paris"], ["B-LOC"]), TaggedSentence(["EU"], ["B-ORG"])])
    assert scores["gold_entities"] == 2 and scores["recall"] <= 0.5  # the ORG entity is missed
