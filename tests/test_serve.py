"""`veclift serve`: a real uvicorn in a subprocess, called over HTTP with httpx. Answers equal the
offline predictions, bounds and bad requests are one-line JSON 4xx errors, a full queue is a 503
busy, a model that does not load stops the start, SIGTERM lets requests in flight finish. The
micro-batcher, a bad request among good ones, the 500 answer, the shutdown 503 and what
``GET /models`` tells of paths are checked in-process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from live_command import LiveCommand
from task_fixtures import CITIES, PEOPLE, labeled_texts, tagged_sentences, tiny_vectors

from veclift.data.tokenize import tokenize
from veclift.errors import VecliftError
from veclift.tasks import SequenceTagger, TextClassifier, load_model
from veclift.tasks.registry import get_task

ROOT = Path(__file__).resolve().parents[1]
KEY = "s3cret-key"
READY = re.compile(r"^serving .* on (http://127\.0\.0\.1:\d+)$", re.M)


# --- fixtures: two tiny models, trained once ----------------------------------------------------
@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve-models")
    tagger = SequenceTagger(max_epochs=12, hidden=16, char_filters=8, batch_size=8, lr=0.01)
    tagger.fit(tagged_sentences(60), tagged_sentences(10, seed=1), vectors=tiny_vectors(), seed=0, progress=False)
    tagger.save(root / "ner")
    classifier = TextClassifier(encoder="cnn", max_epochs=15, lr=0.02, batch_size=4, members=1)  # the answers checked are its
    classifier.fit(labeled_texts(40), labeled_texts(10, seed=1), vectors=tiny_vectors(), seed=0, progress=False)
    classifier.save(root / "sentiment")
    return {"ner": root / "ner", "sentiment": root / "sentiment"}


class Server(LiveCommand):
    """``veclift serve ARGS --port 0``, ready once ``/health`` answers (with the API key if given)."""

    def __init__(self, args: list, log: Path, key: str | None = None, deadline: float = 60.0):
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        env.pop("VECLIFT_API_KEY", None)
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        super().__init__("serve", args, log, READY, deadline=deadline, env=env)
        end = time.monotonic() + deadline
        while True:  # listening already; /health answers as soon as the loop runs
            try:
                if httpx.get(f"{self.url}/health", headers=self.headers, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > end:
                self.kill()
                pytest.fail(f"/health did not answer in time: {self.stderr()}")
            time.sleep(0.05)

    def post(self, payload=None, *, content=None, headers=None, **kwargs) -> httpx.Response:
        headers = {**self.headers, **(headers or {})}
        if content is None:
            return httpx.post(f"{self.url}/predict", json=payload, headers=headers, timeout=30, **kwargs)
        return httpx.post(f"{self.url}/predict", content=content, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers={**self.headers, **kwargs.pop("headers", {})}, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def pair(model_dirs, tmp_path_factory):
    """Both models, an API key and small limits."""
    server = Server([f"ner={model_dirs['ner']}", f"sentiment={model_dirs['sentiment']}", "--api-key", KEY,
                     "--max-texts", 8, "--max-tokens", 20, "--max-body-bytes", 4096],
                    tmp_path_factory.mktemp("pair") / "stderr.txt", key=KEY)  # fmt: skip
    server.models = [model_dirs["ner"], model_dirs["sentiment"]]
    try:
        yield server
        assert server.terminate() == 0, server.stderr()
    finally:
        server.kill()


@pytest.fixture(scope="module")
def single(model_dirs, tmp_path_factory):
    """The tagger alone, default limits, no key: its name is its directory's."""
    server = Server([model_dirs["ner"]], tmp_path_factory.mktemp("single") / "stderr.txt")
    try:
        yield server
    finally:
        server.kill()


def offline(directory: Path, records: list[dict]) -> list[dict]:
    model = load_model(directory)
    return get_task(model.task).predict_records(model, records, None)


