"""A simple, documented regex tokenizer close to CoNLL/Penn Treebank and GloVe tokenisation.

Rules, tried in this order at each position (whitespace separates tokens and is dropped):

1. URLs (``http://`` or ``https://`` up to whitespace, trailing ``.,;:!?)]`` left off);
2. ``@mentions`` and ``#hashtags``;
3. dotted abbreviations of single letters: ``U.S.``, ``e.g.``;
4. numbers with internal ``.``, ``,`` or ``:`` between digits: ``3.5``, ``1,000``, ``12:46``;
5. words: letters, digits and underscores, with internal hyphens or apostrophes
   (``jean-claude``, ``o'neill``); English clitics are split off as separate tokens the
   Penn Treebank way: ``don't`` -> ``do n't``, ``he's`` -> ``he 's`` (also ``'re 've 'll 'd 'm``);
6. a clitic standing alone, as in text tokenised that way already (SST's ``it 's``): ``'s``,
   ``'re``, ``'ve``, ``'ll``, ``'d``, ``'m`` stay one token, as GloVe has them;
7. runs of dots (``...``) or hyphens (``--``);
8. any other character on its own (punctuation, symbols).
"""

from __future__ import annotations

import re
from os import PathLike

from veclift.data.textfile import read_text, text_lines
from veclift.errors import VecliftError

_TOKEN = re.compile(
    r"""
    https?://(?:\S*[^\s.,;:!?)\]]|\S)  # up to a space, trailing .,;:!?)] left off (linear, unlike a lazy \S+?)
    | [@\#]\w+
    | (?:[^\W\d_]\.){2,}
    | \d+(?:[.,:]\d+)+
    | \w+(?:[-'’]\w+)*
    | ['’](?i:s|re|ve|ll|d|m)(?!\w)
    | \.{2,} | -{2,}
    | \S
    """,
    re.VERBOSE,
)
_CLITIC = re.compile(r"(?i)(?<=\w)(?:n['’]t|['’](?:s|re|ve|ll|d|m))$")


def tokenize_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Tokens of ``text`` with their character offsets ``(token, start, end)``, end exclusive."""
    tokens: list[tuple[str, int, int]] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        clitic = _CLITIC.search(match.group())
        if clitic and clitic.start() > 0:
            cut = start + clitic.start()
            tokens.append((text[start:cut], start, cut))
            start = cut
        tokens.append((text[start:end], start, end))
    return tokens


def tokenize(text: str, lowercase: bool = False) -> list[str]:
    """Tokens of ``text`` (see the module docstring for the rules), lower-cased if asked."""
    tokens = [token for token, _, _ in tokenize_with_offsets(text)]
    return [token.lower() for token in tokens] if lowercase else tokens


def joined_with_offsets(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The tokens joined by single spaces, and each token's ``(start, end)`` in that text."""
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return " ".join(tokens), offsets


def token_offsets(text: str, tokens: list[str]) -> list[tuple[int, int]] | None:
    """Each token's ``(start, end)`` in ``text``, the tokens spelling the whole text in order with only
    whitespace (or nothing) between them; None when they do not."""
    offsets, position = [], 0
    for token in tokens:
        start = len(text) - len(text[position:].lstrip())
        if not token or not text.startswith(token, start):
            return None
        offsets.append((start, start + len(token)))
        position = start + len(token)
    return offsets if not text[position:].strip() else None


def raw_sentences(path: str | PathLike, what: str = "text") -> list[list[str]]:
    """The token lists of a raw-text file, one sentence a line (blank lines skipped); ``what`` names
    the file in the error a file without any sentence gives."""
    token_lists = [tokens for tokens in (tokenize(line) for line in text_lines(read_text(path))) if tokens]
    if not token_lists:
        raise VecliftError(f"no sentence in the {what} (one sentence a line)", path)
    return token_lists
