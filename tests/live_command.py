"""A `veclift` server command (`serve`, `annotate`) run in a subprocess on a free loopback port for a
test: its URL read from the ready line on stderr, stopped by SIGTERM or killed, never left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


class LiveCommand:
    """``veclift COMMAND ARGS --port 0``, ready once ``ready`` (a regex whose group 1 is the URL) is on stderr."""

    def __init__(self, command: str, args: list, log: Path, ready: re.Pattern, *, deadline: float = 60.0,
                 env: dict[str, str] | None = None):  # fmt: skip
        self.log = log
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen([sys.executable, "-m", "veclift", command, *map(str, args), "--port", "0"],
                                            stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT,
                                            env=env or {**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
        end = time.monotonic() + deadline
        try:
            while not (found := ready.search(self.stderr())):
                if self.process.poll() is not None:
                    pytest.fail(f"veclift {command} exited with {self.process.returncode}: {self.stderr()}")
                if time.monotonic() > end:
                    pytest.fail(f"veclift {command} not ready in time: {self.stderr()}")
                time.sleep(0.05)
            self.url = found.group(1)
        except BaseException:
            self.kill()
            raise

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code (killed if it has not exited within ``timeout`` seconds)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
