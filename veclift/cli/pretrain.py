"""`veclift pretrain word2vec|fasttext|glove CORPUS... --output DIR`: train or adapt vectors on raw text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from veclift.atomic import check_output
from veclift.cli import app
from veclift.cli.option_groups import Options, with_options
from veclift.cli.options import OVERWRITE
from veclift.tasks.config import TaggerConfig

pretrain_app = typer.Typer(help="Train word vectors on raw text, or adapt pre-trained ones to it.", no_args_is_help=True)
app.add_typer(pretrain_app, name="pretrain")

CORPUS = typer.Argument(..., help="Text, JSONL or PDF files, or folders of them (gzip/bz2 allowed).")
OUTPUT = typer.Option(..., "--output", "-o", help="Directory for the vectors (native format).")
DIM = typer.Option(100, "--dim", min=1, help="Vector dimension.")
MIN_COUNT = typer.Option(5, "--min-count", min=1, help="Ignore words seen fewer times.")
SEED = typer.Option(0, "--seed", min=0, help="Random seed.")
LOWERCASE = typer.Option(
    None, "--lowercase/--keep-case", help="Lower-case the corpus (default: keep case, or follow --init vectors)."
)
TEXT_FIELD = typer.Option("text", "--text-field", help="JSONL field holding the text.")
JSON = typer.Option(False, "--json", help="Print one JSON object.")

# The trainers' hyperparameters: each option is the field of the same name of the trainer's settings
# (`Word2VecSettings`, `FastTextSettings`, `GloveSettings`), with the same default.
GENSIM_OPTIONS: Options = {
    "dim": (int, DIM),
    "window": (int, typer.Option(5, "--window", min=1, help="Context words on each side.")),
    "epochs": (int, typer.Option(5, "--epochs", min=1, help="Passes over the corpus.")),
    "min_count": (int, MIN_COUNT),
    "sg": (bool, typer.Option(True, "--sg/--cbow", help="Skip-gram or CBOW.")),
    "negative": (int | None, typer.Option(None, "--negative", min=1, help="Negative samples k (default: by corpus size, 20 to 3).")),
    "hs": (bool, typer.Option(False, "--hs", help="Hierarchical softmax instead of negative sampling.")),
    "sample": (float, typer.Option(1e-3, "--sample", min=0.0, max=1.0, help="Subsampling threshold for frequent words (0 = off).")),
    "workers": (int, typer.Option(1, "--workers", min=1, help="Training threads (more than 1 is faster but not bit-exact).")),
    "seed": (int, SEED),
}
FASTTEXT_OPTIONS: Options = {
    **GENSIM_OPTIONS,
    "min_n": (int, typer.Option(3, "--min-n", min=1, help="Shortest character n-gram.")),
    "max_n": (int, typer.Option(6, "--max-n", min=1, help="Longest character n-gram.")),
    "buckets": (int, typer.Option(500_000, "--buckets", min=1, help="Hash buckets for the n-gram vectors.")),
}
GLOVE_OPTIONS: Options = {
    "dim": (int, DIM),
    "window": (int, typer.Option(10, "--window", min=1, help="Context words on each side (weighted 1/distance).")),
    "epochs": (int, typer.Option(25, "--epochs", min=1, help="Passes over the co-occurring pairs.")),
    "min_count": (int, MIN_COUNT),
    "x_max": (float, typer.Option(10.0, "--x-max", min=0.0, help="Counts at or above this get full weight.")),
    "learning_rate": (float, typer.Option(0.05, "--learning-rate", min=0.0, help="AdaGrad step size.")),
    "batch_size": (int, typer.Option(8192, "--batch-size", min=1, help="Co-occurring pairs per update.")),
    "threads": (int, typer.Option(1, "--threads", min=1, help="PyTorch threads for fitting.")),
    "seed": (int, SEED),
}


WORD2VEC_OPTIONS: Options = {  # plus continued training of pre-trained vectors
    **GENSIM_OPTIONS,
    "init": (str | None, typer.Option(None, "--init", help="Continue training these vectors (built-in name or file) on the corpus.")),
    "warmup_epochs": (int, typer.Option(1, "--warmup-epochs", min=0, help="With --init: epochs with known words locked.")),
    "neighbors": (str, typer.Option("", "--neighbors", help="With --init: show neighbours of W1,W2,... before and after.")),
}


def _corpus(paths: list[Path], lowercase: bool | None, text_field: str):
    from veclift.pretrain.corpus import Corpus

    return Corpus(paths, text_field=text_field, lowercase=bool(lowercase))


def _finish(vectors, corpus, output: Path, overwrite: bool, json_output: bool, report=None) -> None:
    import json

    from veclift.cli.console import out

    vectors.save(output, overwrite=overwrite)
    summary = {
        "output": str(output),
        "count": len(vectors),
        "dim": vectors.dim,
        "trainer": vectors.meta.get("trainer"),
        "training": vectors.meta.get("training"),
        "skipped_files": corpus.skipped,
    }
    if report is not None:
        summary["adaptation"] = report.to_dict()
    if json_output:
        print(json.dumps(summary, ensure_ascii=False))
        return
    training = summary["training"]
    phases = training.items() if "warmup" in training or "adapt" in training else [("trained", training)]
    out.print(f"wrote {len(vectors):,} x {vectors.dim} vectors to {output}", highlight=False)
    for phase, stage in phases:
        if "words_per_second" in stage:
            out.print(
                f"{phase}: {stage['corpus_tokens']:,} tokens · vocabulary {stage['vocabulary']:,} · "
                f"{stage['seconds']:.1f} s · {stage['words_per_second']:,.0f} words/s",
                highlight=False,
            )
    if "epoch_seconds" in training and "cost_per_epoch" in training:
        out.print(
            f"{training['corpus_tokens']:,} tokens · vocabulary {training['vocabulary']:,} · "
            f"{training['nonzero_cells']:,} co-occurring pairs · counting {training['counting_seconds']:.1f} s · "
            f"{sum(training['epoch_seconds']) / len(training['epoch_seconds']):.2f} s/epoch · "
            f"final cost {training['cost_per_epoch'][-1]:.4f}",
            highlight=False,
        )
    if corpus.skipped:
        out.print(f"skipped {len(corpus.skipped)} unreadable file(s)", highlight=False)
    if report is not None:
        _print_report(report)


def _print_report(report) -> None:
    from rich.table import Table

    from veclift.cli.console import out

    out.print(
        f"{report.known_trained:,} known words trained, mean cosine to their original vector "
        f"{report.mean_cosine_to_original:.3f}; {report.new_words:,} new words",
        highlight=False,
    )
    out.print("moved most: " + ", ".join(f"{w} ({c:.2f})" for w, c in report.most_moved), highlight=False)
    for word, sides in report.neighbors.items():
        table = Table(title=f"neighbours of {word!r}")
        table.add_column("before")
        table.add_column("after")
        before, after = sides["before"], sides["after"]
        for i in range(max(len(before), len(after))):
            table.add_row(*(f"{side[i][0]} {side[i][1]:.2f}" if i < len(side) else "" for side in (before, after)))
        out.print(table)


def _train_word2vec(paths: list[Path], lowercase: bool | None, text_field: str, options: dict, progress: bool):
    """word2vec; with ``init``, continued training of those vectors (the corpus cased as they are unless told)."""
    from veclift.pretrain.word2vec import Word2VecSettings, train_word2vec

    init, warmup_epochs, neighbors = (options.pop(k) for k in ("init", "warmup_epochs", "neighbors"))
    settings = Word2VecSettings(**options)
    if init is None:
        text = _corpus(paths, lowercase, text_field)
        return train_word2vec(text, settings, progress=progress), text, None
    from veclift.pretrain.continue_training import continue_training
    from veclift.vectors import Vectors

    initial = Vectors.load(init, progress=progress)
    text = _corpus(paths, initial.lowercase if lowercase is None else lowercase, text_field)
    shown = [w.strip() for w in neighbors.split(",") if w.strip()]
    adapted, report = continue_training(initial, text, settings, warmup_epochs=warmup_epochs, neighbors=shown, progress=progress)
    return adapted, text, report


def _train_fasttext(paths: list[Path], lowercase: bool | None, text_field: str, options: dict, progress: bool):
    from veclift.pretrain.fasttext import FastTextSettings, train_fasttext

    text = _corpus(paths, lowercase, text_field)
    return train_fasttext(text, FastTextSettings(**options), progress=progress), text, None


def _train_glove(paths: list[Path], lowercase: bool | None, text_field: str, options: dict, progress: bool):
    from veclift.pretrain.glove import GloveSettings, train_glove

    text = _corpus(paths, lowercase, text_field)
    return train_glove(text, GloveSettings(**options), progress=progress), text, None


def _trainer_command(name: str, options: Options, train: Callable, help: str) -> None:
    """Register `pretrain NAME`: ``train(paths, lowercase, text_field, options, progress)`` gives the vectors
    (written to --output), the corpus read and a report of the adaptation (or None)."""

    @pretrain_app.command(name, help=help)
    @with_options(options)
    def command(
        corpus: list[Path] = CORPUS,
        output: Path = OUTPUT,
        overwrite: bool = OVERWRITE,
        lowercase: bool | None = LOWERCASE,
        text_field: str = TEXT_FIELD,
        json_output: bool = JSON,
        *,
        options: dict,
    ) -> None:
        check_output(output, overwrite=overwrite, directory=True)
        vectors, text, report = train(corpus, lowercase, text_field, options, not json_output)
        _finish(vectors, text, output, overwrite, json_output, report)


_trainer_command("word2vec", WORD2VEC_OPTIONS, _train_word2vec,
                 "Skip-gram or CBOW word2vec (gensim); with --init, adapt pre-trained vectors to the corpus.")  # fmt: skip
_trainer_command("fasttext", FASTTEXT_OPTIONS, _train_fasttext,
                 "fastText (gensim): word2vec plus character n-grams; the output keeps its subword model.")  # fmt: skip
_trainer_command("glove", GLOVE_OPTIONS, _train_glove,
                 "GloVe in PyTorch: weighted co-occurrence counts, weighted least squares, AdaGrad; writes W + W~.")  # fmt: skip


TAGGER = TaggerConfig()  # the encoder's shape defaults are the tagger's, so --init-encoder takes it as is


@pretrain_app.command("encoder")
def encoder(
    corpus: list[Path] = CORPUS,
    vectors: str = typer.Option(..., "--vectors", help="Vectors whose rows the encoder learns to predict (built-in name, native dir or file)."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory for the pre-trained encoder."),
    overwrite: bool = OVERWRITE,
    encoder_kind: str = typer.Option(TAGGER.encoder, "--encoder", help="bilstm | cnn (as the tagger will use)."),
    hidden: int = typer.Option(TAGGER.hidden, "--hidden", min=1, help="LSTM units per direction (CNN: channels / 2), as the tagger will use."),
    layers: int = typer.Option(TAGGER.layers, "--layers", min=1, help="Encoder layers, as the tagger will use."),
    char: str = typer.Option(TAGGER.char, "--char", help="Character features cnn | lstm | none, as the tagger will use."),
    casing: bool = typer.Option(TAGGER.casing, "--casing/--no-casing", help="Casing features, as the tagger will use."),
    epochs: int = typer.Option(1, "--epochs", min=1, help="Passes over the corpus."),
    max_sentences: int | None = typer.Option(None, "--max-sentences", min=1, help="Read only the first N sentences."),
    mask_prob: float = typer.Option(0.15, "--mask-prob", min=0.0, max=0.95, help="Share of the words masked and predicted."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Sentences per update."),
    lr: float | None = typer.Option(None, "--lr", min=0.0, help="Adam learning rate (default: the tagger's)."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Checkpoint file written every epoch; resumed from if present."),
    threads: int | None = typer.Option(None, "--threads", min=1, help="torch threads (default: the cores other work leaves free)."),
    seed: int = SEED,
    text_field: str = TEXT_FIELD,
    json_output: bool = JSON,
) -> None:
    """Pre-train a tagger's encoder on raw text (like `spacy pretrain`); use it with `veclift train ner --init-encoder`."""
    check_output(output, overwrite=overwrite, directory=True)
    import json

    from veclift.cli.console import out
    from veclift.pretrain.encoder import pretrain_encoder

    from veclift.cores import free_cores, limit_threads

    limit_threads(threads or free_cores())
    config = TaggerConfig(encoder=encoder_kind, hidden=hidden, layers=layers, char=char, casing=casing)
    text = _corpus(corpus, False, text_field)
    result = pretrain_encoder(text, vectors, config, epochs=epochs, max_sentences=max_sentences, mask_prob=mask_prob,
                              batch_size=batch_size, lr=lr, seed=seed, checkpoint=checkpoint,
                              progress=not json_output)  # fmt: skip
    result.save(output, overwrite=overwrite)
    meta = result.meta
    summary = {"output": str(output), "architecture": result.architecture, "skipped_files": text.skipped,
               **{k: meta[k] for k in ("sentences", "tokens", "known_tokens", "epochs", "seconds", "history")}}  # fmt: skip
    if json_output:
        print(json.dumps(summary, ensure_ascii=False))
        return
    last = meta["history"][-1]
    out.print(
        f"wrote the pre-trained {encoder_kind} encoder to {output}: {meta['sentences']:,} sentences · "
        f"{meta['tokens']:,} tokens ({meta['known_tokens']:,} with a vector) · {meta['epochs']} epoch(s) · "
        f"{meta['seconds']:.1f} s · {last['words_per_second']:,.0f} words/s · final loss {last['loss']:.4f}",
        highlight=False,
    )
