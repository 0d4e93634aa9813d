"""Does every benchmark still run? Each script in bench/ runs once, on a small budget, from a copy of
bench/ (and tests/, whose hostile cases hostile_bench runs) in a temporary folder, so the figures kept in bench/results/ stay untouched. For the scripts
whose figures do not depend on the small budget (spaces_bench: similarity, alignment, debias;
ner_settings_bench: one full-budget run) the figures of the run are compared with the kept ones,
which may predate deliberate changes made since they were measured; house_bench compares with the
tree before a restructuring instead.

    python bench/smoke_all.py [--only NAME,...]   # writes bench/results/smoke_all.{json,md}

With --only, the other scripts' rows of the last run are kept (each row has its date).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, RESULTS, ROOT, markdown_table, write_results

# script -> arguments of a small run that still goes through the whole script
RUNS = {
    "vectors_bench.py": ["--reps", "1"],
    "vectors_query_bench.py": [],
    "spaces_bench.py": [],
    "ner_bench.py": ["--quick", "--sections", "a,b", "--systems", "veclift"],
    "ner_settings_bench.py": ["--sizes", "200", "--settings", "frozen", "--seeds", "1", "--jobs", "1"],
    "classify_bench.py": ["--quick", "--sections", "mr,sst2", "--folds", "0", "--sizes", "100", "--seeds", "0"],
    "study_bench.py": ["--studies", "sst2", "--sizes", "100", "--seeds", "1", "--strategies", "frozen", "--jobs", "1",
                       "--", "--epochs", "2"],
    "encoder_pretrain_bench.py": ["--quick"],
    "pretrain_bench.py": ["--quick"],
    "contextual_bench.py": ["--sizes", "conll=100", "--sizes", "sst2=100", "--seeds", "1", "--strategies", "frozen"],
    "demo_bench.py": [],
    "hostile_bench.py": ["--only", "usage,numeric", "--no-write"],
    "house_bench.py": [],
    "serve_bench.py": ["--epochs", "1", "--requests", "200", "--clients", "4"],
    "update_bench.py": ["--quick"],
    "story_bench.py": ["--sentences", "60", "--epochs", "1"],
}
def _same_sections(kept: dict, now: dict) -> str:
    """spaces_bench: its figures (not its timings) equal the kept ones."""
    keys = ("alignment_sanity_rotated_glove", "similarity", "debias", "reduce")
    return "same" if all(kept.get(k) == now.get(k) for k in keys) else "DIFFERENT"


def _same_runs(kept: dict, now: dict) -> str:
    """ner_settings_bench: each run made now (setting, size, seed) scores what the kept run did."""
    old = {(r["setting"], r["size"], r["seed"]): r["f1"] for r in kept["runs"]}
    pairs = [(old[key], r["f1"]) for r in now["runs"] if (key := (r["setting"], r["size"], r["seed"])) in old]
    if not pairs:
        return "no kept run to compare"
    moved = max(abs(a - b) for a, b in pairs)
    return f"same ({len(pairs)} runs)" if moved < 1e-9 else f"DIFFERENT (F1 moved up to {moved:.4f})"


# Figures that do not depend on the small budget, compared with the kept ones: result file, comparison.
STABLE = {"spaces_bench.py": ("spaces_bench.json", _same_sections),
          "ner_settings_bench.py": ("ner_settings_bench.json", _same_runs)}
COLUMNS = ["script", "args", "rc", "seconds", "figures", "date", "last_line"]


def run(script: str, args: list[str], copy: Path, timeout: float) -> dict:
    env = {**os.environ, "VECLIFT_DATA": str(DATA), "OMP_NUM_THREADS": "1"}
    began = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(copy / "bench" / script), *args], cwd=copy, env=env,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip
        rc, tail = done.returncode, (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
    except subprocess.TimeoutExpired:
        rc, tail = "timeout", [f"over {timeout:.0f} s"]
    row = {"script": script, "args": " ".join(args), "rc": rc, "seconds": round(time.perf_counter() - began, 1),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "last_line": tail[0][:120] if rc != 0 else ""}  # fmt: skip
    if script in STABLE and rc == 0:
        name, compare = STABLE[script]
        kept, now = json.loads((RESULTS / name).read_text()), json.loads((copy / "bench" / "results" / name).read_text())
        row["figures"] = compare(kept, now)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated script names (default: all)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per script")
    args = parser.parse_args()
    chosen = [s for s in RUNS if not args.only or s in args.only.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="veclift-bench-") as tmp:
        copy = Path(tmp)
        shutil.copytree(ROOT / "bench", copy / "bench", ignore=shutil.ignore_patterns("work", "__pycache__"))
        shutil.copytree(ROOT / "tests", copy / "tests", ignore=shutil.ignore_patterns("__pycache__"))  # hostile_bench's cases
        for script in chosen:
            row = run(script, RUNS[script], copy, args.timeout)
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.only and (RESULTS / "smoke_all.json").is_file():
        earlier = json.loads((RESULTS / "smoke_all.json").read_text())["rows"]
        fresh = {r["script"]: r for r in rows}
        rows = [fresh.pop(r["script"], r) for r in earlier] + list(fresh.values())
    ran = sum(r["rc"] == 0 for r in rows)
    summary = f"{ran} of {len(rows)} benchmark scripts ran to the end on a small budget."
    write_results("smoke_all", {"rows": rows, "summary": summary}, summary + "\n\n" + markdown_table(rows, COLUMNS))
    print(summary)


if __name__ == "__main__":
    main()
