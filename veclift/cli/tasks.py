"""`veclift train ner|classify`, `veclift evaluate`, `veclift predict`: thin wrappers over `veclift.tasks`."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from veclift.cli import app
from veclift.cli.console import err, out
from veclift.cli.options import OVERWRITE
from veclift.errors import VecliftError


class Task(str, Enum):
    ner = "ner"
    classify = "classify"


class PredictFormat(str, Enum):
    conll = "conll"
    jsonl = "jsonl"
    text = "text"


JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _column(value: str | None) -> str | int | None:
    """A column given by name, or by index when it is a number."""
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def read_data(task: str, paths: list[Path], *, tag_column: int = -1, scheme: str = "auto", text_column: str | None = None,
              label_column: str | None = None, label_separator: str | None = None) -> list:  # fmt: skip
    """Tagged sentences (ner: the files one after the other) or labeled texts (classify: several
    files are one file per label) from ``paths``, with the reader options that apply."""
    from veclift.data import read_labeled, read_tagged

    for path in paths:
        if not path.exists():
            raise VecliftError("no such file or directory", path)
    path = paths[0]
    if task == "ner":
        data = [s for p in paths for s in read_tagged(p, tag_column=tag_column, scheme=scheme)]
    elif len(paths) > 1 or path.is_dir():
        data = read_labeled(paths)
    elif path.suffix.lower() in JSONL_SUFFIXES:
        options = {"text_field": text_column, "label_field": label_column}
        data = read_labeled(path, **{k: v for k, v in options.items() if v is not None})
    else:
        options = {"text_column": _column(text_column), "label_column": _column(label_column), "label_separator": label_separator}
        data = read_labeled(path, **{k: v for k, v in options.items() if v is not None})
    if not data:
        raise VecliftError("no examples found", path)
    return data


@app.command("train")
def train_command(
    task: Task = typer.Argument(..., help="ner (sequence tagging) or classify (text classification)."),
    train: list[Path] = typer.Option(..., "--train", help="Training data: CoNLL/JSONL (ner); TSV/CSV/JSONL/folder, or one file per label given as several --train (classify)."),
    output: Path = typer.Option(..., "--output", "-o", help="Model directory to write."),
    overwrite: bool = OVERWRITE,
    dev: Optional[list[Path]] = typer.Option(None, "--dev", help="Dev data for early stopping (same format as --train)."),
    vectors: Optional[str] = typer.Option(None, "--vectors", help="Vector source: built-in name, native dir or vector file."),
    embeddings: str = typer.Option("finetune", "--embeddings", help="scratch | frozen | finetune | contextual-frozen | contextual-finetune, or a stack such as contextual-frozen+frozen."),
    max_sentences: Optional[int] = typer.Option(None, "--max-sentences", min=1, help="Train on a seeded subsample of N examples."),
    seed: int = typer.Option(0, "--seed", min=0),
    epochs: Optional[int] = typer.Option(None, "--epochs", min=1, help="Maximum number of epochs."),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="ner: bilstm | cnn; classify: swem-mean|swem-max|swem-concat|bilstm-max|bilstm-attention|cnn."),
    head: Optional[str] = typer.Option(None, "--head", help="ner: crf | softmax."),
    char: Optional[str] = typer.Option(None, "--char", help="ner: character features cnn | lstm | none."),
    casing: Optional[bool] = typer.Option(None, "--casing/--no-casing", help="ner: casing features."),
    oov: Optional[str] = typer.Option(None, "--oov", help="OOV chain used to build rows, e.g. lower,char-ngram or none."),
    keep_vectors: Optional[int] = typer.Option(None, "--keep-vectors", min=0, help="Most frequent pre-trained rows kept in the model."),
    lr: Optional[float] = typer.Option(None, "--lr", min=0.0),
    finetune_lr_ratio: Optional[float] = typer.Option(None, "--finetune-lr-ratio", min=0.0, help="lr of fine-tuned rows / --lr."),
    l2_pull: Optional[float] = typer.Option(None, "--l2-pull", min=0.0, help="L2 pull of fine-tuned rows to their original."),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="adam | sgd."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1),
    patience: Optional[int] = typer.Option(None, "--patience", min=0, help="Epochs without dev improvement before stopping."),
    dropout: Optional[float] = typer.Option(None, "--dropout", min=0.0, max=0.95),
    hidden: Optional[int] = typer.Option(None, "--hidden", min=1, help="LSTM units per direction."),
    init_encoder: Optional[str] = typer.Option(None, "--init-encoder", help="ner: start from a `veclift pretrain encoder` directory."),
    metric: Optional[str] = typer.Option(None, "--metric", help="classify: dev score accuracy | macro_f1."),
    multi_label: Optional[bool] = typer.Option(None, "--multi-label/--single-label", help="classify: default detected."),
    tag_column: int = typer.Option(-1, "--tag-column", help="ner: column of the tag (default last)."),
    scheme: str = typer.Option("auto", "--scheme", help="ner: tag scheme of the files: auto | iob1 | iob2 | bioes."),
    text_column: Optional[str] = typer.Option(None, "--text-column", help="classify: text column (name or index) or JSONL field."),
    label_column: Optional[str] = typer.Option(None, "--label-column", help="classify: label column (name or index) or JSONL field."),
    label_separator: Optional[str] = typer.Option(None, "--label-separator", help="classify: split label cells (multi-label)."),
    contextual_model: Optional[str] = typer.Option(None, "--contextual-model", help="contextual: Hugging Face encoder directory (default: the packaged MiniLM)."),
    contextual_pooling: Optional[str] = typer.Option(None, "--contextual-pooling", help="contextual: sub-token of each word: first | mean | last."),
    contextual_layers: Optional[int] = typer.Option(None, "--contextual-layers", min=1, help="contextual: average of the last K hidden layers."),
    contextual_lr: Optional[float] = typer.Option(None, "--contextual-lr", min=0.0, help="contextual-finetune: encoder learning rate."),
    contextual_warmup: Optional[float] = typer.Option(None, "--contextual-warmup", min=0.0, max=1.0, help="contextual-finetune: fraction of steps warming up."),
    contextual_cache: Optional[str] = typer.Option(None, "--contextual-cache", help="contextual-frozen: features cache directory."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Checkpoint file written every epoch; resumed from if present."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="torch threads (default: torch's)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the training summary as one JSON object."),
) -> None:
    """Train a NER tagger or a text classifier and write its model directory."""
    from veclift.atomic import check_output
    from veclift.data import subsample
    from veclift.tasks import model_class
    from veclift.tasks.config import split_strategy

    check_output(output, overwrite=overwrite, directory=True)
    if threads:
        import torch

        torch.set_num_threads(threads)
    options = {
        "embeddings": embeddings, "max_epochs": epochs, "encoder": encoder, "head": head, "char": char, "casing": casing,
        "oov": oov, "keep_vectors": keep_vectors, "lr": lr, "finetune_lr_ratio": finetune_lr_ratio, "l2_pull": l2_pull,
        "optimizer": optimizer, "batch_size": batch_size, "patience": patience, "dropout": dropout, "hidden": hidden,
        "init_encoder": init_encoder,
        "metric": metric, "multi_label": multi_label, "contextual_model": contextual_model,
        "contextual_pooling": contextual_pooling, "contextual_layers": contextual_layers, "contextual_lr": contextual_lr,
        "contextual_warmup": contextual_warmup, "contextual_cache": contextual_cache,
    }  # fmt: skip
    options = {k: v for k, v in options.items() if v is not None}
    cls = model_class(task.value)
    fields = set(cls.config_class.__dataclass_fields__)
    wrong = [k for k in options if k not in fields]
    if wrong:
        raise VecliftError(f"--{wrong[0].replace('_', '-')} does not apply to {task.value} models")
    model = cls(**options)
    reader = dict(tag_column=tag_column, scheme=scheme, text_column=text_column, label_column=label_column, label_separator=label_separator)
    train_data = read_data(task.value, train, **reader)
    if max_sentences is not None:
        key = (lambda item: item.labels) if task is Task.classify else None
        train_data = subsample(train_data, max_sentences, seed, stratify=key)
    dev_data = read_data(task.value, dev, **reader) if dev else None
    static, _ = split_strategy(model.config.embeddings)
    if vectors is None and static not in (None, "scratch"):
        raise VecliftError(f"--embeddings {model.config.embeddings} needs --vectors")
    model.fit(train_data, dev_data, vectors=vectors, seed=seed, checkpoint=checkpoint, progress=not quiet)
    model.save(output, overwrite=overwrite)
    result = model.train_result
    summary = {
        "output": str(output), "task": task.value, "embeddings": model.config.embeddings, "train_size": len(train_data),
        "epochs": len(result.history), "best_epoch": result.best_epoch, "dev_score": result.best_score,
        "train_seconds": result.seconds,
    }  # fmt: skip
    if as_json:
        print(json.dumps(summary))
        return
    score = f", best dev {_score_name(task.value, model)} {result.best_score:.4f} at epoch {result.best_epoch}" if result.best_score is not None else ""
    err.print(f"trained {task.value} model on {len(train_data)} examples in {result.seconds:.1f} s, {len(result.history)} epochs{score}", highlight=False)
    out.print(f"model written to {output}", highlight=False)


def _fraction(value: float | None) -> str:
    """A score for the table; ``n/a`` where it is undefined (an empty group of the transfer view)."""
    return "n/a" if value is None else f"{value:.4f}"


def _score_name(task: str, model: Any) -> str:
    return "F1" if task == "ner" else model.config.metric


@app.command("evaluate")
def evaluate_command(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help="A model directory written by `veclift train`."),
    data: list[Path] = typer.Argument(..., help="Labeled data in the training formats (classify: several files are one file per label)."),
    vectors: Optional[str] = typer.Option(None, "--vectors", help="Vectors giving rows to words the model lacks."),
    tag_column: int = typer.Option(-1, "--tag-column"),
    scheme: str = typer.Option("auto", "--scheme"),
    text_column: Optional[str] = typer.Option(None, "--text-column"),
    label_column: Optional[str] = typer.Option(None, "--label-column"),
    label_separator: Optional[str] = typer.Option(None, "--label-separator"),
    as_json: bool = typer.Option(False, "--json", help="Print all scores as one JSON object."),
) -> None:
    """Score a model on labeled data: entity F1 (ner) or accuracy/macro-F1 (classify), with the transfer view."""
    from rich.table import Table

    from veclift.tasks import load_model

    model = load_model(model_dir)
    items = read_data(model.task, data, tag_column=tag_column, scheme=scheme, text_column=text_column,
                      label_column=label_column, label_separator=label_separator)  # fmt: skip
    try:
        scores = model.evaluate(items, vectors=vectors)
    except VecliftError as exc:
        if exc.path is not None:
            raise
        raise VecliftError(exc.message, ", ".join(map(str, data))) from None
    if as_json:
        print(json.dumps(scores))
        return
    table = Table(title=f"{', '.join(map(str, data))} ({model.task})")
    if model.task == "ner":
        for column in ("type", "precision", "recall", "f1", "support"):
            table.add_column(column, justify="left" if column == "type" else "right")
        for kind, s in scores["per_type"].items():
            table.add_row(kind, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(s["support"]))
        table.add_row("all", f"{scores['precision']:.4f}", f"{scores['recall']:.4f}", f"{scores['f1']:.4f}", str(scores["gold_entities"]), style="bold")
        out.print(table)
        for group, s in scores["transfer"].items():
            out.print(f"{group:>8} entities: F1 {_fraction(s['f1'])} ({s['gold']} gold)", highlight=False)
    else:
        for column in ("class", "precision", "recall", "f1", "support"):
            table.add_column(column, justify="left" if column == "class" else "right")
        for name, s in scores["per_class"].items():
            table.add_row(name, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", str(s["support"]))
        out.print(table)
        out.print(f"accuracy {scores['accuracy']:.4f}  macro-F1 {scores['macro_f1']:.4f}", highlight=False)
        for group, s in scores["transfer"].items():
            out.print(f"{group:>12}: accuracy {_fraction(s['accuracy'])} ({s['count']} texts)", highlight=False)


@app.command("predict")
def predict_command(
    model_dir: Path = typer.Argument(..., metavar="MODEL", help="A model directory written by `veclift train`."),
    input_path: Optional[Path] = typer.Argument(None, metavar="[INPUT]", help="Input file; standard input when omitted."),
    format: Optional[PredictFormat] = typer.Option(
        None, "--format", help="Input: conll (token per line), jsonl ({'tokens'|'text'} per line) or text (one "
        "sentence/text per line). Default: jsonl for .jsonl/.json, conll for .conll, else text."),  # fmt: skip
    vectors: Optional[str] = typer.Option(None, "--vectors", help="Vectors giving rows to words the model lacks."),
) -> None:
    """Tag or classify new text; results on stdout (CoNLL or JSONL for taggers, JSONL with probabilities for classifiers)."""
    from veclift.data.textfile import decode_text, read_text
    from veclift.tasks import load_model

    model = load_model(model_dir)
    if input_path is not None and not input_path.is_file():
        raise VecliftError("no such file", input_path)
    source = str(input_path) if input_path is not None else "<stdin>"
    text = read_text(input_path) if input_path is not None else decode_text(sys.stdin.buffer.read(), source)
    if format is None:
        suffix = input_path.suffix.lower() if input_path is not None else ""
        format = PredictFormat.jsonl if suffix in JSONL_SUFFIXES else PredictFormat.conll if suffix == ".conll" else PredictFormat.text
    records = _read_records(text, format, source, model.task)
    if not records:
        raise VecliftError("no input to predict", source)
    token_lists = [record["tokens"] for record in records]
    write = sys.stdout.write
    if model.task == "ner":
        tags = model.predict(token_lists, vectors=vectors)
        for record, row in zip(records, tags):
            if format is PredictFormat.jsonl:
                entities = [{"type": kind, "start": s, "end": e, "text": " ".join(record["tokens"][s:e])} for kind, s, e in _spans(row)]
                write(json.dumps({**record, "tags": row, "entities": entities}, ensure_ascii=False) + "\n")
            else:
                write("".join(f"{token}\t{tag}\n" for token, tag in zip(record["tokens"], row)) + "\n")
    else:
        proba = model.predict_proba(token_lists, vectors=vectors)
        predicted = model.labels_from_proba(proba)
        key = "labels" if model.multi_label else "label"
        for record, label, row in zip(records, predicted, proba):
            probabilities = {name: round(float(p), 6) for name, p in zip(model.labels, row)}
            write(json.dumps({**record, key: label, "probabilities": probabilities}, ensure_ascii=False) + "\n")


def _spans(tags: list[str]) -> list[tuple[str, int, int]]:
    from veclift.data import spans

    return spans(tags)


def _read_records(text: str, format: PredictFormat, source: str, task: str) -> list[dict[str, Any]]:
    """Input records, each with ``tokens`` (and the original ``text`` or JSON fields)."""
    from veclift.data import tokenize

    lines = text.splitlines()
    if format is PredictFormat.text:
        return [{"text": line, "tokens": tokenize(line)} for line in lines if line.strip()]
    if format is PredictFormat.conll:
        if task != "ner":
            raise VecliftError("--format conll is for taggers; use text or jsonl for a classifier", source)
        records, tokens = [], []
        for line in [*lines, ""]:
            fields = line.split()
            if not fields:
                if tokens:
                    records.append({"tokens": tokens})
                tokens = []
            elif fields[0] != "-DOCSTART-":
                tokens.append(fields[0])
        return records
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise VecliftError(f"not valid JSON: {exc}", source, number) from None
        if not isinstance(item, dict):
            raise VecliftError("expected a JSON object per line", source, number)
        if isinstance(item.get("tokens"), list) and all(isinstance(t, str) for t in item["tokens"]):
            records.append(item)
        elif isinstance(item.get("text"), str):
            records.append({**item, "tokens": tokenize(item["text"])})
        else:
            raise VecliftError('each line needs "tokens" (a list of strings) or "text"', source, number)
        if not records[-1]["tokens"] and task != "ner":
            raise VecliftError("empty text", source, number)
    return records
