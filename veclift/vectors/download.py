"""Named remote vector sets: URL, expected SHA-256, format; resumable, verified download into the cache.

None of the publishers (Stanford NLP for GloVe, Facebook for fastText, Google for word2vec) gives a
SHA-256 for these files, so ``sha256`` is None for each: `download` then prints the hash it computed,
for comparison with a trusted copy, and records it beside the file (``<file>.sha256``). Pass
``sha256=`` to enforce one. Archives are unpacked (only the members named here, all of them at once,
so the GloVe 6B sizes share one download) and then deleted; each unpacked file gets its own record.

A transfer writes only ``<file>.part`` and renames it once whole and verified: whole means all the
bytes the server announced, or, when it announced no size, the expected SHA-256. A cut connection
(a short body, a missing last chunk, a reset, a timeout, Ctrl-C) leaves the ``.part`` to resume. A
cached file that no longer matches its hash, or a cached archive that does not unpack, is deleted
and fetched again with a warning. A network or server failure is one `VecliftError` naming the URL.
"""

from __future__ import annotations

import hashlib
import http.client
import lzma
import re
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from veclift.atomic import atomic_path
from veclift.errors import VecliftError, warn
from veclift.progress import progress as progress_bar
from veclift.home import cache_home

UNPUBLISHED = "not published by the authors: download() prints and records the computed hash"
GLOVE = "https://nlp.stanford.edu/data/"
FASTTEXT = "https://dl.fbaipublicfiles.com/fasttext/vectors-english/"


def _glove(archive: str, member: str, description: str) -> dict:
    return {"url": GLOVE + archive, "member": member, "format": "glove", "sha256": None,
            "sha256_note": UNPUBLISHED, "description": description}


def _fasttext(archive: str, member: str, format: str, description: str) -> dict:
    return {"url": FASTTEXT + archive, "member": member, "format": format, "sha256": None,
            "sha256_note": UNPUBLISHED, "description": description}


# glove-6b-50d is built in (see veclift.vectors.builtin), so only the larger 6B sets are listed.
REMOTE: dict[str, dict] = {
    **{
        f"glove-6b-{d}d": _glove("glove.6B.zip", f"glove.6B.{d}d.txt", f"GloVe 6B (Wikipedia 2014 + Gigaword 5), 400k lower-cased words, {d}d")
        for d in (100, 200, 300)
    },
    "glove-42b-300d": _glove("glove.42B.300d.zip", "glove.42B.300d.txt", "GloVe Common Crawl 42B tokens, 1.9M lower-cased words, 300d"),
    "glove-840b-300d": _glove("glove.840B.300d.zip", "glove.840B.300d.txt", "GloVe Common Crawl 840B tokens, 2.2M cased words, 300d"),
    "fasttext-crawl-300d-2m": _fasttext("crawl-300d-2M.vec.zip", "crawl-300d-2M.vec", "word2vec", "fastText Common Crawl 600B tokens, 2M words, 300d"),
    "fasttext-crawl-300d-2m-subword": _fasttext(
        "crawl-300d-2M-subword.zip", "crawl-300d-2M-subword.bin", "fasttext-bin",
        "fastText Common Crawl 600B tokens, 2M words with subword n-grams (.bin), 300d",
    ),
    "fasttext-wiki-news-300d-1m": _fasttext("wiki-news-300d-1M.vec.zip", "wiki-news-300d-1M.vec", "word2vec", "fastText Wikipedia 2017 + UMBC + statmt news, 1M words, 300d"),
    "word2vec-google-news-300": {
        "url": "https://s3.amazonaws.com/dl4j-distribution/GoogleNews-vectors-negative300.bin.gz",
        "member": None,
        "format": "word2vec-binary",
        "sha256": None,
        "sha256_note": UNPUBLISHED + " (Google's own copy is on Google Drive, linked from code.google.com/archive/p/word2vec; this is the widely used mirror)",
        "description": "word2vec Google News 100B tokens, 3M words and phrases, 300d",
    },
}
BLOCK = 1 << 20
TIMEOUT = 60  # seconds that connecting, or waiting for the next bytes, may take
_HEX64 = re.compile(r"[0-9a-f]{64}")


