"""`veclift serve MODEL...`: trained models over HTTP (FastAPI on uvicorn), loopback by default."""

from __future__ import annotations

from pathlib import Path

import typer

from veclift.cli import app
from veclift.errors import VecliftError


def model_arguments(arguments: list[str]) -> list[tuple[str, Path]]:
    """(name, directory) of each ``DIR`` or ``NAME=DIR``; the name defaults to the directory's name.
    Two models of one name are a one-line error."""
    named: list[tuple[str, Path]] = []
    for argument in arguments:
        name, sep, rest = argument.partition("=")
        if sep and not Path(argument).exists():
            if not name.strip() or not rest:
                raise VecliftError(f"{argument!r}: give a model as DIR or NAME=DIR")
            named.append((name.strip(), Path(rest)))
        else:
            path = Path(argument)
            named.append((path.name or path.resolve().name or argument, path))
    seen: dict[str, Path] = {}
    for name, path in named:
        if name in seen:
            raise VecliftError(f"two models are named {name!r} ({seen[name]} and {path}); name them apart: NAME=DIR")
        seen[name] = path
    return named


@app.command("serve")
def serve_command(
    models: list[str] = typer.Argument(..., metavar="MODEL", help="Model directories written by `veclift train` (or "
                                       "ONNX exports of them, `veclift export`), each DIR or NAME=DIR (the name "
                                       "defaults to the directory's name)."),  # fmt: skip
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; loopback unless you name another "
                             "(0.0.0.0: every interface; then set --api-key)."),  # fmt: skip
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: a free one)."),
    vectors: str | None = typer.Option(None, "--vectors", help="Vectors giving rows to words the models lack."),
    api_key: str | None = typer.Option(
        None, "--api-key", envvar="VECLIFT_API_KEY", show_default=False,
        help="Require this key of every request: header 'Authorization: Bearer KEY' or 'X-API-Key: KEY'."),  # fmt: skip
    max_body_bytes: int = typer.Option(1 << 20, "--max-body-bytes", min=1, help="Largest request body (413 beyond)."),
    max_texts: int = typer.Option(256, "--max-texts", min=1, help="Most texts in one request (413 beyond)."),
    max_tokens: int = typer.Option(512, "--max-tokens", min=1, help="Most tokens in one text (413 beyond)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Micro-batching: most texts of concurrent "
                                   "requests predicted in one call (one request's texts are never split)."),  # fmt: skip
    batch_wait_ms: float = typer.Option(5.0, "--batch-wait-ms", min=0.0, help="Micro-batching: how long to wait "
                                        "for more requests to join a batch, in milliseconds (0: none)."),  # fmt: skip
    max_queue: int = typer.Option(4096, "--max-queue", min=1, help="Most texts waiting per model; beyond, a "
                                  "request is answered 503 busy with Retry-After (one larger than this is "
                                  "taken when none waits)."),  # fmt: skip
    graceful_timeout: float = typer.Option(30.0, "--graceful-timeout", min=0.0, help="On SIGTERM or Ctrl-C, "
                                           "seconds to let requests in flight finish."),  # fmt: skip
    access_log: bool = typer.Option(False, "--access-log", help="Log every request on stderr."),
) -> None:
    """Serve trained models over HTTP: POST /predict ({"text"}, {"texts"} or {"tokens"}), GET /models,
    GET /health, and the OpenAPI page at /docs. Every model loads before the server starts."""
    from veclift.serve.limits import Limits
    from veclift.serve.server import run_server

    run_server(
        model_arguments(models), host=host, port=port, vectors=vectors, api_key=api_key,
        limits=Limits(max_body_bytes, max_texts, max_tokens), batch_texts=batch_size, batch_wait=batch_wait_ms / 1000,
        max_queue=max_queue, graceful_timeout=graceful_timeout, access_log=access_log,
    )  # fmt: skip
