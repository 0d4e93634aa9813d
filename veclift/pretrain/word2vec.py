"""word2vec (skip-gram or CBOW) on gensim, trained on a `Corpus`, returned as veclift `Vectors`."""

from __future__ import annotations

from gensim.models import Word2Vec

from veclift.errors import VecliftError
from veclift.pretrain.corpus import Corpus
from veclift.pretrain.training import PreparedCorpus, as_prepared, build_vocabulary, negative_samples_for, run_gensim
from veclift.vectors.core import Vectors


def word2vec_options(
    prepared: PreparedCorpus,
    *,
    dim: int,
    window: int,
    epochs: int,
    min_count: int,
    sg: bool,
    negative: int | None,
    hs: bool,
    sample: float,
    ns_exponent: float,
    workers: int,
    seed: int,
) -> dict:
    """gensim keyword arguments; ``negative=None`` picks k from the corpus size (0 with ``hs``)."""
    if not prepared.vocabulary.kept(min_count):
        raise VecliftError(f"no word occurs {min_count} times or more: lower --min-count")
    if negative is None:
        negative = 0 if hs else negative_samples_for(prepared.vocabulary.tokens)
    if not hs and negative <= 0:
        raise VecliftError("choose negative sampling (--negative K, K > 0) or hierarchical softmax (--hs)")
    return dict(
        vector_size=dim,
        window=window,
        epochs=epochs,
        min_count=min_count,
        sg=int(sg),
        hs=int(hs),
        negative=negative,
        ns_exponent=ns_exponent,
        sample=sample,
        workers=workers,
        seed=seed,
    )


def train_word2vec(
    corpus: Corpus | PreparedCorpus,
    *,
    dim: int = 100,
    window: int = 5,
    epochs: int = 5,
    min_count: int = 5,
    sg: bool = True,
    negative: int | None = None,
    hs: bool = False,
    sample: float = 1e-3,
    ns_exponent: float = 0.75,
    workers: int = 1,
    seed: int = 0,
    show_progress: bool = True,
) -> Vectors:
    """Train word2vec; negative sampling draws noise words from the unigram^``ns_exponent`` distribution.

    Repeatable with ``workers=1`` and a fixed seed; with several workers gensim's thread
    scheduling changes the order of updates, so results differ slightly from run to run.
    """
    if epochs < 1:
        raise VecliftError("--epochs must be at least 1")
    prepared = as_prepared(corpus, show_progress)
    try:
        options = word2vec_options(
            prepared, dim=dim, window=window, epochs=epochs, min_count=min_count, sg=sg, negative=negative,
            hs=hs, sample=sample, ns_exponent=ns_exponent, workers=workers, seed=seed,
        )
        model = Word2Vec(**options)
        build_vocabulary(model, prepared)
        stats = run_gensim(model, prepared, epochs, show_progress, "word2vec")
    finally:
        if prepared is not corpus:
            prepared.close()
    return Vectors(
        list(model.wv.index_to_key),
        model.wv.vectors,
        source="word2vec",
        meta={"trainer": "word2vec", "options": options, "training": stats},
    )
