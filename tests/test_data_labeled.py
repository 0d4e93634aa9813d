"""Labeled-text readers and seeded sampling; real classification files in slow tests."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from veclift.data import (
    LabeledText,
    kfold,
    read_label_files,
    read_label_folders,
    read_labeled,
    read_labeled_jsonl,
    read_table,
    stratified_subsample,
    subsample,
    train_test_split,
)
from veclift.errors import VecliftError, VecliftWarning

DATA = Path(os.environ.get("VECLIFT_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- readers ---------------------------------------------------------------------------------


def test_read_table_tsv_with_bare_quotes_and_chosen_columns(tmp_path):
    path = write(tmp_path / "a.tsv", 'label\tsentence\n0\tthe " conan " film\n1\tGreat fun!\n\n')
    items = read_table(path)
    assert items == [
        LabeledText(("the", '"', "conan", '"', "film"), ("0",), 'the " conan " film'),
        LabeledText(("Great", "fun", "!"), ("1",), "Great fun!"),
    ]
    assert read_table(path, lowercase=True)[1].tokens == ("great", "fun", "!")
    assert read_table(path, text_column=1, label_column=0)[1].label == "1"


def test_read_table_csv_quoting_no_header_and_multi_label(tmp_path):
    path = write(tmp_path / "a.csv", 'id,text,label\n1,"Hello, world",pos|neu\n2,Bad day,neg\n')
    items = read_table(path, label_separator="|")
    assert items[0].text == "Hello, world" and items[0].labels == ("pos", "neu")
    bare = write(tmp_path / "b.txt", "pos\tfine\nneg\tawful\n")
    assert [(i.label, i.text) for i in read_table(bare, header=False)] == [("pos", "fine"), ("neg", "awful")]


@pytest.mark.parametrize(
    "text, options, message",
    [
        ("label\tbody\n0\tx\n", {}, r"a.tsv:1: no text column 'text' or 'sentence' in header \(label, body\)"),
        ("sentence\tlabel\n", {}, "no labeled texts found"),
        ("sentence\tlabel\nfine\t1\n\t0\n", {}, r"a.tsv:3: empty text"),
        ("sentence\tlabel\nfine\t1\nok\t\n", {}, r"a.tsv:3: empty label"),
        ("sentence\tlabel\nfine\t1\nalso\n", {}, r"a.tsv:3: expected at least 2 columns, found 1"),
        ("sentence\tlabel\nfine\t1\ngood\t1\n", {}, r"found 1 class\(es\) \(1\); need at least 2"),
        ("x\t1\ny\t0\n", {"header": False, "text_column": "sentence"}, "no header; give an index"),
        ("sentence\tlabel\nx\t1\n", {"label_column": 5}, "label column 5 does not exist"),
    ],
)
def test_read_table_bad_input(tmp_path, text, options, message):
    path = write(tmp_path / "a.tsv", text)
    with pytest.raises(VecliftError, match=message):
        read_table(path, **options)


def test_read_table_single_class_allowed_when_asked(tmp_path):
    path = write(tmp_path / "a.tsv", "sentence\tlabel\nfine\t1\n")
    assert len(read_table(path, min_classes=1)) == 1


def test_read_label_files_suffix_or_stem_and_latin1_fallback(tmp_path):
    pos = write(tmp_path / "rt-polarity.pos", "a fine film\n\nwonderful\n")
    neg = tmp_path / "rt-polarity.neg"
    neg.write_bytes("dull\nclich\xe9d plot\n".encode("latin-1"))
    with pytest.warns(VecliftWarning, match=r"rt-polarity.neg:2: not valid utf-8: byte 0xe9; reading the file as latin-1"):
        items = read_label_files([pos, neg])
    assert [(i.label, i.text) for i in items] == [
        ("pos", "a fine film"), ("pos", "wonderful"), ("neg", "dull"), ("neg", "clichéd plot")
    ]  # fmt: skip
    with pytest.raises(VecliftError, match=r"rt-polarity.neg:2: not valid utf-8"):
        read_label_files([pos, neg], fallback_encoding=None)
    txt = write(tmp_path / "positive.txt", "good\n")
    other = write(tmp_path / "negative.txt", "bad\n")
    assert [i.label for i in read_labeled([txt, other])] == ["positive", "negative"]
    with pytest.raises(VecliftError, match="found 1 class"):
        read_label_files([pos])


def test_read_label_folders(tmp_path):
    for label, docs in {"sport": ["Goal!", "A late win."], "tech": ["New chip."]}.items():
        (tmp_path / label).mkdir()
        for i, doc in enumerate(docs):
            write(tmp_path / label / f"{i}.txt", doc + "\n")
    write(tmp_path / "sport" / ".hidden", "skip me")
    items = read_labeled(tmp_path)
    assert [(i.label, i.text) for i in items] == [("sport", "Goal!"), ("sport", "A late win."), ("tech", "New chip.")]
    write(tmp_path / "tech" / "empty.txt", "  \n")
    with pytest.raises(VecliftError, match=r"empty.txt: empty text"):
        read_label_folders(tmp_path)
    with pytest.raises(VecliftError, match="not a directory"):
        read_label_folders(tmp_path / "nope")


def test_read_labeled_jsonl_single_and_multi_label(tmp_path):
    rows = [{"text": "I'm ecstatic", "label": "pos"}, {"text": "meh", "label": ["neg", "bored"]}, {"text": "ok", "label": 3}]
    path = write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    items = read_labeled(path)
    assert items[0].tokens == ("I", "'m", "ecstatic")
    assert [i.labels for i in items] == [("pos",), ("neg", "bored"), ("3",)]
    other = write(tmp_path / "b.jsonl", json.dumps({"body": "x", "y": "a"}) + "\n" + json.dumps({"body": "z", "y": "b"}))
    assert len(read_labeled_jsonl(other, text_field="body", label_field="y")) == 2


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"text": "x"}', "missing field 'label'"),
        ('{"text": 5, "label": "a"}', "field 'text' must be a string"),
        ('{"text": "x", "label": {"a": 1}}', "field 'label' must be a string, an integer or a list"),
        ('{"text": "", "label": "b"}', "empty text"),
        ("nope", "invalid JSON"),
    ],
)
def test_read_labeled_jsonl_bad_input(tmp_path, line, message):
    path = write(tmp_path / "a.jsonl", '{"text": "fine", "label": "a"}\n' + line + "\n")
    with pytest.raises(VecliftError, match=rf"a.jsonl:2: {message}"):
        read_labeled_jsonl(path)


# --- sampling --------------------------------------------------------------------------------


def test_subsample_seeded_nested_and_ordered():
    items = list(range(1000))
    small, large = subsample(items, 100, seed=3), subsample(items, 500, seed=3)
    assert small == subsample(items, 100, seed=3)
    assert set(small) <= set(large) and small == sorted(small)
    assert small != subsample(items, 100, seed=4)
    assert subsample(items, 5000, seed=1) == items
    with pytest.raises(VecliftError):
        subsample(items, -1, seed=0)


def test_stratified_subsample_keeps_proportions_and_nests():
    items = [("a", i) for i in range(900)] + [("b", i) for i in range(100)]
    for n in (10, 50, 200):
        chosen = stratified_subsample(items, n, seed=7, key=lambda x: x[0])
        counts = Counter(label for label, _ in chosen)
        assert len(chosen) == n and abs(counts["b"] - n / 10) <= 1
    assert set(stratified_subsample(items, 50, 7, key=lambda x: x[0])) <= set(
        stratified_subsample(items, 200, 7, key=lambda x: x[0])
    )


def test_kfold_partitions_and_stratifies():
    items = [("a", i) for i in range(20)] + [("b", i) for i in range(10)]
    folds = kfold(items, 5, seed=0, stratify=lambda x: x[0])
    assert len(folds) == 5
    assert sorted(x for _, test in folds for x in test) == sorted(items)
    for train, test in folds:
        assert not set(train) & set(test)
        assert Counter(label for label, _ in test) == {"a": 4, "b": 2}
    assert folds == kfold(items, 5, seed=0, stratify=lambda x: x[0])
    with pytest.raises(VecliftError, match="cannot make 1 folds"):
        kfold(items, 1, seed=0)
    with pytest.raises(VecliftError, match="fewer than the 15 folds"):
        kfold(items, 15, seed=0, stratify=lambda x: x[0])


def test_train_test_split_seeded_and_stratified():
    items = [("a", i) for i in range(80)] + [("b", i) for i in range(20)]
    train, test = train_test_split(items, 0.1, seed=1, stratify=lambda x: x[0])
    assert len(test) == 10 and Counter(label for label, _ in test) == {"a": 8, "b": 2}
    assert (train, test) == train_test_split(items, 0.1, seed=1, stratify=lambda x: x[0])
    with pytest.raises(VecliftError, match="between 0 and 1"):
        train_test_split(items, 1.5, seed=1)
    with pytest.raises(VecliftError, match="cannot split"):
        train_test_split(items + [("c", 0)], 0.1, seed=1, stratify=lambda x: x[0])


# --- real files ------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_mr_and_sst2_load():
    mr = [DATA / "classify/mr/rt-polarity.pos", DATA / "classify/mr/rt-polarity.neg"]
    sst2 = DATA / "classify/sst2/train.tsv"
    if not all(p.exists() for p in [*mr, sst2]):
        pytest.skip("classification data not present")
    movies = read_labeled(mr)
    assert Counter(i.label for i in movies) == {"pos": 5331, "neg": 5331}
    phrases = read_labeled(sst2)
    assert len(phrases) == 67349 and set(i.label for i in phrases) == {"0", "1"}
    train, test = train_test_split(phrases, 0.1, seed=0, stratify=lambda x: x.label)
    assert len(test) == 6735
