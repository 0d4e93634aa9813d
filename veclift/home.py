"""Where veclift keeps what it converts, downloads or fits once per machine."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """The user cache directory: ``$VECLIFT_HOME``, default ``~/.cache/veclift``."""
    return Path(os.environ.get("VECLIFT_HOME") or Path.home() / ".cache" / "veclift")
