"""fastText (word2vec with character n-grams) on gensim, returned with its subword model.

The saved vectors keep the n-gram matrix (`SubwordModel`), so the OOV strategy ``subword``
gives unseen words a vector.
"""

from __future__ import annotations

from gensim.models import FastText

from veclift.errors import VecliftError
from veclift.pretrain.corpus import Corpus
from veclift.pretrain.training import PreparedCorpus, as_prepared, build_vocabulary, run_gensim
from veclift.pretrain.word2vec import word2vec_options
from veclift.vectors.core import Vectors
from veclift.vectors.subword import SubwordModel


def train_fasttext(
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
    min_n: int = 3,
    max_n: int = 6,
    buckets: int = 500_000,
    workers: int = 1,
    seed: int = 0,
    show_progress: bool = True,
) -> Vectors:
    """Train fastText; words are the mean of their own and their ``min_n..max_n`` n-gram vectors.

    ``buckets`` (fastText's default is 2,000,000) bounds the n-gram rows: 500,000 x 100
    floats is 200 MB, ample for domain corpora of a few million tokens. Repeatable with
    ``workers=1`` and a fixed seed, like word2vec.
    """
    if epochs < 1:
        raise VecliftError("--epochs must be at least 1")
    if not 1 <= min_n <= max_n:
        raise VecliftError(f"--min-n {min_n} and --max-n {max_n}: need 1 <= min-n <= max-n")
    prepared = as_prepared(corpus, show_progress)
    try:
        options = word2vec_options(
            prepared, dim=dim, window=window, epochs=epochs, min_count=min_count, sg=sg, negative=negative,
            hs=hs, sample=sample, ns_exponent=ns_exponent, workers=workers, seed=seed,
        )
        options.update(min_n=min_n, max_n=max_n, bucket=buckets)
        model = FastText(**options)
        build_vocabulary(model, prepared)
        stats = run_gensim(model, prepared, epochs, show_progress, "fastText")
    finally:
        if prepared is not corpus:
            prepared.close()
    kv = model.wv
    return Vectors(
        list(kv.index_to_key),
        kv.vectors,
        subwords=SubwordModel(kv.vectors_ngrams, kv.min_n, kv.max_n, kv.bucket),
        source="fasttext",
        meta={"trainer": "fasttext", "options": options, "training": stats},
    )
