"""Readers and writers for tagged and labeled text (also spaCy DocBin and Hugging Face data), tag
schemes, tokenisation and splits."""

from veclift.data.docbin import read_docbin, read_docbin_labeled, write_docbin
from veclift.data.formats import data_format
from veclift.data.hf import (
    labeled_from_dataset,
    read_hf_labeled,
    read_hf_tagged,
    tagged_from_dataset,
    write_labeled_parquet,
    write_tagged_parquet,
)
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
    "data_format",
    "detect_scheme",
    "kfold",
    "labeled_from_dataset",
    "read_conll",
    "read_docbin",
    "read_docbin_labeled",
    "read_hf_labeled",
    "read_hf_tagged",
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
    "tagged_from_dataset",
    "tags_from_spans",
    "tokenize",
    "tokenize_with_offsets",
    "train_test_split",
    "write_conll",
    "write_docbin",
    "write_labeled_parquet",
    "write_tagged_jsonl",
    "write_tagged_parquet",
]
