"""Running `veclift annotate`: `run_annotator` opens (or starts) the session, reads the input,
loads the patterns and the model, and serves the page of `veclift.serve.annotate_app` on uvicorn
until SIGTERM or Ctrl-C, as `veclift serve` runs (`veclift.serve.server`).

Importing this module needs neither FastAPI nor uvicorn nor torch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from veclift.errors import VecliftError, warn
from veclift.serve.server import INSTALL, base_url, is_loopback, listen, run_uvicorn


def run_annotator(
    session_path: str | Path, inputs: Sequence[str | Path] = (), *, labels: Sequence[str] | None = None,
    patterns: str | Path | None = None, model: str | Path | None = None, vectors: str | None = None,
    update_every: int | None = None, dev: str | Path | None = None, train_args: Sequence[str] = (),
    text_field: str = "text", host: str = "127.0.0.1", port: int = 8080, max_body_bytes: int | None = None,
    progress: bool = True,
) -> None:  # fmt: skip
    """Annotate ``inputs`` (tagged or raw, `veclift.serve.annotate_input`; none: resume the session)
    with ``labels`` (None: the session's) in the session file ``session_path`` (created at the first
    start), on ``host:port`` (port 0: a free one). ``patterns``: EntityRuler JSONL suggesting spans;
    ``model``: a tagger (model directory or ONNX export) suggesting spans and ordering the queue by
    uncertainty; ``vectors``: rows for words the model lacks, and the vectors retraining uses;
    ``update_every``: retrain every N answers (`veclift.serve.annotate_train`; ``dev``: its dev
    file, ``train_args``: more `veclift train ner` options). Once listening, ``annotating SESSION
    (N of M left) on URL`` goes to stderr. Every error before serving is a one-line `VecliftError`."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise VecliftError(f"veclift annotate needs FastAPI and uvicorn: {INSTALL}") from None
    from veclift.serve.annotate_app import MAX_BODY_BYTES, create_annotate_app
    from veclift.serve.annotate_input import Suggester, read_input
    from veclift.serve.annotate_queue import AnnotationQueue
    from veclift.serve.annotate_session import AnnotationSession
    from veclift.serve.annotate_train import Retrainer
    from veclift.tasks.onnx_model import load_predictor

    labels = check_labels(labels) if labels is not None else None
    sock = listen(host, port)
    new = not Path(session_path).exists()
    session = retrainer = None
    serving = False
    try:
        sentences = read_input(inputs, text_field=text_field) if inputs else None
        session = AnnotationSession(session_path)
        session.start(sentences, labels, ", ".join(map(str, inputs)) or None)
        suggester = Suggester(patterns, session.labels) if patterns is not None else None
        tagger = loaded = None
        if model is not None:
            tagger = _tagger(load_predictor(model), model)
            if vectors:
                from veclift.vectors import Vectors

                loaded = Vectors.load(vectors)
        queue = AnnotationQueue(session, suggester=suggester, model=tagger, model_name=str(model), vectors=loaded,
                                progress=progress)  # fmt: skip
        if update_every:
            embeddings, source = _training_setup(tagger, vectors)
            retrainer = Retrainer(queue, every=update_every, embeddings=embeddings, vectors=source, load=load_predictor,
                                  dev=dev, extra=list(train_args))  # fmt: skip
        hosts = _hosts(host, sock.getsockname()[1]) if is_loopback(host) else None
        if hosts is None:
            warn(f"listening on {host}: anyone who reaches this machine can read and annotate this session")
        app = create_annotate_app(queue, retrainer=retrainer, max_body_bytes=max_body_bytes or MAX_BODY_BYTES, hosts=hosts)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5)
        state = session.progress()
        serving = True
        run_uvicorn(config, sock, f"annotating {session.path} ({state['left']} of {state['total']} left) on {base_url(sock)}")
    finally:
        if retrainer is not None:
            retrainer.close()
        if session is not None:
            session.close()
        if new and not serving:  # a first start that failed leaves no session behind
            for suffix in ("", "-wal", "-shm"):
                Path(f"{session_path}{suffix}").unlink(missing_ok=True)
        sock.close()


def check_labels(labels: Sequence[str]) -> list[str]:
    """The labels, stripped: at least one, each distinct, without spaces or commas."""
    cleaned = [label.strip() for label in labels]
    if not cleaned or not all(cleaned):
        raise VecliftError("give the labels as --labels A,B (none may be empty)")
    for label in cleaned:
        if any(c.isspace() or c == "," for c in label) or len(label) > 100:
            raise VecliftError(f"label {label!r}: no spaces or commas, at most 100 characters")
    if len(set(cleaned)) != len(cleaned):
        raise VecliftError("a label is given twice in --labels")
    return cleaned


def _tagger(model, directory: str | Path):
    from veclift.tasks.registry import get_task

    if not get_task(model.task).token_tags:
        raise VecliftError(f"--model is a {model.task} model; annotating spans needs a tagger (ner)", directory)
    return model


def _training_setup(tagger, vectors: str | None) -> tuple[str, str | None]:
    """The embedding strategy and vector source retraining uses: the model's (``--vectors`` winning),
    or without a model finetune with ``--vectors``, scratch without."""
    from veclift.tasks.config import split_strategy

    summary = tagger.summary() if tagger is not None else {}
    source = vectors or (summary.get("vectors") or {}).get("source")
    embeddings = summary.get("embeddings") or ("finetune" if source else "scratch")
    static, _ = split_strategy(embeddings)
    if static not in (None, "scratch") and not source:
        raise VecliftError(f"--update-every: retraining with {embeddings} embeddings needs --vectors")
    return embeddings, source


def _hosts(host: str, port: int) -> set[str]:
    """The ``Host`` values a loopback server answers to."""
    names = {host, "127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host}
    return {f"{name.lower()}:{port}" for name in names}
