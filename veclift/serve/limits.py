"""What `veclift serve` accepts: the request bounds, and the two ASGI guards that run before any
route: the API key check and the request body limit (on ``Content-Length`` and on the bytes
actually streamed, so a chunked body cannot slip past it)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1 << 20
MAX_TEXTS = 256
MAX_TOKENS = 512


@dataclass(frozen=True)
class Limits:
    """Bounds of one request; beyond them the answer is a 413 with a one-line JSON error."""

    max_body_bytes: int = MAX_BODY_BYTES  # the request body, in bytes
    max_texts: int = MAX_TEXTS  # texts (or token lists) in one request
    max_tokens: int = MAX_TOKENS  # tokens in one text

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_texts", "max_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


def one_line(message: str) -> str:
    """``message`` with its whitespace runs (newlines included) folded into single spaces."""
    return " ".join(str(message).split())


def error_body(message: str) -> bytes:
    return json.dumps({"error": one_line(message)}, ensure_ascii=False).encode("utf-8")


async def send_error(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    """A complete JSON ``{"error": ...}`` response, sent straight over ASGI."""
    body = error_body(message)
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the streamed body passes the limit (caught by `BodyLimit`)."""


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with a 413: at once when ``Content-Length`` says so, else as
    soon as the bytes received pass it (the route reading the body is interrupted)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def message(self) -> str:
        return f"the request body is larger than the limit of {self.max_bytes} bytes (--max-body-bytes)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.strip().isdigit() and int(value) > self.max_bytes:
                await send_error(send, 413, self.message(), [(b"connection", b"close")])
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            if started:  # pragma: no cover - the routes read the whole body before answering
                raise
            await send_error(send, 413, self.message(), [(b"connection", b"close")])


def presented_key(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The key of ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``, None when neither is there."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            return value.strip()
    return None


class ApiKey:
    """Every HTTP request must present ``key`` (compared in constant time), else a 401."""

    def __init__(self, app: ASGIApp, key: str):
        self.app = app
        self.key = key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = presented_key(list(scope.get("headers", ())))
            if given is None or not hmac.compare_digest(given, self.key):
                message = ("an API key is required: send the header 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
                           if given is None else "the API key is wrong")  # fmt: skip
                await send_error(send, 401, message, [(b"www-authenticate", b"Bearer")])
                return
        await self.app(scope, receive, send)
