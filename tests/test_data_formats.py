"""Data where users keep it: a CoNLL sample saved as a Hugging Face dataset folder, parquet, Arrow, JSONL
with integer tags and as a spaCy DocBin reads back as the same sentences and trains the same model;
labeled texts likewise; binary files are named as such; broken bytes are one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from task_fixtures import constant_baseline, labeled_texts, tiny_vectors

from veclift.data import (
    LabeledText,
    TaggedSentence,
    data_format,
    labeled_from_dataset,
    read_conll,
    read_docbin,
    read_docbin_labeled,
    read_hf_labeled,
    read_hf_tagged,
    read_labeled,
    read_tagged,
    tagged_from_dataset,
    write_docbin,
    write_labeled_parquet,
    write_tagged_parquet,
)
from veclift.data.readers import read_labeled_files, read_tagged_files
from veclift.errors import VecliftError, VecliftWarning
from veclift.tasks.registry import get_task

datasets = pytest.importorskip("datasets")
spacy = pytest.importorskip("spacy")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CONLL_NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]  # the HF conll2003 order
PEOPLE = ["John Smith", "Mary", "Peter Blackburn", "Anna"]
PLACES = ["Paris", "New York", "Berlin", "Rome"]
GROUPS = ["European Commission", "Reuters", "EU"]


def conll_sample(n: int = 40) -> str:
    """A CoNLL-2003-like file (token, POS, chunk, IOB2 tag; -DOCSTART- lines) of ``n`` sentences."""
    lines = ["-DOCSTART- -X- -X- O", ""]
    for i in range(n):
        person, place, group = PEOPLE[i % 4], PLACES[(i * 3) % 4], GROUPS[i % 3]
        words = [(w, "PER") for w in person.split()] + [("told", ""), ("the", "")] + [(w, "ORG") for w in group.split()]
        words += [("in", ""), *((w, "LOC") for w in place.split()), ("about", ""), ("German", "MISC"), ("lamb", ""), (".", "")]
        previous = ""
        for word, kind in words:
            tag = "O" if not kind else f"{'I' if kind == previous else 'B'}-{kind}"
            lines.append(f"{word} NNP B-NP {tag}")
            previous = kind
        lines.append("")
        if i == n // 2:
            lines += ["-DOCSTART- -X- -X- O", ""]
    return "\n".join(lines) + "\n"


def features() -> datasets.Features:
    return datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                              "ner_tags": datasets.Sequence(datasets.ClassLabel(names=CONLL_NAMES))})  # fmt: skip


def hf_dataset(sentences: list[TaggedSentence]) -> datasets.Dataset:
    """``sentences`` as the Hub's conll2003 holds them: tokens and ClassLabel integer tags."""
    rows = {"tokens": [list(s.tokens) for s in sentences], "ner_tags": [[CONLL_NAMES.index(t) for t in s.tags] for s in sentences]}
    return datasets.Dataset.from_dict(rows, features=features())


