"""Outputs: nothing of the user's is replaced, nothing half-written is left, temp files are swept."""

import os
import signal
import subprocess
import sys

import pytest

from veclift.atomic import MARKER, atomic_path, check_output, sweep_stale
from veclift.errors import VecliftError


def test_existing_file_is_refused_without_overwrite_and_replaced_with_it(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("mine")
    with pytest.raises(VecliftError, match="--overwrite"):
        with atomic_path(target) as tmp:
            tmp.write_text("new")
    assert target.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with atomic_path(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_foreign_folder_survives_even_with_overwrite(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    for overwrite in (False, True):
        with pytest.raises(VecliftError):
            check_output(folder, overwrite=overwrite, directory=True)
        with pytest.raises(VecliftError):
            with atomic_path(folder, directory=True, overwrite=overwrite) as tmp:
                (tmp / "x").write_text("x")
    assert (folder / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


def test_a_folder_veclift_wrote_is_marked_and_replaced_with_overwrite(tmp_path):
    folder = tmp_path / "model"
    with atomic_path(folder, directory=True) as tmp:
        (tmp / "a").write_text("1")
    assert (folder / MARKER).is_file()
    with atomic_path(folder, directory=True, overwrite=True) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in folder.iterdir()) == [MARKER, "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_output_checks_before_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(VecliftError, match="not a folder"):
        check_output(blocker / "sub" / "model", directory=True)
    with pytest.raises(VecliftError, match="a file is meant"):
        (tmp_path / "dir").mkdir()
        check_output(tmp_path / "dir")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(VecliftError, match="symbolic link"):
        check_output(link, overwrite=True)
    assert check_output(tmp_path / "new" / "deeper" / "model", directory=True) == tmp_path / "new" / "deeper" / "model"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(VecliftError, match="not writable"):
        check_output(locked / "out.txt")


def test_error_inside_the_write_leaves_nothing(tmp_path):
    for directory in (False, True):
        with pytest.raises(RuntimeError):
            with atomic_path(tmp_path / f"out{directory}", directory=directory) as tmp:
                (tmp / "part" if directory else tmp).write_text("half")
                raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_temporaries_of_a_dead_writer_are_swept_and_a_live_ones_kept(tmp_path):
    target = tmp_path / "vectors.txt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".vectors.txt.{dead.stdout.strip()}.abc.tmp"
    stale.write_text("left by kill -9")
    stale_dir = tmp_path / f".vectors.txt.{dead.stdout.strip()}.old"
    stale_dir.mkdir()
    live = tmp_path / f".vectors.txt.{os.getpid()}.xyz.tmp"
    live.write_text("being written")
    other = tmp_path / ".other.txt.1.abc.tmp"
    other.write_text("not ours")
    sweep_stale(target)
    assert not stale.exists() and not stale_dir.exists()
    assert live.exists() and other.exists()


WRITER = """
import sys, time
from veclift.cli import main
from veclift.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_interrupted_writer_leaves_no_temp_behind(tmp_path, how):
    """SIGTERM unwinds (the CLI's handler) and removes the temp file; after kill -9 the next write sweeps it."""
    target = tmp_path / "out.txt"
    script = "import signal\nfrom veclift.cli import _terminate\nsignal.signal(signal.SIGTERM, _terminate)\n" + WRITER
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
    proc.wait(timeout=30)
    left = [p.name for p in tmp_path.iterdir()]
    if how == "sigterm":
        assert left == []
        return
    assert len(left) == 1 and left[0].endswith(".tmp")
    with atomic_path(target) as tmp:
        tmp.write_text("done")
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
