"""Readers and writers for tagged and labeled text, tag schemes, tokenisation and splits."""

from veclift.data.labeled import (
    LabeledText,
    read_label_files,
    read_label_folders,
    read_labeled,
    read_labeled_jsonl,
    read_table,
)
from veclift.data.sampling import kfold, stratified_subsample, subsample, train_test_split
from veclift.data.schemes import SCHEMES, convert_tags, detect_scheme, repair_tags, spans, tags_from_spans
from veclift.data.tagged import (
    TaggedSentence,
    read_conll,
    read_tagged,
    read_tagged_jsonl,
    write_conll,
    write_tagged_jsonl,
)
from veclift.data.tokenize import tokenize, tokenize_with_offsets

__all__ = [
    "SCHEMES",
    "LabeledText",
    "TaggedSentence",
    "convert_tags",
    "detect_scheme",
    "kfold",
    "read_conll",
    "read_label_files",
    "read_label_folders",
    "read_labeled",
    "read_labeled_jsonl",
    "read_table",
    "read_tagged",
    "read_tagged_jsonl",
    "repair_tags",
    "spans",
    "stratified_subsample",
    "subsample",
    "tags_from_spans",
    "tokenize",
    "tokenize_with_offsets",
    "train_test_split",
    "write_conll",
    "write_tagged_jsonl",
]