def save_docbin(sentences: list[TaggedSentence], path: Path) -> None:
    """One spaCy document per sentence, written by spaCy itself on ``spacy.blank("en")``'s vocabulary."""
    from spacy.tokens import Doc, DocBin, Span

    nlp, docs = spacy.blank("en"), DocBin()
    for sentence in sentences:
        doc = Doc(nlp.vocab, words=list(sentence.tokens))
        doc.ents = [Span(doc, start, end, label=kind) for kind, start, end in sentence.entities()]
        docs.add(doc)
    docs.to_disk(path)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The sample as CoNLL and in every other format, and its sentences as read from CoNLL."""
    root = tmp_path_factory.mktemp("formats")
    (root / "train.conll").write_text(conll_sample(), encoding="utf-8")
    reference = read_conll(root / "train.conll")
    dataset = hf_dataset(reference)
    dataset.save_to_disk(str(root / "saved"))
    datasets.DatasetDict({"train": dataset, "validation": dataset.select(range(5))}).save_to_disk(str(root / "dict"))
    dataset.to_parquet(str(root / "train.parquet"))
    dataset.to_json(str(root / "train.jsonl"))
    with pa.OSFile(str(root / "train.arrow"), "wb") as sink, pa.ipc.new_file(sink, dataset.data.table.schema) as writer:
        writer.write_table(dataset.data.table)
    save_docbin(reference, root / "train.spacy")
    return root, reference


def test_the_sample_has_every_type_multi_token_entities_and_two_documents(saved):
    root, reference = saved
    assert len(reference) == 40 and {kind for s in reference for kind, _, _ in s.entities()} == {"PER", "ORG", "LOC", "MISC"}
    assert any(end - start > 1 for s in reference for _, start, end in s.entities())
    assert (root / "train.conll").read_text().count("-DOCSTART-") == 2


@pytest.mark.parametrize("name", ["saved", "dict/train", "train.parquet", "train.arrow", "saved/data-00000-of-00001.arrow",
                                  "train.spacy"])  # fmt: skip
def test_every_format_reads_as_the_conll_file(saved, name):
    root, reference = saved
    assert read_tagged(root / name) == reference
    assert read_tagged_files([root / name]) == reference
    assert get_task("ner").read_files([root / name]) == reference


def test_a_dataset_dict_folder_gives_its_train_split_and_says_so(saved):
    root, reference = saved
    with pytest.warns(VecliftWarning, match=r"dict: reading split 'train' of a DatasetDict with splits train, validation; "
                                            r"choose one with --split, or give the split's folder \(\S*dict/train\)"):  # fmt: skip
        assert read_tagged(root / "dict") == reference


def test_formats_are_told_by_content_not_name(saved, tmp_path):
    root, reference = saved
    for name, kind in [("train.parquet", "parquet"), ("train.arrow", "arrow"), ("train.spacy", "docbin"), ("saved", "dataset"),
                       ("train.conll", "text"), ("train.jsonl", "text")]:  # fmt: skip
        assert data_format(root / name) == kind
        if kind not in ("dataset", "text"):
            renamed = tmp_path / f"data-{kind}.txt"
            renamed.write_bytes((root / name).read_bytes())
            assert data_format(renamed) == kind and read_tagged(renamed) == reference


def test_jsonl_with_integer_tags_takes_the_names(saved):
    root, reference = saved
    with pytest.raises(VecliftError, match=r"train\.jsonl:1: .*integer tags.*--label-names"):
        read_tagged(root / "train.jsonl")
    assert read_tagged(root / "train.jsonl", label_names=CONLL_NAMES) == reference
    assert read_tagged_files([root / "train.jsonl"], label_names=[",".join(CONLL_NAMES)]) == reference
    wrong = CONLL_NAMES[:3]
    with pytest.raises(VecliftError, match=r"tag 3 of field 'ner_tags' names none of the 3 names"):
        read_tagged(root / "train.jsonl", label_names=wrong)


def test_names_given_win_over_the_features_and_a_dict_takes_its_split(saved):
    root, reference = saved
    renamed = [name.replace("MISC", "MIX") for name in CONLL_NAMES]
    assert {kind for s in read_hf_tagged(root / "train.parquet", label_names=renamed) for kind, _, _ in s.entities()} == {
        "PER", "ORG", "LOC", "MIX"}  # fmt: skip
    assert read_tagged(root / "dict", split="validation") == reference[:5]
    assert read_tagged(root / "dict" / "validation") == reference[:5]
    with pytest.raises(VecliftError, match=r"dict: a DatasetDict with no split 'test' \(its splits: train, validation\)"):
        read_tagged(root / "dict", split="test")


def test_field_mapping_and_string_tags(tmp_path):
    table = pa.table({"words": [["Mary", "lives", "in", "New", "York"], []], "labels": [["B-PER", "O", "O", "B-LOC", "I-LOC"], []],
                      "id": ["1", "2"]})  # fmt: skip
    pq.write_table(table, tmp_path / "plain.parquet")
    expected = [TaggedSentence(("Mary", "lives", "in", "New", "York"), ("B-PER", "O", "O", "B-LOC", "I-LOC"))]
    assert read_tagged(tmp_path / "plain.parquet", tokens_field="words", tags_field="labels") == expected
    with pytest.raises(VecliftError, match=r"plain\.parquet: a parquet file with no tokens field 'tokens' \(its fields: 'words', "
                                           r"'labels', 'id'\); name it with --tokens-field"):  # fmt: skip
        read_tagged(tmp_path / "plain.parquet")
    (tmp_path / "words.jsonl").write_text(json.dumps({"words": ["Mary", "runs"], "labels": ["U-PER", "O"]}) + "\n")
    with pytest.raises(VecliftError, match=r"words\.jsonl:1: tag 'U-PER' is not a valid"):
        read_tagged(tmp_path / "words.jsonl", tokens_field="words", tags_field="labels")
    (tmp_path / "iob1.jsonl").write_text(json.dumps({"tokens": ["Mary", "Anna"], "ner_tags": ["I-PER", "B-PER"]}) + "\n")
    assert read_tagged(tmp_path / "iob1.jsonl")[0].tags == ("B-PER", "B-PER")  # the scheme is detected, as in CoNLL


def test_docbin_sentences_spaces_and_entities_across_a_boundary(tmp_path):
    from spacy.tokens import Doc, DocBin, Span

    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words=["Mary", "met", "Peter", "\n", "Smith", "in", "Rome", "."],
              sent_starts=[True, False, False, False, True, False, False, False])  # fmt: skip
    doc.ents = [Span(doc, 0, 1, "PER"), Span(doc, 2, 5, "PER"), Span(doc, 6, 7, "LOC")]
    DocBin(docs=[doc, nlp("no entities here")]).to_disk(tmp_path / "d.spacy")
    assert read_docbin(tmp_path / "d.spacy") == [
        TaggedSentence(("Mary", "met", "Peter"), ("B-PER", "O", "B-PER")),
        TaggedSentence(("Smith", "in", "Rome", "."), ("B-PER", "O", "B-LOC", "O")),  # the entity is cut at the boundary
        TaggedSentence(("no", "entities", "here"), ("O", "O", "O")),
    ]


def test_writers_round_trip_and_datasets_reads_the_features(saved, tmp_path):
    _, reference = saved
    write_docbin(reference, tmp_path / "out.spacy")
    write_tagged_parquet(reference, tmp_path / "out.parquet")
    assert read_tagged(tmp_path / "out.spacy") == reference == read_tagged(tmp_path / "out.parquet")
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "out.parquet"), split="train")
    names = loaded.features["ner_tags"].feature.names
    assert names == ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert [[names[i] for i in row] for row in loaded["ner_tags"]] == [list(s.tags) for s in reference]
    assert tagged_from_dataset(loaded) == reference
    with pytest.raises(VecliftError, match="tag 'B-MISC' is not one of the label names"):
        write_tagged_parquet(reference, tmp_path / "few.parquet", label_names=["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])
    with pytest.raises(VecliftError, match="already exists"):
        write_docbin(reference, tmp_path / "out.spacy")
    with pytest.raises(VecliftError, match=r"token ' ' cannot be written to a DocBin"):
        write_docbin([TaggedSentence(("a", " "), ("O", "O"))], tmp_path / "blank.spacy")
    assert not (tmp_path / "blank.spacy").exists()


def test_an_in_memory_dataset_takes_the_tasks_reader_options(saved):
    """What `fit(dataset)` calls (veclift.tasks.inputs): the task's reader options, file-only ones ignored."""
    from veclift.data.hf import items_from_dataset

    _, reference = saved
    renamed = hf_dataset(reference).rename_columns({"tokens": "words", "ner_tags": "labels"})
    options = {"tag_column": -1, "scheme": "auto", "tokens_field": "words", "tags_field": "labels", "label_names": None, "split": None}
    assert items_from_dataset(renamed, "ner", **options) == reference
    texts = labeled_texts(10)
    table = datasets.Dataset.from_dict({"text": [t.text for t in texts], "label": [t.label for t in texts]})
    assert items_from_dataset(table, "classify", text_column=None, label_column="label", label_separator=None) == texts
    with pytest.raises(VecliftError, match="the toy task does not read Hugging Face datasets"):
        items_from_dataset(table, "toy")