def assert_same(got, want, where: str = "answer", tolerance: float = 2e-6) -> None:
    """Equal, floats to the 6 decimals the tasks round to (a batch's padding may move the last one)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), (where, got, want)
        for key in want:
            assert_same(got[key], want[key], f"{where}.{key}", tolerance)
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, list) and len(got) == len(want), (where, got, want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]", tolerance)
    elif isinstance(want, float):
        assert isinstance(got, (int, float)) and abs(got - want) <= tolerance, (where, got, want)
    else:
        assert got == want, (where, got, want)


def assert_error(response: httpx.Response, status: int | tuple[int, ...]) -> str:
    """An error (4xx or 503) whose body is exactly one-line JSON ``{"error": "..."}``; its message."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"], body
    assert "\n" not in body["error"] and "Traceback" not in response.text and "\n" not in response.text.strip()
    return body["error"]


# --- answers ----------------------------------------------------------------------------------
def test_a_tagger_answers_a_text_with_entities_at_their_character_offsets(single, model_dirs):
    text = "  John   lives in  Paris today ."
    response = single.post({"text": text})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"] == "ner" and answer["text"] == text
    assert answer["tokens"] == ["John", "lives", "in", "Paris", "today", "."] and len(answer["tags"]) == 6
    found = {(e["text"], e["label"]) for e in answer["entities"]}
    assert {("John", "PER"), ("Paris", "LOC")} <= found, answer["entities"]
    for entity in answer["entities"]:
        assert text[entity["start"]:entity["end"]] == entity["text"]
        assert 0 < entity["score"] <= 1 and 0 <= entity["token_start"] < entity["token_end"] <= 6
    want = offline(model_dirs["ner"], [{"text": text, "tokens": answer["tokens"]}])[0]
    assert_same({k: v for k, v in answer.items() if k != "model"}, want)


def test_texts_and_tokens_variants(single, model_dirs):
    texts = ["Mary met Anna in Rome today", "Peter lives in Berlin ."]
    several = single.post({"texts": texts}).json()
    assert several["model"] == "ner" and [r["text"] for r in several["results"]] == texts
    assert [e["text"] for e in several["results"][1]["entities"]] == ["Peter", "Berlin"]

    one = single.post({"tokens": ["Kevin", "lives", "in", "London"]}).json()
    assert "results" not in one and one["tokens"] == ["Kevin", "lives", "in", "London"] and len(one["tags"]) == 4
    assert ("London", "LOC") in {(e["text"], e["label"]) for e in one["entities"]}
    for entity in one["entities"]:  # offsets into the tokens joined by spaces
        assert one["text"][entity["start"]:entity["end"]] == entity["text"]

    lists = single.post({"tokens": [t.split() for t in texts], "marginals": True}).json()
    assert len(lists["results"]) == 2
    for result, text in zip(lists["results"], texts):
        assert result["tokens"] == text.split() and len(result["marginals"]) == len(result["tokens"])
        assert all(abs(sum(row.values()) - 1) < 1e-4 for row in result["marginals"])
    records = [{"tokens": t.split()} for t in texts]
    want = get_task("ner").predict_records(load_model(model_dirs["ner"]), records, None, marginals=True)
    assert_same(lists["results"], want)


def test_a_classifier_answers_labels_and_probabilities_summing_to_one(pair):
    texts = ["the day was great", "that was awful today", "a lovely day"]
    answer = pair.post({"texts": texts, "model": "sentiment"}).json()
    assert answer["model"] == "sentiment"
    labels = []
    for result in answer["results"]:
        probabilities = result["probabilities"]
        assert set(probabilities) == {"neg", "pos"} and abs(sum(probabilities.values()) - 1) < 1e-5
        assert result["label"] == max(probabilities, key=probabilities.get)
        labels.append(result["label"])
    assert labels[:2] == ["pos", "neg"]
    one = pair.post({"text": "great", "model": "sentiment"}).json()
    assert one["label"] == "pos" and "results" not in one


