"""The Ray executor on a local Ray instance started by the test (skipped without ray).

The Ray head and the study's driver run in their own processes, sharing a token made up here
(Ray's token authentication) and a PYTHONPATH from which Ray workers import the fake trials.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from study_fakes import calls, write_conll

pytest.importorskip("ray")

TESTS = Path(__file__).resolve().parent

START_RAY = """
import sys, ray
context = ray.init(num_cpus=1, include_dashboard=False, logging_level="error")
print(context.address_info["gcs_address"], flush=True)
sys.stdin.read()
ray.shutdown()
"""

RUN_STUDY = """
import json, sys
import study_fakes
from veclift.study import RayExecutor, StudySpec, TransferStudy
address, train, out, seeds = sys.argv[1:5]
spec = StudySpec("ner", train, test=train, sizes=[5, "all"], strategies=["scratch", "finetune"], seeds=int(seeds))
results = TransferStudy(spec, out, trial=study_fakes.fail_on_seed_1).run(RayExecutor(address), progress=False)
print(json.dumps({"rows": sorted(r["id"] for r in results.rows), "failures": results.failures}))
"""


@pytest.fixture
def ray_env():
    return {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16), "PYTHONPATH": str(TESTS)}


@pytest.fixture
def ray_address(ray_env):
    """A one-CPU Ray instance on this machine, in its own process, shut down after the test."""
    head = subprocess.Popen([sys.executable, "-c", START_RAY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ray_env)
    try:
        address = head.stdout.readline().strip()
        assert address, "ray did not start"
        yield address
    finally:
        head.stdin.close()
        head.wait(timeout=60)


def _study(ray_env, address, train, out, seeds) -> dict:
    done = subprocess.run([sys.executable, "-c", RUN_STUDY, address, str(train), str(out), str(seeds)],
                          capture_output=True, text=True, env=ray_env, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # starting Ray takes 10-40 s
def test_trials_run_as_ray_tasks_and_resume(ray_env, ray_address, tmp_path):
    train = write_conll(tmp_path / "data" / "train.txt", 30, 0)
    first = _study(ray_env, ray_address, train, tmp_path / "out", 1)
    assert first == {"rows": ["n5-finetune-s0", "n5-scratch-s0", "nall-finetune-s0", "nall-scratch-s0"], "failures": {}}
    assert len(calls(train)) == 4
    second = _study(ray_env, ray_address, train, tmp_path / "out", 2)
    assert second["rows"] == first["rows"]
    assert sorted(second["failures"]) == ["n5-finetune-s1", "n5-scratch-s1", "nall-finetune-s1", "nall-scratch-s1"]
    assert all("RuntimeError: boom in" in error for error in second["failures"].values())
    assert len(calls(train)) == 4