def test_labeled_texts_from_hugging_face_data_and_docbin(tmp_path):
    texts = labeled_texts(30)
    names = ["neg", "pos"]
    table = datasets.Dataset.from_dict({"sentence": [t.text for t in texts], "label": [names.index(t.label) for t in texts]},
                                       features=datasets.Features({"sentence": datasets.Value("string"),
                                                                   "label": datasets.ClassLabel(names=names)}))  # fmt: skip
    table.save_to_disk(str(tmp_path / "sst"))
    table.to_parquet(str(tmp_path / "sst.parquet"))
    write_labeled_parquet(texts, tmp_path / "ours.parquet")
    write_docbin(texts, tmp_path / "cats.spacy")
    for name in ("sst", "sst.parquet", "ours.parquet", "cats.spacy"):
        assert read_labeled(tmp_path / name) == texts, name
        assert read_labeled_files([tmp_path / name]) == texts, name
    assert labeled_from_dataset(table) == texts == read_docbin_labeled(tmp_path / "cats.spacy")
    pq.write_table(pa.table({"t": [t.text for t in texts], "y": [names.index(t.label) for t in texts]}), tmp_path / "bare.parquet")
    assert {t.label for t in read_hf_labeled(tmp_path / "bare.parquet", text_column=0, label_column="y")} == {"0", "1"}
    assert read_labeled_files([tmp_path / "bare.parquet"], text_column="0", label_column="y", label_names=names) == texts
    multi = [LabeledText(("a", "b"), ("x", "y"), "a b"), LabeledText(("c",), ("y",), "c")]
    write_labeled_parquet(multi, tmp_path / "multi.parquet")
    assert read_labeled(tmp_path / "multi.parquet") == multi
    pq.write_table(pa.table({"text": ["a", "b"], "label": [0, -1]}), tmp_path / "unlabeled.parquet")
    with pytest.raises(VecliftError, match=r"unlabeled\.parquet:2: label -1 of field 'label' names none of the 2 names \(an unlabeled split\?\)"):
        read_labeled(tmp_path / "unlabeled.parquet", label_names=names)


