"""Entity tag schemes (IOB1, IOB2, BIOES, and IO: plain type tags such as ``PER``): detection,
validation, repair, conversion and chunking.

The internal scheme is IOB2 (``B-`` starts every entity). Chunking follows conlleval exactly,
so any scheme, and any ill-formed sequence, is read the way conlleval reads it: an ``I-X``
after ``O`` or after another type starts a new ``X`` entity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from os import PathLike
from typing import NamedTuple

from veclift.errors import VecliftError

SCHEMES = ("iob1", "iob2", "bioes", "io")
INTERNAL_SCHEME = "iob2"
_PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES"}
SCHEME_RULES = {
    "iob1": "tags are O, I-TYPE, or B-TYPE between two adjacent entities of one type",
    "iob2": "tags are O, B-TYPE (an entity's first token) or I-TYPE (the tokens after it)",
    "bioes": "tags are O, B-TYPE, I-TYPE, E-TYPE (last token) or S-TYPE (a one-token entity)",
    "io": "tags are O or a bare TYPE; a run of one TYPE is one entity",
}

Span = tuple[str, int, int]
"""An entity: (type, start, end) over token positions, end exclusive."""


def check_scheme(scheme: str, *, allow_auto: bool = False) -> str:
    """Return ``scheme`` lower-cased, or raise a VecliftError naming the known schemes."""
    name = scheme.lower()
    known = (("auto",) if allow_auto else ()) + SCHEMES
    if name not in known:
        raise VecliftError(f"unknown tag scheme {scheme!r} (expected one of {', '.join(known)})")
    return name


def split_tag(tag: str) -> tuple[str, str]:
    """Split ``B-PER`` into ``("B", "PER")`` at the first hyphen; ``O`` gives ``("O", "")``."""
    prefix, _, kind = tag.partition("-")
    return prefix, kind


def iob2_transitions(labels: Sequence[str]) -> tuple[list[list[bool]], list[bool]]:
    """What an IOB2 sequence over ``labels`` can do: ``allowed[a][b]`` whether tag b may follow tag a,
    and ``start[b]`` whether a sentence may open with b. ``I-X`` comes only after ``B-X`` or ``I-X``."""

    def may_follow(before: str, tag: str) -> bool:
        prefix, kind = split_tag(tag)
        return prefix != "I" or before in (f"B-{kind}", f"I-{kind}")

    allowed = [[may_follow(before, tag) for tag in labels] for before in labels]
    return allowed, [split_tag(tag)[0] != "I" for tag in labels]


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    # conlleval.pl endOfChunk, including its rule that a change of type ends a chunk.
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != kind


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    # conlleval.pl startOfChunk: I- or E- after O, E or S starts a chunk, as does a change of type.
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag not in ("O", ".") and prev_type != kind


def io_spans(tags: Sequence[str]) -> list[Span]:
    """Entities of plain (IO) tags: each maximal run of one non-``O`` tag."""
    found: list[Span] = []
    for i, tag in enumerate([*tags, "O"]):
        if found and found[-1][2] == i and found[-1][0] == tag:
            found[-1] = (tag, found[-1][1], i + 1)
        elif tag != "O" and i < len(tags):
            found.append((tag, i, i + 1))
    return found


def spans(tags: Sequence[str]) -> list[Span]:
    """Entities of one sentence as conlleval chunks them, in any of the prefixed schemes."""
    found: list[Span] = []
    prev_tag, prev_type, start = "O", "", None
    for i, tag in enumerate(tags):
        prefix, kind = split_tag(tag)
        if start is not None and _end_of_chunk(prev_tag, prefix, prev_type, kind):
            found.append((prev_type, start, i))
            start = None
        if _start_of_chunk(prev_tag, prefix, prev_type, kind):
            start = i
        prev_tag, prev_type = prefix, kind
    if start is not None:
        found.append((prev_type, start, len(tags)))
    return found


def tags_from_spans(entities: Iterable[Span], length: int, scheme: str = INTERNAL_SCHEME) -> list[str]:
    """Write non-overlapping entities as a tag sequence of ``length`` tokens in ``scheme`` (in IO,
    two adjacent entities of one type become one)."""
    scheme = check_scheme(scheme)
    tags = ["O"] * length
    previous: Span | None = None
    for kind, start, end in sorted(entities, key=lambda s: s[1]):
        if scheme == "io":
            tags[start:end] = [kind] * (end - start)
        elif scheme == "bioes" and end - start == 1:
            tags[start] = f"S-{kind}"
        else:
            adjacent = previous is not None and previous[2] == start and previous[0] == kind
            first = "I" if scheme == "iob1" and not adjacent else "B"
            tags[start] = f"{first}-{kind}"
            for i in range(start + 1, end):
                tags[i] = f"I-{kind}"
            if scheme == "bioes":
                tags[end - 1] = f"E-{kind}"
        previous = (kind, start, end)
    return tags


def convert_tags(tags: Sequence[str], source: str, target: str) -> list[str]:
    """Convert one sentence's tags between schemes; ill-formed input is read as conlleval does."""
    check_scheme(source)
    return tags_from_spans(io_spans(tags) if source == "io" else spans(tags), len(tags), target)


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Guess the scheme of a corpus: ``bioes`` if any ``S-``/``E-`` tag occurs; ``iob1`` if more
    entities start with ``I-`` than with a ``B-`` that does not directly follow the same type
    (IOB1 uses ``B-`` only between adjacent entities); otherwise ``iob2`` (also for all-``O`` data).
    """
    starts_with_i = starts_with_fresh_b = 0
    for tags in tag_sequences:
        prev_prefix, prev_type = "O", ""
        for tag in tags:
            prefix, kind = split_tag(tag)
            if prefix in ("S", "E"):
                return "bioes"
            continues = prev_prefix in ("B", "I") and prev_type == kind
            if prefix == "I" and not continues:
                starts_with_i += 1
            elif prefix == "B" and not continues:
                starts_with_fresh_b += 1
            prev_prefix, prev_type = prefix, kind
    return "iob1" if starts_with_i > starts_with_fresh_b else "iob2"


class TagProblem(NamedTuple):
    """A tag that breaks its scheme: its position, why, and whether conlleval's reading repairs it."""

    position: int
    message: str
    repairable: bool


