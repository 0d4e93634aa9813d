"""Hostile input to every `veclift` command, one parametrized test per case of `hostile_cases.CASES`.

Each case runs in-process (``veclift.cli.main()`` with ``sys.argv`` and ``sys.stdin`` replaced, output
captured by ``capfd``) in its own folder, with its own ``VECLIFT_HOME``; cases marked ``isolate`` (they
could hang, crash or allocate without bound when unguarded) run as a subprocess with a timeout. The
standard checked is in `hostile_cases.judge`: one ``error:`` line, exit code 2, no traceback, nothing
left behind and nothing changed. ``bench/hostile_bench.py`` runs the same table as real processes.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import hostile_cases as hc  # noqa: E402

ISOLATED_TIMEOUT = 30


@contextlib.contextmanager
def _environment(env: dict[str, str], cwd: Path):
    saved = {k: os.environ.get(k) for k in env}
    old_cwd = os.getcwd()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _quiet_reader():
    """A ``read_output`` for runs outside a test (fixtures): redirect into buffers."""
    import io

    class Reader:
        def __init__(self):
            self.out, self.err = io.StringIO(), io.StringIO()

        def __call__(self):
            result = self.out.getvalue(), self.err.getvalue()
            self.out.seek(0), self.out.truncate(), self.err.seek(0), self.err.truncate()
            return result

    return Reader()


def _fixture_runner(args, *, cwd, env):
    reader = _quiet_reader()
    with _environment(env, cwd), contextlib.redirect_stdout(reader.out), contextlib.redirect_stderr(reader.err):
        return hc.run_in_process(args, None, reader)


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory):
    return hc.Fixtures(tmp_path_factory.mktemp("hostile-fixtures"), _fixture_runner)


@pytest.mark.parametrize("case", hc.CASES, ids=[c.id for c in hc.CASES])
def test_hostile_input(case, fixtures, tmp_path, capfd, monkeypatch):
    d, home = tmp_path / "case", tmp_path / "home"
    d.mkdir()
    home.mkdir()
    env = hc.case_env(home)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("VECLIFT_DEBUG", raising=False)
    monkeypatch.chdir(d)
    spec = case.build(d, fixtures)
    if spec.skip:
        pytest.skip(spec.skip)
    before, outside = hc.snapshot(d), hc.outside_state(spec, d)
    if spec.isolate:
        result = hc.run_subprocess(spec.args, cwd=d, env=env, stdin=spec.stdin, timeout=ISOLATED_TIMEOUT,
                                   mem_limit_gb=spec.mem_limit_gb)  # fmt: skip
    else:
        result = hc.run_in_process(spec.args, spec.stdin, lambda: capfd.readouterr())
    problems = hc.judge(spec, result, before, hc.snapshot(d), outside)
    problems += [f"temporary file left in the cache: {p}" for p in hc.stray_in_home(home)]
    stderr = " | ".join(line for line in result.stderr.splitlines() if line.strip())[:600]
    assert not problems, f"{'; '.join(problems)}\n  veclift {' '.join(spec.args)}\n  stderr: {stderr}"
