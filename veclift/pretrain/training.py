"""What the gensim trainers share: the prepared corpus, the choice of k, live progress."""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gensim.models.callbacks import CallbackAny2Vec
from gensim.models.word2vec import LineSentence

from veclift.atomic import atomic_path
from veclift.pretrain.corpus import Corpus, Vocabulary
from veclift.progress import progress as progress_bar


def negative_samples_for(tokens: int) -> int:
    """Noise words per positive pair when not given, from the corpus size in tokens.

    Mikolov et al. (2013) found k = 5-20 useful for small data and k = 2-5 for large data:
    20 below 1M tokens, 15 below 10M, 10 below 100M, 5 below 1B, 3 from 1B tokens on.
    """
    for limit, k in ((1_000_000, 20), (10_000_000, 15), (100_000_000, 10), (1_000_000_000, 5)):
        if tokens < limit:
            return k
    return 3


@dataclass
class PreparedCorpus:
    """A corpus tokenised once into a one-sentence-per-line file, with its vocabulary.

    Training passes then read this file (gensim's `LineSentence`) instead of re-reading and
    re-tokenising PDFs and JSONL on every epoch. ``close()`` removes a temporary file.
    """

    path: Path
    vocabulary: Vocabulary
    temporary: bool = False

    def sentences(self) -> LineSentence:
        return LineSentence(str(self.path))

    def close(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> PreparedCorpus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def prepare_corpus(
    corpus: Corpus, path: str | Path | None = None, *, progress: bool = True, overwrite: bool = False
) -> PreparedCorpus:
    """One streaming pass: tokenise ``corpus`` into ``path`` (a temporary file when None) and count words."""
    temporary = path is None
    if temporary:
        fd, name = tempfile.mkstemp(prefix="veclift-corpus-", suffix=".txt")
        os.close(fd)
        path = name
    path = Path(path)
    counter: Counter = Counter()
    sentences = 0
    try:
        with atomic_path(path, overwrite=temporary or overwrite) as tmp, open(tmp, "w", encoding="utf-8") as out:
            with progress_bar("Tokenising", corpus.total_bytes, enabled=progress) as update:
                for tokens in corpus.sentences(lambda n: update(advance=n)):
                    out.write(" ".join(tokens) + "\n")
                    counter.update(tokens)
                    sentences += 1
                    if sentences % 5000 == 0:
                        update(info=f"{sum(counter.values()):,} tokens, {len(counter):,} types")
                update(info=f"{sum(counter.values()):,} tokens, {len(counter):,} types")
    except BaseException:
        if temporary:
            path.unlink(missing_ok=True)
        raise
    if not counter:
        if temporary:
            path.unlink(missing_ok=True)
        from veclift.errors import VecliftError

        raise VecliftError("the corpus has no text", corpus.sources[0] if len(corpus.sources) == 1 else None)
    return PreparedCorpus(path, Vocabulary.from_counter(counter, sentences), temporary)


class TrainingProgress(CallbackAny2Vec):
    """gensim callback plus a counting wrapper for the sentences: live words/s and ETA in a rich bar.

    gensim only calls back at epoch boundaries, so within an epoch the words are counted as
    the sentences are handed to gensim's workers (its job queue is bounded, so the two agree).
    """

    def __init__(self, update, epochs: int):
        self.update = update
        self.epochs = epochs
        self.epoch = 0
        self.epoch_seconds: list[float] = []
        self.words = 0
        self._started = self._epoch_started = time.perf_counter()

    def track(self, sentences: Iterable[list[str]]) -> _Counted:
        return _Counted(sentences, self)

    def on_epoch_begin(self, model) -> None:
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, model) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._epoch_started)
        self.epoch += 1
        self._report(log=True)

    def _advance(self, words: int) -> None:
        self.words += words
        self.update(advance=words)
        self._report()

    def _report(self, log: bool = False) -> None:
        elapsed = time.perf_counter() - self._started
        rate = self.words / elapsed if elapsed > 0 else 0.0
        self.update(info=f"epoch {min(self.epoch + 1, self.epochs)}/{self.epochs} · {rate:,.0f} words/s", log=log)


class _Counted:
    """Restartable: each pass over the wrapped sentences reports its words in steps of ~10k."""

    def __init__(self, sentences: Iterable[list[str]], tracker: TrainingProgress):
        self.sentences = sentences
        self.tracker = tracker

    def __iter__(self) -> Iterator[list[str]]:
        pending = 0
        for sentence in self.sentences:
            yield sentence
            pending += len(sentence)
            if pending >= 10_000:
                self.tracker._advance(pending)
                pending = 0
        if pending:
            self.tracker._advance(pending)


def as_prepared(corpus: Corpus | PreparedCorpus, progress: bool) -> PreparedCorpus:
    return corpus if isinstance(corpus, PreparedCorpus) else prepare_corpus(corpus, progress=progress)


def build_vocabulary(model, prepared: PreparedCorpus) -> None:
    """gensim's vocabulary from the counts already made (no extra pass over the corpus)."""
    model.build_vocab_from_freq(prepared.vocabulary.counts, corpus_count=prepared.vocabulary.sentences)


def run_gensim(model, prepared: PreparedCorpus, epochs: int, progress: bool, label: str) -> dict:
    """Train ``model`` (vocabulary built) for ``epochs`` passes with a live bar; returns timing statistics."""
    vocabulary = prepared.vocabulary
    total = vocabulary.tokens * epochs
    with progress_bar(label, total, enabled=progress) as update:
        tracker = TrainingProgress(update, epochs)
        started = time.perf_counter()
        model.train(
            corpus_iterable=tracker.track(prepared.sentences()),
            total_examples=vocabulary.sentences,
            epochs=epochs,
            callbacks=[tracker],
        )
        seconds = time.perf_counter() - started
    return {
        "corpus_tokens": vocabulary.tokens,
        "corpus_sentences": vocabulary.sentences,
        "vocabulary": len(model.wv),
        "seconds": round(seconds, 3),
        "words_per_second": round(total / seconds, 1) if seconds > 0 else None,
        "epoch_seconds": [round(s, 3) for s in tracker.epoch_seconds],
    }
