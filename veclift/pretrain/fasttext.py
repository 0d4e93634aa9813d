"""fastText (word2vec with character n-grams) on gensim, returned with its subword model.

The saved vectors keep the n-gram matrix (`SubwordModel`), so the OOV strategy ``subword``
gives unseen words a vector.
"""

from __future__ import annotations

from dataclasses import dataclass

from gensim.models import FastText

from veclift.errors import VecliftError
from veclift.pretrain.corpus import Corpus, Vocabulary
from veclift.pretrain.training import PreparedCorpus, run_gensim
from veclift.pretrain.word2vec import Word2VecSettings, gensim_model
from veclift.vectors.core import Vectors
from veclift.vectors.subword import SubwordModel


@dataclass(frozen=True)
class FastTextSettings(Word2VecSettings):
    """word2vec's settings plus the character n-gram lengths and hash buckets.

    ``buckets`` (fastText's default is 2,000,000) bounds the n-gram rows: 500,000 x 100 floats is
    200 MB, ample for domain corpora of a few million tokens.
    """

    min_n: int = 3
    max_n: int = 6
    buckets: int = 500_000

    def gensim_options(self, vocabulary: Vocabulary) -> dict:
        return {**super().gensim_options(vocabulary), "min_n": self.min_n, "max_n": self.max_n, "bucket": self.buckets}


def train_fasttext(
    corpus: Corpus | PreparedCorpus, settings: FastTextSettings = FastTextSettings(), *, progress: bool = True
) -> Vectors:
    """Train fastText; words are the mean of their own and their ``min_n..max_n`` n-gram vectors."""
    if settings.epochs < 1:
        raise VecliftError("--epochs must be at least 1")
    if not 1 <= settings.min_n <= settings.max_n:
        raise VecliftError(f"--min-n {settings.min_n} and --max-n {settings.max_n}: need 1 <= min-n <= max-n")
    with gensim_model(FastText, corpus, settings, progress) as (model, prepared, options):
        stats = run_gensim(model, prepared, settings.epochs, progress, "fastText")
    kv = model.wv
    return Vectors(
        list(kv.index_to_key),
        kv.vectors,
        subwords=SubwordModel(kv.vectors_ngrams, kv.min_n, kv.max_n, kv.bucket),
        source="fasttext",
        meta={"trainer": "fasttext", "options": options, "training": stats},
    )