def test_two_models_are_chosen_by_the_model_field(pair):
    tagged = pair.post({"text": "John lives in Paris", "model": "ner"}).json()
    labeled = pair.post({"text": "John lives in Paris", "model": "sentiment"}).json()
    assert tagged["model"] == "ner" and "entities" in tagged and "label" not in tagged
    assert labeled["model"] == "sentiment" and "probabilities" in labeled and "entities" not in labeled


def test_models_health_and_the_openapi_page(pair):
    health = pair.get("/health").json()
    assert health == {"status": "ok", "models": ["ner", "sentiment"]}
    models = pair.get("/models").json()["models"]
    assert [(m["name"], m["task"]) for m in models] == [("ner", "ner"), ("sentiment", "classify")]
    assert "B-PER" in models[0]["labels"] and models[1]["labels"] == ["neg", "pos"]
    assert models[0]["vectors"] == {"source": "tiny", "dim": 12, "rows": models[0]["vectors"]["rows"]}
    assert models[0]["training"]["dev_metric"]
    spec = pair.get("/openapi.json").json()
    assert {"/predict", "/models", "/health"} <= set(spec["paths"])
    schema = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"text", "texts", "tokens", "model", "marginals"} <= set(schema["properties"])
    docs = pair.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert pair.stderr().splitlines() == [f"serving ner ({pair.models[0]}), sentiment ({pair.models[1]}) on {pair.url}"]


# --- bounds and bad requests -------------------------------------------------------------------
def test_bodies_over_the_limit_are_refused_by_length_and_by_the_bytes_streamed(pair):
    long_text = " ".join(["Supercalifragilisticexpialidocious"] * 20)  # 20 tokens: within --max-tokens
    big = json.dumps({"texts": [long_text] * 8, "model": "ner"}).encode()  # 8 texts: within --max-texts
    assert len(big) > 4096
    assert "4096" in assert_error(pair.post(content=big, headers={"content-type": "application/json"}), 413)

    def chunks():  # no Content-Length: chunked transfer, counted as it arrives
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    assert "--max-body-bytes" in assert_error(pair.post(content=chunks(), headers={"content-type": "application/json"}), 413)
    small = json.dumps({"text": "John lives in Paris", "model": "ner"}).encode()

    def small_chunks():
        yield small[:10]
        yield small[10:]

    assert pair.post(content=small_chunks()).status_code == 200


def test_a_declared_length_over_the_limit_is_refused_before_the_body_comes(pair):
    host, port = pair.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /predict HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n".encode())  # no body sent
        reply = b""
        while chunk := sock.recv(65536):  # the server answers and closes; a timeout here fails the test
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"--max-body-bytes" in json.loads(body)["error"].encode()


def test_too_many_texts_or_tokens_are_refused(pair):
    assert "--max-texts" in assert_error(pair.post({"texts": ["a b"] * 9, "model": "ner"}), 413)
    assert pair.post({"texts": ["a b"] * 8, "model": "ner"}).status_code == 200
    assert "--max-tokens" in assert_error(pair.post({"text": " ".join(["John"] * 21), "model": "ner"}), 413)
    assert_error(pair.post({"tokens": ["John"] * 21, "model": "ner"}), 413)
    assert_error(pair.post({"tokens": [["John"]] * 9, "model": "ner"}), 413)
    assert_error(pair.post({"texts": ["ok", " ".join(["x"] * 21)], "model": "sentiment"}), 413)
    assert pair.post({"text": " ".join(["John"] * 20), "model": "ner"}).status_code == 200


