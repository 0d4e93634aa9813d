"""Pre-training and domain adaptation: corpus readers, word2vec/fastText (gensim), GloVe (PyTorch),
and encoder pre-training for the tagger."""

from veclift.pretrain.continue_training import AdaptationReport, continue_training
from veclift.pretrain.corpus import Corpus, Vocabulary, split_sentences
from veclift.pretrain.encoder import PretrainedEncoder, pretrain_encoder
from veclift.pretrain.fasttext import FastTextSettings, train_fasttext
from veclift.pretrain.glove import GloveSettings, count_cooccurrences, fit_glove, train_glove
from veclift.pretrain.training import PreparedCorpus, negative_samples_for, prepare_corpus
from veclift.pretrain.word2vec import Word2VecSettings, train_word2vec

__all__ = [
    "AdaptationReport",
    "Corpus",
    "FastTextSettings",
    "GloveSettings",
    "PreparedCorpus",
    "PretrainedEncoder",
    "Vocabulary",
    "Word2VecSettings",
    "continue_training",
    "count_cooccurrences",
    "fit_glove",
    "negative_samples_for",
    "prepare_corpus",
    "pretrain_encoder",
    "split_sentences",
    "train_fasttext",
    "train_glove",
    "train_word2vec",
]
