"""Corpus readers: text, folders, JSONL, gzip/bz2, PDF (built here with pypdf), sentences, vocabulary."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import warnings

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from veclift.errors import VecliftError, VecliftWarning
from veclift.pretrain.corpus import Corpus, split_sentences


def make_pdf(lines: list[str], password: str | None = None) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica, optionally encrypted with a user password."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
         NameObject("/BaseFont"): NameObject("/Helvetica")}
    )
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    content = DecodedStreamObject()
    content.set_data("".join(f"BT /F1 12 Tf 72 {720 - 16 * i} Td ({line}) Tj ET\n" for i, line in enumerate(lines)).encode("latin-1"))
    page.replace_contents(content)
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_sentences_split_at_stops_but_not_abbreviations():
    text = 'Dr. Smith met Mr. J. Doe in the U.S. on Monday. It rained! "Really?" She left. the film was bad . it was long .'
    assert split_sentences(text) == [
        "Dr. Smith met Mr. J. Doe in the U.S. on Monday.",
        "It rained!",
        '"Really?"',
        "She left. the film was bad .",
        "it was long .",
    ]


def test_plain_text_joins_wrapped_lines_and_is_restartable(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("The cat sat\non the mat. The dog\nbarked.\n\nA new paragraph\n", encoding="utf-8")
    corpus = Corpus([path])
    first = list(corpus)
    assert first == [["The", "cat", "sat", "on", "the", "mat", "."], ["The", "dog", "barked", "."], ["A", "new", "paragraph"]]
    assert list(corpus) == first


def test_lowercase_and_compressed_files(tmp_path):
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(b"Hello World.\n"))
    (tmp_path / "b.txt.bz2").write_bytes(bz2.compress(b"Good Night.\n"))
    assert list(Corpus([tmp_path], lowercase=True)) == [["hello", "world", "."], ["good", "night", "."]]


def test_folder_reads_documents_in_order_and_skips_hidden_and_binary(tmp_path):
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "b.txt").write_text("Second file.", encoding="utf-8")
    (tmp_path / "docs" / "sub" / "a.txt").write_text("Third file.", encoding="utf-8")
    (tmp_path / "docs" / "a.md").write_text("First file.", encoding="utf-8")
    (tmp_path / "docs" / ".hidden.txt").write_text("Never read.", encoding="utf-8")
    (tmp_path / "docs" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    corpus = Corpus([tmp_path / "docs"])
    with pytest.warns(VecliftWarning, match="image.png.*binary"):
        sentences = list(corpus)
    assert [s[0] for s in sentences] == ["First", "Second", "Third"]
    assert list(corpus.skipped) == [str(tmp_path / "docs" / "image.png")]


def test_jsonl_text_field_and_errors_name_the_line(tmp_path):
    good = tmp_path / "a.jsonl"
    good.write_text(json.dumps({"body": "One. Two."}) + "\n\n" + json.dumps({"body": "Three"}) + "\n", encoding="utf-8")
    assert list(Corpus([good], text_field="body")) == [["One", "."], ["Two", "."], ["Three"]]
    with pytest.raises(VecliftError, match=r"a\.jsonl:1: no 'text' field"):
        list(Corpus([good]))
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"text": "fine"}\n{oops\n', encoding="utf-8")
    with pytest.raises(VecliftError, match=r"b\.jsonl:2: invalid JSON"):
        list(Corpus([bad]))


def test_json_files_are_json_lines_only_when_their_first_line_is_an_object(tmp_path):
    lines = tmp_path / "export.json"
    lines.write_text(json.dumps({"text": "One."}) + "\n" + json.dumps({"text": "Two."}) + "\n", encoding="utf-8")
    assert list(Corpus([lines])) == [["One", "."], ["Two", "."]]
    document = tmp_path / "document.json"
    document.write_text('{\n  "title": "Hello there."\n}\n', encoding="utf-8")
    tokens = [t for sentence in Corpus([document]) for t in sentence]  # one document: plain text, as before
    assert tokens[:3] == ["{", '"', "title"] and "Hello" in tokens


def test_pdf_text_is_read_with_hyphenated_line_breaks_joined(tmp_path):
    path = tmp_path / "brochure.pdf"
    path.write_bytes(make_pdf(["Digital marketing drives sales.", "Search engine optimi-", "zation helps."]))
    assert list(Corpus([path], lowercase=True)) == [
        ["digital", "marketing", "drives", "sales", "."],
        ["search", "engine", "optimization", "helps", "."],
    ]


def test_encrypted_and_broken_pdfs_are_skipped_with_a_warning_and_counted(tmp_path):
    (tmp_path / "ok.pdf").write_bytes(make_pdf(["Readable text."]))
    (tmp_path / "locked.pdf").write_bytes(make_pdf(["Secret text."], password="secret"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not a real pdf")
    corpus = Corpus([tmp_path])
    with pytest.warns(VecliftWarning) as caught:
        assert list(corpus) == [["Readable", "text", "."]]
    messages = [str(w.message) for w in caught]
    assert any("locked.pdf" in m and "encrypted" in m for m in messages)
    assert any("broken.pdf" in m and "unreadable PDF" in m for m in messages)
    assert sorted(corpus.skipped) == [str(tmp_path / "broken.pdf"), str(tmp_path / "locked.pdf")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(corpus) == [["Readable", "text", "."]]  # a second pass warns no more


def test_undecodable_bytes_are_replaced_with_one_warning(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"Plain line.\nCaf\xe9 au lait.\n")
    corpus = Corpus([path])
    with pytest.warns(VecliftWarning, match=r"latin\.txt:2: bytes that are not UTF-8 were replaced"):
        assert list(corpus)[1] == ["Caf", "\ufffd", "au", "lait", "."]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(corpus)


def test_vocabulary_counts_and_min_count(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("a b a.\nb a c.\n", encoding="utf-8")
    vocab = Corpus([path]).vocabulary(progress=False)
    assert vocab.counts == {"a": 3, ".": 2, "b": 2, "c": 1}
    assert (vocab.tokens, vocab.sentences) == (8, 2)
    assert vocab.kept(2) == {"a": 3, ".": 2, "b": 2}


def test_missing_and_empty_inputs_are_errors(tmp_path):
    with pytest.raises(VecliftError, match="no such file"):
        Corpus([tmp_path / "nope.txt"])
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(VecliftError, match="no text"):
        Corpus([tmp_path / "empty.txt"]).vocabulary(progress=False)
