"""Shared by every benchmark: where the data is, what machine ran it, and writing the results."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "bench" / "work"
DATA = Path(os.environ.get("VECLIFT_DATA") or ROOT.parent / "shared" / "data")

sys.path.insert(0, str(ROOT))


def machine_info() -> dict:
    """Platform, CPU model, cores, Python and key library versions, date."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for name in ("numpy", "torch", "gensim", "scipy", "sklearn"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            pass
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "versions": versions,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> str:
    columns = columns or (list(rows[0]) if rows else [])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in (row.get(c, "") for c in columns)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_results(name: str, data: dict, markdown: str) -> Path:
    """Write bench/results/NAME.json and NAME.md, each headed by the machine and date."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    (RESULTS / f"{name}.json").write_text(json.dumps({"machine": machine, **data}, indent=2, default=str))
    header = (
        f"# {name}\n\n`{machine['command']}` — {machine['date']}, {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['platform']}, versions {machine['versions']}\n\n"
    )
    path = RESULTS / f"{name}.md"
    path.write_text(header + markdown.rstrip() + "\n")
    return path
