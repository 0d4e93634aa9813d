"""Continue training pre-trained vectors on domain text with gensim word2vec.

The pre-trained vectors become word2vec's input vectors for the words they know; domain words
they lack are added with fresh vectors. Pre-trained sets such as GloVe carry no output
(context) weights, and gensim starts those at zero, so the first ``warmup_epochs`` train with
the known words' input vectors locked (gensim's ``wv.vectors_lockf`` = 0 for them): the
output weights and the new words adapt to the pre-trained space before the known words are
unlocked (lock factor ``known_lockf``) and move a little for the remaining ``epochs``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from gensim.models import Word2Vec

from veclift.errors import VecliftError
from veclift.pretrain.corpus import Corpus
from veclift.pretrain.training import PreparedCorpus, run_gensim
from veclift.pretrain.word2vec import Word2VecSettings, gensim_model
from veclift.vectors.core import Vectors
from veclift.vectors.query import most_similar


@dataclass
class AdaptationReport:
    """How continued training changed the space."""

    known_trained: int
    new_words: int
    mean_cosine_to_original: float
    most_moved: list[tuple[str, float]]
    neighbors: dict[str, dict[str, list[tuple[str, float]]]] = field(default_factory=dict)
    training: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _restart_note(record: logging.LogRecord) -> bool:
    return "Effective 'alpha' higher" not in record.getMessage()


@contextlib.contextmanager
def _quiet_restart() -> Iterator[None]:
    """A second train() call restarts gensim's learning-rate schedule on purpose: hide its note about it."""
    logger = logging.getLogger("gensim.models.word2vec")
    logger.addFilter(_restart_note)
    try:
        yield
    finally:
        logger.removeFilter(_restart_note)


def continue_training(
    initial: Vectors,
    corpus: Corpus | PreparedCorpus,
    settings: Word2VecSettings = Word2VecSettings(),
    *,
    warmup_epochs: int = 1,
    known_lockf: float = 1.0,
    neighbors: Sequence[str] = (),
    topn: int = 10,
    progress: bool = True,
) -> tuple[Vectors, AdaptationReport]:
    """Adapt ``initial`` to the corpus; returns all its words (domain-trained rows updated) plus the new words.

    ``settings.dim`` is that of ``initial``; ``settings.epochs=0`` keeps the known vectors as they are and
    only adds the domain words. The report gives the mean cosine of each trained known word to its original
    vector, the words that moved most, and the ``topn`` neighbours of each word of ``neighbors`` before and after.
    """
    epochs = settings.epochs
    if epochs < 0 or warmup_epochs < 0 or epochs + warmup_epochs == 0:
        raise VecliftError("need at least one epoch (--epochs plus --warmup-epochs)")
    with gensim_model(Word2Vec, corpus, replace(settings, dim=initial.dim), progress) as (model, prepared, options):
        vocab = list(model.wv.index_to_key)
        known_rows = np.array([initial.index.get(w, -1) for w in vocab])
        known = known_rows >= 0
        if not known.any():
            raise VecliftError("no corpus word is in the pre-trained vectors (check lower-casing)")
        model.wv.vectors[known] = initial.matrix[known_rows[known]]
        stats = {}
        if warmup_epochs > 0:
            model.wv.vectors_lockf = np.where(known, 0.0, 1.0).astype(np.float32)
            stats["warmup"] = run_gensim(model, prepared, warmup_epochs, progress, "warm-up (known words locked)")
        if epochs > 0:
            model.wv.vectors_lockf = np.where(known, known_lockf, 1.0).astype(np.float32)
            with _quiet_restart():
                stats["adapt"] = run_gensim(model, prepared, epochs, progress, "adapting")

    matrix = np.array(initial.matrix, dtype=np.float32)
    matrix[known_rows[known]] = model.wv.vectors[known]
    new_words = [w for w, k in zip(vocab, known) if not k]
    adapted = Vectors(
        list(initial.words) + new_words,
        np.concatenate([matrix, model.wv.vectors[~known]]),
        source=f"{initial.source}+adapted",
        meta=initial.derived_meta(trainer="word2vec-continued", initial=initial.source, options=options, training=stats),
    )
    before = initial.unit_rows(known_rows[known])
    after = adapted.unit_rows(known_rows[known])
    cosines = (before * after).sum(1)
    trained = [w for w, k in zip(vocab, known) if k]
    order = np.argsort(cosines, kind="stable")[:topn]
    report = AdaptationReport(
        known_trained=len(trained),
        new_words=len(new_words),
        mean_cosine_to_original=float(cosines.mean()),
        most_moved=[(trained[i], float(cosines[i])) for i in order],
        neighbors={
            w: {
                "before": most_similar(initial, w, topn=topn) if initial.has_row(w) else [],
                "after": most_similar(adapted, w, topn=topn) if w in adapted else [],
            }
            for w in neighbors
        },
        training=stats,
    )
    return adapted, report
