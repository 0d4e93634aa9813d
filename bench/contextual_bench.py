"""Contextual vs static embeddings: CoNLL-2003 NER and SST-2 sentiment at several training sizes.

For each data set, size and seed, trains one model per strategy (static GloVe `frozen`,
`contextual-frozen`, `contextual-finetune` and the stack `contextual-frozen+frozen`) and reports
F1 or accuracy, training time and prediction speed. The contextual encoder is the offline MiniLM
(all-MiniLM-L6-v2, 6 layers, 384 dims). Frozen features are computed once per size (train subset,
dev and test together) into a fresh cache, and that time is reported in its own column
(`features_s`): the frozen strategies' training times come on top of it, and their prediction speed
on new text is bounded by the encoding speed (`encode_tok_s`).

Splits: CoNLL-2003 trains on subsets of `train.txt`; `valid.txt` (the only evaluation file here) is
split once (seed 0) into 1,000 sentences for early stopping and the rest for the reported scores.
SST-2 (`train.tsv` only) is split once (seed 0) into 1,000 phrases for early stopping, 2,000 for the
reported scores and the rest as the pool for training subsets. Subsets are nested across sizes.

Every finished model is kept as one JSON file under bench/work/contextual_bench/runs/ and never
trained again, so an interrupted run resumes, and runs with other sizes, seeds or strategies add to
the same report (bench/results/contextual_bench.{json,md} is rewritten from all the kept runs).

    python bench/contextual_bench.py [--sizes conll=100,1000,all] [--sizes sst2=500,all] [--seeds 3]
        [--strategies frozen,contextual-frozen,contextual-finetune,contextual-frozen+frozen] [--threads 1]
        [--finetune-epochs N] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import torch
from common import DATA, WORK, markdown_table, write_results

from veclift.contextual import PoolingOptions, compute_features, load_backbone
from veclift.data import read_conll, read_table, subsample, train_test_split
from veclift.tasks import train_and_evaluate
from veclift.vectors import Vectors

DEFAULT_SIZES = {"conll": ["100", "1000", "all"], "sst2": ["500", "all"]}
DEFAULT_STRATEGIES = ["frozen", "contextual-frozen", "contextual-finetune", "contextual-frozen+frozen"]
TASKS = {"conll": "ner", "sst2": "classify"}
CACHE = WORK / "contextual-features"
RUNS = WORK / "contextual_bench" / "runs"
# With the defaults (batch 32, patience 5) a 100-sentence set gives 4 updates an epoch and early
# stopping ends the run before the tagger leaves F1 0: small sets get batches of 8 and every run
# more patience.
EPOCHS = {"max_epochs": 40, "patience": 10}
SMALL_SET, SMALL_BATCH = 1000, 8
# A full training set reaches its best dev score in about a dozen epochs (bench/ner_bench.py, section a):
# the same budget as there, since 40 epochs of all CoNLL-2003 would take hours on this CPU.
LARGE_SET, LARGE_EPOCHS = 5000, {"max_epochs": 15, "patience": 3}
# Fine-tuning a transformer converges in a few epochs and each epoch is costly on a CPU.
FINETUNE_EPOCHS = {"max_epochs": 10, "patience": 3}


def load_sets(name: str) -> tuple[list, list, list]:
    """(training pool, early-stopping dev, scored test) of a data set."""
    if name == "conll":
        pool = read_conll(DATA / "ner" / "conll2003" / "train.txt")
        valid = read_conll(DATA / "ner" / "conll2003" / "valid.txt")
        test, dev = train_test_split(valid, 1000 / len(valid), seed=0)
        return pool, dev, test
    items = read_table(DATA / "classify" / "sst2" / "train.tsv")
    rest, test = train_test_split(items, 2000 / len(items), seed=0, stratify=lambda item: item.labels)
    pool, dev = train_test_split(rest, 1000 / len(rest), seed=0, stratify=lambda item: item.labels)
    return pool, dev, test


def encode_seconds(sets: list[list], options: PoolingOptions) -> tuple[float, float]:
    """Seconds to compute (and cache) the frozen features of these sets, and tokens per second."""
    backbone = load_backbone()
    tokens = [list(item.tokens) for items in sets for item in items]
    began = time.perf_counter()
    compute_features(backbone, tokens, options, cache_dir=CACHE, show_progress=False)
    seconds = time.perf_counter() - began
    return seconds, sum(len(t) for t in tokens) / seconds


def keep(path: Path, row: dict) -> None:
    """Write one finished run atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(row, indent=1))
    os.replace(temporary, path)