@pytest.mark.parametrize("content", [b"\x89\x00\xff\xfe" + bytes(range(256)) * 8, "caf\xe9 \x01\x02\x03\x04\x05 ".encode("latin-1") * 50])
def test_binary_files_are_named_not_decoded(tmp_path, content):
    path = tmp_path / "data.conll"
    path.write_bytes(content)
    with pytest.raises(VecliftError, match=r"^\S*data\.conll: a binary file veclift cannot read as tagged sentences \(CoNLL, JSONL, "
                                           r"spaCy DocBin, parquet, Arrow, or a saved Hugging Face dataset folder\)$"):  # fmt: skip
        read_tagged(path)
    with pytest.raises(VecliftError, match=r"data\.conll: a binary file veclift cannot read as labeled texts"):
        read_labeled(path)
    latin = tmp_path / "latin.conll"
    latin.write_bytes("Jos\xe9 B-PER\nlives O\n".encode("latin-1"))
    with pytest.raises(VecliftError, match=r"latin\.conll:1: not valid utf-8"):  # one odd byte is text in another encoding
        read_tagged(latin)


def test_broken_or_misplaced_data_is_one_line(saved, tmp_path):
    root, _ = saved
    cases = {
        "cut.parquet": ((root / "train.parquet").read_bytes()[:300], r"cut\.parquet: a parquet file that cannot be read: "),
        "cut.spacy": ((root / "train.spacy").read_bytes()[:50], r"cut\.spacy: a spaCy DocBin file that cannot be read: "),
        "cut.arrow": ((root / "train.arrow").read_bytes()[:200], r"cut\.arrow: an Arrow file that cannot be read: "),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(VecliftError, match=message) as error:
            read_tagged(tmp_path / name)
        assert "\n" not in str(error.value)
    (tmp_path / "empty-folder").mkdir()
    with pytest.raises(VecliftError, match=r"empty-folder: a folder veclift cannot read as tagged sentences"):
        read_tagged(tmp_path / "empty-folder")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "state.json").write_text("{not json")
    with pytest.raises(VecliftError, match=r"broken: a Hugging Face dataset folder that cannot be loaded: ") as error:
        read_tagged(tmp_path / "broken")
    assert "\n" not in str(error.value)
    with pytest.raises(VecliftError, match=r"a parquet file veclift cannot read as one of several per-label text files"):
        read_labeled([root / "train.parquet", root / "train.conll"])


def test_missing_extras_are_named(saved, monkeypatch):
    root, _ = saved
    monkeypatch.setitem(sys.modules, "datasets", None)
    monkeypatch.setitem(sys.modules, "spacy", None)
    with pytest.raises(VecliftError, match=r"saved: reading a saved Hugging Face dataset folder needs the datasets package: "
                                           r"pip install 'veclift\[datasets\]'"):  # fmt: skip
        read_tagged(root / "saved")
    with pytest.raises(VecliftError, match=r"train\.spacy: spaCy DocBin files need spaCy: pip install 'veclift\[spacy\]'"):
        read_tagged(root / "train.spacy")
    assert read_tagged(root / "train.parquet")  # parquet and Arrow need pyarrow only