@pytest.mark.parametrize("payload, status, says", [
    (b'{"text": "John", "model": "ner"', 400, "not valid JSON"),
    (b"", 400, "empty"),
    (b'\xff\xfe\x00{"text": "x"}', 400, "UTF-8"),
    (bytes(range(256)), 400, "UTF-8"),
    (b'[{"text": "x"}]', 422, "JSON object"),
    (b'"just a string"', 422, "JSON object"),
    (b'{"text": 5, "model": "ner"}', 422, "text"),
    (b'{"texts": "John lives", "model": "ner"}', 422, "texts"),
    (b'{"texts": ["John", 3], "model": "ner"}', 422, "texts.1"),
    (b'{"tokens": [["John"], "lives"], "model": "ner"}', 422, "tokens"),
    (b'{"tokens": "John", "model": "ner"}', 422, "tokens"),
    (b'{"text": "x", "model": "ner", "marginals": "yes"}', 422, "marginals"),
    (b'{"text": "great", "model": "sentiment", "marginals": true}', 422, "no marginals"),  # no per-token tags
    (b'{"text": "x", "model": 3}', 422, "model"),
    (b'{"text": "", "model": "ner"}', 422, "empty"),
    (b'{"text": " \\n\\t ", "model": "ner"}', 422, "empty"),
    (b'{"texts": ["ok", "  "], "model": "ner"}', 422, "texts.1"),
    (b'{"texts": [], "model": "ner"}', 422, "empty"),
    (b'{"tokens": [], "model": "ner"}', 422, "empty"),
    (b'{"tokens": ["John", " "], "model": "ner"}', 422, "empty"),
    (b'{"tokens": [[]], "model": "ner"}', 422, "empty"),
    (b'{"txt": "John", "model": "ner"}', 422, "unknown field 'txt'"),
    (b'{"text": "John \\ud800", "model": "ner"}', 422, "surrogate"),
    (b'{"text": "John", "model": "\\udfff"}', 422, "surrogate"),
    (b'{"model": "ner"}', 422, "exactly one"),
    (b'{"text": "a", "texts": ["b"], "model": "ner"}', 422, "exactly one"),
    (b'{"text": "John lives", "model": "nobody"}', 404, "nobody"),
    (b'{"text": "John lives"}', 422, "several models"),
    (b"[" * 2000 + b"]" * 2000, 400, "JSON"),  # nested too deeply for the parser
])  # fmt: skip
def test_bad_requests_get_a_one_line_json_error(pair, payload, status, says):
    message = assert_error(pair.post(content=payload, headers={"content-type": "application/json"}), status)
    assert says in message


def test_the_api_key_is_required_of_every_request(pair):
    good = {"text": "John lives in Paris", "model": "ner"}
    url = pair.url
    assert "API key" in assert_error(httpx.post(f"{url}/predict", json=good), 401)
    assert_error(httpx.get(f"{url}/health"), 401)
    assert_error(httpx.get(f"{url}/openapi.json"), 401)
    assert_error(httpx.post(f"{url}/predict", json=good, headers={"Authorization": "Bearer wrong"}), 401)
    assert_error(httpx.post(f"{url}/predict", json=good, headers={"X-API-Key": KEY[:-1]}), 401)
    assert_error(httpx.post(f"{url}/predict", json=good, headers={"Authorization": KEY}), 401)  # no scheme
    assert httpx.post(f"{url}/predict", json=good, headers={"X-API-Key": KEY}).status_code == 200
    assert httpx.post(f"{url}/predict", json=good, headers={"Authorization": f"bearer {KEY}"}).status_code == 200
    assert_error(httpx.post(f"{url}/nowhere", json=good, headers={"X-API-Key": KEY}), 404)
    assert_error(httpx.get(f"{url}/predict", headers={"X-API-Key": KEY}), 405)


def test_one_model_needs_no_model_field_but_an_unknown_one_is_refused(single):
    assert single.post({"text": "John lives in Paris"}).status_code == 200
    assert "ner" in assert_error(single.post({"text": "John", "model": "sentiment"}), 404)


