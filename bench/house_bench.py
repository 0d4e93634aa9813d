"""Behaviour kept across a restructuring: small, seeded runs of every trainable path, compared with
the same runs recorded before it.

Each case trains on a real subset (CoNLL-2003, SST-2) with a fixed seed and a short budget and keeps
its score, its loss history and a hash of its predictions; encoder pre-training, a saved-and-loaded
model, the `veclift train` command (its shorthand options) and a two-trial study run too. A case is
"same" when its predictions hash equal and its scores agree to 1e-6, "within noise" when its score
moves less than the seed spread recorded next to it.

    python bench/house_bench.py --record   # before: writes bench/results/house_bench_before.json
    python bench/house_bench.py            # after: compares, writes bench/results/house_bench.{json,md}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
from common import DATA, RESULTS, markdown_table, write_results  # noqa: E402

from veclift.data import read_conll, read_labeled, stratified_subsample, subsample  # noqa: E402
from veclift.tasks import SequenceTagger, TextClassifier, load_model  # noqa: E402
from veclift.vectors import Vectors  # noqa: E402

BEFORE = RESULTS / "house_bench_before.json"
NER_SIZE, CLASSIFY_SIZE, SEEDS = 200, 400, (0, 1, 2)
BUDGET = {"max_epochs": 4, "patience": 4}


def _hash(predictions: object) -> str:
    return hashlib.sha256(json.dumps(predictions).encode()).hexdigest()[:16]


def _data() -> dict:
    conll = DATA / "ner" / "conll2003"
    sst2 = read_labeled(DATA / "classify" / "sst2" / "train.tsv")
    dev = subsample(read_conll(conll / "valid.txt"), 500, seed=0)
    return {"ner_pool": read_conll(conll / "train.txt"), "ner_dev": dev, "sst2": sst2,
            "glove": Vectors.load("glove-6b-50d", progress=False)}  # fmt: skip


def _fit(cls: type, data: dict, seed: int, **config: object) -> tuple[object, list]:
    if cls is SequenceTagger:
        train, test = subsample(data["ner_pool"], NER_SIZE, seed=seed), data["ner_dev"]
    else:
        pool = data["sst2"]
        test = pool[-1000:]
        train = stratified_subsample(pool[:-1000], CLASSIFY_SIZE, seed, key=lambda x: x.label)
    model = cls(**BUDGET, **config)
    model.fit(train, test, vectors=data["glove"], seed=seed, extra_tokens=[x.tokens for x in test], progress=False)
    return model, test


def _case(name: str, cls: type, data: dict, seed: int, **config: object) -> dict:
    model, test = _fit(cls, data, seed, **config)
    scores = model.evaluate(test)
    metric = "f1" if cls is SequenceTagger else "accuracy"
    losses = [round(h["loss"], 6) for h in model.train_result.history]
    predictions = model.predict([x.tokens for x in test])
    row = {"case": name, "seed": seed, "metric": metric, "score": round(scores[metric], 6), "losses": losses,
           "predictions": _hash(predictions)}  # fmt: skip
    if name == "ner-finetune" and seed == 0:
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp) / "model")
            row["loaded_predictions"] = _hash(load_model(Path(tmp) / "model").predict([x.tokens for x in test]))
    return row


def _pretrain_case(data: dict) -> dict:
    from veclift.pretrain.encoder import pretrain_encoder

    sentences = [s.tokens for s in data["ner_pool"][:3000]]
    encoder = pretrain_encoder(sentences, data["glove"], epochs=1, seed=0, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        encoder.save(Path(tmp) / "enc")
        row = _case("ner-init-encoder", SequenceTagger, data, 0, init_encoder=str(Path(tmp) / "enc"))
    row["pretrain_loss"] = round(encoder.meta["history"][0]["loss"], 6)
    return row


def _cli_case() -> dict:
    conll = DATA / "ner" / "conll2003"
    with tempfile.TemporaryDirectory() as tmp:
        train = _write_conll(Path(tmp) / "train.conll", subsample(read_conll(conll / "train.txt"), 150, seed=3))
        dev = _write_conll(Path(tmp) / "dev.conll", subsample(read_conll(conll / "valid.txt"), 200, seed=3))
        command = ["veclift", "train", "ner", "--train", str(train), "--dev", str(dev), "--vectors", "glove-6b-50d",
                   "--embeddings", "frozen", "--output", str(Path(tmp) / "m"), "--epochs", "3", "--seed", "3"]  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        scores = json.loads(subprocess.run(["veclift", "evaluate", str(Path(tmp) / "m"), str(dev), "--json"],
                                           check=True, capture_output=True, text=True).stdout)  # fmt: skip
    return {"case": "cli-train-ner", "seed": 3, "metric": "f1", "score": round(scores["f1"], 6)}


def _settings_case(data: dict) -> dict:
    """A run at the full budget of the tagger settings study (ner_settings_bench "frozen", 200 sentences,
    seed 1): early stopping on its 1,000 valid.txt sentences, scored on all of valid.txt."""
    from ner_bench import STOPPING_SENTENCES
    from ner_settings_bench import BUDGET as FULL
    from ner_settings_bench import SETTINGS

    dev = read_conll(DATA / "ner" / "conll2003" / "valid.txt")
    model = SequenceTagger(**FULL, **SETTINGS["frozen"])
    model.fit(subsample(data["ner_pool"], 200, seed=1), subsample(dev, STOPPING_SENTENCES, seed=0), vectors=data["glove"],
              seed=1, extra_tokens=[s.tokens for s in dev], progress=False)  # fmt: skip
    return {"case": "ner-settings-frozen-200", "seed": 1, "metric": "f1", "score": round(model.evaluate(dev)["f1"], 6),
            "losses": [round(h["loss"], 6) for h in model.train_result.history]}  # fmt: skip


def _write_conll(path: Path, sentences: list) -> Path:
    path.write_text("\n\n".join("\n".join(f"{t} {g}" for t, g in zip(s.tokens, s.tags)) for s in sentences) + "\n")
    return path


def _study_case(data: dict) -> dict:
    from veclift.study import StudySpec, TransferStudy

    with tempfile.TemporaryDirectory() as tmp:
        train = _write_conll(Path(tmp) / "train.conll", subsample(data["ner_pool"], 300, seed=5))
        test = _write_conll(Path(tmp) / "test.conll", data["ner_dev"][:200])
        spec = StudySpec(task="ner", train=train, test=test, sizes=(100,), strategies=("frozen", "scratch"), seeds=1,
                         options=BUDGET)  # fmt: skip
        results = TransferStudy(spec, Path(tmp) / "study").run(jobs=1, progress=False)
        rows = sorted((r["strategy"], round(r["f1"], 6)) for r in results.table())
    return {"case": "study-ner", "seed": 0, "metric": "f1", "score": rows[0][1], "study_rows": rows}


def run_all() -> list[dict]:
    torch.set_num_threads(1)
    data = _data()
    rows = []
    for seed in SEEDS:
        rows.append(_case("ner-finetune", SequenceTagger, data, seed))
        rows.append(_case("ner-frozen", SequenceTagger, data, seed, embeddings="frozen"))
        rows.append(_case("ner-scratch", SequenceTagger, data, seed, embeddings="scratch"))
        rows.append(_case("classify-finetune", TextClassifier, data, seed))
        rows.append(_case("classify-frozen", TextClassifier, data, seed, embeddings="frozen"))
    rows.append(_pretrain_case(data))
    rows.append(_cli_case())
    rows.append(_study_case(data))
    rows.append(_settings_case(data))
    return rows


def compare(before: list[dict], after: list[dict]) -> list[dict]:
    """Per case and seed: score before and after, same to the bit or within the seed spread."""
    spread: dict[str, float] = {}
    for case in {r["case"] for r in before}:
        scores = [r["score"] for r in before if r["case"] == case]
        spread[case] = statistics.stdev(scores) if len(scores) > 1 else 0.0
    old = {(r["case"], r["seed"]): r for r in before}
    table = []
    for row in after:
        was = old.get((row["case"], row["seed"]))
        if was is None:
            continue
        same = all(was.get(k) == row.get(k) for k in ("score", "losses", "predictions", "loaded_predictions",
                                                     "pretrain_loss", "study_rows"))  # fmt: skip
        delta = row["score"] - was["score"]
        verdict = "same" if same else ("within noise" if abs(delta) <= max(2 * spread[row["case"]], 0.01) else "MOVED")
        table.append({"case": row["case"], "seed": row["seed"], "metric": row["metric"], "before": was["score"],
                      "after": row["score"], "delta": round(delta, 6), "seed_sd_before": round(spread[row["case"]], 4),
                      "verdict": verdict})  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="record the runs as the 'before' figures")
    args = parser.parse_args()
    began = time.perf_counter()
    rows = json.loads(json.dumps(run_all()))  # as stored: tuples become lists, as in the recorded rows
    seconds = time.perf_counter() - began
    if args.record:
        BEFORE.write_text(json.dumps({"rows": rows, "seconds": seconds}, indent=1) + "\n")
        print(f"recorded {len(rows)} runs in {seconds:.0f} s -> {BEFORE}")
        return
    table = compare(json.loads(BEFORE.read_text())["rows"], rows)
    moved = [r for r in table if r["verdict"] == "MOVED"]
    summary = (f"{len(table)} runs compared with the ones recorded before the restructuring: "
               f"{sum(r['verdict'] == 'same' for r in table)} the same to the bit, "
               f"{sum(r['verdict'] == 'within noise' for r in table)} within seed noise, {len(moved)} moved. "
               f"Wall time {seconds:.0f} s.")  # fmt: skip
    write_results("house_bench", {"rows": rows, "comparison": table, "summary": summary},
                  summary + "\n\n" + markdown_table(table))  # fmt: skip
    print(summary)
    sys.exit(1 if moved else 0)


if __name__ == "__main__":
    main()
