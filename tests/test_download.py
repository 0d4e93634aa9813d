"""Downloads against a local HTTP server on 127.0.0.1 (never the internet): resume, checksum, errors, zips,
cut connections, damaged caches, Ctrl-C and SIGTERM."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile

import pytest

from veclift.errors import VecliftError, VecliftWarning
from veclift.vectors import download as dl

PAYLOAD = bytes(range(256)) * 400  # 100 KiB
HALF = len(PAYLOAD) // 2


class Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    framing: dict[str, str] = {}  # path -> "none" (no Content-Length: the end is the close) or "chunked"
    cut_first: dict[str, str] = {}  # path -> how its next response stops half-way: "close", "reset" or "stall"
    requests: list[tuple[str, str | None]] = []
    release = threading.Event()  # ends stalled responses (set when the test ends)

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self.requests.append((self.path, self.headers.get("Range")))
        if self.path == "/fail":
            self.send_error(500, "Internal Server Error")
            return
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        if self.path == "/silent":  # accepts the request, never answers
            self.release.wait(10)
            return
        if self.path == "/garbage":  # not HTTP at all
            self.wfile.write(b"hello\r\n")
            return
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        framing = self.framing.get(self.path, "length")
        if framing == "length":
            self.send_header("Content-Length", str(len(body)))
        elif framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        how = self.cut_first.pop(self.path, None)
        sent = body[: len(body) // 2] if how else body
        self.wfile.write(b"%x\r\n%s\r\n" % (len(sent), sent) if framing == "chunked" and sent else sent)
        if framing == "chunked" and not how:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        if how == "stall":
            self.release.wait(10)
        elif how == "reset":  # close at once with an RST, not a FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("VECLIFT_HOME", str(tmp_path / "home"))
    Handler.files, Handler.framing, Handler.cut_first, Handler.requests = {}, {}, {}, []
    Handler.release = threading.Event()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    Handler.release.set()
    httpd.shutdown()
    httpd.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_verifies_the_checksum(server, tmp_path):
    Handler.files["/v.txt"] = PAYLOAD
    path = dl.download(f"{server}/v.txt", sha256=sha(PAYLOAD), dest=tmp_path / "d", progress=False)
    assert path.read_bytes() == PAYLOAD
    assert (tmp_path / "d" / "v.txt.sha256").read_text().startswith(sha(PAYLOAD))


def test_checksum_mismatch_is_an_error_and_leaves_nothing(server, tmp_path):
    Handler.files["/v.txt"] = PAYLOAD
    with pytest.raises(VecliftError, match="SHA-256 mismatch: expected 00+, got " + sha(PAYLOAD)):
        dl.download(f"{server}/v.txt", sha256="0" * 64, dest=tmp_path / "d", progress=False)
    assert list((tmp_path / "d").iterdir()) == []


def test_interrupted_download_resumes_with_range(server, tmp_path):
    Handler.files["/v.txt"] = PAYLOAD
    Handler.cut_first["/v.txt"] = "close"
    with pytest.raises(VecliftError, match="download interrupted at 51200 of 102400 bytes"):
        dl.download(f"{server}/v.txt", sha256=sha(PAYLOAD), dest=tmp_path / "d", progress=False, retries=0)
    assert (tmp_path / "d" / "v.txt.part").stat().st_size == HALF
    path = dl.download(f"{server}/v.txt", sha256=sha(PAYLOAD), dest=tmp_path / "d", progress=False)
    assert path.read_bytes() == PAYLOAD
    assert Handler.requests[-1] == ("/v.txt", f"bytes={HALF}-")
    assert not (tmp_path / "d" / "v.txt.part").exists()


def test_interruption_is_retried_at_once(server, tmp_path):
    Handler.files["/v.txt"] = PAYLOAD
    Handler.cut_first["/v.txt"] = "close"
    path = dl.download(f"{server}/v.txt", sha256=sha(PAYLOAD), dest=tmp_path / "d", progress=False, retries=1)
    assert path.read_bytes() == PAYLOAD
    assert [r for _, r in Handler.requests] == [None, f"bytes={HALF}-"]


@pytest.mark.parametrize("path, message", [
    ("/fail", "server error 500 \\(Internal Server Error\\); try again later"),
    ("/missing", "server error 404 \\(Not Found\\); check the URL"),
    ("/loop", "server error 302: the redirects loop"),
    ("/garbage", "cannot download \\(.+\\): check the URL"),
    ("/silent", "cannot download \\(timed out after 0.5 s\\)"),
    ("/page.zip", "the server sent a web page"),
])  # fmt: skip
def test_server_errors_are_one_line(server, tmp_path, monkeypatch, path, message):
    monkeypatch.setattr(dl, "TIMEOUT", 0.5)
    Handler.files["/page.zip"] = b"\n<!DOCTYPE html><html><body>Please sign in</body></html>"
    with pytest.raises(VecliftError, match=message) as caught:
        dl.download(server + path, dest=tmp_path / "d", progress=False)
    assert str(caught.value).startswith(server + path) and "\n" not in str(caught.value)
    assert list((tmp_path / "d").iterdir()) == []


def test_refused_connection_is_one_line(tmp_path):
    with socket.socket() as free:  # a port nothing listens on once this closes
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v.txt"
    with pytest.raises(VecliftError, match="cannot download \\(Connection refused\\): check the URL") as caught:
        dl.download(url, dest=tmp_path / "d", progress=False)
    assert str(caught.value).startswith(url) and list((tmp_path / "d").iterdir()) == []


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_named_source_unpacks_its_member_and_is_cached(server, monkeypatch):
    glove = b"the 1 2\ncat 3 4\n"
    archive = zip_of({"g.50d.txt": b"x 1\n", "g.2d.txt": glove})
    Handler.files["/g.zip"] = archive
    spec = {"url": f"{server}/g.zip", "member": "g.2d.txt", "format": "glove", "sha256": None, "description": "test"}
    monkeypatch.setitem(dl.REMOTE, "test-glove", spec)
    assert dl.cached_path("test-glove") is None
    with pytest.warns(VecliftWarning, match=f"no published SHA-256 for test-glove; computed sha256={sha(archive)}"):
        path = dl.download("test-glove", progress=False)
    assert path.read_bytes() == glove and dl.cached_path("test-glove") == path
    assert not (path.parent / "g.zip").exists()
    from veclift.vectors import Vectors

    assert Vectors.load("test-glove", progress=False).words == ("the", "cat")
    assert dl.download("test-glove", progress=False) == path and len(Handler.requests) == 1


def test_sources_sharing_an_archive_share_one_download(server, monkeypatch):
    Handler.files["/g.zip"] = zip_of({"g.1d.txt": b"a 1\n", "g.2d.txt": b"a 1 2\n", "readme.txt": b"hi"})
    for name, member in (("test-1d", "g.1d.txt"), ("test-2d", "g.2d.txt")):
        spec = {"url": f"{server}/g.zip", "member": member, "format": "glove", "sha256": None, "description": "test"}
        monkeypatch.setitem(dl.REMOTE, name, spec)
    with pytest.warns(VecliftWarning):
        first = dl.download("test-1d", progress=False)
    second = dl.download("test-2d", progress=False)
    assert first.parent == second.parent and second.read_bytes() == b"a 1 2\n"
    assert len(Handler.requests) == 1 and not (first.parent / "readme.txt").exists()


def test_zip_with_several_files_needs_a_member(server, tmp_path):
    Handler.files["/two.zip"] = zip_of({"a.txt": b"a", "b.txt": b"b"})
    with pytest.warns(VecliftWarning), pytest.raises(VecliftError, match="holds 2 files"):
        dl.download(f"{server}/two.zip", dest=tmp_path, progress=False)
    with pytest.raises(VecliftError, match="has no 'c.txt'"):
        dl.download(f"{server}/two.zip", dest=tmp_path, member="c.txt", progress=False)
    assert dl.download(f"{server}/two.zip", dest=tmp_path, member="b.txt", progress=False).read_bytes() == b"b"


def test_unknown_name():
    with pytest.raises(VecliftError, match="unknown remote vectors 'nope'"):
        dl.download("nope")


def named(monkeypatch, url: str, sha256: str | None = None, member: str | None = None, name: str = "test-v") -> None:
    spec = {"url": url, "member": member, "format": "glove", "sha256": sha256, "description": "test"}
    monkeypatch.setitem(dl.REMOTE, name, spec)


@pytest.mark.parametrize("framing, how, why", [
    ("length", "close", "the server closed the connection early"),
    ("length", "stall", "timed out after 0.5 s"),
    ("length", "reset", ""),
    ("none", "close", "the server sent no size, and the bytes so far do not match the SHA-256"),
    ("none", "stall", "timed out after 0.5 s"),
    ("none", "reset", ""),
    ("chunked", "close", "the connection closed before the last chunk"),
    ("chunked", "reset", ""),
])  # fmt: skip
def test_a_cut_transfer_is_kept_only_as_a_resumable_part(server, monkeypatch, framing, how, why):
    monkeypatch.setattr(dl, "TIMEOUT", 0.5)
    named(monkeypatch, f"{server}/v.txt", sha256=sha(PAYLOAD))
    Handler.files["/v.txt"] = PAYLOAD
    Handler.framing["/v.txt"], Handler.cut_first["/v.txt"] = framing, how
    with pytest.raises(VecliftError, match="download interrupted at .*; run it again to resume") as caught:
        dl.download("test-v", progress=False, retries=0)
    assert why in str(caught.value)
    folder = dl.downloads_dir() / "test-v"
    assert [p.name for p in folder.iterdir()] == ["v.txt.part"] and dl.cached_path("test-v") is None
    held = (folder / "v.txt.part").stat().st_size
    assert held == HALF if how != "reset" else held <= HALF
    assert dl.download("test-v", progress=False).read_bytes() == PAYLOAD
    assert Handler.requests[-1] == ("/v.txt", f"bytes={held}-" if held else None)
    assert sorted(p.name for p in folder.iterdir()) == ["v.txt", "v.txt.sha256"]


@pytest.mark.parametrize("framing", ["none", "chunked"])
def test_a_whole_body_without_a_size(server, tmp_path, framing):
    Handler.files["/v.txt"] = PAYLOAD
    Handler.framing["/v.txt"] = framing
    assert dl.download(f"{server}/v.txt", sha256=sha(PAYLOAD), dest=tmp_path / "d", progress=False).read_bytes() == PAYLOAD
    with pytest.warns(VecliftWarning) as caught:
        dl.download(f"{server}/v.txt", dest=tmp_path / "e", progress=False)
    unchecked = [w for w in caught if "sent no size" in str(w.message)]
    assert len(unchecked) == (framing == "none")  # a chunked body says where it ends


def test_a_wrong_file_without_a_size_is_never_kept(server, tmp_path):
    Handler.files["/v.txt"] = PAYLOAD
    Handler.framing["/v.txt"] = "none"
    with pytest.raises(VecliftError, match="no size, and the bytes so far do not match"):
        dl.download(f"{server}/v.txt", sha256="0" * 64, dest=tmp_path / "d", progress=False, retries=0)
    with pytest.raises(VecliftError, match="SHA-256 mismatch"):  # the resume finds nothing more (416): it is whole, and wrong
        dl.download(f"{server}/v.txt", sha256="0" * 64, dest=tmp_path / "d", progress=False)
    assert list((tmp_path / "d").iterdir()) == []


def test_a_part_longer_than_the_file_is_started_over(server, tmp_path):
    Handler.files["/v.txt"] = PAYLOAD
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "v.txt.part").write_bytes(PAYLOAD + b"junk")
    assert dl.download(f"{server}/v.txt", sha256=sha(PAYLOAD), dest=tmp_path / "d", progress=False).read_bytes() == PAYLOAD
    assert [r for _, r in Handler.requests] == [f"bytes={len(PAYLOAD) + 4}-", None]


def test_a_whole_part_is_finished_without_fetching_again(server, tmp_path):
    Handler.files["/v.txt"] = PAYLOAD
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "v.txt.part").write_bytes(PAYLOAD)
    assert dl.download(f"{server}/v.txt", sha256=sha(PAYLOAD), dest=tmp_path / "d", progress=False).read_bytes() == PAYLOAD
    assert Handler.requests == [("/v.txt", f"bytes={len(PAYLOAD)}-")]


def test_a_damaged_zip_from_the_server_is_an_error_and_deleted(server, tmp_path):
    Handler.files["/bad.zip"] = b"PK\x03\x04 not really a zip"
    with pytest.warns(VecliftWarning), pytest.raises(VecliftError, match="the server sent a damaged zip archive .*: run it again") as caught:
        dl.download(f"{server}/bad.zip", dest=tmp_path / "d", progress=False)
    assert str(caught.value).startswith(f"{server}/bad.zip") and list((tmp_path / "d").iterdir()) == []


def damaged(archive: bytes, damage: str) -> bytes:
    if damage == "truncated":
        return archive[: len(archive) // 2]
    garbled = bytearray(archive)
    garbled[40] ^= 0xFF  # inside the stored member's bytes: its CRC fails
    return bytes(garbled)


@pytest.mark.parametrize("damage", ["truncated", "garbled", "hash"])
def test_a_damaged_cached_archive_is_fetched_again(server, monkeypatch, damage):
    archive = zip_of({"g.2d.txt": b"the 1 2\n"})
    Handler.files["/g.zip"] = archive
    named(monkeypatch, f"{server}/g.zip", member="g.2d.txt", name="test-glove")
    folder = dl.downloads_dir() / "g"
    folder.mkdir(parents=True)
    if damage == "hash":  # a whole zip, but not the file that was downloaded
        (folder / "g.zip").write_bytes(zip_of({"g.2d.txt": b"evil 6 6\n"}))
        (folder / "g.zip.sha256").write_text(f"{sha(archive)}  g.zip\n")
    else:
        (folder / "g.zip").write_bytes(damaged(archive, damage))
    with pytest.warns(VecliftWarning) as caught:
        path = dl.download("test-glove", progress=False)
    warned = [str(w.message) for w in caught if "deleted it and downloading it again" in str(w.message)]
    assert len(warned) == 1 and "\n" not in warned[0]
    assert path.read_bytes() == b"the 1 2\n" and len(Handler.requests) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["g.2d.txt", "g.2d.txt.sha256", "g.zip.sha256"]


def test_a_cached_file_that_changed_is_fetched_again(server, monkeypatch, tmp_path):
    Handler.files["/g.zip"] = zip_of({"g.2d.txt": b"the 1 2\n"})
    named(monkeypatch, f"{server}/g.zip", member="g.2d.txt", name="test-glove")
    Handler.files["/v.txt"] = PAYLOAD
    with pytest.warns(VecliftWarning):
        member = dl.download("test-glove", progress=False)
        plain = dl.download(f"{server}/v.txt", dest=tmp_path / "d", progress=False)
    member.write_bytes(b"the 1 3\n")
    plain.write_bytes(PAYLOAD[:-1])
    with pytest.warns(VecliftWarning) as caught:
        assert dl.download("test-glove", progress=False).read_bytes() == b"the 1 2\n"
        assert dl.download(f"{server}/v.txt", dest=tmp_path / "d", progress=False).read_bytes() == PAYLOAD
    assert sum("no longer matches its SHA-256" in str(w.message) for w in caught) == 2
    assert [p for p, _ in Handler.requests] == ["/g.zip", "/v.txt", "/g.zip", "/v.txt"]


@pytest.mark.parametrize("digest", ["", "abc", "0" * 63, "0" * 65, "g" * 64, sha(PAYLOAD) + "\n;rm"])
def test_a_malformed_sha256_is_refused_before_any_request(server, monkeypatch, tmp_path, digest):
    Handler.files["/v.txt"] = PAYLOAD
    named(monkeypatch, f"{server}/v.txt")
    for source in ("test-v", f"{server}/v.txt"):
        with pytest.raises(VecliftError, match="the expected SHA-256 must be 64 hexadecimal digits"):
            dl.download(source, sha256=digest, dest=tmp_path / "d", progress=False)
    assert Handler.requests == [] and not (tmp_path / "d").exists()


def veclift_cli(*args: str, home) -> subprocess.Popen:
    env = {**os.environ, "VECLIFT_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "veclift", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_refuses_a_malformed_sha256_in_one_line(server, tmp_path):
    process = veclift_cli("vectors", "download", f"{server}/v.txt", "--sha256", "abc", home=tmp_path / "home")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and err.count("\n") == 1 and "64 hexadecimal digits" in err
    assert Handler.requests == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_leave_only_the_resumable_part(server, tmp_path, signum):
    Handler.files["/v.txt"] = PAYLOAD
    Handler.cut_first["/v.txt"] = "stall"
    process = veclift_cli("vectors", "download", f"{server}/v.txt", home=tmp_path / "home")
    part = tmp_path / "home" / "downloads" / "v.txt.part"
    deadline = time.monotonic() + 30
    while not (part.exists() and part.stat().st_size):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)  # let it take the rest of the half that is sent
    process.send_signal(signum)
    process.communicate(timeout=30)
    assert process.returncode != 0
    assert [p.name for p in part.parent.iterdir()] == ["v.txt.part"]
    held = part.stat().st_size
    assert 0 < held <= HALF
    assert dl.download(f"{server}/v.txt", sha256=sha(PAYLOAD), dest=part.parent, progress=False).read_bytes() == PAYLOAD
    assert Handler.requests[-1] == ("/v.txt", f"bytes={held}-")
