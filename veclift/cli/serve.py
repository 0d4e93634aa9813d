"""`veclift serve MODEL...`: trained models over HTTP (FastAPI on uvicorn), loopback by default."""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
from pathlib import Path

import typer

from veclift.cli import app
from veclift.errors import VecliftError, warn

INSTALL = "pip install 'veclift[serve]'"


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


def _listen(host: str, port: int) -> socket.socket:
    """A bound socket for ``host:port`` (port 0: a free one), or a one-line error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise VecliftError(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise VecliftError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


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
    graceful_timeout: float = typer.Option(30.0, "--graceful-timeout", min=0.0, help="On SIGTERM or Ctrl-C, "
                                           "seconds to let requests in flight finish."),  # fmt: skip
    access_log: bool = typer.Option(False, "--access-log", help="Log every request on stderr."),
) -> None:
    """Serve trained models over HTTP: POST /predict ({"text"}, {"texts"} or {"tokens"}), GET /models,
    GET /health, and the OpenAPI page at /docs. Every model loads before the server starts."""
    named = model_arguments(models)
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise VecliftError(f"veclift serve needs FastAPI and uvicorn: {INSTALL}") from None
    from veclift.serve.app import ServedModel, create_app
    from veclift.serve.limits import Limits
    from veclift.tasks.onnx_model import load_predictor  # a model directory or an ONNX export of one
    from veclift.tasks.registry import get_task
    from veclift.vectors import Vectors

    sock = _listen(host, port)  # first: a port in use fails before the models take their time to load
    try:
        served = []
        for name, directory in named:
            model = load_predictor(directory)
            served.append(ServedModel(name, str(directory), model, get_task(model.task), model.summary()))
        opened = Vectors.load(vectors) if vectors else None
        service = create_app(
            served, vectors=opened, limits=Limits(max_body_bytes, max_texts, max_tokens), api_key=api_key or None,
            batch_texts=batch_size, batch_wait=batch_wait_ms / 1000,
        )  # fmt: skip
        if not _loopback(host) and not api_key:
            warn(f"listening on {host} without --api-key: anyone who reaches this machine can use the models")
        config = uvicorn.Config(service, log_level="warning", access_log=access_log, lifespan="on",
                                timeout_graceful_shutdown=graceful_timeout)  # fmt: skip
        ready = "serving " + ", ".join(f"{entry.name} ({entry.directory})" for entry in served) + f" on {_url(sock)}"
        _run(uvicorn, config, sock, ready)
    finally:
        sock.close()


def _run(uvicorn, config, sock: socket.socket, ready: str) -> None:
    """uvicorn's server on ``sock`` until SIGTERM or Ctrl-C; ``ready`` on stderr once it listens."""
    terminated: list[int] = []

    def note_sigterm(signum, frame) -> None:
        terminated.append(signum)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if terminated:  # a SIGTERM came before uvicorn took the signal over: shut down at once
                self.should_exit = True
            elif self.started and not self.should_exit:
                print(ready, file=sys.stderr, flush=True)

    server = Server(config)
    # veclift's SIGTERM handler raises KeyboardInterrupt (exit 130). While serving, uvicorn's handler
    # replaces it (a graceful shutdown); afterwards uvicorn puts back the one it found and raises the
    # signal again. This one only takes note, so a SIGTERM ends the command with exit code 0.
    previous = signal.signal(signal.SIGTERM, note_sigterm)
    try:
        server.run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)
