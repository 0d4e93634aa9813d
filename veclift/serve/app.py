"""The HTTP service of `veclift serve`: a FastAPI app over loaded models.

``POST /predict`` answers ``{"text": ...}``, ``{"texts": [...]}``, ``{"tokens": [...]}`` (one
pre-tokenised sentence) or ``{"tokens": [[...], ...]}`` (several), with an optional ``"model"``
(required when several models are served) and ``"marginals"``. One text or sentence is answered at
the top level, several in ``"results"``; each answer is the record the task's ``predict_records``
gives (a tagger: ``tokens``, ``tags``, ``entities`` with character offsets and scores; a
classifier: ``label`` or ``labels``, and ``probabilities``), and the top level names the ``model``.
``GET /models`` lists the models with their summaries (the vectors' source by its name only, never
a local path), ``GET /health`` says the service is up; FastAPI adds ``/docs`` and ``/openapi.json``.

Every error is a 4xx, a 503 (too many texts waiting: ``Retry-After``; or shutting down) or, for a
bug, a 500 (logged), whose body is one line of JSON ``{"error": "..."}``: never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from veclift.data.tokenize import tokenize
from veclift.errors import VecliftError
from veclift.serve.batching import MAX_QUEUE, Busy, MicroBatcher, ShuttingDown
from veclift.serve.limits import ApiKey, BodyLimit, Limits, one_line

log = logging.getLogger("veclift.serve")
FIELDS = ("text", "texts", "tokens", "model", "marginals")


class PredictRequest(BaseModel):
    """The body of ``POST /predict``: exactly one of ``text``, ``texts`` or ``tokens``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str | None = Field(None, description="One raw text; tokenised by veclift. Answered at the top level.")
    texts: list[str] | None = Field(None, description="Several raw texts; answered in `results`, in order.")
    tokens: list[str] | list[list[str]] | None = Field(
        None, description="One pre-tokenised sentence (a list of strings, answered at the top level) or several "
        "(a list of lists, answered in `results`).")  # fmt: skip
    model: str | None = Field(None, description="The served model to ask; required when several are served.")
    marginals: bool = Field(False, description="Taggers: each token's probability of every tag (a 422 for a "
                            "model without per-token tags).")


@dataclass
class ServedModel:
    """One model the service answers with, loaded before the server starts."""

    name: str
    directory: str
    model: Any  # a loaded model: `.task`, `.summary()`
    task: Any  # its registered `veclift.tasks.registry.Task` (for `predict_records`)
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, name: str, directory: str | Path) -> ServedModel:
        """The model directory (written by `veclift train`) or ONNX export at ``directory``, served as
        ``name``; a one-line `VecliftError` when it does not load."""
        from veclift.tasks.onnx_model import load_predictor
        from veclift.tasks.registry import get_task

        model = load_predictor(directory)
        return cls(name, str(directory), model, get_task(model.task), model.summary())


class RequestError(Exception):
    """A refused request: its HTTP status and a one-line message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = one_line(message)
        self.headers = headers


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": one_line(message)}, status_code=status, headers=headers)


def source_name(source: Any) -> str:
    """What ``GET /models`` tells of a vector source: a name as it is, a path by its last part."""
    text = str(source)
    return re.split(r"[\\/]", text.rstrip("\\/"))[-1] or text


def public_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` with the vectors' source by its name only: no local path leaves the server."""
    vectors = summary.get("vectors")
    if not isinstance(vectors, dict) or vectors.get("source") is None:
        return summary
    return {**summary, "vectors": {**vectors, "source": source_name(vectors["source"])}}


def _short(value: Any, limit: int = 40) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _validation_message(errors: Sequence[dict[str, Any]]) -> str:
    """The first pydantic error of a request body, in words."""
    first = errors[0]
    loc = [part for part in first.get("loc", ()) if part != "body"]
    if first.get("type") == "extra_forbidden" and loc:
        return f"unknown field {_short(loc[0])}; the fields are {', '.join(FIELDS)}"
    if loc and loc[0] == "tokens":
        return "tokens must be a list of strings (one sentence) or a list of lists of strings (several sentences)"
    where = ".".join(str(part) for part in loc)
    return f"{where}: {first.get('msg', 'invalid value')}" if where else str(first.get("msg", "invalid request"))


