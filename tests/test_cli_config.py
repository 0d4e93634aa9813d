"""The config-driven `veclift train`: `init config` writes every default, a config read back trains
the same model as the defaults, file < dotted override < shorthand, per-task help, bad configs as one
line naming the file, and a task added through the registry gets all of it with no CLI edit."""

from __future__ import annotations

import json
import random
import re
import sys
import tomllib
from pathlib import Path

import pytest
import toy_task
from task_fixtures import CITIES, PEOPLE, tagged_sentences, tiny_vectors
from typer.testing import CliRunner

import veclift.cli
from veclift.data import write_conll
from veclift.errors import VecliftError
from veclift.tasks.config_file import config_toml, parse_overrides, resolve_config
from veclift.tasks.registry import get_task, task_names
from veclift.tasks.settings import task_settings

veclift.cli._register()
runner = CliRunner()
TINY = ["--epochs", "2", "--hidden", "6", "--char", "none", "--quiet"]
WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}  # rich help: no option name cut short


def invoke(*args, env=None):
    result = runner.invoke(veclift.cli.app, [str(a) for a in args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("config")
    tiny_vectors().save(root / "vectors")
    write_conll(tagged_sentences(12), root / "train.conll")
    return root


def test_init_config_prints_every_setting_with_its_default():
    for name in ("ner", "classify"):
        config = tomllib.loads(invoke("init", "config", name))
        assert config.pop("task") == name
        settings = task_settings(get_task(name))
        written = {f"{section}.{key}": value for section, table in config.items() for key, value in table.items()}
        expected = {s.key: s.default for s in settings if s.default is not None and not s.required}
        assert written == {key: list(v) if isinstance(v, tuple) else v for key, v in expected.items()}
    ner = invoke("init", "config", "ner")
    assert "# train = (required: set it here or give --train)" in ner and "# Tag scheme of the files" in ner
    assert "lr = 0.002" in ner and "hidden = 100" in ner and "kernel_sizes" not in ner


def test_the_printed_config_read_back_trains_the_same_model_as_the_defaults(files, tmp_path):
    text = invoke("init", "config", "ner").replace(
        "# train = (required: set it here or give --train)", f"train = [{json.dumps(str(files / 'train.conll'))}]"
    ).replace("# vectors = (not set)", f"vectors = {json.dumps(str(files / 'vectors'))}")
    (tmp_path / "run.toml").write_text(text)
    invoke("train", "ner", "--config", tmp_path / "run.toml", "--output", tmp_path / "from-config", *TINY)
    invoke("train", "ner", "--train", files / "train.conll", "--vectors", files / "vectors", "--output", tmp_path / "defaults", *TINY)
    configs = [json.loads((tmp_path / d / "config.json").read_text()) for d in ("from-config", "defaults")]
    losses = [[epoch["loss"] for epoch in c["training"]["history"]] for c in configs]
    assert configs[0]["config"] == configs[1]["config"] and losses[0] == losses[1]
    weights = [(tmp_path / d / "weights.safetensors").read_bytes() for d in ("from-config", "defaults")]
    assert weights[0] == weights[1]


def test_file_then_dotted_overrides_then_shorthands(tmp_path):
    task = get_task("ner")
    (tmp_path / "run.toml").write_text('[data]\ntrain = "a.conll"\n[model]\nhidden = 6\nchar = "lstm"\n'
                                       '[trainer]\nlr = 1\n[output]\npath = "m"\n')  # fmt: skip
    run = resolve_config(task, path=tmp_path / "run.toml")
    assert (run.model.hidden, run.model.char, run.model.lr, run.data.train, run.output.path) == (6, "lstm", 1.0, [Path("a.conll")], Path("m"))
    assert run.model.head == "crf" and run.reader == {"tag_column": -1, "scheme": "auto", "tokens_field": "tokens", "tags_field": "ner_tags",
                                                         "label_names": None, "split": None} and run.data.seed == 0
    overrides = parse_overrides(["--model.hidden", "7", "--trainer.max-epochs=4", "--data.scheme", "iob1", "--model.casing", "false"])
    run = resolve_config(task, path=tmp_path / "run.toml", overrides=overrides)
    assert (run.model.hidden, run.model.max_epochs, run.reader["scheme"], run.model.casing) == (7, 4, "iob1", False)
    run = resolve_config(task, path=tmp_path / "run.toml", overrides=overrides, options={"model.hidden": 8, "output.path": Path("n")})
    assert (run.model.hidden, run.model.max_epochs, run.output.path) == (8, 4, Path("n"))
    run = resolve_config(get_task("classify"), overrides=parse_overrides(["--model.kernel_sizes", "[2, 3]"]),
                         options={"data.train": [Path("t.tsv")], "output.path": Path("o")})  # fmt: skip
    assert run.model.kernel_sizes == (2, 3) and run.reader == {"text_column": None, "label_column": None, "label_separator": None,
                                                                   "label_names": None, "split": None}


def test_a_config_sets_what_the_cli_trains(files, tmp_path):
    (tmp_path / "run.toml").write_text(f'task = "ner"\n[data]\ntrain = {json.dumps(str(files / "train.conll"))}\n'
                                       '[model]\nembeddings = "scratch"\nhidden = 5\n[trainer]\nmax_epochs = 2\n')  # fmt: skip
    invoke("train", "ner", "-c", tmp_path / "run.toml", "--model.char", "none", "--trainer.patience", "1", "--output", tmp_path / "m", "-q")
    saved = json.loads((tmp_path / "m" / "config.json").read_text())
    assert {k: saved["config"][k] for k in ("embeddings", "hidden", "char", "patience", "max_epochs")} == {
        "embeddings": "scratch", "hidden": 5, "char": "none", "patience": 1, "max_epochs": 2}
    assert len(saved["training"]["history"]) == 2


@pytest.mark.parametrize("content,needle", [
    ("[trainer\nlr = 1\n", r"run\.toml:1: not valid TOML"),
    ("[model]\nhidden = 5\n\n[trainer]\nlr = = 1\n", r"run\.toml:5: not valid TOML"),
    ("[trainr]\nlr = 1\n", r"run\.toml: unknown section \[trainr\]"),
    ("[trainer]\nlrr = 1\n", r"run\.toml: unknown setting trainer\.lrr for ner models \(did you mean trainer\.lr\?\)"),
    ("[model]\nlr = 1\n", r"unknown setting model\.lr .*did you mean trainer\.lr"),
    ("lr = 1\n", r"run\.toml: 'lr' is not a section .* belongs under \[trainer\]"),
    ('[trainer]\nlr = "fast"\n', r"run\.toml: trainer\.lr must be a number, got 'fast'"),
    ("[model]\ncasing = 1\n", r"run\.toml: model\.casing must be true or false"),
    ("[trainer]\nbatch_size = 0\n", r"run\.toml: trainer\.batch_size must be at least 1"),
    ('[model]\nencoder = "quantum"\n', r"run\.toml: unknown encoder 'quantum'"),
    ('task = "classify"\n', r"run\.toml: this config is for task 'classify'"),
    (b"[model]\nchar = \"\xff\"\n", r"run\.toml:2: not valid utf-8"),
])  # fmt: skip
def test_a_bad_config_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys, content, needle):
    (tmp_path / "run.toml").write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["veclift", "train", "ner", "--config", "run.toml", "--train", "a.conll", "--output", "m"])
    with pytest.raises(SystemExit) as exit_info:
        veclift.cli.main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert re.search(needle, err), err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("args,needle", [
    (["--trainer.lr", "fast"], "--trainer.lr: trainer.lr must be a number, got 'fast'"),
    (["--trainer.lrr", "1"], "--trainer.lrr: unknown setting trainer.lrr"),
    (["--nosuch.lr", "1"], "--nosuch.lr: unknown section [nosuch]"),
    (["--model.hidden"], "--model.hidden needs a value"),
    (["--frobnicate", "3"], "no such option: --frobnicate"),
    (["stray"], "unexpected argument 'stray'"),
    (["--lr", "0"], "--lr: lr must be above 0"),
    (["--config", "missing.toml"], "missing.toml: no such config file"),
])  # fmt: skip
def test_bad_overrides_name_the_option(tmp_path, args, needle):
    with pytest.raises(VecliftError) as info:
        invoke("train", "ner", "--train", tmp_path / "a.conll", "--output", tmp_path / "m", *args)
    assert needle in str(info.value)


