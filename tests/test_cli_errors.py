"""The CLI's error contract: usage errors and bad values are one line on stderr and exit code 2;
every numeric option has a declared range; logs get a line per epoch instead of a bar."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest
import typer

from veclift.cli import _register, app, click, main

UNBOUNDED = {"--tag-column"}  # a column index: negative counts from the end, any integer is meaningful


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["veclift", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def _commands():
    _register()

    def walk(command, path):  # through list_commands: `train` makes its task commands when asked
        if hasattr(command, "list_commands"):
            context = click.Context(command)
            for name in command.list_commands(context):
                yield from walk(command.get_command(context, name), [*path, name])
        else:
            yield path, command

    return list(walk(typer.main.get_command(app), []))


def _numeric_options():
    for path, command in _commands():
        for param in command.params:
            annotation = param.type_descriptor.annotation
            kinds = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
            if kinds[0] in (int, float) and param.opts[0].startswith("--"):
                yield path, param


NUMERIC = list(_numeric_options())


def test_every_numeric_option_declares_its_range():
    assert len(NUMERIC) > 80
    missing = [f"{' '.join(p)} {param.opts[0]}" for p, param in NUMERIC if param.min is None and param.opts[0] not in UNBOUNDED]
    assert missing == []


@pytest.mark.parametrize("path,param", [(p, q) for p, q in NUMERIC if q.min is not None],
                         ids=lambda v: " ".join(v) if isinstance(v, list) else v.opts[0])  # fmt: skip
def test_out_of_range_values_are_one_line_naming_the_option(monkeypatch, capsys, path, param):
    below = param.min - 1 if isinstance(param.min, int) else param.min - 0.5
    for value in [below] + ([param.max + 1] if param.max is not None else []):
        code, out, err = run_cli(monkeypatch, capsys, *path, param.opts[0], str(value))
        assert code == 2
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
        assert param.opts[0] in err and "Traceback" not in err


@pytest.mark.parametrize("args,needle", [
    (["nosuch"], "No such command"),
    (["vectors", "info"], "Missing argument"),
    (["vectors", "info", "x", "--bogus"], "No such option"),
    (["train", "ner", "--train", "x", "--output", "y", "--epochs", "many"], "--epochs"),
    (["train", "parse", "--train", "x", "--output", "y"], "parse"),
    (["predict", "m", "--format", "xml"], "--format"),
])  # fmt: skip
def test_usage_errors_are_one_line(monkeypatch, capsys, args, needle):
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err and "--help" in err


def test_bare_command_prints_help_and_succeeds(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys)
    assert code == 0 and "Usage" in out and err == ""


def test_a_log_gets_one_line_per_epoch_and_warnings_are_one_line(tmp_path):
    """Training with stderr redirected to a file (not a terminal): a line per epoch, no bar."""
    train = tmp_path / "train.conll"
    train.write_text("".join(f"John{i % 3} B-PER\nlives O\nin O\nParis B-LOC\n\n" for i in range(12)))
    model = tmp_path / "model"
    args = ["train", "ner", "--train", str(train), "--embeddings", "scratch", "--output", str(model), "--epochs", "3",
            "--hidden", "4", "--char", "none"]  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "veclift", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    epochs = [line for line in done.stderr.splitlines() if "epoch" in line and line.startswith("Training ner")]
    assert len(epochs) == 3 and "\r" not in done.stderr and "━" not in done.stderr
    assert all(not line.startswith((" ", "\t")) and "Warning:" not in line for line in done.stderr.splitlines())
    again = subprocess.run([sys.executable, "-m", "veclift", *args], capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--overwrite" in again.stderr and len(again.stderr.strip().splitlines()) == 1
