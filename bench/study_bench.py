"""The transfer studies of issue 4, run through the `veclift study` command itself.

CoNLL-2003 (dev = valid.txt as the test set, early stopping on a held-out 10% of train),
WNUT-17 (train / dev / test) and SST-2 (a seeded held-out 10% as test). Each study keeps its
store in bench/work/study/NAME (rerunning resumes it) and copies report.html, results.csv,
summary.csv and the plots to bench/results/study_NAME/; bench/results/study_bench.{json,md}
gets the headline numbers and each study's wall time.

    python bench/study_bench.py [--studies conll2003,wnut17,sst2] [--jobs 2] [--seeds 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time

from common import DATA, RESULTS, WORK, machine_info, markdown_table, write_results

NER, CLS = DATA / "ner", DATA / "classify"
STUDIES = {
    "conll2003": ["ner", "--train", NER / "conll2003/train.txt", "--test", NER / "conll2003/valid.txt",
                  "--dev-fraction", "0.1", "--sizes", "50,100,500,1000,3000,all"],
    "wnut17": ["ner", "--train", NER / "wnut17/train.conll", "--dev", NER / "wnut17/dev.conll",
               "--test", NER / "wnut17/test.conll", "--sizes", "100,500,1000,all"],
    "sst2": ["classify", "--train", CLS / "sst2/train.tsv", "--test-fraction", "0.1", "--dev-fraction", "0.05",
             "--sizes", "100,500,2000,all", "--encoder", "swem-concat", "--batch-size", "256", "--lr", "0.008"],  # the SWEM setting measured
}
COPIED = ("report.html", "results.csv", "summary.csv", "learning_curve.png", "learning_curve.svg",
          "transfer_view.png", "transfer_view.svg")


def run_study(name: str, args: argparse.Namespace, previous: dict | None) -> dict:
    work = WORK / "study" / name
    replaced = None
    if previous and not work.exists():  # a fresh store: the kept figures are of an earlier run, not resumed
        replaced = {"wall_seconds": sum(previous.get("wall_seconds_runs") or [previous["wall_seconds_this_run"]]),
                    "trial_seconds_total": previous["trial_seconds_total"], "machine": previous.get("machine"),
                    "load_average": previous.get("load_average")}
        previous = None
    command = [sys.executable, "-m", "veclift", "study", *map(str, STUDIES[name]), "--vectors", "glove-6b-50d",
               "--strategies", args.strategies, "--seeds", str(args.seeds), "--jobs", str(args.jobs),
               "--output", str(work), "--json", *args.extra]
    if args.sizes:
        command[command.index("--sizes") + 1] = args.sizes
    load_before = load_average()
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"study {name} failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    summary = json.loads(done.stdout)
    target = RESULTS / f"study_{name}"
    target.mkdir(parents=True, exist_ok=True)
    for file in COPIED:
        if (work / file).exists():
            shutil.copy2(work / file, target / file)
    with open(work / "results.csv", newline="") as rows:
        trial_seconds = sum(float(row["seconds"]) for row in csv.DictReader(rows))
    earlier = (previous or {}).get("wall_seconds_runs") or [(previous or {}).get("wall_seconds_this_run")]
    return {"command": " ".join(["veclift", *command[3:]]), "wall_seconds_this_run": wall,
            "wall_seconds_runs": [w for w in earlier if w is not None] + [wall],
            "trial_seconds_total": trial_seconds, "load_average": [load_before, load_average()],
            "machine": {k: v for k, v in machine_info().items() if k in ("date", "cpu", "cores")},
            "run_before": replaced or (previous or {}).get("run_before"), **summary}


def load_average() -> float | None:
    """The 1-minute load average, rounded (None where the platform has none): the host is shared, and
    other work slows the trials, so each run says how busy the machine was."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine_words(machine: dict | None) -> str:
    return f"{machine['date']}, {machine['cpu']}, {machine['cores']} cores" if machine else "machine not recorded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", default=",".join(STUDIES))
    parser.add_argument("--strategies", default="scratch,frozen,finetune")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sizes", help="override every study's sizes")
    parser.add_argument("extra", nargs="*", help="model options passed to `veclift study`, after --")
    args = parser.parse_args()
    previous = RESULTS / "study_bench.json"
    studies = json.loads(previous.read_text())["studies"] if previous.exists() else {}
    for name in args.studies.split(","):
        studies[name] = run_study(name, args, studies.get(name))
        rows = [
            {"study": n, "metric": s["metric"], "size": c["size"], "n_train": round(c["n_train"]),
             "strategy": c["strategy"], "mean": 100 * c["mean"], "std": 100 * c["std"],
             "min": 100 * c["min"], "max": 100 * c["max"], "seeds": c["n"]}
            for n, s in studies.items() for c in s["summary"]
        ]
        lines = [f"## {n}\n\n`{s['command']}`\n\nwall time of the runs that made it (each resuming the last): "
                 f"{' + '.join(f'{w:.0f}' for w in s.get('wall_seconds_runs', [s['wall_seconds_this_run']]))} s; "
                 f"the trials took {s['trial_seconds_total']:.0f} s in all, each in its own process "
                 f"({s['finished']} of {s['trials']} trials, {s['failed']} failed)"
                 + (f"; 1-minute load average {s['load_average'][0]} before the last run, "
                    f"{s['load_average'][1]} after it" if None not in s.get("load_average", [None]) else "")
                 + (f"; the run this one replaced: {s['run_before']['wall_seconds']:.0f} s wall, trials "
                    f"{s['run_before']['trial_seconds_total']:.0f} s ({machine_words(s['run_before']['machine'])})"
                    if s.get("run_before") else "") + "\n\n"
                 + "\n".join(f"- {c}" for c in s["conclusions"]) for n, s in studies.items()]
        write_results("study_bench", {"studies": studies}, "\n\n".join(lines) + "\n\n" + markdown_table(rows))


if __name__ == "__main__":
    main()