def kept_rows() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json"))]


def run(sizes: dict[str, list[str]], seeds: int, strategies: list[str], threads: int, finetune_epochs: int) -> None:
    torch.set_num_threads(threads)
    vectors = Vectors.load("glove-6b-50d", progress=False)
    for name, size_list in sizes.items():
        pool, dev, test = load_sets(name)
        for size in size_list:
            n = len(pool) if size == "all" else int(size)
            for seed in range(seeds):
                todo = [s for s in strategies if not (RUNS / f"{name}-{size}-{s}-s{seed}.json").exists()]
                if not todo:
                    continue
                train = subsample(pool, n, seed=seed, stratify=(lambda item: item.labels) if name == "sst2" else None)
                features_s = encode_tok_s = None
                if any(s.startswith("contextual-frozen") for s in todo):
                    shutil.rmtree(CACHE, ignore_errors=True)
                    features_s, encode_tok_s = encode_seconds([train, dev, test], PoolingOptions())
                for strategy in todo:
                    config = dict(EPOCHS)
                    if strategy.startswith("contextual-finetune"):
                        config = {**FINETUNE_EPOCHS, "max_epochs": finetune_epochs or FINETUNE_EPOCHS["max_epochs"]}
                    if strategy.startswith("contextual"):
                        config["contextual_cache"] = str(CACHE)
                    if len(train) <= SMALL_SET:
                        config["batch_size"] = SMALL_BATCH
                    elif len(train) > LARGE_SET and not strategy.startswith("contextual-finetune"):
                        config.update(LARGE_EPOCHS)
                    result = train_and_evaluate(TASKS[name], train, dev, test, vectors, strategy, seed, **config)
                    score = result["f1"] if name == "conll" else result["accuracy"]
                    row = {
                        "data": name, "size": len(train), "strategy": strategy, "seed": seed, "score": score,
                        "train_s": result["train_seconds"], "epochs": result["epochs"],
                        "predict_tok_s": result["predict_tokens_per_s"],
                        "features_s": features_s if strategy.startswith("contextual-frozen") else None,
                        "encode_tok_s": encode_tok_s if strategy.startswith("contextual-frozen") else None,
                        "threads": threads, "config": config,
                    }  # fmt: skip
                    keep(RUNS / f"{name}-{size}-{strategy}-s{seed}.json", row)
                    print(row, flush=True)


