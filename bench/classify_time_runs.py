"""Training-time ratios to fastText across several ``classify_bench.py`` runs: the classify_bench
tables keep each row's latest run only, so on a shared, noisy machine the spread across runs is
read from the runs' own output (their stdout, one JSON row per model, kept as logs).

    python bench/classify_time_runs.py bench/results/classify_bench_logs/*.log [--rename 'RUNS:OLD=NEW' ...]

Per run and method: the median over folds (or seeds) of the method's training seconds over
fastText's on the same fold in the same run. ``--rename`` gives a method of the runs whose name
matches the pattern ``RUNS`` the name it has today, where a default changed since (the runs before
2026-12-07 18:00 named the SWEM default ``veclift finetune``, today's ``veclift swem``). Writes
bench/results/classify_time_runs.json and .md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import statistics
from pathlib import Path

from common import markdown_table, write_results

ROW = re.compile(r"^\d\d:\d\d:\d\d (\{.*\})$")


def paired_ratios(log: Path) -> dict[str, float]:
    """Median per-fold ratio to fastText of each method in one run's output."""
    rows = [json.loads(m.group(1)) for line in log.read_text().splitlines() if (m := ROW.match(line))]
    fold = lambda r: (r.get("fold"), r.get("size_name"), r.get("seed"))  # noqa: E731
    fasttext = {fold(r): r["train_s"] for r in rows if r["method"] == "fasttext"}
    ratios: dict[str, list[float]] = {}
    for r in rows:
        if r["method"] != "fasttext" and fold(r) in fasttext:
            ratios.setdefault(r["method"], []).append(r["train_s"] / fasttext[fold(r)])
    return {method: round(statistics.median(values), 2) for method, values in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path)
    parser.add_argument("--rename", action="append", default=[], metavar="RUNS:OLD=NEW",
                        help="call method OLD of the runs matching RUNS (a glob on the log's name) NEW")
    args = parser.parse_args()
    missing = [str(log) for log in args.logs if not log.is_file()]
    if missing:
        parser.error(f"no such log: {', '.join(missing)}")
    renames = []
    for spec in args.rename:
        pattern, _, pair = spec.partition(":")
        old, _, new = pair.partition("=")
        if not (pattern and old and new):
            parser.error(f"--rename {spec!r}: expected RUNS:OLD=NEW")
        renames.append((pattern, old, new))
    runs = []
    for log in args.logs:
        ratios = paired_ratios(log)
        names = {old: new for pattern, old, new in renames if fnmatch.fnmatch(log.stem, pattern)}
        clash = [f"{old}={new}" for old, new in names.items() if new in ratios and old in ratios]
        if clash:
            parser.error(f"--rename {', '.join(clash)}: {log.stem} has a method of that name already")
        runs.append({"run": log.stem, **{names.get(method, method): ratio for method, ratio in ratios.items()}})
    methods = sorted({m for run in runs for m in run if m != "run"})
    table = [{"run": run["run"], **{m: run.get(m, "") for m in methods}} for run in runs]
    summary = {m: round(statistics.median(v), 2) for m in methods if (v := [run[m] for run in runs if m in run])}
    renamed = "".join(f" In the runs matching `{p}`, `{old}` is shown as `{new}`." for p, old, new in renames)
    write_results("classify_time_runs", {"runs": table, "median_over_runs": summary, "renamed": renames},
                  "Median per-fold ratio of training time to fastText's on the same fold in the same run, one line "
                  f"per classify_bench run.{renamed}\n\n{markdown_table(table)}\n\nMedian over runs: "
                  + ", ".join(f"{m} {r}x" for m, r in summary.items()))  # fmt: skip


if __name__ == "__main__":
    main()
