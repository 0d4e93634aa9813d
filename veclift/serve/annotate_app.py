"""The annotation server of `veclift annotate`: a local page and a small JSON API over a session
(`veclift.serve.annotate_session`), on the stack of `veclift serve` (FastAPI on uvicorn).

``GET /`` is the page (`veclift/resources/templates/annotate.html`: plain HTML, CSS and one inline
script; nothing fetched from elsewhere). The API, every body JSON, every error a 4xx (or a 500 for a
bug) with one line of JSON ``{"error": "..."}``:

- ``GET /api/next?client=TAB`` -> ``{"item": ITEM or null (all answered), "progress": PROGRESS}``.
  ``client`` (optional, 1-64 letters, digits, ``-`` or ``_``) names a browser tab: it is given the
  same item until it answers it, and other tabs other items (`veclift.serve.annotate_queue`).
- ``POST /api/answer`` ``{"id": 3, "decision": "accept" | "reject" | "skip", "spans": [SPAN...],
  "client": "TAB"}`` -> ``{"saved": true, "replaced": false, "progress": PROGRESS}``. A SPAN is
  ``{"label", "token_start", "token_end"}`` (token indices, end exclusive) or ``{"label", "start",
  "end"}`` (character offsets on token boundaries); spans count for ``accept`` only. The answer is
  committed before the reply; answering an item again replaces the earlier answer (``replaced``).
- ``POST /api/undo`` ``{"client": "TAB"}`` (the tab's last answer; without a client, the session's
  last) or ``{"id": 3}`` -> ``{"item": ITEM with its "answer", "progress": PROGRESS}``, 404 when
  there is nothing to undo. The item is unanswered again, and is the tab's next.
- ``GET /api/progress`` -> PROGRESS; ``GET /health`` -> ``{"status": "ok"}``.

ITEM: ``{"id", "text", "tokens", "offsets": [[start, end]...], "spans": [{"label", "token_start",
"token_end", "start", "end", "text", "source": "input" | "pattern" | "model" | "answer", "score":
model confidence or null}], "uncertainty": number or null, "answer": null or {"decision", "spans"}}``.
PROGRESS: ``{"total", "done", "left", "accepted", "rejected", "skipped", "labels": {LABEL: entities
accepted}, "session", "model": name or null, "training": null or {"training", "rounds", "dev_score",
"trained_on", "error", "every"}}``.

Bounded and local like `veclift serve`: loopback by default, request bodies bounded (413). Requests
must name this server in ``Host`` (no DNS rebinding), and a POST must be ``application/json`` from
this page's origin (no cross-site form posts). The page's text is put in with ``textContent`` only,
and its Content-Security-Policy allows no script but its own.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from veclift.errors import VecliftError
from veclift.serve.annotate_queue import AnnotationQueue
from veclift.serve.annotate_session import DECISIONS, Item
from veclift.serve.annotate_train import Retrainer
from veclift.serve.app import install_error_handlers
from veclift.serve.limits import BodyLimit, Receive, Scope, Send, send_error, one_line
from veclift.templates import render

MAX_BODY_BYTES = 64 * 1024
CLIENT = r"^[A-Za-z0-9_-]{1,64}$"
_PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}  # fmt: skip


class SpanIn(BaseModel):
    """A span of an answer: token indices, or character offsets on token boundaries."""

    model_config = ConfigDict(extra="forbid", strict=True)
    label: str = Field(max_length=100)
    token_start: int | None = None
    token_end: int | None = None
    start: int | None = None
    end: int | None = None


MAX_ID = 1 << 53


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: int = Field(ge=1, le=MAX_ID)
    decision: str = Field(description="accept, reject or skip")
    spans: list[SpanIn] = Field(default_factory=list, max_length=10_000)
    client: str | None = Field(None, pattern=CLIENT)


class UndoIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: int | None = Field(None, ge=1, le=MAX_ID)
    client: str | None = Field(None, pattern=CLIENT)


class Refused(Exception):
    """A refused request: its HTTP status and a one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = one_line(message)