def downloads_dir() -> Path:
    return cache_home() / "downloads"


def _file_name(url: str) -> str:
    try:
        name = PurePosixPath(urlparse(url).path).name
    except ValueError as exc:  # a malformed host, such as an unclosed IPv6 bracket
        raise VecliftError(f"not a valid URL: {exc}", url) from None
    if not name:
        raise VecliftError("the URL does not end in a file name", url)
    return name


def _directory(name: str) -> Path:
    """Where a named source lives: sources unpacked from one archive (GloVe 6B) share its folder."""
    file = _file_name(REMOTE[name]["url"])
    return downloads_dir() / (file.removesuffix(".zip") if file.endswith(".zip") else name)


def _target(name: str) -> Path:
    spec = REMOTE[name]
    return _directory(name) / (spec["member"] or _file_name(spec["url"]))


def cached_path(name: str) -> Path | None:
    """The downloaded file of a named source, or None when it is not downloaded yet."""
    if name not in REMOTE:
        raise VecliftError(f"unknown remote vectors {name!r} (known: {', '.join(REMOTE)})")
    path = _target(name)
    return path if path.is_file() else None


def download(
    name_or_url: str, *, sha256: str | None = None, dest: str | Path | None = None, member: str | None = None,
    progress: bool = True, retries: int = 2,
) -> Path:
    """Fetch a named source (see `REMOTE`) or a URL into ``dest`` (a directory); return the vector file.

    Interrupted transfers resume from the ``.part`` file with an HTTP Range request (up to ``retries``
    times at once, or on the next call). The SHA-256 is checked before the file takes its name, and
    again each time the cached file is asked for. A zip archive is unpacked: ``member``, or the only
    file it holds.
    """
    sha256 = _checked_sha256(sha256)
    if name_or_url in REMOTE:
        spec = REMOTE[name_or_url]
        url, label = spec["url"], name_or_url
        sha256 = sha256 or _checked_sha256(spec["sha256"])
        member = member or spec["member"]
        siblings = [s["member"] for s in REMOTE.values() if s["url"] == url and s["member"] and s["member"] != member]
        directory = Path(dest) if dest else _directory(name_or_url)
    elif name_or_url.lower().startswith(("http://", "https://")):
        url, label, siblings = name_or_url, name_or_url, []
        directory = Path(dest) if dest else downloads_dir()
    else:
        raise VecliftError(f"unknown remote vectors {name_or_url!r} (known: {', '.join(REMOTE)}; or give an http(s) URL)")
    file = directory / _file_name(url)
    if member and _intact(directory / member, None):
        return directory / member
    cached = _intact(file, sha256)
    if not cached:
        _get(url, file, sha256, label, progress, retries)
    if file.suffix.lower() != ".zip":
        return file
    try:
        return _unpack(file, member, siblings)
    except _BadArchive as exc:
        _discard(file)
        if not cached:
            raise VecliftError(f"the server sent a damaged zip archive ({exc.message}); it was deleted: run it again, "
                               "or check the URL", url) from None  # fmt: skip
        warn(f"the cached archive is damaged ({exc.message}); deleted it and downloading it again", file)
    _get(url, file, sha256, label, progress, retries)
    return _unpack(file, member, siblings)


def _checked_sha256(sha256: str | None) -> str | None:
    """``sha256`` in lower case; refused unless it is 64 hexadecimal digits."""
    if sha256 is None:
        return None
    digest = sha256.strip().lower()
    if not _HEX64.fullmatch(digest):
        raise VecliftError(f"the expected SHA-256 must be 64 hexadecimal digits, not {sha256!r}: copy the whole hash")
    return digest


class _BadArchive(VecliftError):
    """A zip archive that cannot be read: truncated, garbled or not a zip at all."""


def _get(url: str, file: Path, expected: str | None, label: str, progress: bool, retries: int) -> None:
    """Download ``url`` and give it the name ``file`` once verified."""
    file.parent.mkdir(parents=True, exist_ok=True)
    part = file.with_name(file.name + ".part")
    _fetch(url, part, expected, label, progress, retries)
    _verify(part, file, expected, label)


