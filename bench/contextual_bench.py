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

    python bench/contextual_bench.py [--sizes conll=100,1000,all] [--sizes sst2=500,all] [--seeds 3]
        [--strategies frozen,contextual-frozen,contextual-finetune,contextual-frozen+frozen]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time

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
# With the defaults (batch 32, patience 5) a 100-sentence set gives 4 updates an epoch and early
# stopping ends the run before the tagger leaves F1 0: small sets get batches of 8 and every run
# more patience.
EPOCHS = {"max_epochs": 40, "patience": 10}
SMALL_SET, SMALL_BATCH = 1000, 8
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


def run(sizes: dict[str, list[str]], seeds: int, strategies: list[str], threads: int) -> list[dict]:
    torch.set_num_threads(threads)
    vectors = Vectors.load("glove-6b-50d", progress=False)
    rows = []
    for name, size_list in sizes.items():
        pool, dev, test = load_sets(name)
        for size in size_list:
            n = len(pool) if size == "all" else int(size)
            for seed in range(seeds):
                train = subsample(pool, n, seed=seed, stratify=(lambda item: item.labels) if name == "sst2" else None)
                features_s = encode_tok_s = None
                if any(s.startswith("contextual-frozen") for s in strategies):
                    shutil.rmtree(CACHE, ignore_errors=True)
                    features_s, encode_tok_s = encode_seconds([train, dev, test], PoolingOptions())
                for strategy in strategies:
                    config = dict(FINETUNE_EPOCHS if strategy.startswith("contextual-finetune") else EPOCHS)
                    if strategy.startswith("contextual"):
                        config["contextual_cache"] = str(CACHE)
                    if len(train) <= SMALL_SET:
                        config["batch_size"] = SMALL_BATCH
                    result = train_and_evaluate(TASKS[name], train, dev, test, vectors, strategy, seed, **config)
                    score = result["f1"] if name == "conll" else result["accuracy"]
                    rows.append({
                        "data": name, "size": len(train), "strategy": strategy, "seed": seed, "score": score,
                        "train_s": result["train_seconds"], "epochs": result["epochs"],
                        "predict_tok_s": result["predict_tokens_per_s"],
                        "features_s": features_s if strategy.startswith("contextual-frozen") else None,
                        "encode_tok_s": encode_tok_s if strategy.startswith("contextual-frozen") else None,
                    })  # fmt: skip
                    print(rows[-1], flush=True)
    return rows


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
            "train_s": statistics.mean(r["train_s"] for r in group),
            "features_s": statistics.mean(features) if features else "",
            "predict_tok_s": statistics.mean(r["predict_tok_s"] for r in group),
            "encode_tok_s": statistics.mean(r["encode_tok_s"] for r in group if r["encode_tok_s"]) if features else "",
        })  # fmt: skip
    return out


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
    args = parser.parse_args()
    rows = run(parse_sizes(args.sizes), args.seeds, args.strategies.split(","), args.threads)
    table = summary(rows)
    columns = ["data", "size", "strategy", "seeds", "score", "sd", "min", "max", "train_s", "features_s",
               "predict_tok_s", "encode_tok_s"]
    notes = (
        "\n\nscore: entity micro-F1 (CoNLL-2003, conlleval) or accuracy (SST-2) on the held-out part; "
        "sd/min/max over seeds. train_s: seconds to train (excluding features_s, the one-off encoding of "
        "train+dev+test for the frozen contextual strategies). predict_tok_s: tokens/s of predict() with "
        "features already cached; encode_tok_s: how fast the encoder makes features for new text.\n"
    )
    write_results("contextual_bench", {"rows": rows, "summary": table, "threads": args.threads},
                  markdown_table(table, columns) + notes)


if __name__ == "__main__":
    main()
