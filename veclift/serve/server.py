"""Running the service, as `veclift serve` does: `run_server` takes the port, loads the models and
serves the app of `veclift.serve.app` on uvicorn until SIGTERM or Ctrl-C.

Importing this module needs neither FastAPI nor uvicorn; `run_server` says, in one line, how to
install them when they are missing."""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from veclift.errors import VecliftError, warn
from veclift.serve.batching import MAX_QUEUE
from veclift.serve.limits import Limits

INSTALL = "pip install 'veclift[serve]'"


def run_server(
    models: Sequence[tuple[str, str | Path]], *, host: str = "127.0.0.1", port: int = 8000,
    vectors: str | Path | None = None, api_key: str | None = None, limits: Limits = Limits(),
    batch_texts: int = 64, batch_wait: float = 0.005, max_queue: int = MAX_QUEUE,
    graceful_timeout: float = 30.0, access_log: bool = False,
) -> None:  # fmt: skip
    """Serve ``models``, (name, directory) pairs of model directories or ONNX exports, on
    ``host:port`` (port 0: a free one) until SIGTERM or Ctrl-C, then let the requests in flight
    finish for up to ``graceful_timeout`` seconds. The port is taken before the models load, so a
    port in use fails at once; once listening, ``serving NAME (DIR), ... on URL`` goes to stderr.
    ``vectors``: a source giving rows to words the models lack; the other options as `create_app`'s.
    Every error before serving is a one-line `VecliftError`. Call it from the main thread."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise VecliftError(f"veclift serve needs FastAPI and uvicorn: {INSTALL}") from None
    from veclift.serve.app import ServedModel, create_app
    from veclift.vectors import Vectors

    sock = listen(host, port)
    try:
        served = [ServedModel.load(name, directory) for name, directory in models]
        service = create_app(
            served, vectors=Vectors.load(vectors) if vectors else None, limits=limits, api_key=api_key or None,
            batch_texts=batch_texts, batch_wait=batch_wait, max_queue=max_queue,
        )  # fmt: skip
        if not is_loopback(host) and not api_key:
            warn(f"listening on {host} without --api-key: anyone who reaches this machine can use the models")
        config = uvicorn.Config(service, log_level="warning", access_log=access_log, lifespan="on",
                                timeout_graceful_shutdown=graceful_timeout)  # fmt: skip
        ready = "serving " + ", ".join(f"{entry.name} ({entry.directory})" for entry in served) + f" on {base_url(sock)}"
        run_uvicorn(config, sock, ready)
    finally:
        sock.close()


def listen(host: str, port: int) -> socket.socket:
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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_uvicorn(config, sock: socket.socket, ready: str) -> None:
    """uvicorn's server on ``sock`` until SIGTERM or Ctrl-C; ``ready`` on stderr once it listens."""
    import uvicorn

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
    # The SIGTERM handler found (veclift's command line: one raising KeyboardInterrupt, exit 130) is
    # set aside. While serving, uvicorn's handler replaces this one (a graceful shutdown); afterwards
    # uvicorn puts back the one it found and raises the signal again. This one only takes note, so a
    # SIGTERM ends the server normally (the command exits 0).
    previous = signal.signal(signal.SIGTERM, note_sigterm)
    try:
        server.run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)