def _fetch(url: str, part: Path, expected: str | None, label: str, progress: bool, retries: int) -> None:
    """Download into ``part``, resuming what is there, until it is whole (or ``retries`` resumes fail too)."""
    for _ in range(retries + 1):
        held, total, cut = _transfer(url, part, label, progress)
        if total is not None and held > total:
            part.unlink()
            cut = f"the partial download was longer than the file's {total} bytes, so it was deleted"
        elif cut is None and total is not None and held < total:
            cut = "the server closed the connection early"
        elif cut is None and total is None and expected is not None and _sha256(part) != expected:
            cut = "the server sent no size, and the bytes so far do not match the SHA-256"
        if cut is None:
            if total is None and expected is None:
                warn("the server sent no size and there is no SHA-256 to check, so a cut-off download would go unnoticed", url)
            return
    done = f"{held} of {total} bytes" if total is not None else f"{held} bytes of an unknown size"
    raise VecliftError(f"download interrupted at {done} ({cut}); run it again to resume", url)


def _transfer(url: str, part: Path, label: str, progress: bool) -> tuple[int, int | None, str | None]:
    """One request appending to ``part`` from where it ends: (bytes held, file size or None, why it broke off or None)."""
    start = part.stat().st_size if part.exists() else 0
    with _open(url, start) as response:
        first, size = _content_range(response.headers.get("Content-Range", ""))
        if response.status == 416:  # nothing left after ``start``: the .part may already hold the whole file
            return start, start if size is None else size, None
        if response.status == 206 and first != start:
            raise VecliftError(f"asked to resume at byte {start}, the server sent "
                               f"{response.headers.get('Content-Range')!r}; delete {part} and run it again", url)  # fmt: skip
        offset = start if response.status == 206 else 0  # a 200 answer sends it all: start over
        total = offset + response.length if response.length is not None else size
        block, cut = _read(response)
        if offset == 0 and _is_html(block, url):
            raise VecliftError("the server sent a web page (an error or login page?) instead of the file: "
                               "open the URL in a browser to see why", url)  # fmt: skip
        received = offset
        with open(part, "ab" if offset else "wb") as out, progress_bar(f"Downloading {label}", total, enabled=progress) as update:
            update(advance=offset)
            while block:
                out.write(block)
                received += len(block)
                update(advance=len(block))
                block, cut = _read(response)
        if response.chunked and cut is None:  # the last chunk arrived: the body is whole
            total = received
    return received, total, cut


def _open(url: str, start: int) -> http.client.HTTPResponse | urllib.error.HTTPError:
    """GET ``url`` from byte ``start``; a 416 answer to a resume is returned, every other failure raised."""
    headers = {"User-Agent": "veclift", "Accept-Encoding": "identity", **({"Range": f"bytes={start}-"} if start else {})}
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:
            return exc
        exc.close()
        raise VecliftError(_http_error(exc), url) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise VecliftError(f"cannot download ({_reason(exc)}): check the URL and the network, then run it again", url) from None


def _http_error(exc: urllib.error.HTTPError) -> str:
    """A server's error answer, with what to do about it."""
    if 300 <= exc.code < 400:
        return f"server error {exc.code}: the redirects loop, go on too long or lead somewhere not allowed; check the URL"
    hint = "check the URL" if exc.code < 500 else "try again later"
    return f"server error {exc.code} ({' '.join(str(exc.reason).split())}); {hint}"


def _reason(exc: BaseException) -> str:
    """A short cause of a network failure."""
    reason = getattr(exc, "reason", exc)  # URLError wraps the cause
    if isinstance(reason, TimeoutError):
        return f"timed out after {TIMEOUT} s"
    if isinstance(reason, http.client.IncompleteRead):
        return "the connection closed before the last chunk"
    text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
    return " ".join(text.split()) or type(reason).__name__


def _read(response: http.client.HTTPResponse) -> tuple[bytes, str | None]:
    """The next bytes of the body, or b"" and why the transfer broke off (None at its end)."""
    try:
        return response.read1(BLOCK), None
    except (http.client.HTTPException, OSError) as exc:
        return b"", _reason(exc)


