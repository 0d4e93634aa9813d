"""word2vec (skip-gram or CBOW) on gensim, trained on a `Corpus`, returned as veclift `Vectors`.

`Word2VecSettings` holds the hyperparameters word2vec, fastText and continued training share;
`gensim_model` builds any of their gensim models on a corpus prepared once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from gensim.models import Word2Vec

from veclift.errors import VecliftError
from veclift.pretrain.corpus import Corpus, Vocabulary
from veclift.pretrain.training import PreparedCorpus, as_prepared, build_vocabulary, negative_samples_for, run_gensim
from veclift.vectors.core import Vectors


@dataclass(frozen=True)
class Word2VecSettings:
    """word2vec's hyperparameters: vector size, context words on each side, passes, the fewest occurrences
    of a kept word, skip-gram (else CBOW), noise words per pair (None: from the corpus size, or 0 with
    ``hs``), hierarchical softmax, the subsampling threshold, the noise distribution's exponent (unigram^x),
    threads and seed. Repeatable with ``workers=1``: with more, gensim's threads reorder the updates."""

    dim: int = 100
    window: int = 5
    epochs: int = 5
    min_count: int = 5
    sg: bool = True
    negative: int | None = None
    hs: bool = False
    sample: float = 1e-3
    ns_exponent: float = 0.75
    workers: int = 1
    seed: int = 0

    def gensim_options(self, vocabulary: Vocabulary) -> dict:
        """gensim's keyword arguments for a corpus with this vocabulary."""
        if not vocabulary.kept(self.min_count):
            raise VecliftError(f"no word occurs {self.min_count} times or more: lower --min-count")
        negative = self.negative
        if negative is None:
            negative = 0 if self.hs else negative_samples_for(vocabulary.tokens)
        if not self.hs and negative <= 0:
            raise VecliftError("choose negative sampling (--negative K, K > 0) or hierarchical softmax (--hs)")
        return {"vector_size": self.dim, "window": self.window, "epochs": self.epochs, "min_count": self.min_count,
                "sg": int(self.sg), "hs": int(self.hs), "negative": negative, "ns_exponent": self.ns_exponent,
                "sample": self.sample, "workers": self.workers, "seed": self.seed}  # fmt: skip


@contextlib.contextmanager
def gensim_model(
    model_class: type, corpus: Corpus | PreparedCorpus, settings: Word2VecSettings, progress: bool
) -> Iterator[tuple[Word2Vec, PreparedCorpus, dict]]:
    """A gensim ``model_class`` (vocabulary built) on ``corpus``, prepared once; its temporary file is removed
    afterwards. Yields the model, the prepared corpus and the options the model was built with."""
    prepared = as_prepared(corpus, progress)
    try:
        options = settings.gensim_options(prepared.vocabulary)
        model = model_class(**options)
        build_vocabulary(model, prepared)
        yield model, prepared, options
    finally:
        if prepared is not corpus:
            prepared.close()


def train_word2vec(
    corpus: Corpus | PreparedCorpus, settings: Word2VecSettings = Word2VecSettings(), *, progress: bool = True
) -> Vectors:
    """Train word2vec; negative sampling draws noise words from the unigram^``ns_exponent`` distribution."""
    if settings.epochs < 1:
        raise VecliftError("--epochs must be at least 1")
    with gensim_model(Word2Vec, corpus, settings, progress) as (model, prepared, options):
        stats = run_gensim(model, prepared, settings.epochs, progress, "word2vec")
    return Vectors(
        list(model.wv.index_to_key),
        model.wv.vectors,
        source="word2vec",
        meta={"trainer": "word2vec", "options": options, "training": stats},
    )