def summary(rows: list[dict]) -> list[dict]:
    """Mean and spread (sample standard deviation, min-max) over seeds per data set, size and strategy."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["data"], row["size"], row["strategy"]), []).append(row)
    out = []
    for (data, size, strategy), group in groups.items():
        scores = [r["score"] for r in group]
        spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
        features = [r["features_s"] for r in group if r["features_s"] is not None]
        out.append({
            "data": data, "size": size, "strategy": strategy, "seeds": len(group),
            "score": statistics.mean(scores), "sd": spread, "min": min(scores), "max": max(scores),
            "epochs": "/".join(f"{r['epochs']}:{r['config']['max_epochs']}" for r in group),
            "train_s": statistics.mean(r["train_s"] for r in group),
            "features_s": statistics.mean(features) if features else "",
            "predict_tok_s": statistics.mean(r["predict_tok_s"] for r in group),
            "encode_tok_s": statistics.mean(r["encode_tok_s"] for r in group if r["encode_tok_s"]) if features else "",
        })  # fmt: skip
    order = {s: i for i, s in enumerate(DEFAULT_STRATEGIES)}
    return sorted(out, key=lambda r: (r["data"], r["size"], order.get(r["strategy"], len(order)), r["strategy"]))


def against_static(rows: list[dict]) -> list[str]:
    """One sentence per data set, size and contextual strategy: the score gained over frozen GloVe on
    the seeds both ran, against the extra training time and the slower prediction of new text."""
    runs = {(r["data"], r["size"], r["strategy"], r["seed"]): r for r in rows}
    lines = []
    for data, size, strategy in sorted({k[:3] for k in runs if k[2].startswith("contextual")}):
        seeds = sorted(k[3] for k in runs if k[:3] == (data, size, strategy) and (data, size, "frozen", k[3]) in runs)
        if not seeds:
            continue
        pairs = [(runs[data, size, strategy, s], runs[data, size, "frozen", s]) for s in seeds]
        gain = statistics.mean(100 * (c["score"] - f["score"]) for c, f in pairs)
        cost = statistics.mean((c["train_s"] + (c["features_s"] or 0)) / f["train_s"] for c, f in pairs)
        # New text through a frozen contextual model is encoded first, then tagged.
        speed = statistics.mean(
            f["predict_tok_s"] / (1 / (1 / c["encode_tok_s"] + 1 / c["predict_tok_s"]) if c["encode_tok_s"] else c["predict_tok_s"])
            for c, f in pairs
        )  # fmt: skip
        unit = "F1" if data == "conll" else "accuracy points"
        lines.append(f"- {data}, {size} training items, {strategy}: {gain:+.1f} {unit} over frozen GloVe "
                     f"(seeds {','.join(map(str, seeds))}) for {cost:.1f}x its training time (features included) "
                     f"and {speed:.0f}x slower prediction of new text")
    return lines


def parse_sizes(values: list[str] | None) -> dict[str, list[str]]:
    if not values:
        return DEFAULT_SIZES
    sizes: dict[str, list[str]] = {}
    for value in values:
        name, _, listed = value.partition("=")
        if name not in DEFAULT_SIZES or not listed:
            raise SystemExit(f"--sizes takes conll=N,N,all or sst2=N,all, not {value!r}")
        sizes[name] = [s.strip() for s in listed.split(",")]
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", action="append", help="DATA=N,N,all (repeat per data set: conll, sst2)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES))
    parser.add_argument("--threads", type=int, default=max(1, torch.get_num_threads()))
    parser.add_argument("--finetune-epochs", type=int, default=0,
                        help=f"epoch budget of contextual-finetune (default {FINETUNE_EPOCHS['max_epochs']}); "
                        "its warm-up and decay schedule spans this budget")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the kept runs")
    args = parser.parse_args()
    if not args.report_only:
        run(parse_sizes(args.sizes), args.seeds, args.strategies.split(","), args.threads, args.finetune_epochs)
    rows = kept_rows()
    table = summary(rows)
    columns = ["data", "size", "strategy", "seeds", "score", "sd", "min", "max", "epochs", "train_s", "features_s",
               "predict_tok_s", "encode_tok_s"]
    notes = (
        "\n\nscore: entity micro-F1 (CoNLL-2003, conlleval) or accuracy (SST-2) on the held-out part; "
        "sd/min/max over seeds. epochs: epochs run:budget, per seed. train_s: seconds to train (excluding features_s, the one-off encoding of "
        "train+dev+test for the frozen contextual strategies). predict_tok_s: tokens/s of predict() with "
        "features already cached; encode_tok_s: how fast the encoder makes features for new text.\n"
    )
    comparison = "\n\nAgainst static vectors, paired by seed:\n\n" + "\n".join(against_static(rows)) + "\n"
    write_results("contextual_bench", {"rows": rows, "summary": table},
                  markdown_table(table, columns) + notes + comparison)


if __name__ == "__main__":
    main()
