"""Rows for test words, and pre-trained GloVe against scratch, on four NER data sets at 200 and
1,000 first training sentences: each model is scored twice on its test set, once with the rows it
holds (`veclift predict MODEL`: its training words, the 50,000 most frequent GloVe words it keeps
and its OOV chain for the rest) and once with every test word's GloVe row (`veclift predict MODEL
--vectors glove-6b-50d`), so that the cost of trusting rare words' vectors shows.

Splits (the first N training sentences, as a user who annotated from the top has them; seeds vary
the model only): CoNLL-2003 train.txt, early stopping on a fixed 1,000 valid.txt sentences, scored
on all of valid.txt; WNUT-17 train / dev / test; WikiANN-en train / the first 1,000 of dev / the
first 2,000 of test; Wikigold (one file): sentences 1-1,000 the pool, 1,001-1,341 dev, the last 500
test.

    python bench/ner_domains_bench.py [--data conll,wnut,wikiann,wikigold] [--sizes 200,1000]
        [--ideas scratch,bio] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
from common import DATA, WORK, markdown_table, write_results  # noqa: E402
from ner_bench import EPOCHS, STOPPING_SENTENCES, fmt_spread, spread  # noqa: E402

from veclift.atomic import atomic_path  # noqa: E402
from veclift.data import read_conll, subsample  # noqa: E402
from veclift.tasks import SequenceTagger  # noqa: E402
from veclift.tasks.config import TEST_ROWS  # noqa: E402
from veclift.vectors import Vectors  # noqa: E402

RUNS = WORK / "ner_domains_bench" / "runs"
IDEAS = {
    "scratch": {"embeddings": "scratch"},
    "no-bio": {"bio_constraints": False},
    "bio": {"bio_constraints": True},
}


def splits(name: str) -> tuple[list, list, list]:
    """(pool, early-stopping set, test set) of a data set."""
    ner = DATA / "ner"
    if name == "conll":
        valid = read_conll(ner / "conll2003" / "valid.txt")
        return read_conll(ner / "conll2003" / "train.txt"), subsample(valid, STOPPING_SENTENCES, seed=0), valid
    if name == "wnut":
        return tuple(read_conll(ner / "wnut17" / f"{part}.conll") for part in ("train", "dev", "test"))
    if name == "wikiann":
        train, dev, test = (read_conll(ner / "wikiann-en" / f"{part}.txt") for part in ("train", "dev", "test"))
        return train, dev[:1000], test[:2000]
    if name == "wikigold":
        every = read_conll(ner / "wikigold" / "wikigold.conll")
        return every[:1000], every[1000:-500], every[-500:]
    raise ValueError(name)


def run(glove: Vectors, data: dict, name: str, size: int, idea: str, seed: int) -> dict:
    path = RUNS / f"{name}-{size}-{idea}-s{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    pool, dev, test = data[name]
    overrides = dict(IDEAS[idea])
    strategy = overrides.pop("embeddings", "finetune")
    model = SequenceTagger(embeddings=strategy, **EPOCHS, **overrides)
    torch.set_num_threads(1)
    began = time.perf_counter()
    model.fit(pool[:size], dev, vectors=glove, seed=seed, progress=False)
    seconds = time.perf_counter() - began
    scores = {}
    for rows in ("model", "vectors"):  # model first: `vectors` adds rows to the model it scores
        pred = model.predict(test, vectors=glove if rows == "vectors" else None)
        scores[rows] = model.evaluate(test, predictions=pred)
    result = {"data": name, "size": size, "idea": idea, "seed": seed, "train_seconds": seconds,
              "epochs": len(model.train_result.history), "best_epoch": model.train_result.best_epoch,
              "f1": {rows: s["f1"] for rows, s in scores.items()},
              "precision": {rows: s["precision"] for rows, s in scores.items()},
              "unseen_f1": {rows: s["transfer"]["unseen"]["f1"] for rows, s in scores.items()},
              "per_type": {rows: s["per_type"] for rows, s in scores.items()}}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        open(tmp, "w").write(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "per_type"}), flush=True)
    return result


def report(runs: list[dict]) -> tuple[dict, str]:
    rows, data = [], {}
    for name in ("conll", "wnut", "wikiann", "wikigold"):
        for size in sorted({r["size"] for r in runs}):
            cell = [r for r in runs if r["data"] == name and r["size"] == size]
            scratch = {r["seed"]: r for r in cell if r["idea"] == "scratch"}
            for idea in IDEAS:
                found = [r for r in cell if r["idea"] == idea]
                if not found:
                    continue
                entry = {}
                row = {"data": name, "size": size, "idea": idea}
                for tr in TEST_ROWS:
                    f1 = spread([r["f1"][tr] for r in found])
                    entry[tr] = {"f1": f1, "unseen_f1": statistics.mean(r["unseen_f1"][tr] for r in found)}
                    row[f"F1, {tr} rows"] = fmt_spread(f1)
                    if idea != "scratch":
                        gains = [100 * (r["f1"][tr] - scratch[r["seed"]]["f1"]["model"]) for r in found if r["seed"] in scratch]
                        entry[tr]["minus_scratch"] = gains
                        row[f"minus scratch, {tr} rows (points)"] = ", ".join(f"{g:+.1f}" for g in gains)
                row["train s"] = statistics.mean(r["train_seconds"] for r in found)
                data[f"{name}-{size}-{idea}"] = entry
                rows.append(row)
    columns = ["data", "size", "idea", "F1, model rows", "F1, vectors rows", "minus scratch, model rows (points)",
               "minus scratch, vectors rows (points)", "train s"]  # fmt: skip
    md = [__doc__.split("\n\n")[0], "",
          f"Ideas: {json.dumps(IDEAS)}; epochs {json.dumps(EPOCHS)}. `minus scratch`: the idea's F1 minus scratch's "
          "(scratch has no pre-trained rows: its own rows either way) with the same seed.", "",
          markdown_table(rows, columns), ""]  # fmt: skip
    return data, "\n".join(md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="conll,wnut,wikiann,wikigold")
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--ideas", default=",".join(IDEAS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--tables-only", action="store_true")
    args = parser.parse_args()
    if not args.tables_only:
        glove = Vectors.load("glove-6b-50d", progress=False)
        names = args.data.split(",")
        data = {name: splits(name) for name in names}
        for size in [int(s) for s in args.sizes.split(",")]:
            for name in names:
                for idea in args.ideas.split(","):
                    for seed in [int(s) for s in args.seeds.split(",")]:
                        run(glove, data, name, size, idea, seed)
    runs = [json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json"))]
    print(write_results("ner_domains_bench", *report(runs)))


if __name__ == "__main__":
    main()