def tag_problems(tags: Sequence[str], scheme: str) -> list[TagProblem]:
    """Tags of one sentence that break ``scheme``.

    Unknown prefixes and missing types cannot be repaired. In IOB2 and BIOES an ``I-X`` (or
    ``E-X``) must follow ``B-X`` or ``I-X``; in BIOES a ``B-X``/``I-X`` must be followed by
    ``I-X`` or ``E-X``. IOB1 allows an ``I-`` anywhere.
    """
    scheme = check_scheme(scheme)
    if scheme == "io":
        return [TagProblem(i, "an empty tag", False) for i, tag in enumerate(tags) if not tag]
    allowed = _PREFIXES[scheme]
    problems: list[TagProblem] = []
    parts = [split_tag(tag) for tag in tags]
    for i, (prefix, kind) in enumerate(parts):
        tag = tags[i]
        if tag == "O":
            continue
        if prefix not in allowed or not kind:
            problems.append(TagProblem(i, f"tag {tag!r} is not a valid {scheme.upper()} tag: {SCHEME_RULES[scheme]}"
                                          f"{' (plain type tags: scheme io)' if '-' not in tag else ''}", False))  # fmt: skip
            continue
        prev_prefix, prev_type = parts[i - 1] if i else ("O", "")
        if scheme != "iob1" and prefix in ("I", "E") and not (prev_prefix in ("B", "I") and prev_type == kind):
            previous = repr(tags[i - 1]) if i else "the sentence start"
            problems.append(TagProblem(i, f"tag {tag!r} cannot follow {previous} in {scheme.upper()}", True))
        if scheme == "bioes" and prefix in ("B", "I"):
            next_prefix, next_type = parts[i + 1] if i + 1 < len(parts) else ("O", "")
            if not (next_prefix in ("I", "E") and next_type == kind):
                following = repr(tags[i + 1]) if i + 1 < len(tags) else "the sentence end"
                problems.append(TagProblem(i, f"tag {tag!r} cannot be followed by {following} in BIOES", True))
    return problems


def repair_tags(
    tags: Sequence[str],
    scheme: str,
    *,
    strict: bool = False,
    path: str | PathLike | None = None,
    lines: Sequence[int] | None = None,
) -> tuple[list[str], list[TagProblem]]:
    """Return ``(iob2_tags, repaired)`` for one sentence in ``scheme``.

    A tag that cannot follow its neighbour is repaired the way conlleval reads it (an ``I-X``
    after ``O`` or another type starts a new entity, as if it were ``B-X``); ``repaired`` lists
    them. With ``strict=True`` the first such tag raises a VecliftError naming ``path`` and the
    line from ``lines`` (one line number per token). Tags with an unknown prefix always raise.
    """
    problems = tag_problems(tags, scheme)
    for problem in problems:
        if strict or not problem.repairable:
            line = lines[problem.position] if lines is not None else None
            raise VecliftError(problem.message, path, line)
    return convert_tags(tags, scheme, INTERNAL_SCHEME), problems
