"""How the tagger's defaults were chosen for small training sets: dev F1 of a few settings of the
BiLSTM-CRF (finetune, GloVe 6B 50d) on CoNLL-2003 subsets with seeds 1-3. The scores are of valid.txt,
the only CoNLL-2003 evaluation file here, which ner_bench reports too; its seed-0 subsets are the ones
these settings never saw.

Each setting is a set of TaggerConfig overrides; every (setting, size, seed) run is kept under
bench/work/ner_settings_bench/runs and reused. Early stopping on the same fixed 1,000 valid.txt
sentences as ner_bench; the score is all of valid.txt.

    python bench/ner_settings_bench.py [--sizes 200,1000] [--seeds 1,2,3] [--settings NAME,...] [--jobs 2]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
from common import DATA, WORK, markdown_table, write_results  # noqa: E402
from ner_bench import STOPPING_SENTENCES  # noqa: E402

from veclift.atomic import atomic_path  # noqa: E402
from veclift.data import read_conll, subsample  # noqa: E402
from veclift.tasks import SequenceTagger  # noqa: E402
from veclift.tasks.config import TaggerConfig  # noqa: E402
from veclift.vectors import Vectors  # noqa: E402

RUNS = WORK / "ner_settings_bench" / "runs"
# Every setting names all the fields it was run with that the defaults have since changed.
BEFORE = {"dropout": 0.5, "embed_dropout": 0.5, "hidden": 200, "batch_size": 16}  # TaggerConfig before this bench
LIGHT = {**BEFORE, "dropout": 0.3, "embed_dropout": 0.1}
SETTINGS = {
    "dropout-0.5": BEFORE,
    "dropout-0.3": {**BEFORE, "dropout": 0.3, "embed_dropout": 0.3},
    "dropout-0.3-embed-0.1": LIGHT,
    "dropout-0.2-embed-0.1": {**BEFORE, "dropout": 0.2, "embed_dropout": 0.1},
    "dropout-0.3-embed-0.1-ratio-1": {**LIGHT, "finetune_lr_ratio": 1.0},
    "dropout-0.3-embed-0.1-hidden-100": {**LIGHT, "hidden": 100},
    "batch-8": {**LIGHT, "batch_size": 8},
    "hidden-100-batch-8": {**LIGHT, "hidden": 100, "batch_size": 8},  # TaggerConfig's defaults since
    "lr-decay-0.15": {**LIGHT, "lr_decay": 0.15},
    "char-filters-100": {**LIGHT, "char_filters": 100},
    "hidden-100-batch-8-char-filters-100": {**LIGHT, "hidden": 100, "batch_size": 8, "char_filters": 100},
    "embed-dropout-0.25": {**BEFORE, "embed_dropout": 0.25},
    "hidden-100": {**BEFORE, "hidden": 100},
    "lr-3e-3": {**BEFORE, "lr": 3e-3},
    "finetune-lr-ratio-1": {**BEFORE, "finetune_lr_ratio": 1.0},
    "frozen": {**BEFORE, "embeddings": "frozen"},
}
BUDGET = {"max_epochs": 40, "patience": 6}


@functools.cache
def inputs() -> tuple[list, list, list, Vectors]:
    """CoNLL-2003 train, valid.txt, its early-stopping part (as ner_bench) and GloVe: read once per worker."""
    dev = read_conll(DATA / "ner" / "conll2003" / "valid.txt")
    return (read_conll(DATA / "ner" / "conll2003" / "train.txt"), dev, subsample(dev, STOPPING_SENTENCES, seed=0),
            Vectors.load("glove-6b-50d", progress=False))  # fmt: skip


def run(name: str, size: int, seed: int) -> dict:
    path = RUNS / f"{name}-{size}-s{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    torch.set_num_threads(1)
    pool, dev, stopping, glove = inputs()
    train = subsample(pool, size, seed=seed)
    config = {**BUDGET, **SETTINGS[name]}
    model = SequenceTagger(**config)
    model.fit(train, stopping, vectors=glove, seed=seed, extra_tokens=[s.tokens for s in dev], progress=False)
    result = {"setting": name, "size": size, "seed": seed, "config": config, "f1": model.evaluate(dev)["f1"],
              "epochs": len(model.train_result.history), "best_epoch": model.train_result.best_epoch,
              "train_seconds": model.train_result.seconds}  # fmt: skip
    RUNS.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(result, indent=1))
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    names = args.settings.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    jobs = [(n, size, seed) for size in sizes for n in names for seed in seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        list(pool.map(run, *zip(*jobs)))
    runs = [json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json"))]
    rows = []
    for size in sorted({r["size"] for r in runs}):
        for name in SETTINGS:
            f1 = [r["f1"] for r in runs if r["setting"] == name and r["size"] == size]
            if f1:
                spread = statistics.stdev(f1) if len(f1) > 1 else 0.0
                rows.append({"size": size, "setting": name, "overrides": json.dumps(SETTINGS[name]),
                             "dev F1 mean": statistics.mean(f1), "std": spread, "seeds": len(f1)})  # fmt: skip
    md = "\n".join([
        "# ner_settings_bench", "",
        "BiLSTM-CRF + char CNN + casing, GloVe 6B 50d, finetune unless named; CoNLL-2003 subsets with seeds "
        f"{seeds} (ner_bench uses seeds 0-2); epochs {json.dumps(BUDGET)}; TaggerConfig defaults: "
        f"{json.dumps({k: v for k, v in TaggerConfig().to_dict().items() if k in ('dropout', 'embed_dropout', 'hidden', 'lr', 'finetune_lr_ratio')})}.",
        "", markdown_table(rows)])  # fmt: skip
    write_results("ner_settings_bench", {"runs": runs, "budget": BUDGET, "settings": SETTINGS}, md)
    print(md)


if __name__ == "__main__":
    main()