def test_an_onnx_export_is_served_like_the_model_it_came_from(model_dirs, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from veclift.tasks.onnx_export import export_onnx

    export_onnx(load_model(model_dirs["ner"]), tmp_path / "ner-onnx")
    server = Server([f"onnx={tmp_path / 'ner-onnx'}", f"torch={model_dirs['ner']}"], tmp_path / "stderr.txt")
    try:
        texts = _sentences(12)
        exported = server.post({"texts": texts, "model": "onnx", "marginals": True})
        original = server.post({"texts": texts, "model": "torch", "marginals": True})
        assert exported.status_code == original.status_code == 200, (exported.text, original.text)
        assert_same(exported.json()["results"], original.json()["results"], tolerance=1e-4)
        runtimes = {m["name"]: m.get("runtime") for m in server.get("/models").json()["models"]}
        assert runtimes["onnx"] == "onnxruntime" and runtimes["torch"] != "onnxruntime"
    finally:
        server.kill()


# --- start-up ---------------------------------------------------------------------------------
def _run_cli(*args, code: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "veclift", *args]
    env = {k: v for k, v in os.environ.items() if k != "VECLIFT_API_KEY"}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def test_a_model_that_does_not_load_stops_the_start_with_one_line(model_dirs, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    result = _run_cli("serve", model_dirs["ner"], broken, "--port", "0")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "broken" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "serving" not in result.stderr

    missing = _run_cli("serve", tmp_path / "nothing-here", "--port", "0")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr


def test_two_models_of_one_name_are_a_one_line_error(model_dirs, tmp_path):
    other = tmp_path / "x" / "ner"
    result = _run_cli("serve", model_dirs["ner"], other)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "two models are named 'ner'" in result.stderr
    result = _run_cli("serve", f"a={model_dirs['ner']}", f"a={model_dirs['sentiment']}")
    assert result.returncode == 2 and "'a'" in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_without_fastapi_the_command_names_the_extra(model_dirs):
    code = ("import sys; sys.modules['fastapi'] = None; sys.argv = ['veclift', *sys.argv[1:]]; "
            "from veclift.cli import main; main()")  # fmt: skip
    result = _run_cli("serve", model_dirs["ner"], code=code)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "pip install 'veclift[serve]'" in result.stderr


def test_building_the_command_line_loads_neither_fastapi_nor_uvicorn():
    code = ("import sys, veclift.cli as c; c._register(); "
            "print(sorted({'fastapi', 'uvicorn', 'starlette', 'torch'} & set(sys.modules)))")  # fmt: skip
    assert _run_cli(code=code).stdout.strip() == "[]"


# --- load and shutdown ------------------------------------------------------------------------
def _sentences(count: int) -> list[str]:
    """Texts the tagger has seen and has not (Kevin, Oslo), with irregular spacing."""
    people, cities = PEOPLE + ["Kevin", "Olga"], CITIES + ["Oslo"]
    out = []
    for i in range(count):
        p, q, c = people[i % len(people)], people[(i * 3 + 1) % len(people)], cities[(i * 5) % len(cities)]
        out.append(f"{p} lives in {c} ." if i % 2 else f"{p}  met {q} in {c} today")
    return out


def test_concurrent_load_gets_the_offline_answers(pair, model_dirs):
    texts = _sentences(40)
    want = {
        name: {r["text"]: r for r in offline(model_dirs[name], [{"text": t, "tokens": tokenize(t)} for t in texts])}
        for name in ("ner", "sentiment")
    }  # fmt: skip
    clients, per_client = 16, 125
    deadline = time.monotonic() + 45
    failures: list[str] = []
    done = [0] * clients

    def client(number: int) -> None:
        with httpx.Client(base_url=pair.url, headers=pair.headers, timeout=30) as http:
            for i in range(per_client):
                if time.monotonic() > deadline or failures:
                    return
                name = ("ner", "sentiment")[(number + i) % 2]
                if i % 10 == 9:  # now and then several texts in one request
                    batch = [texts[(number * 7 + i + k) % len(texts)] for k in range(3)]
                    response = http.post("/predict", json={"texts": batch, "model": name})
                    answers = response.json().get("results", []) if response.status_code == 200 else []
                else:
                    batch = [texts[(number * 13 + i) % len(texts)]]
                    response = http.post("/predict", json={"text": batch[0], "model": name})
                    answers = [{k: v for k, v in response.json().items() if k != "model"}] if response.status_code == 200 else []
                try:
                    assert response.status_code == 200, response.text
                    assert response.json()["model"] == name and len(answers) == len(batch)
                    for answer, text in zip(answers, batch):
                        assert_same(answer, want[name][text])
                except AssertionError as exc:
                    failures.append(f"client {number} request {i}: {exc}")
                    return
                done[number] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 5))
    assert not any(thread.is_alive() for thread in threads)
    assert not failures, failures[:3]
    assert sum(done) == clients * per_client >= 2000, f"{sum(done)} requests in {time.monotonic() - began:.1f}s"


