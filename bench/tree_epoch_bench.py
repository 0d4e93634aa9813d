"""Seconds per tagger epoch of this tree against an earlier commit, in one run: each tree trains in
its own process (one thread, same data, seed and settings), the two alternated, so that the ratio
holds on a shared, noisy machine. The earlier commit is checked out as a git worktree under
bench/work/trees/; the losses of the two are printed too (a pure speed change keeps them equal).

    python bench/tree_epoch_bench.py --baseline COMMIT [--sizes 3000,all] [--epochs 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from common import DATA, ROOT, WORK, markdown_table, write_results

TIMED = """
import json, sys, torch
torch.set_num_threads(1)
from veclift.data.tagged import read_conll
from veclift.tasks import SequenceTagger
from veclift.vectors import Vectors
size, epochs, strategy = sys.argv[1], int(sys.argv[2]), sys.argv[3]
train = read_conll(sys.argv[4])
train = train if size == "all" else train[: int(size)]
model = SequenceTagger(max_epochs=epochs, patience=0, embeddings=strategy)
model.fit(train, vectors=Vectors.load("glove-6b-50d", progress=False), seed=0, progress=False)
print(json.dumps(model.train_result.history))
"""


def checkout(commit: str) -> tuple[str, str]:
    """A worktree of ``commit`` under bench/work/trees (made once), and its resolved hash."""
    full = subprocess.run(["git", "-C", str(ROOT), "rev-parse", commit], capture_output=True, text=True, check=True).stdout.strip()
    tree = WORK / "trees" / full[:12]
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), full], capture_output=True, check=True)
    return str(tree), full


def epochs_of(tree: str, size: str, epochs: int, strategy: str) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": tree, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", TIMED, size, str(epochs), strategy, str(DATA / "ner" / "conll2003" / "train.txt")],
                          capture_output=True, text=True, env=env, cwd=tree, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the earlier commit")
    parser.add_argument("--sizes", default="3000,all")
    parser.add_argument("--strategy", default="finetune")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    baseline, baseline_hash = checkout(args.baseline)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "veclift"], capture_output=True, text=True, check=True).stdout.strip())
    trees = {f"baseline {baseline_hash[:9]}": baseline, f"this tree ({head[:9]}{' + changes' if dirty else ''})": str(ROOT)}
    rows, runs = [], {}
    for size in args.sizes.split(","):
        seconds: dict[str, list[float]] = {name: [] for name in trees}
        losses: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            for name, tree in trees.items():
                history = epochs_of(tree, size, args.epochs, args.strategy)
                seconds[name] += [row["seconds"] for row in history]
                losses[name] = [round(row["loss"], 6) for row in history]
        base = statistics.median(seconds[next(iter(trees))])
        for name in trees:
            rows.append({"sentences": size, "tree": name, "epochs timed": len(seconds[name]),
                         "median s / epoch": statistics.median(seconds[name]),
                         "ratio to baseline": statistics.median(seconds[name]) / base,
                         "losses": " ".join(f"{x:.4f}" for x in losses[name])})  # fmt: skip
        runs[size] = {"seconds": seconds, "losses": losses}
    markdown = (f"Tagger epochs (`{args.strategy}`, one thread, first N CoNLL-2003 sentences, seed 0), this tree "
                f"against {baseline_hash[:9]}, alternated {args.repeats} times in one run:\n\n{markdown_table(rows)}\n")
    print(write_results("tree_epoch_bench", {"baseline": baseline_hash, "head": head, "changes": dirty, "rows": rows, "runs": runs}, markdown))


if __name__ == "__main__":
    main()