def test_missing_train_or_output_names_the_option(tmp_path):
    with pytest.raises(VecliftError, match=r"data\.train is not set: give --train"):
        invoke("train", "ner", "--output", tmp_path / "m")
    with pytest.raises(VecliftError, match=r"output\.path is not set: give --output"):
        invoke("train", "ner", "--train", tmp_path / "a.conll")


def test_each_task_help_shows_only_its_own_options_with_defaults():
    listing = invoke("train", "--help", env=WIDE)
    assert all(name in listing for name in ("ner", "classify"))
    ner = invoke("train", "ner", "--help", env=WIDE)
    classify = invoke("train", "classify", "--help", env=WIDE)
    for option in ("--head", "--char", "--casing", "--tag-column", "--scheme", "--init-encoder"):
        assert option in ner and option not in classify
    for option in ("--kernel-sizes", "--metric", "--text-column", "--label-column", "--multi-label", "--single-label"):
        assert option in classify and option not in ner
    for text in (ner, classify):
        assert all(option in text for option in ("--train", "--output", "--epochs", "--lr", "--config", "--overwrite", "--json"))
        assert "trainer.max_epochs" in text and "--trainer.lr 0.001" in text
    assert "(8)" in ner and "(64)" in classify  # each task's own default batch size
    assert "(bilstm)" in ner and "(bilstm-max)" in classify


