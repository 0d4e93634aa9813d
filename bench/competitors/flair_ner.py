"""flair's SequenceTagger (BiLSTM-CRF over GloVe WordEmbeddings only), run in its own virtualenv by
bench/ner_bench.py.

WordEmbeddings read the same GloVe vectors (converted once to a gensim KeyedVectors file); flair
looks a word up as written, then lower-cased, so GloVe's lower-cased keys are found. No character
or flair embeddings; hidden 256, CRF, flair's default trainer (SGD, lr 0.1, batch 32, anneal on
dev plateau, best dev model kept), capped at --max-epochs and at --max-seconds of training (checked
after each epoch). Writes one predicted tag per token to OUT/pred.txt and prints one JSON object.

    python flair_ner.py --train T --dev D --eval E --glove GLOVE.w2v.txt --out DIR --work DIR
        [--seed 0] [--max-epochs 100] [--max-seconds 900]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import flair
import gensim
import torch
from flair.data import Sentence
from flair.datasets import ColumnCorpus
from flair.embeddings import WordEmbeddings
from flair.models import SequenceTagger
from flair.trainers import ModelTrainer
from flair.trainers.plugins import TrainerPlugin
from flair.trainers.plugins.base import TrainingInterrupt
from gensim.models import KeyedVectors


class TimeBudget(TrainerPlugin):
    """Ends training through flair's own interrupt path when an epoch would start past the budget
    (so the last finished epoch's dev evaluation and best-model save have happened)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.began = time.perf_counter()
        self.epochs = 0
        self.hit = False

    @TrainerPlugin.hook
    def after_training_epoch(self, **kwargs) -> None:
        self.epochs += 1

    @TrainerPlugin.hook
    def before_training_epoch(self, **kwargs) -> None:
        if time.perf_counter() - self.began > self.seconds:
            self.hit = True
            raise TrainingInterrupt(f"time budget of {self.seconds:.0f} s spent")


def gensim_vectors(glove: Path, work: Path) -> Path:
    """The GloVe word2vec text file as a gensim KeyedVectors file flair can load (made once)."""
    target = work / "glove.gensim"
    if not target.exists():
        work.mkdir(parents=True, exist_ok=True)
        KeyedVectors.load_word2vec_format(str(glove), binary=False).save(str(target))
    return target


def read_tokens(path: Path) -> list[list[str]]:
    sentences, tokens = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            tokens.append(line.split("\t")[0])
        elif tokens:
            sentences.append(tokens)
            tokens = []
    if tokens:
        sentences.append(tokens)
    return sentences


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("train", "dev", "eval", "glove", "out", "work"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    torch.set_num_threads(1)
    flair.device = torch.device("cpu")
    flair.set_seed(args.seed)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    embeddings = WordEmbeddings(str(gensim_vectors(args.glove, args.work)))

    files = {"train_file": args.train, "dev_file": args.dev, "test_file": args.eval}
    corpus = ColumnCorpus(args.train.parent, {0: "text", 1: "ner"}, column_delimiter="\t", **{k: v.name for k, v in files.items()})
    assert args.dev.parent == args.train.parent == args.eval.parent, "the three files must share a folder"
    corpus._test = None  # the evaluation file is scored by the parent, not by flair's final test
    labels = corpus.make_label_dictionary(label_type="ner", add_unk=False)
    tagger = SequenceTagger(hidden_size=256, embeddings=embeddings, tag_dictionary=labels, tag_type="ner", use_crf=True)
    budget = TimeBudget(args.max_seconds)
    began = time.perf_counter()
    ModelTrainer(tagger, corpus).train(out / "model", max_epochs=args.max_epochs, plugins=[budget])
    train_seconds = time.perf_counter() - began

    best = out / "model" / "best-model.pt"
    model = SequenceTagger.load(best if best.exists() else out / "model" / "final-model.pt")
    sentences = [Sentence(tokens) for tokens in read_tokens(args.eval)]
    began = time.perf_counter()
    model.predict(sentences, mini_batch_size=32)
    predict_seconds = time.perf_counter() - began
    lines = []
    for sentence in sentences:
        tags = ["O"] * len(sentence)
        for span in sentence.get_spans("ner"):
            first = span.tokens[0].idx - 1
            for i, token in enumerate(span.tokens):
                tags[token.idx - 1] = ("B-" if token.idx - 1 == first else "I-") + span.tag
        lines.extend(tags)
        lines.append("")
    (out / "pred.txt").write_text("\n".join(lines) + "\n")
    print(json.dumps({
        "train_seconds": train_seconds,
        "predict_tokens_per_s": sum(len(s) for s in sentences) / predict_seconds,
        "epochs": budget.epochs,
        "time_cap_hit": budget.hit,
        "versions": {"flair": flair.__version__, "torch": torch.__version__, "gensim": gensim.__version__},
        "budget": {"max_epochs": args.max_epochs, "max_seconds": args.max_seconds},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