def install_error_handlers(app: FastAPI) -> None:
    """One line of JSON for what FastAPI refuses (a body that is not JSON: 400; the wrong shape: 422),
    for HTTP errors, and for bugs (a 500 whose details go to the log, never a traceback to the client)."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors() or [{"msg": "invalid request"}]
        if errors[0].get("type") == "json_invalid":
            return error_response(400, "the request body is not valid JSON")
        return error_response(422, _validation_message(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return error_response(exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error answering %s %s: %s: %s", request.method, request.url.path, type(exc).__name__,
                  one_line(str(exc)))  # fmt: skip
        return error_response(500, f"internal error: {type(exc).__name__} (see the server's log)")


def parse_body(body: bytes) -> PredictRequest:
    """The request of a ``POST /predict`` body; a 400 for what is not JSON, a 422 for the wrong shape."""
    if not body.strip():
        raise RequestError(400, 'the request body is empty; send a JSON object such as {"text": "..."}')
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"the request body is not UTF-8 text (byte {exc.start}); send JSON") from None
    try:
        data = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError):
        raise RequestError(400, "the request body is not valid JSON (or is nested too deeply)") from None
    if not isinstance(data, dict):
        raise RequestError(422, 'the request body must be a JSON object such as {"text": "..."}')
    try:  # a "\\ud800" escape decodes to a lone surrogate, which no answer could carry back
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RequestError(422, "the request body holds a lone UTF-16 surrogate escape (such as \\ud800)") from None
    try:
        return PredictRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestError(422, _validation_message(exc.errors())) from None


def records_of(request: PredictRequest, limits: Limits) -> tuple[list[dict[str, Any]], bool]:
    """The records to predict and whether the request asked about one text (answer at top level)."""
    given = [name for name in ("text", "texts", "tokens") if getattr(request, name) is not None]
    if len(given) != 1:
        raise RequestError(422, "send exactly one of text, texts or tokens" + (f" (got {', '.join(given)})" if given else ""))
    if request.text is not None:
        texts, single = [request.text], True
    elif request.texts is not None:
        texts, single = request.texts, False
    else:
        tokens = request.tokens
        if not tokens:
            raise RequestError(422, "tokens is empty")
        single = isinstance(tokens[0], str)
        sentences = [tokens] if single else tokens
        _check_count(len(sentences), limits, "token lists")
        records = []
        for number, sentence in enumerate(sentences, 1):
            where = "tokens" if single else f"tokens.{number - 1}"
            if not sentence:
                raise RequestError(422, f"{where} is empty")
            for position, token in enumerate(sentence):
                if not token.strip():
                    raise RequestError(422, f"{where}.{position}: a token is empty or only whitespace")
            _check_length(len(sentence), limits, where)
            records.append({"tokens": list(sentence)})
        return records, single
    if not texts:
        raise RequestError(422, "texts is empty")
    _check_count(len(texts), limits, "texts")
    records = []
    for number, text in enumerate(texts):
        where = "text" if single else f"texts.{number}"
        if not text.strip():
            raise RequestError(422, f"{where} is empty or only whitespace")
        tokens = tokenize(text)
        _check_length(len(tokens), limits, where)
        records.append({"text": text, "tokens": tokens})
    return records, single


def _check_count(count: int, limits: Limits, noun: str) -> None:
    if count > limits.max_texts:
        raise RequestError(413, f"{count} {noun} in one request; the limit is {limits.max_texts} (--max-texts)")


def _check_length(count: int, limits: Limits, where: str) -> None:
    if count > limits.max_tokens:
        raise RequestError(413, f"{where} has {count} tokens; the limit is {limits.max_tokens} (--max-tokens)")


def create_app(
    models: Sequence[ServedModel], *, vectors: Any = None, limits: Limits = Limits(), api_key: str | None = None,
    batch_texts: int = 64, batch_wait: float = 0.005, max_queue: int = MAX_QUEUE,
) -> FastAPI:  # fmt: skip
    """The service over ``models`` (loaded already; names unique). ``vectors`` (None, a source or a
    `Vectors`) give rows to words a model lacks; ``api_key``: required of every request;
    ``batch_texts`` / ``batch_wait``: micro-batching, at most that many texts gathered for that many
    seconds; ``max_queue``: the most texts waiting per model (a 503 beyond)."""
    served = {m.name: m for m in models}
    if len(served) != len(models):
        raise ValueError("two served models share a name")
    if not served:
        raise ValueError("no model to serve")

    def predictor(entry: ServedModel):
        def predict(records: list[dict[str, Any]], marginals: bool) -> list[dict[str, Any]]:
            if marginals:  # only then: a task plugin need not take the keyword
                return entry.task.predict_records(entry.model, records, vectors, marginals=True)
            return entry.task.predict_records(entry.model, records, vectors)

        return predict

    batchers = {
        name: MicroBatcher(name, predictor(entry), max_texts=batch_texts, max_wait=batch_wait, max_queue=max_queue)
        for name, entry in served.items()
    }  # fmt: skip

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        for batcher in batchers.values():
            batcher.start()
        try:
            yield
        finally:
            await asyncio.gather(*(batcher.close() for batcher in batchers.values()))

    app = FastAPI(
        title="veclift serve",
        description="Named entities and text labels from veclift models. Every error is one line of JSON: "
        '`{"error": "..."}`.',
        version=_version(),
        lifespan=lifespan,
    )  # fmt: skip

    @app.exception_handler(RequestError)
    async def _refused(request: Request, exc: RequestError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    install_error_handlers(app)

    @app.get("/health", summary="Whether the service is up, and the names of its models")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": list(served)}

    @app.get("/models", summary="The served models: name, task, labels, embeddings, vectors and training scores")
    async def list_models() -> dict[str, Any]:
        return {"models": [{"name": m.name, **public_summary(m.summary)} for m in served.values()]}

    @app.post(
        "/predict",
        summary="Tag or classify text",
        description="Send exactly one of `text`, `texts` or `tokens`. A tagger answers `tokens`, `tags` and "
        "`entities` (`text`, `label`, `start`, `end` as character offsets, end exclusive, `token_start`, "
        "`token_end`, `score` in 0..1); a classifier `label` (or `labels`) and `probabilities`. One text is "
        "answered at the top level, several in `results`; `model` names the model that answered.",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": PredictRequest.model_json_schema(),
            "examples": {"text": {"value": {"text": "John lives in Paris."}},
                         "texts": {"value": {"texts": ["John lives in Paris.", "Mary met Paul."]}},
                         "tokens": {"value": {"tokens": ["John", "lives", "in", "Paris"]}}}}}}},
        responses={400: {"description": "Not JSON"}, 401: {"description": "A missing or wrong API key"},
                   404: {"description": "No such model"}, 413: {"description": "Over a limit"},
                   422: {"description": "The wrong shape"},
                   503: {"description": "Busy (too many texts waiting; see Retry-After) or shutting down"}},
    )  # fmt: skip
    async def predict(request: Request) -> JSONResponse:
        parsed = parse_body(await request.body())
        if parsed.model is not None:
            if parsed.model not in served:
                raise RequestError(404, f"no model named {_short(parsed.model)} is served; the models are "
                                        f"{', '.join(served)}")  # fmt: skip
            name = parsed.model
        elif len(served) == 1:
            name = next(iter(served))
        else:
            raise RequestError(422, f'several models are served ({", ".join(served)}): name one in "model"')
        if parsed.marginals and not served[name].task.token_tags:
            raise RequestError(422, f"model {name!r} ({served[name].task.name}) tags no tokens, so it has no "
                                    'marginals: leave out "marginals"')  # fmt: skip
        records, single = records_of(parsed, limits)
        try:
            answers = await batchers[name].predict(records, parsed.marginals)
        except VecliftError as exc:
            raise RequestError(422, str(exc)) from None
        except Busy as exc:
            raise RequestError(503, str(exc), {"Retry-After": "1"}) from None
        except ShuttingDown as exc:
            raise RequestError(503, str(exc)) from None
        if single:
            return JSONResponse({"model": name, **answers[0]})
        return JSONResponse({"model": name, "results": answers})

    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    if api_key:
        app.add_middleware(ApiKey, key=api_key)  # outermost: nothing is read before the key is checked
    return app


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("veclift")
    except Exception:  # pragma: no cover - running from a source tree that is not installed
        return "0"
