"""What kind of data a path holds, told from its first bytes (a folder from its files), so that each
format goes to its reader and a binary file is named as such instead of failing as bad UTF-8."""

from __future__ import annotations

import zlib
from os import PathLike
from pathlib import Path

from veclift.errors import VecliftError

DATASET_FILES = ("dataset_info.json", "state.json", "dataset_dict.json")
"""Files of a folder written by ``datasets``' ``save_to_disk`` (a Dataset, or a DatasetDict)."""
TABLE_FORMATS = ("dataset", "parquet", "arrow")
"""Formats read as a table of columns (`veclift.data.hf`)."""
FORMAT_NAMES = {
    "dataset": "a saved Hugging Face dataset folder",
    "parquet": "a parquet file",
    "arrow": "an Arrow file",
    "docbin": "a spaCy DocBin file",
    "binary": "a binary file",
    "folder": "a folder",
}
_HEAD = 8192
_TEXT_CONTROLS = frozenset("\t\n\r\f\b\x1b")


def data_format(path: str | PathLike, encoding: str = "utf-8") -> str:
    """``"dataset"``, ``"folder"``, ``"parquet"``, ``"arrow"``, ``"docbin"``, ``"binary"`` or ``"text"``
    (also for a file that cannot be opened: the text readers say why). A file is ``"binary"`` when
    read as ``encoding`` (UTF-8 or Latin-1) it has a NUL byte, or over a tenth of its first
    characters are undecodable or control characters."""
    path = Path(path)
    if path.is_dir():
        return "dataset" if any((path / name).is_file() for name in DATASET_FILES) else "folder"
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
    except OSError:
        return "text"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):  # the file, or the stream format
        return "arrow"
    if path.suffix.lower() == ".spacy" or _is_docbin(head):
        return "docbin"
    if encoding.lower().replace("-", "").replace("_", "") not in ("utf8", "utf8sig", "latin1", "ascii") or not head:
        return "text"
    if b"\x00" in head:
        return "binary"
    text = head.decode(encoding, errors="replace")
    if len(head) == _HEAD:
        text = text[:-4]  # a multi-byte character cut at the end of the head is not a sign of binary data
    odd = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in _TEXT_CONTROLS) or "\x7f" <= c < "\xa0")
    return "binary" if odd * 10 > len(text) else "text"


def _is_docbin(head: bytes) -> bool:
    """The head of a zlib stream whose first bytes are the msgpack map spaCy's DocBin writes."""
    if len(head) < 2 or head[0] != 0x78 or (head[0] * 256 + head[1]) % 31:
        return False
    try:
        start = zlib.decompressobj().decompress(head, 64)
    except zlib.error:
        return False
    return bool(start) and (0x80 <= start[0] <= 0x8F or start[0] in (0xDE, 0xDF)) and b"attrs" in start


def one_line(exc: BaseException) -> str:
    """An exception's message on one short line (a third-party reader's, for a VecliftError)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def unreadable(path: str | PathLike, kind: str, formats: str) -> VecliftError:
    """The error for data of format ``kind`` given to a reader of ``formats`` ("labeled texts (TSV, ...)")."""
    return VecliftError(f"{FORMAT_NAMES[kind]} veclift cannot read as {formats}", path)
