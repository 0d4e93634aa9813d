"""How many CPU cores this process may use, how many other work leaves free, and capping the math
libraries' threads to them: torch's default of one thread per core oversubscribes a machine that is
already busy (a 1,000-sentence tagger took 418 s instead of 90 s under a load of 4 on 2 cores)."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "QUOTA PERIOD" in microseconds, or "max PERIOD"


def cpu_quota() -> int | None:
    """The cores a cgroup CPU quota (a container's ``--cpus``) allows, rounded up; None without one."""
    try:
        quota, period = CPU_MAX.read_text().split()[:2]
        return None if quota == "max" else max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError, ZeroDivisionError):
        return None


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (else the machine's cores), capped by a CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    return cores if quota is None else min(cores, quota)


def free_cores() -> int:
    """The usable cores that other work leaves free: usable cores minus the 1-minute load average,
    rounded, at least 1. Under a CPU quota the load average is the host's, not this container's:
    every usable core counts as free."""
    cores = usable_cores()
    if cpu_quota() is not None:
        return cores
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        load = 0.0
    return max(1, min(cores, round(cores - load)))


def limit_threads(threads: int) -> None:
    """Cap the math libraries' threads in this process (before or after torch is imported)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
