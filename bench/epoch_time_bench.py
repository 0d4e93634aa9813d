"""Seconds per tagger epoch on all of CoNLL-2003 train.txt: batches of 8 (max_batches 0, the tagger
before) against batches grown to 400 an epoch (max_batches 400, the default before 200), both in one run
on one thread, in alternation; and the seconds a fresh process spends importing torch._dynamo
(which the first optimizer a process builds imports; the study's fork server preloads it).

    python bench/epoch_time_bench.py [--epochs 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

import torch
from common import DATA, markdown_table, write_results

from veclift.data.tagged import read_conll
from veclift.tasks import SequenceTagger
from veclift.tasks.trainer import training_batch_size
from veclift.vectors import Vectors

SETTINGS = {"batch 8 (max_batches 0)": 0, "max_batches 400": 400}
DYNAMO = "import time, torch; t = time.perf_counter(); import torch._dynamo; print(time.perf_counter() - t)"


def epoch_seconds(train, vectors, max_batches: int, epochs: int) -> list[float]:
    model = SequenceTagger(max_epochs=epochs, patience=0, max_batches=max_batches)
    model.fit(train, vectors=vectors, seed=0, progress=False)
    return [h["seconds"] for h in model.train_result.history]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = read_conll(DATA / "ner" / "conll2003" / "train.txt")
    vectors = Vectors.load("glove-6b-50d", progress=False)
    times: dict[str, list[float]] = {name: [] for name in SETTINGS}
    for _ in range(args.repeats):
        for name, max_batches in SETTINGS.items():
            times[name] += epoch_seconds(train, vectors, max_batches, args.epochs)
    base = statistics.median(times["batch 8 (max_batches 0)"])
    rows = [{"setting": name, "batch": training_batch_size(len(train), SequenceTagger(max_batches=mb).config),
             "epochs timed": len(times[name]), "median s / epoch": statistics.median(times[name]),
             "ratio to batch 8": statistics.median(times[name]) / base} for name, mb in SETTINGS.items()]  # fmt: skip
    dynamo = [float(subprocess.run([sys.executable, "-c", DYNAMO], capture_output=True, text=True, check=True).stdout)
              for _ in range(3)]  # fmt: skip
    markdown = (f"Tagger epochs on all {len(train)} CoNLL-2003 training sentences (no dev set), one thread, "
                f"settings alternated {args.repeats} times in one run:\n\n{markdown_table(rows)}\n\n"
                f"`import torch._dynamo` in a fresh process (after torch): median {statistics.median(dynamo):.2f} s of 3.\n")
    print(write_results("epoch_time_bench", {"epochs": rows, "times": times, "dynamo_import_seconds": dynamo}, markdown))


if __name__ == "__main__":
    main()
