"""Tag schemes, CoNLL/JSONL readers and writers, tokenizer; real NER files in slow tests."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

from veclift.data import (
    TaggedSentence,
    convert_tags,
    detect_scheme,
    read_conll,
    read_tagged,
    read_tagged_jsonl,
    repair_tags,
    spans,
    tokenize,
    tokenize_with_offsets,
    write_conll,
    write_tagged_jsonl,
)
from veclift.errors import VecliftError, VecliftWarning

DATA = Path(os.environ.get("VECLIFT_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- schemes ---------------------------------------------------------------------------------


def test_spans_follow_conlleval_chunk_rules():
    assert spans(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 2), ("LOC", 3, 4)]
    # I- after O starts an entity; I- of another type starts a new one; B- after I- splits.
    assert spans(["O", "I-PER", "I-LOC", "B-LOC", "I-LOC"]) == [("PER", 1, 2), ("LOC", 2, 3), ("LOC", 3, 5)]
    assert spans(["S-PER", "B-ORG", "I-ORG", "E-ORG", "E-ORG"]) == [("PER", 0, 1), ("ORG", 1, 4), ("ORG", 4, 5)]
    assert spans(["I-MISC"]) == [("MISC", 0, 1)]
    assert spans([]) == []


@pytest.mark.parametrize(
    "iob1, iob2, bioes",
    [
        (
            ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG"],
            ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG"],
            ["B-PER", "E-PER", "S-PER", "O", "S-LOC", "S-ORG"],
        ),
        (["O", "I-X", "I-X", "I-X"], ["O", "B-X", "I-X", "I-X"], ["O", "B-X", "I-X", "E-X"]),
    ],
)
def test_convert_between_all_schemes(iob1, iob2, bioes):
    sequences = {"iob1": iob1, "iob2": iob2, "bioes": bioes}
    for source, tags in sequences.items():
        for target, expected in sequences.items():
            assert convert_tags(tags, source, target) == expected, (source, target)


def test_detect_scheme():
    assert detect_scheme([["B-PER", "I-PER", "O"], ["O", "B-LOC"]]) == "iob2"
    assert detect_scheme([["I-PER", "I-PER", "B-PER"], ["O", "I-LOC"]]) == "iob1"
    assert detect_scheme([["B-PER", "E-PER"], ["S-LOC"]]) == "bioes"
    assert detect_scheme([["O", "O"]]) == "iob2"
    # A stray I- in IOB2 data does not flip the guess.
    assert detect_scheme([["B-A", "O", "B-B", "O", "I-C"]]) == "iob2"


def test_repair_reads_bad_i_as_b_and_strict_raises_with_line():
    tags, repaired = repair_tags(["O", "I-PER", "I-PER"], "iob2")
    assert tags == ["O", "B-PER", "I-PER"] and [p.position for p in repaired] == [1]
    assert repair_tags(["B-PER", "I-PER"], "iob2") == (["B-PER", "I-PER"], [])
    with pytest.raises(VecliftError, match=r"^f.txt:12: tag 'I-PER' cannot follow 'O'"):
        repair_tags(["O", "I-PER"], "iob2", strict=True, path="f.txt", lines=[11, 12])
    with pytest.raises(VecliftError, match="cannot be followed by 'O' in BIOES"):
        repair_tags(["B-PER", "O"], "bioes", strict=True)
    with pytest.raises(VecliftError, match="not a valid IOB2 tag"):
        repair_tags(["S-PER"], "iob2")
    with pytest.raises(VecliftError, match="not a valid IOB2 tag"):
        repair_tags(["PER"], "iob2")


def test_unknown_scheme_is_an_error(tmp_path):
    with pytest.raises(VecliftError, match="unknown tag scheme 'bilou'"):
        convert_tags(["O"], "bilou", "iob2")
    path = write(tmp_path / "a.conll", "a B-X\n")
    with pytest.raises(VecliftError, match="unknown tag scheme"):
        read_conll(path, scheme="iobx")


# --- CoNLL reader and writer -----------------------------------------------------------------


def test_read_conll_spaces_tabs_docstart_trailing_whitespace(tmp_path):
    path = write(
        tmp_path / "a.txt",
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG  \r\nrejects VBZ B-VP O\n\n\n"
        "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n",
    )
    sentences = read_conll(path)
    assert sentences == [
        TaggedSentence(("EU", "rejects"), ("B-ORG", "O")),
        TaggedSentence(("Peter", "Blackburn"), ("B-PER", "I-PER")),
    ]
    chunks = read_conll(path, tag_column=2)
    assert chunks[0].tags == ("B-NP", "B-VP")
    tabs = write(tmp_path / "b.tsv", "New York\tB-LOC\ncity\tO\n")
    assert read_conll(tabs)[0].tokens == ("New York", "city")


def test_read_conll_converts_iob1_and_bioes_to_iob2(tmp_path):
    iob1 = write(tmp_path / "iob1.txt", "010 I-MISC\nis O\nthe O\n\nJohn I-PER\nMary B-PER\n")
    assert [s.tags for s in read_conll(iob1)] == [("B-MISC", "O", "O"), ("B-PER", "B-PER")]
    bioes = write(tmp_path / "bioes.txt", "New B-LOC\nYork E-LOC\nis O\nJohn S-PER\n")
    assert read_conll(bioes)[0].tags == ("B-LOC", "I-LOC", "O", "B-PER")


def test_read_conll_token_prefix(tmp_path):
    path = write(tmp_path / "wikiann.txt", "en:R.H.\tB-ORG\nen::\tO\n\nen:Paris\tB-LOC\n")
    assert read_conll(path)[0].tokens == ("R.H.", ":")
    assert read_conll(path, token_prefix=None)[0].tokens == ("en:R.H.", "en::")
    mixed = write(tmp_path / "mixed.txt", "en:x O\nhttp:y O\n")
    assert read_conll(mixed)[0].tokens == ("en:x", "http:y")
    assert read_conll(mixed, token_prefix="en:")[0].tokens == ("x", "http:y")


def test_read_conll_repairs_with_one_warning_or_strict_raises(tmp_path):
    path = write(tmp_path / "bad.txt", "A B-PER\nB O\nC I-PER\n\nD O\nE I-LOC\n")
    with pytest.warns(VecliftWarning, match=r"bad.txt:3: 2 tag\(s\) could not follow"):
        sentences = read_conll(path, scheme="iob2")
    assert sentences[0].tags == ("B-PER", "O", "B-PER")
    with pytest.raises(VecliftError, match=r"bad.txt:3: tag 'I-PER' cannot follow 'O' in IOB2"):
        read_conll(path, scheme="iob2", strict=True)


@pytest.mark.parametrize(
    "text, message",
    [
        ("a B-X\nb c O\n", r":2: expected 2 columns like line 1 of the data, found 3"),
        ("a\n", r":1: expected at least 2 columns"),
        ("", r"no sentences found"),
        ("\n\n-DOCSTART- O\n\n", r"no sentences found"),
        ("a B-X\n\nb X-Y\n", r":3: tag 'X-Y' is not a valid IOB2 tag"),
    ],
)
def test_read_conll_bad_input(tmp_path, text, message):
    path = write(tmp_path / "bad.txt", text)
    with pytest.raises(VecliftError, match=message):
        read_conll(path)


def test_read_conll_bad_encoding_names_line(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("a O\n\nJos\xe9 B-PER\n".encode("latin-1"))
    with pytest.raises(VecliftError, match=r"latin.txt:3: not valid utf-8: byte 0xe9"):
        read_conll(path)
    assert read_conll(path, encoding="latin-1")[1].tokens == ("José",)
    with pytest.raises(VecliftError, match="cannot read file"):
        read_conll(tmp_path / "missing.txt")


def test_write_conll_round_trip_in_any_scheme(tmp_path):
    sentences = [
        TaggedSentence(("John", "Smith", "visited", "Paris"), ("B-PER", "I-PER", "O", "B-LOC")),
        TaggedSentence(("A", "B"), ("B-X", "B-X")),
    ]
    for scheme in ("iob1", "iob2", "bioes"):
        path = tmp_path / f"{scheme}.txt"
        write_conll(sentences, path, scheme=scheme)
        assert read_conll(path, scheme=scheme) == sentences
    assert (tmp_path / "bioes.txt").read_text().splitlines()[:2] == ["John B-PER", "Smith E-PER"]
    with pytest.raises(VecliftError, match="cannot be written"):
        write_conll([TaggedSentence(("New York",), ("B-LOC",))], tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


# --- JSONL -----------------------------------------------------------------------------------


def test_read_tagged_jsonl_text_spans_and_tokens(tmp_path):
    lines = [
        {"text": "John Smith lives in New York.", "spans": [{"start": 0, "end": 10, "label": "PER"}, [20, 28, "LOC"]]},
        {"text": "Nothing here", "spans": []},
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    sentences = read_tagged_jsonl(path)
    assert sentences[0] == TaggedSentence(
        ("John", "Smith", "lives", "in", "New", "York", "."), ("B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC", "O")
    )
    assert sentences[1].tags == ("O", "O")
    tokens = write(tmp_path / "b.jsonl", json.dumps({"tokens": ["a", "b"], "tags": ["I-X", "I-X"]}) + "\n")
    assert read_tagged(tokens)[0].tags == ("B-X", "I-X")


def test_write_tagged_jsonl_round_trip(tmp_path):
    sentences = [TaggedSentence(("a", "b"), ("B-X", "O"))]
    write_tagged_jsonl(sentences, tmp_path / "out.jsonl")
    assert read_tagged(tmp_path / "out.jsonl") == sentences
    write_conll(sentences, tmp_path / "out.data")
    assert read_tagged(tmp_path / "out.data") == sentences


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"text": "New York", "spans": [{"start": 0, "end": 6, "label": "LOC"}]}', "does not fall on token boundaries"),
        ('{"text": "a b c", "spans": [[0, 3, "X"], [2, 5, "Y"]]}', "overlap"),
        ('{"text": "a", "spans": [{"start": 0}]}', "each span must be"),
        ('{"tokens": ["a"], "tags": ["O", "O"]}', "1 tokens but 2 tags"),
        ('{"words": ["a"]}', 'expected "text"'),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_read_tagged_jsonl_bad_input(tmp_path, line, message):
    path = write(tmp_path / "bad.jsonl", '{"tokens": ["x"], "tags": ["O"]}\n' + line + "\n")
    with pytest.raises(VecliftError, match=rf"bad.jsonl:2: .*{message}"):
        read_tagged_jsonl(path)


# --- tokenizer -------------------------------------------------------------------------------


def test_tokenize_rules():
    text = 'He said: "I don\'t like U.S. stocks, it\'s 3.5% at 12:46..." @ann #tag o\'neill co-writer'
    assert tokenize(text) == [
        "He", "said", ":", '"', "I", "do", "n't", "like", "U.S.", "stocks", ",", "it", "'s", "3.5", "%",
        "at", "12:46", "...", '"', "@ann", "#tag", "o'neill", "co-writer",
    ]  # fmt: skip
    assert tokenize("See https://x.org/a?b=1. Then", lowercase=True) == ["see", "https://x.org/a?b=1", ".", "then"]
    assert tokenize("   ") == []


def test_tokenize_keeps_a_standalone_clitic_whole():
    # SST and other pre-tokenised text: GloVe has "'s" and "n't" as words
    assert tokenize("it 's good , is n't it") == ["it", "'s", "good", ",", "is", "n't", "it"]
    assert tokenize("'sup ' s 'Re") == ["'", "sup", "'", "s", "'Re"]


def test_tokenize_offsets_point_into_text():
    text = "  Mary's 1,000 dogs\tdon't  bark."
    for token, start, end in tokenize_with_offsets(text):
        assert text[start:end] == token
    assert [t for t, _, _ in tokenize_with_offsets(text)] == ["Mary", "'s", "1,000", "dogs", "do", "n't", "bark", "."]


# --- real files ------------------------------------------------------------------------------

REAL_FILES = [
    # path, blank-line blocks in the README (DOCSTART blocks included), DOCSTART blocks, types
    ("ner/conll2003/train.txt", 14987, 946, {"PER", "ORG", "LOC", "MISC"}),
    ("ner/conll2003/valid.txt", 3466, 216, {"PER", "ORG", "LOC", "MISC"}),
    ("ner/wnut17/train.conll", 3394, 0, {"person", "location", "corporation", "product", "creative-work", "group"}),
    ("ner/wnut17/dev.conll", 1009, 0, {"person", "location", "corporation", "product", "creative-work", "group"}),
    ("ner/wnut17/test.conll", 1287, 0, {"person", "location", "corporation", "product", "creative-work", "group"}),
    ("ner/wikigold/wikigold.conll", 1841, 145, {"PER", "ORG", "LOC", "MISC"}),
    ("ner/wikiann-en/train.txt", 20000, 0, {"PER", "ORG", "LOC"}),
    ("ner/wikiann-en/dev.txt", 10000, 0, {"PER", "ORG", "LOC"}),
    ("ner/wikiann-en/test.txt", 10000, 0, {"PER", "ORG", "LOC"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, blocks, docstarts, types", REAL_FILES)
def test_real_ner_files_load(name, blocks, docstarts, types):
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    with warnings.catch_warnings():
        warnings.simplefilter("error", VecliftWarning)
        sentences = read_conll(path)
    assert len(sentences) == blocks - docstarts
    assert {kind for s in sentences for kind, _, _ in s.entities()} == types
    assert all(tag == "O" or tag[:2] in ("B-", "I-") for s in sentences for tag in s.tags)
    assert not any(token.startswith("en:") for s in sentences[:200] for token in s.tokens)
    assert not any(tag.startswith("I-") and (i == 0 or s.tags[i - 1] == "O") for s in sentences for i, tag in enumerate(s.tags))


@pytest.mark.slow
def test_wikigold_is_detected_as_iob1_and_keeps_its_entities():
    path = DATA / "ner/wikigold/wikigold.conll"
    if not path.exists():
        pytest.skip(f"{path} not present")
    raw_tags = [[line.split()[-1] for line in block.splitlines() if not line.startswith("-DOCSTART-")]
                for block in path.read_text(encoding="utf-8").split("\n\n")]
    raw_tags = [tags for tags in raw_tags if tags]
    assert detect_scheme(raw_tags) == "iob1"
    sentences = read_conll(path)
    assert [s.entities() for s in sentences] == [spans(tags) for tags in raw_tags]
