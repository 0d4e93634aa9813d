"""Named remote vector sets: URL, expected SHA-256, format; resumable, verified download into the cache.

None of the publishers (Stanford NLP for GloVe, Facebook for fastText, Google for word2vec) gives a
SHA-256 for these files, so ``sha256`` is None for each: `download` then prints the hash it computed,
for comparison with a trusted copy, and records it beside the file (``<file>.sha256``). Pass
``sha256=`` to enforce one. Archives are unpacked (only the members named here, all of them at once,
so the GloVe 6B sizes share one download) and then deleted.
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from veclift.atomic import atomic_path
from veclift.errors import VecliftError, warn
from veclift.progress import progress as progress_bar
from veclift.vectors.builtin import veclift_home

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


def downloads_dir() -> Path:
    return veclift_home() / "downloads"


def _file_name(url: str) -> str:
    name = PurePosixPath(urlparse(url).path).name
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
    times at once, or on the next call). The SHA-256 is checked before the file takes its name. A zip
    archive is unpacked: ``member``, or the only file it holds.
    """
    if name_or_url in REMOTE:
        spec = REMOTE[name_or_url]
        url, label = spec["url"], name_or_url
        sha256 = sha256 or spec["sha256"]
        member = member or spec["member"]
        siblings = [s["member"] for s in REMOTE.values() if s["url"] == url and s["member"] and s["member"] != member]
        directory = Path(dest) if dest else _directory(name_or_url)
    elif urlparse(name_or_url).scheme in ("http", "https"):
        url, label, siblings = name_or_url, name_or_url, []
        directory = Path(dest) if dest else downloads_dir()
    else:
        raise VecliftError(f"unknown remote vectors {name_or_url!r} (known: {', '.join(REMOTE)}; or give an http(s) URL)")
    file = directory / _file_name(url)
    is_zip = file.suffix.lower() == ".zip"
    if member and (directory / member).is_file():
        return directory / member
    if not file.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        _fetch(url, file, label, progress, retries)
        _verify(file.with_name(file.name + ".part"), file, sha256, label)
    return _unpack(file, member, siblings) if is_zip else file


def _fetch(url: str, file: Path, label: str, progress: bool, retries: int) -> None:
    """Download into ``file.part``, resuming what is there."""
    part = file.with_name(file.name + ".part")
    for attempt in range(retries + 1):
        start = part.stat().st_size if part.exists() else 0
        headers = {"User-Agent": "veclift", **({"Range": f"bytes={start}-"} if start else {})}
        try:
            response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and start:
                return  # the .part already holds the whole file
            raise VecliftError(f"server error {exc.code} ({exc.reason})", url) from None
        except (urllib.error.URLError, OSError) as exc:
            raise VecliftError(f"cannot download: {getattr(exc, 'reason', exc)}", url) from None
        with response:
            if start and response.status != 206:
                start = 0  # the server ignored the Range header: start over
            length = response.headers.get("Content-Length")
            total = start + int(length) if length is not None else None
            received = start
            try:
                with open(part, "ab" if start else "wb") as out, progress_bar(f"Downloading {label}", total, enabled=progress) as update:
                    update(advance=start)
                    while block := response.read(BLOCK):
                        out.write(block)
                        received += len(block)
                        update(advance=len(block))
            except (http.client.IncompleteRead, ConnectionError, TimeoutError):
                pass
        if total is None or received >= total:
            return
        if attempt == retries:
            raise VecliftError(f"download interrupted at {received} of {total} bytes; run it again to resume", url)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _verify(part: Path, file: Path, expected: str | None, label: str) -> None:
    """Check the hash of the finished ``.part``, then rename it to ``file`` (a mismatch deletes it)."""
    actual = _sha256(part)
    if expected and actual != expected.lower():
        part.unlink()
        raise VecliftError(f"SHA-256 mismatch: expected {expected}, got {actual}; the download was deleted", file)
    if not expected:
        warn(f"no published SHA-256 for {label}; computed sha256={actual} (compare it with a trusted copy)", file)
    file.with_name(file.name + ".sha256").write_text(f"{actual}  {file.name}\n")
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
                    with zf.open(name) as source, atomic_path(target) as tmp, open(tmp, "wb") as out:
                        shutil.copyfileobj(source, out, BLOCK)
    except zipfile.BadZipFile as exc:
        raise VecliftError(f"not a valid zip archive: {exc}", archive) from None
    archive.unlink()
    return archive.parent / PurePosixPath(member).name
