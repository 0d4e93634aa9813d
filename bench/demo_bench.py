"""`veclift demo` as a user runs it: wall time, and its terminal output and report kept.

    python bench/demo_bench.py

Writes bench/results/demo_bench.{json,md} and bench/results/demo/ (terminal output, report.html,
results.csv, plots). The demo study runs afresh each time (its store is removed first).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

from common import RESULTS, WORK, write_results

COPIED = ("report.html", "results.csv", "summary.csv", "learning_curve.png", "transfer_view.png")


def main() -> None:
    work = WORK / "demo"
    shutil.rmtree(work, ignore_errors=True)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "veclift", "demo", "--output", str(work)],
                          capture_output=True, text=True, env={"COLUMNS": "100", **__import__("os").environ})
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"veclift demo failed: {done.stderr.strip().splitlines()[-1:]}")
    target = RESULTS / "demo"
    target.mkdir(parents=True, exist_ok=True)
    (target / "terminal.txt").write_text(done.stdout)
    for file in COPIED:
        if (work / file).exists():
            shutil.copy2(work / file, target / file)
    write_results("demo_bench", {"wall_seconds": wall, "stdout": done.stdout},
                  f"`veclift demo` wall time: {wall:.1f} s (2 trial processes at a time).\n\n"
                  f"```\n{done.stdout.strip()}\n```\n")


if __name__ == "__main__":
    main()