def token_spans(item: Item, spans: list[SpanIn]) -> list[tuple[str, int, int]]:
    """The answer's spans as ``(label, token_start, token_end)``; character offsets must start and end
    on tokens."""
    starts = {start: number for number, (start, _) in enumerate(item.offsets)}
    ends = {end: number + 1 for number, (_, end) in enumerate(item.offsets)}
    found = []
    for span in spans:
        if span.token_start is not None and span.token_end is not None:
            found.append((span.label, span.token_start, span.token_end))
        elif span.start is not None and span.end is not None:
            if span.start not in starts or span.end not in ends:
                raise Refused(422, f"span {span.start}-{span.end} ({span.label}) does not start and end on tokens")
            found.append((span.label, starts[span.start], ends[span.end]))
        else:
            raise Refused(422, "a span needs token_start and token_end, or start and end (characters)")
    return found


class LocalGuard:
    """Requests must carry one of ``hosts`` in ``Host`` (None: any, for a server bound to a public
    address); a POST must be JSON and, when it names an ``Origin``, come from this server."""

    def __init__(self, app: Any, hosts: set[str] | None):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", ())}
        host = headers.get("host", "")
        if self.hosts is not None and host.lower() not in self.hosts:
            await send_error(send, 421, f"this server answers to {', '.join(sorted(self.hosts))}, not {host[:100]!r}")
            return
        if scope["method"] == "POST":
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                await send_error(send, 415, "send the body as JSON with 'Content-Type: application/json'")
                return
            origin = headers.get("origin")
            if origin is not None and origin.lower() not in (f"http://{host.lower()}", f"https://{host.lower()}"):
                await send_error(send, 403, "requests from another site's page are refused")
                return
        await self.app(scope, receive, send)


def create_annotate_app(queue: AnnotationQueue, *, retrainer: Retrainer | None = None,
                        max_body_bytes: int = MAX_BODY_BYTES, hosts: set[str] | None = None) -> FastAPI:  # fmt: skip
    """The page and API over ``queue`` (its session); ``retrainer``: the model in the loop (told of
    every answer); ``hosts``: the ``Host`` values answered (lower case ``name:port``; None: any)."""
    session = queue.session
    app = FastAPI(title="veclift annotate", version="1", docs_url=None, redoc_url=None, openapi_url=None)

    def progress() -> dict[str, Any]:
        return {**session.progress(), "session": session.path.name, "model": queue.model_name,
                "training": retrainer.status() if retrainer is not None else None}  # fmt: skip

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(VecliftError)
    async def _bad(request: Request, exc: VecliftError) -> JSONResponse:
        return JSONResponse({"error": one_line(str(exc))}, status_code=422)

    install_error_handlers(app)

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        html = render("annotate.html", title=f"veclift annotate: {session.path.name}", labels=queue.labels, nonce=nonce)
        policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
                  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")  # fmt: skip
        return HTMLResponse(html, headers={**_PAGE_HEADERS, "Content-Security-Policy": policy})

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/progress")
    def get_progress() -> dict[str, Any]:
        return progress()

    @app.get("/api/next")
    def get_next(client: str | None = None) -> dict[str, Any]:
        if client is not None and not re.match(CLIENT, client):
            raise Refused(422, "client: 1 to 64 letters, digits, '-' or '_'")
        return {"item": queue.next(client), "progress": progress()}

    @app.post("/api/answer")
    def post_answer(body: AnswerIn) -> dict[str, Any]:
        if body.decision not in DECISIONS:
            raise Refused(422, f"decision: one of {', '.join(DECISIONS)}, not {body.decision[:40]!r}")
        item = queue.items.get(body.id)
        if item is None:
            raise Refused(404, f"no item {body.id} in this session")
        spans = token_spans(item, body.spans) if body.decision == "accept" else []
        replaced = session.answer(item.id, body.decision, spans, body.client)
        if retrainer is not None:
            retrainer.answered()
        return {"saved": True, "replaced": replaced, "progress": progress()}

    @app.post("/api/undo")
    def post_undo(body: UndoIn) -> dict[str, Any]:
        undone = session.undo(body.id, body.client)
        if undone is None:
            raise Refused(404, "nothing to undo")
        queue.hold(body.client, undone.item_id)
        return {"item": queue.payload(undone.item_id, undone), "progress": progress()}

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(LocalGuard, hosts=hosts)  # outermost: nothing is read from a stranger
    return app