def test_init_config_writes_a_file_only_once_without_overwrite(tmp_path):
    invoke("init", "config", "classify", "--output", tmp_path / "run.toml")
    assert tomllib.loads((tmp_path / "run.toml").read_text())["task"] == "classify"
    (tmp_path / "run.toml").write_text("mine\n")
    with pytest.raises(VecliftError, match="--overwrite"):
        invoke("init", "config", "ner", "--output", tmp_path / "run.toml")
    assert (tmp_path / "run.toml").read_text() == "mine\n"
    invoke("init", "config", "ner", "--output", tmp_path / "run.toml", "--overwrite")
    assert (tmp_path / "run.toml").read_text() == config_toml(get_task("ner"))
    with pytest.raises(VecliftError, match="unknown task 'parse'"):
        invoke("init", "config", "parse")


def _toy_file(path: Path, n: int, seed: int, separator: str) -> Path:
    rng = random.Random(seed)
    topics = {"people": [w.lower() for w in PEOPLE], "places": [w.lower() for w in CITIES]}
    lines = []
    for _ in range(n):
        topic = rng.choice(sorted(topics))
        lines.append(f"{topic}{separator}{' '.join(rng.choice(topics[topic]) for _ in range(2))} the")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_task_added_through_the_registry_gets_train_init_config_evaluate_and_predict(files, tmp_path):
    assert toy_task.NAME in task_names()
    assert "--separator" in invoke("train", toy_task.NAME, "--help", env=WIDE)
    assert "separator = " in invoke("init", "config", toy_task.NAME)
    train, test = _toy_file(tmp_path / "train.txt", 80, 0, "|"), _toy_file(tmp_path / "test.txt", 40, 1, "\t")
    (tmp_path / "run.toml").write_text(f'task = "{toy_task.NAME}"\n[data]\nseparator = "|"\n[trainer]\nlr = 0.05\nmax_epochs = 15\n')
    invoke("train", toy_task.NAME, "--config", tmp_path / "run.toml", "--train", train, "--vectors", files / "vectors",
           "--embeddings", "frozen", "--output", tmp_path / "toy", "--quiet")  # fmt: skip
    labels, texts = zip(*(line.split("\t") for line in test.read_text().splitlines()))
    baseline = max(labels.count(label) for label in set(labels)) / len(labels)
    table = invoke("evaluate", tmp_path / "toy", test)  # its score table, read with its reader's default options
    score = float(next(line for line in table.splitlines() if "accuracy" in line).split()[-2])
    assert score > baseline + 0.2, table
    answers = [json.loads(line) for line in runner.invoke(veclift.cli.app, ["predict", str(tmp_path / "toy")],
                                                            input="\n".join(texts) + "\n").stdout.splitlines()]  # fmt: skip
    accuracy = sum(answer["label"] == label for answer, label in zip(answers, labels)) / len(labels)
    assert len(answers) == len(labels) and accuracy > baseline + 0.2, (accuracy, baseline)
