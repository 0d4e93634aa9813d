"""A CoNLL-trained tagger at work: `veclift serve` requests/s and latency, `veclift predict`
throughput, and torch vs onnxruntime prediction speed on one thread, with their parity.

The tagger is the default one trained on the first 1,000 CoNLL-2003 training sentences (seed 1,
early-stopped on the first 1,000 of valid.txt, at most --epochs epochs); the texts are valid.txt's
3,250 sentences, detokenised by joining tokens with spaces. Server and clients share the machine's
cores, so the serve figures are a floor; every figure of one kind is measured in the same run.

    python bench/serve_bench.py [--epochs 10] [--requests 2000] [--clients 16]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import DATA, WORK, markdown_table, write_results  # noqa: E402

from veclift.data import read_conll  # noqa: E402
from veclift.tasks import SequenceTagger, load_model  # noqa: E402
from veclift.tasks.onnx_export import export_onnx  # noqa: E402
from veclift.tasks.onnx_model import OnnxModel  # noqa: E402

VECLIFT = [sys.executable, "-m", "veclift"]


def train_tagger(directory: Path, epochs: int) -> dict:
    conll = DATA / "ner" / "conll2003"
    train, dev = read_conll(conll / "train.txt")[:1000], read_conll(conll / "valid.txt")[:1000]
    start = time.perf_counter()
    model = SequenceTagger(max_epochs=epochs).fit(train, dev, vectors="glove-6b-50d", seed=1, progress=False)
    seconds = time.perf_counter() - start
    model.save(directory, overwrite=True)
    return {"train_sentences": len(train), "max_epochs": epochs, "train_seconds": round(seconds, 1),
            "dev_f1_first_1000": model.train_result.best_score}  # fmt: skip


def offline_speed(model_dir: Path, onnx_dir: Path, sentences: list[list[str]]) -> dict:
    """Tokens/s of `predict_entities` on one thread, torch vs onnxruntime, and their agreement."""
    torch.set_num_threads(1)
    tokens = sum(len(s) for s in sentences)
    rows = {}
    answers = {}
    for name, model in (("torch", load_model(model_dir)), ("onnxruntime", OnnxModel(onnx_dir, threads=1))):
        model.predict_entities(sentences[:64])  # warm-up: first-call allocations, OOV rows of those words
        start = time.perf_counter()
        answers[name] = model.predict_entities(sentences)
        seconds = time.perf_counter() - start
        rows[name] = {"runtime": name, "sentences": len(sentences), "tokens": tokens, "seconds": round(seconds, 3),
                      "tokens_per_s": round(tokens / seconds)}  # fmt: skip
    network_only = network_speed(model_dir, onnx_dir, sentences)
    same_tags = all(a["tags"] == b["tags"] for a, b in zip(answers["torch"], answers["onnxruntime"]))
    diff = max((abs(x["score"] - y["score"]) for a, b in zip(answers["torch"], answers["onnxruntime"])
                for x, y in zip(a["entities"], b["entities"])), default=0.0)  # fmt: skip
    ratio = rows["onnxruntime"]["tokens_per_s"] / rows["torch"]["tokens_per_s"]
    return {"rows": list(rows.values()), "network_only": network_only, "identical_tags": same_tags, "max_score_difference": diff,
            "onnx_over_torch": round(ratio, 2)}  # fmt: skip


def network_speed(model_dir: Path, onnx_dir: Path, sentences: list[list[str]]) -> list[dict]:
    """Tokens/s of the network alone (features in, tag scores out; no decoding), batches of 256 by length."""
    from veclift.embeddings import TokenBatch

    torch_model, onnx_model = load_model(model_dir), OnnxModel(onnx_dir, threads=1)
    ordered = sorted(sentences, key=len)
    batches = [ordered[i : i + 256] for i in range(0, len(ordered), 256)]
    torch_model.embedder.prepare(sentences)
    onnx_model._outputs(batches[0], None)
    tokens = sum(len(s) for s in sentences)
    rows = []
    for name, run in (("torch", lambda b: torch_model.network.emissions(TokenBatch.of(b))),
                      ("onnxruntime", lambda b: onnx_model._outputs(b, None))):  # fmt: skip
        start = time.perf_counter()
        with torch.no_grad():
            for batch in batches:
                run(batch)
        seconds = time.perf_counter() - start
        rows.append({"runtime": name, "tokens": tokens, "seconds": round(seconds, 3), "tokens_per_s": round(tokens / seconds)})
    return rows


def cli_predict_speed(model_dir: Path, onnx_dir: Path, texts_file: Path, n_texts: int, tokens: int) -> list[dict]:
    """`veclift predict MODEL texts.txt` wall time, start-up included, for both model kinds."""
    rows = []
    for name, directory in (("torch", model_dir), ("onnxruntime", onnx_dir)):
        start = time.perf_counter()
        done = subprocess.run([*VECLIFT, "predict", str(directory), str(texts_file), "--output-format", "jsonl"],
                              capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"veclift predict failed: {done.stderr}")
        assert len(done.stdout.splitlines()) == n_texts
        rows.append({"runtime": name, "texts": n_texts, "seconds": round(seconds, 2), "texts_per_s": round(n_texts / seconds),
                     "tokens_per_s": round(tokens / seconds)})  # fmt: skip
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([*VECLIFT, "serve", str(directory), "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise SystemExit(f"veclift serve exited: {process.stderr.read().decode()}")
    process.kill()
    raise SystemExit("veclift serve did not start in 120 s")


def load(url: str, bodies: list[dict], clients: int) -> dict:
    """``bodies`` POSTed to /predict by ``clients`` concurrent clients: requests/s and latency percentiles."""
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()
    position = iter(range(len(bodies)))

    def client() -> None:
        with httpx.Client(timeout=60) as http:
            while True:
                with lock:
                    i = next(position, None)
                if i is None:
                    return
                start = time.perf_counter()
                response = http.post(url + "/predict", json=bodies[i])
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures.append(response.text)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    latencies.sort()
    return {"requests": len(bodies), "clients": clients, "failures": len(failures), "seconds": round(seconds, 2),
            "requests_per_s": round(len(bodies) / seconds, 1),
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1)}  # fmt: skip


def serve_speed(directory: Path, name: str, texts: list[str], requests: int, clients: int) -> list[dict]:
    process, url = start_server(directory)
    try:
        single = [{"text": texts[i % len(texts)]} for i in range(requests)]
        batches = [{"texts": [texts[(32 * i + j) % len(texts)] for j in range(32)]} for i in range(max(requests // 32, 20))]
        load(url, single[:100], clients)  # warm-up
        rows = [{"runtime": name, "kind": "single text", **load(url, single, clients)}]
        batch = load(url, batches, max(2, clients // 4))
        rows.append({"runtime": name, "kind": "batch of 32", **batch, "texts_per_s": round(batch["requests_per_s"] * 32, 1)})
        return rows
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    work = WORK / "serve_bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model_dir, onnx_dir = work / "ner", work / "ner-onnx"
    training = train_tagger(model_dir, args.epochs)
    start = time.perf_counter()
    export_onnx(load_model(model_dir), onnx_dir)
    training["export_seconds"] = round(time.perf_counter() - start, 2)
    sentences = [list(s.tokens) for s in read_conll(DATA / "ner" / "conll2003" / "valid.txt")]
    texts = [" ".join(s) for s in sentences]
    tokens = sum(len(s) for s in sentences)
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "valid.txt"
        texts_file.write_text("\n".join(texts) + "\n")
        offline = offline_speed(model_dir, onnx_dir, sentences)
        cli = cli_predict_speed(model_dir, onnx_dir, texts_file, len(texts), tokens)
    serving = serve_speed(model_dir, "torch", texts, args.requests, args.clients)
    serving += serve_speed(onnx_dir, "onnxruntime", texts, args.requests, args.clients)
    data = {"model": training, "offline_one_thread": offline, "cli_predict": cli, "serve": serving}
    markdown = "\n\n".join([
        f"Tagger: default settings, first {training['train_sentences']} CoNLL-2003 sentences, seed 1, at most "
        f"{training['max_epochs']} epochs ({training['train_seconds']} s); dev F1 on the first 1,000 valid.txt "
        f"sentences {training['dev_f1_first_1000']:.4f}. Texts: valid.txt's {len(texts)} sentences ({tokens} tokens).",
        "## Prediction on one thread (`predict_entities`, confidences included)",
        markdown_table(offline["rows"], ["runtime", "sentences", "tokens", "seconds", "tokens_per_s"]),
        f"onnxruntime / torch: **{offline['onnx_over_torch']}x**; tags identical: {offline['identical_tags']}; "
        f"largest entity-score difference: {offline['max_score_difference']:.2e} (scores are rounded to 6 decimals).",
        "The network alone (token features in, tag scores out, no decoding):",
        markdown_table(offline["network_only"], ["runtime", "tokens", "seconds", "tokens_per_s"]),
        "## `veclift predict MODEL valid.txt --output-format jsonl` (one thread, start-up included)",
        markdown_table(cli, ["runtime", "texts", "seconds", "texts_per_s", "tokens_per_s"]),
        f"## `veclift serve` ({args.clients} concurrent clients for single texts, {max(2, args.clients // 4)} for "
        "batches; server on one torch/onnxruntime thread, clients on the same 2 cores)",
        markdown_table(serving, ["runtime", "kind", "requests", "clients", "failures", "requests_per_s", "texts_per_s",
                                 "p50_ms", "p99_ms"]),  # fmt: skip
    ])  # fmt: skip
    print(write_results("serve_bench", data, markdown).read_text())


if __name__ == "__main__":
    main()
