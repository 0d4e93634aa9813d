"""How many CPU cores this process may use, how many other work leaves free, and capping the math
libraries' threads to them: torch's default of one thread per core oversubscribes a machine that is
already busy (a 1,000-sentence tagger took 418 s instead of 90 s under a load of 4 on 2 cores)."""

from __future__ import annotations

import os
import sys


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def free_cores() -> int:
    """The usable cores that other work leaves free: usable cores minus the 1-minute load average,
    rounded, at least 1."""
    cores = usable_cores()
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