def test_a_full_queue_is_a_503_busy_with_retry_after_and_the_others_are_answered(model_dirs, tmp_path):
    server = Server([model_dirs["ner"], "--max-queue", 1, "--batch-size", 4], tmp_path / "stderr.txt")
    try:
        texts = _sentences(8)  # larger than a batch: each request runs alone, the next one waits
        want = offline(model_dirs["ner"], [{"text": t, "tokens": tokenize(t)} for t in texts])
        start = threading.Barrier(12)
        responses: list[httpx.Response] = []

        def client() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                start.wait()
                for _ in range(5):
                    responses.append(http.post("/predict", json={"texts": texts}))

        threads = [threading.Thread(target=client) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(responses) == 60
        busy = [r for r in responses if r.status_code == 503]
        answered = [r for r in responses if r.status_code != 503]
        assert busy and answered, [r.status_code for r in responses]
        for response in busy:
            message = assert_error(response, 503)
            assert message.startswith("busy: ") and "--max-queue" in message and response.headers["retry-after"] == "1"
        for response in answered:
            assert response.status_code == 200, response.text
            assert_same(response.json()["results"], want)
        assert "Traceback" not in server.stderr()
    finally:
        server.kill()


def test_sigterm_lets_requests_in_flight_finish_then_exits_0(model_dirs, tmp_path):
    server = Server([model_dirs["ner"], "--batch-size", 16], tmp_path / "stderr.txt")
    try:
        texts = _sentences(256)
        clients = 12
        start = threading.Barrier(clients + 1)
        first = threading.Event()
        outcomes: list[tuple[float, object]] = []

        def client() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                start.wait()
                try:
                    response = http.post("/predict", json={"texts": texts})
                    outcome = (response.status_code, len(response.json().get("results", [])))
                except (httpx.HTTPError, ValueError) as exc:
                    outcome = exc
                outcomes.append((time.monotonic(), outcome))
                first.set()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        start.wait()
        assert first.wait(60), "no answer at all"
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(60)
        code = server.process.wait(60)
        assert code == 0, server.stderr()
        assert len(outcomes) == clients
        assert all(outcome == (200, 256) for _, outcome in outcomes), outcomes
        after = sum(when > signalled for when, _ in outcomes)
        assert after >= clients // 2, f"only {after} answers came after SIGTERM: the test did not catch them in flight"
        assert "Traceback" not in server.stderr()
        with pytest.raises(httpx.TransportError):  # gone: nothing listens any more
            httpx.get(f"{server.url}/health", timeout=5)
    finally:
        server.kill()


# --- in-process: the micro-batcher and the 500 --------------------------------------------------
def test_the_micro_batcher_batches_concurrent_requests_in_one_thread():
    from veclift.serve.batching import MicroBatcher

    calls: list[tuple[int, list[str], bool]] = []

    def predict(records, marginals):
        if any(r["text"] == "bad" for r in records):
            raise VecliftError("a bad record")
        calls.append((threading.get_ident(), [r["text"] for r in records], marginals))
        time.sleep(0.01)
        return [{**r, "answer": r["text"].upper()} for r in records]

    async def main():
        batcher = MicroBatcher("m", predict, max_texts=8, max_wait=0.02)
        batcher.start()
        try:
            single = [batcher.predict([{"text": f"t{i}"}]) for i in range(20)]
            whole = batcher.predict([{"text": f"w{i}"} for i in range(12)])  # larger than a batch: one call
            marg = batcher.predict([{"text": "m"}], marginals=True)
            bad = batcher.predict([{"text": "bad"}])
            answers = await asyncio.gather(*single, whole, marg, bad, return_exceptions=True)
        finally:
            await batcher.close()
        return answers

    answers = asyncio.run(main())
    assert [a[0]["answer"] for a in answers[:20]] == [f"T{i}" for i in range(20)]
    assert [a["answer"] for a in answers[20]] == [f"W{i}" for i in range(12)]
    assert answers[21][0]["answer"] == "M" and isinstance(answers[22], VecliftError)
    assert len({thread for thread, _, _ in calls}) == 1 and calls[0][0] != threading.get_ident()
    assert len(calls) <= 8, [texts for _, texts, _ in calls]  # 22 good requests in few calls
    assert all(len(texts) <= 8 for _, texts, _ in calls if not texts[0].startswith("w"))
    assert [texts for _, texts, _ in calls if texts[0].startswith("w")] == [[f"w{i}" for i in range(12)]]
    assert [texts for _, texts, marginals in calls if marginals] == [["m"]]


def test_a_500_is_one_line_without_a_traceback_and_a_veclift_error_is_a_422():
    from fastapi.testclient import TestClient

    from veclift.serve.app import ServedModel, create_app

    def predict_records(model, records, vectors, marginals=False):
        if records[0]["tokens"][0] == "boom":
            raise RuntimeError("boom\n  File 'x.py', line 1\nTraceback (most recent call last)")
        raise VecliftError("record 1: its tokens are not, in order, in its text\nsecond line")

    fake = ServedModel("fake", "fake-dir", object(), SimpleNamespace(predict_records=predict_records), {"task": "x"})
    with TestClient(create_app([fake]), raise_server_exceptions=False) as client:
        crashed = client.post("/predict", json={"text": "boom now"})
        refused = client.post("/predict", json={"text": "fine now"})
    assert crashed.status_code == 500 and crashed.json() == {"error": "internal error: RuntimeError (see the server's log)"}
    assert refused.status_code == 422 and "\n" not in refused.json()["error"] and "record 1" in refused.json()["error"]


def _fake(predict_records, *, token_tags: bool = False, summary: dict | None = None, name: str = "fake"):
    from veclift.serve.app import ServedModel

    task = SimpleNamespace(name="x", token_tags=token_tags, predict_records=predict_records)
    return ServedModel(name, f"{name}-dir", object(), task, {"task": "x", **(summary or {})})


@contextlib.asynccontextmanager
async def _started(app):
    """``app`` with its lifespan started (its batchers running) and an HTTP client over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve.test") as client:
            yield client


def test_a_bad_request_gathered_among_good_ones_fails_alone(caplog):
    from veclift.serve.app import create_app

    calls: list[list[str]] = []

    def predict_records(model, records, vectors):  # no marginals keyword: a plugin that has none
        first = [record["tokens"][0] for record in records]
        calls.append(first)
        if "boom" in first:  # first: the gathered call fails with an error that is no VecliftError
            raise RuntimeError("boom\nTraceback (most recent call last)")
        if "bad" in first:
            raise VecliftError("record 1: a bad record")
        if "short" in first:
            return records[1:]  # a broken plugin: one answer missing
        return [{**record, "answer": record["tokens"][0].upper()} for record in records]

    good = [f"good{i} text" for i in range(5)]
    app = create_app([_fake(predict_records)], batch_wait=0.5)  # long enough for every request to join

    async def main():
        async with _started(app) as client:
            return await asyncio.gather(*(client.post("/predict", json={"text": text})
                                          for text in [*good[:2], "bad one", *good[2:4], "boom two", "short three", good[4]]))  # fmt: skip

    with caplog.at_level(logging.ERROR, logger="veclift.serve"):
        answers = asyncio.run(main())
    assert len(calls[0]) == 8 and {"bad", "boom", "short"} <= set(calls[0]), calls  # gathered into one call
    assert sorted(map(tuple, calls[1:])) == sorted((first,) for first in calls[0]), calls  # then each alone
    oks = [answers[i] for i in (0, 1, 3, 4, 7)]
    for response, text in zip(oks, good):
        assert response.status_code == 200, response.text
        assert response.json() == {"model": "fake", "text": text, "tokens": text.split(), "answer": text.split()[0].upper()}
    assert "a bad record" in assert_error(answers[2], 422)
    for response in answers[5:7]:  # a plugin's crash, a plugin's answer short of a record: 500s
        assert response.status_code == 500 and response.json() == {"error": "internal error: RuntimeError (see the server's log)"}
        assert "Traceback" not in response.text
    logged = sorted(record.getMessage() for record in caplog.records)
    assert len(logged) == 2 and all("\n" not in line for line in logged), logged
    assert "RuntimeError: boom Traceback" in logged[0] and "RuntimeError: the model answered 0 of 1 records" in logged[1]


def test_a_full_queue_is_a_503_and_shutdown_refuses_what_waits_but_finishes_the_call_under_way():
    from veclift.serve.app import create_app

    started, release = threading.Event(), threading.Event()

    def predict_records(model, records, vectors):
        if records[0]["tokens"][0] == "slow":
            started.set()
            release.wait(30)
        return [{**record, "count": len(record["tokens"])} for record in records]

    app = create_app([_fake(predict_records)], batch_wait=0, max_queue=2)

    async def main():
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve.test") as client:
            try:
                slow = asyncio.create_task(client.post("/predict", json={"text": "slow one"}))
                assert await asyncio.to_thread(started.wait, 30)  # under way in the model's thread
                waiting = asyncio.create_task(client.post("/predict", json={"texts": ["a b", "c"]}))  # 2 texts wait
                await asyncio.sleep(0.1)
                busy = await client.post("/predict", json={"text": "one more"})
                closing = asyncio.create_task(lifespan.__aexit__(None, None, None))
                await asyncio.sleep(0.1)
                late = await client.post("/predict", json={"text": "too late"})
            finally:
                release.set()
            await closing
            return await slow, await waiting, busy, late

    slow, waiting, busy, late = asyncio.run(main())
    message = assert_error(busy, 503)
    assert message.startswith("busy: 2 texts are waiting for model 'fake'") and busy.headers["retry-after"] == "1"
    assert slow.status_code == 200 and slow.json()["count"] == 2, slow.text  # the call under way finished
    assert assert_error(waiting, 503) == assert_error(late, 503) == "the server is shutting down"
    assert "retry-after" not in late.headers


def test_marginals_are_asked_for_only_when_requested_and_refused_without_token_tags():
    from veclift.serve.app import create_app

    asked: list[dict] = []

    def predict_records(model, records, vectors, **options):
        asked.append(options)
        return [{**record, "tags": ["O"] * len(record["tokens"])} for record in records]

    tagger = _fake(predict_records, token_tags=True, name="tagger")
    labeler = _fake(predict_records, name="labeler")

    async def main():
        async with _started(create_app([tagger, labeler])) as client:
            plain = await client.post("/predict", json={"text": "a b", "model": "tagger"})
            marginal = await client.post("/predict", json={"text": "a b", "model": "tagger", "marginals": True})
            refused = await client.post("/predict", json={"text": "a b", "model": "labeler", "marginals": True})
            return plain, marginal, refused

    plain, marginal, refused = asyncio.run(main())
    assert plain.status_code == marginal.status_code == 200 and asked == [{}, {"marginals": True}]
    assert "'labeler' (x) tags no tokens" in assert_error(refused, 422)


def test_models_show_the_vectors_source_by_name_never_a_local_path():
    from fastapi.testclient import TestClient

    from veclift.serve.app import create_app

    sources = ["/home/alice/private/glove.6B.50d.txt", "C:\\Users\\bob\\vectors\\", "toy-en", None]
    served = [_fake(None, summary={"vectors": {"source": source, "dim": 3}}, name=f"m{i}") for i, source in enumerate(sources)]
    with TestClient(create_app(served)) as client:
        models = client.get("/models").json()["models"]
    assert [m["vectors"]["source"] for m in models] == ["glove.6B.50d.txt", "vectors", "toy-en", None]
    assert all(m["vectors"]["dim"] == 3 for m in models)
