"""How many hostile-input cases the real `veclift` command holds.

Runs every case of ``tests/hostile_cases.py`` (the table ``tests/test_hostile_cli.py`` runs in-process)
as a real subprocess, each in its own temporary folder with its own ``VECLIFT_HOME``, and judges it by
the project standard: one ``error:`` line on stderr, exit code 2, no traceback, no partial output,
nothing changed. Writes ``bench/results/hostile_bench.json`` and ``.md`` (atomically): the machine and
date, cases tried / held overall and per class, and every case that failed with its stderr.

    python bench/hostile_bench.py                 # every case, 2 at a time
    python bench/hostile_bench.py --only model,data --jobs 1
    python bench/hostile_bench.py --check-bases   # first make sure every base command succeeds
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

import hostile_cases as hc  # noqa: E402

RESULTS = HERE / "results"
NAME = "hostile_bench"


def veclift_command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "veclift"
    return [str(script)] if script.exists() else [sys.executable, "-m", "veclift"]


def run_case(case: hc.Case, fixtures: hc.Fixtures, work: Path, timeout: float) -> dict:
    folder = work / case.id.replace("/", "__")
    d, home = folder / "case", folder / "home"
    d.mkdir(parents=True)
    home.mkdir()
    record = {"id": case.id, "class": case.klass, "name": case.name}
    start = time.perf_counter()
    try:
        spec = case.build(d, fixtures)
    except Exception as exc:  # noqa: BLE001 - a fixture that could not be built fails the case, visibly
        return {**record, "held": False, "problems": [f"could not build the case: {type(exc).__name__}: {exc}"],
                "args": [], "code": None, "stderr": "", "seconds": 0.0}  # fmt: skip
    if spec.skip:
        return {**record, "held": None, "skipped": spec.skip, "problems": [], "args": spec.args, "code": None,
                "stderr": "", "seconds": 0.0}  # fmt: skip
    before, outside = hc.snapshot(d), hc.outside_state(spec, d)
    result = hc.run_subprocess(spec.args, cwd=d, env=hc.case_env(home), stdin=spec.stdin, timeout=timeout,
                               mem_limit_gb=spec.mem_limit_gb, executable=veclift_command())  # fmt: skip
    problems = hc.judge(spec, result, before, hc.snapshot(d), outside)
    problems += [f"temporary file left in the cache: {p}" for p in hc.stray_in_home(home)]
    shutil.rmtree(folder, ignore_errors=True)
    return {**record, "held": not problems, "problems": problems, "args": spec.args, "code": result.code,
            "stderr": result.stderr[-2000:], "seconds": round(time.perf_counter() - start, 2)}  # fmt: skip


def check_bases(fixtures: hc.Fixtures, work: Path, timeout: float) -> list[str]:
    """Run each base command unchanged: every one must succeed, or its variants prove nothing."""
    failures = []
    for name, build in hc.BASES.items():
        d, home = work / f"base-{name}" / "case", work / f"base-{name}" / "home"
        d.mkdir(parents=True)
        home.mkdir()
        spec = build(d, fixtures)
        result = hc.run_subprocess(spec.args, cwd=d, env=hc.case_env(home), stdin=spec.stdin, timeout=timeout,
                                   executable=veclift_command())  # fmt: skip
        status = "ok" if result.code == 0 else f"exit {result.code}"
        print(f"base {name:14} {status:8} {result.seconds:5.1f} s", flush=True)
        if result.code != 0:
            failures.append(f"{name}: exit {result.code}: {result.stderr.strip()[-300:]}")
    return failures


def markdown(results: list[dict], machine: dict, seconds: float) -> str:
    tried = [r for r in results if r["held"] is not None]
    held = [r for r in tried if r["held"]]
    lines = [
        "# hostile_bench: hostile input to the veclift command line",
        "",
        f"Machine: {machine['platform']}, {machine['cpu']}, {machine['cores']} CPUs; Python {machine['versions'].get('python')}.",
        f"Date: {machine['date']}. Command: `{machine['command']}`. Wall time {seconds:.0f} s.",
        "",
        "A case holds when the command prints exactly one `error:` line on stderr (plus any `warning:` lines),",
        "exits with code 2, shows no traceback or Python-format warning, leaves no output or temporary file",
        "behind and changes nothing that existed (see `tests/hostile_cases.py`).",
        "",
        f"**Tried {len(tried)}, held {len(held)}, failed {len(tried) - len(held)}**"
        + (f", skipped {len(results) - len(tried)}" if len(results) > len(tried) else "") + ".",
        "",
        "| class | tried | held | failed |",
        "|---|---:|---:|---:|",
    ]
    for klass in hc.CLASSES:
        group = [r for r in tried if r["class"] == klass]
        if group:
            ok = sum(1 for r in group if r["held"])
            lines.append(f"| {klass} | {len(group)} | {ok} | {len(group) - ok} |")
    failed = [r for r in tried if not r["held"]]
    if failed:
        lines += ["", "## Failed cases", ""]
        for r in failed:
            lines.append(f"- `{r['id']}`: {'; '.join(r['problems'])}")
            lines.append(f"  - `veclift {' '.join(r['args'])}`")
            stderr = [line for line in r["stderr"].splitlines() if line.strip()]
            if stderr:
                shown = stderr[:3] + ([f"... ({len(stderr) - 4} more lines)", stderr[-1]] if len(stderr) > 4 else stderr[3:])
                lines.append("  - stderr: `" + " ⏎ ".join(line.strip().replace("`", "'")[:300] for line in shown) + "`")
    skipped = [r for r in results if r["held"] is None]
    if skipped:
        lines += ["", "## Skipped", ""] + [f"- `{r['id']}`: {r['skipped']}" for r in skipped]
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help=f"classes to run (comma-separated, repeatable): {', '.join(hc.CLASSES)}")
    parser.add_argument("--case", action="append", default=[], help="run only these case ids (class/name)")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per case (default 60)")
    parser.add_argument("--check-bases", action="store_true", help="first run every base command unchanged")
    parser.add_argument("--no-write", action="store_true", help="print the summary only; write no result files")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    only = {name for item in args.only for name in item.split(",") if name}
    unknown = only - set(hc.CLASSES)
    if unknown:
        parser.error(f"unknown class(es) {', '.join(sorted(unknown))}; choose from {', '.join(hc.CLASSES)}")
    cases = [c for c in hc.CASES if (not only or c.klass in only) and (not args.case or c.id in args.case)]
    from common import machine_info

    machine = machine_info()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="veclift-hostile-") as tmp:
        work = Path(tmp)

        def runner(run_args, *, cwd, env):
            return hc.run_subprocess(run_args, cwd=cwd, env=env, timeout=args.timeout, executable=veclift_command())

        fixtures = hc.Fixtures(work / "fixtures", runner)
        if args.check_bases:
            failures = check_bases(fixtures, work / "bases", args.timeout)
            if failures:
                print("base commands that fail (their cases prove nothing until fixed):\n  " + "\n  ".join(failures))
        # models first, in this thread, so parallel cases do not race to train them
        needs_models = any(c.klass == "model" or "predict" in c.name or "evaluate-" in c.name for c in cases)
        for kind in ("ner", "classify") if needs_models else ():
            try:
                fixtures.model(kind)
            except RuntimeError as exc:
                print(exc, file=sys.stderr)
        results: list[dict] = []
        with ThreadPoolExecutor(args.jobs) as pool:
            for record in pool.map(lambda c: run_case(c, fixtures, work / "cases", args.timeout), cases):
                mark = "skip" if record["held"] is None else "held" if record["held"] else "FAIL"
                print(f"{mark:4} {record['id']:60} {record['seconds']:5.1f} s  {'; '.join(record['problems'])[:150]}", flush=True)
                results.append(record)
    seconds = time.perf_counter() - start
    tried = [r for r in results if r["held"] is not None]
    per_class = {}
    for klass in hc.CLASSES:
        group = [r for r in tried if r["class"] == klass]
        if group:
            per_class[klass] = {"tried": len(group), "held": sum(1 for r in group if r["held"])}
    summary = {"tried": len(tried), "held": sum(1 for r in tried if r["held"]), "per_class": per_class}
    print(json.dumps(summary))
    if args.no_write:
        return
    data = {"machine": machine, "wall_seconds": round(seconds, 1), "only": sorted(only), "summary": summary, "cases": results}
    write_atomically(RESULTS / f"{NAME}.json", json.dumps(data, indent=2, default=str) + "\n")
    write_atomically(RESULTS / f"{NAME}.md", markdown(results, machine, seconds))
    print(f"wrote {RESULTS / NAME}.json and .md")


if __name__ == "__main__":
    main()
