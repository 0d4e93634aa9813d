"""Options that many commands share: replacing outputs, unpickling trusted gensim files."""

from __future__ import annotations

import typer

OVERWRITE = typer.Option(False, "--overwrite", help="Replace an existing output (only a file, or a folder veclift wrote).")
ALLOW_PICKLE = typer.Option(
    False, "--allow-pickle", help="Read a trusted gensim .kv/.model file (a pickle: it can run code; never for files from elsewhere)."
)