def test_each_format_trains_the_same_model_from_the_cli(saved, tmp_path):
    """`veclift train ner --train FILE` on the CoNLL file, the dataset folder, parquet, DocBin and JSONL (with
    --label-names), same seed: the same weights, byte for byte; the model beats a constant tagger on the data."""
    from typer.testing import CliRunner

    import veclift.cli
    from veclift.tasks import load_model

    root, reference = saved
    veclift.cli._register()
    vectors = tiny_vectors().save(tmp_path / "vectors")
    weights = {}
    names = ["--label-names", ",".join(CONLL_NAMES)]
    for name, extra in [("train.conll", []), ("saved", []), ("train.parquet", []), ("train.spacy", []), ("train.jsonl", names)]:
        model = tmp_path / f"model-{name}"
        result = CliRunner().invoke(veclift.cli.app, ["train", "ner", "--train", str(root / name), "--vectors", str(vectors),
                                                      "--embeddings", "frozen", "--epochs", "4", "--hidden", "8", "--lr", "0.02",
                                                      "--batch-size", "8", "--seed", "3", "--quiet", "--output", str(model), *extra])  # fmt: skip
        assert result.exit_code == 0, (result.output, result.exception)
        weights[name] = (model / "weights.safetensors").read_bytes()
    assert len(set(weights.values())) == 1
    tagger = load_model(tmp_path / "model-train.parquet")
    assert tagger.evaluate(reference)["accuracy"] > constant_baseline(reference)
    result = CliRunner().invoke(veclift.cli.app, ["train", "ner", "--train", str(root / "train.jsonl"), "--output", str(tmp_path / "m")])
    assert isinstance(result.exception, VecliftError) and "--label-names" in str(result.exception)  # main() prints it, exit 2


# --- fuzzing: whatever the bytes, a reader succeeds or raises one VecliftError line (tests/test_fuzz_readers.py) ---
fuzz = pytest.importorskip("test_fuzz_readers")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZED = {
    "parquet": ("train.parquet", None, (read_tagged, read_labeled)),
    "arrow-file": ("train.arrow", None, (read_tagged,)),
    "docbin": ("train.spacy", None, (read_tagged, read_labeled)),
    "hf-jsonl": ("train.jsonl", None, (lambda p: read_tagged(p, label_names=CONLL_NAMES),)),
    "dataset-arrow": ("data-00000-of-00001.arrow", "saved", (read_tagged,)),
    "dataset-state": ("state.json", "saved", (read_tagged,)),
    "dataset-info": ("dataset_info.json", "saved", (read_tagged,)),
}


@pytest.fixture(scope="module")
def fuzz_cases(saved) -> dict:
    root, _ = saved
    cases = {}
    for name, (target, folder, reads) in FUZZED.items():
        base = root / folder if folder else root / target
        data = (base / target if folder else base).read_bytes()
        cases[name] = fuzz.Case(data, reads, target if folder else Path(target).name, base if folder else None)
    return cases


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-formats")


def test_every_fuzz_seed_is_valid(fuzz_cases, scratch):
    for name, case in fuzz_cases.items():
        source = fuzz._place(case, case.data, scratch / "seed")
        assert case.reads[0](source), name


@pytest.mark.parametrize("name", list(FUZZED))
@fuzz.FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(fuzz_cases, scratch, name, data):
    fuzz._judge(fuzz_cases[name], data, scratch)


@pytest.mark.parametrize("name", list(FUZZED))
@fuzz.FUZZ
@given(cut=st.floats(0, 1))
def test_truncated_valid_file(fuzz_cases, scratch, name, cut):
    data = fuzz_cases[name].data
    fuzz._judge(fuzz_cases[name], data[: int(len(data) * cut)], scratch)


@pytest.mark.parametrize("name", list(FUZZED))
@fuzz.FUZZ
@given(st.data())
def test_mutated_valid_file(fuzz_cases, scratch, name, data):
    mutated = bytearray(fuzz_cases[name].data)
    for position, value in data.draw(fuzz._mutations(len(mutated))):
        mutated[position] = value
    fuzz._judge(fuzz_cases[name], bytes(mutated), scratch)


@pytest.mark.slow
def test_real_conll_sentences_read_the_same_in_every_format(tmp_path):
    """The first 100 sentences of CoNLL-2003's training file, saved in each format, read back equal."""
    source = Path(__file__).parent.parent.parent / "shared" / "data" / "ner" / "conll2003" / "train.txt"
    if not source.exists():
        pytest.skip(f"{source} is not here")
    reference = read_conll(source)[:100]
    assert len({kind for s in reference for kind, _, _ in s.entities()}) == 4
    dataset = hf_dataset(reference)
    dataset.save_to_disk(str(tmp_path / "saved"))
    dataset.to_parquet(str(tmp_path / "sample.parquet"))
    dataset.to_json(str(tmp_path / "sample.jsonl"))
    save_docbin(reference, tmp_path / "sample.spacy")
    for name in ("saved", "sample.parquet", "sample.spacy"):
        assert read_tagged(tmp_path / name) == reference, name
    assert read_tagged(tmp_path / "sample.jsonl", label_names=CONLL_NAMES) == reference