def _content_range(header: str) -> tuple[int | None, int | None]:
    """(first byte, file size) from a Content-Range header, None for what it does not say."""
    match = re.fullmatch(r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)", header.strip())
    if not match:
        return None, None
    return (int(match[1]) if match[1] else None), (int(match[2]) if match[2] != "*" else None)


def _is_html(head: bytes, url: str) -> bool:
    """Whether a download meant to be a data file begins like a web page."""
    wanted_html = _file_name(url).lower().endswith((".htm", ".html"))
    return not wanted_html and head.lstrip()[:14].lower().startswith((b"<!doctype html", b"<html"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _record(path: Path, digest: str) -> None:
    _record_path(path).write_text(f"{digest}  {path.name}\n")


def _recorded(path: Path) -> str | None:
    """The SHA-256 recorded beside ``path``, or None when there is no readable record."""
    try:
        words = _record_path(path).read_text(errors="replace").split()
    except OSError:
        return None
    return words[0].lower() if words and _HEX64.fullmatch(words[0].lower()) else None


def _intact(path: Path, expected: str | None) -> bool:
    """Whether ``path`` is cached with its SHA-256 (``expected``, else the recorded one); a damaged copy is deleted."""
    if not path.is_file():
        return False
    wanted = expected or _recorded(path)
    if wanted is None or _sha256(path) == wanted:
        return True
    _discard(path)
    warn(f"the cached file no longer matches its SHA-256 {wanted}; deleted it and downloading it again", path)
    return False


def _discard(path: Path) -> None:
    """Delete a cached file and its record."""
    path.unlink(missing_ok=True)
    _record_path(path).unlink(missing_ok=True)


def _verify(part: Path, file: Path, expected: str | None, label: str) -> None:
    """Check the hash of the finished ``.part``, then rename it to ``file`` (a mismatch deletes it)."""
    actual = _sha256(part)
    if expected and actual != expected:
        part.unlink()
        raise VecliftError(f"SHA-256 mismatch: expected {expected}, got {actual}; the download was deleted: "
                           "check the hash and the URL", file)  # fmt: skip
    if not expected:
        warn(f"no published SHA-256 for {label}; computed sha256={actual} (compare it with a trusted copy)", file)
    _record(file, actual)
    part.replace(file)


def _unpack(archive: Path, member: str | None, siblings: list[str]) -> Path:
    """Extract ``member`` (or the single file), and the members other named sources need, then delete the archive."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            if member is None:
                if len(names) != 1:
                    raise VecliftError(f"the archive holds {len(names)} files ({', '.join(names[:6])}): choose one with member=", archive)
                member = names[0]
            if member not in names:
                raise VecliftError(f"the archive has no {member!r} (it holds {', '.join(names[:6])})", archive)
            for name in [member, *(s for s in siblings if s in names)]:
                target = archive.parent / PurePosixPath(name).name
                if not target.is_file():
                    _extract(zf, name, target)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError) as exc:
        raise _BadArchive(str(exc) or type(exc).__name__, archive) from None
    except (NotImplementedError, RuntimeError) as exc:  # an unsupported compression method, an encrypted member
        raise VecliftError(f"cannot unpack the archive: {exc}", archive) from None
    archive.unlink()
    return archive.parent / PurePosixPath(member).name


def _extract(zf: zipfile.ZipFile, name: str, target: Path) -> None:
    """Copy one member out (its CRC is checked as it is read), recording its SHA-256 beside it."""
    digest = hashlib.sha256()
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        for block in _member_blocks(zf, name):
            digest.update(block)
            out.write(block)
        _record(target, digest.hexdigest())


def _member_blocks(zf: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """A member's bytes; a read that a garbled offset makes fail counts as a bad archive (not a write error)."""
    try:
        with zf.open(name) as source:
            while block := source.read(BLOCK):
                yield block
    except OSError as exc:
        raise zipfile.BadZipFile(f"cannot read {name!r}: {exc.strerror or exc}") from None
