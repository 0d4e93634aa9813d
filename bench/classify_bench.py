"""Sentence classification on whole sentences: MR 10-fold cross-validation and an SST-2 learning
curve on held-out SST-2 sentences, veclift's strategies beside TF-IDF + logistic regression,
fastText supervised and SetFit, with training times.

Protocols:

- ``mr``: MR sentence polarity (rt-polarity.pos/.neg, 10,662 sentences), 10 stratified folds
  (seed 0), the protocol of the published figures. Per fold, 10% of the nine training folds
  (stratified, seed 0) is veclift's dev set (early stopping only); every method trains on the rest.
- ``sst2``: SST-2's train.tsv holds phrases, parts of sentences. Its whole sentences are the rows
  that no other row contains at word boundaries and whose last token ends a sentence (ends with
  ``. ! ? ' " )``): 6,740 of 67,349 rows. A seeded (0) stratified sample of them, 1,000 test and 501
  dev sentences, is held out; the training pool is every row that is not part of a held-out
  sentence (51,022 rows), so no piece of a test sentence is seen in training. Training sets are
  nested stratified samples of the pool per seed (100, 200, 500, 2,000 rows) or all of it.

Methods: ``tfidf-logreg`` (scikit-learn TfidfVectorizer word 1-2-grams, sublinear tf, + C=1
LogisticRegression), ``fasttext`` (``fasttext-wheel``: epoch 25, lr 0.5, wordNgrams 2, dim 50, one
thread), ``setfit`` (the ``setfit`` library with the packaged MiniLM, its defaults but one epoch of
at most ``SETFIT_PAIRS`` pairs; sizes <= 2,000) and veclift variants (``VARIANTS``, or any given as
``--variants 'name={"embeddings": ..., ...}'``; a variant's ``"ensemble": N``, not a classifier
option, trains N of it on the same rows with seeds seed, seed + 100, ... and averages their
probabilities; ``"ensemble": [{...}, ...]`` makes one member per entry, with these options over the
variant's). All train on exactly the same texts.

    python bench/classify_bench.py [--sections mr,sst2] [--variants NAMES|SPECS] [--seeds 0,1,2]
        [--sizes 100,500,2000,all] [--folds 0-9] [--baselines tfidf-logreg,fasttext,setfit] [--quick]
        [--tables-only]

Rows merge into bench/results/classify_bench.json and .md after every model (a row run again is
replaced), so sections, variants and folds can run separately; ``--quick`` runs write
classify_bench_quick.json and .md instead.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import NoReturn
from pathlib import Path

import torch
from common import DATA, RESULTS, WORK, machine_info, markdown_table, write_results
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from veclift.data import kfold, read_label_files, read_table, subsample, train_test_split
from veclift.tasks import TextClassifier, train_and_evaluate
from veclift.tasks.api import prepare_oov
from veclift.vectors import Vectors

NAME = "classify_bench"
LABELS = lambda item: item.labels[0]  # noqa: E731  (stratification key)
SENTENCE_END = tuple(".!?'\")")
SST2_TEST, SST2_DEV = 1000, 500
SIZES = ["100", "500", "2000", "all"]
CONTEXTUAL_MAX_SIZE = 2000  # MiniLM fine-tuning and SetFit on 50,000 rows do not fit a 2-core budget
FASTTEXT = {"epoch": 25, "lr": 0.5, "wordNgrams": 2, "dim": 50, "thread": 1, "verbose": 0}
SETFIT_PAIRS = 1280  # the setfit library baseline, as first measured (veclift's own default is 3,840)
# veclift variants by name: the classifier's options (train_and_evaluate keywords).
VARIANTS: dict[str, dict] = {
    "scratch": {"embeddings": "scratch"},
    "frozen": {"embeddings": "frozen"},
    "finetune": {"embeddings": "finetune"},
    "swem": {"embeddings": "finetune", "encoder": "swem-concat", "batch_size": 256, "lr": 8e-3},  # the default until 2026-12-07
    "swem-fast": {"embeddings": "finetune", "encoder": "swem-concat", "batch_size": 256, "lr": 8e-3, "max_batches": 16,
                  "lr_scaling": "linear", "max_batch_size": 1024},  # fmt: skip
    "cnn-fast": {"embeddings": "finetune", "encoder": "cnn", "batch_size": 256, "lr": 8e-3},
    "minilm-probe": {"embeddings": "contextual-frozen", "encoder": "swem-mean", "contextual_pooling": "mean",
                     "dropout": 0.0, "lr": 1e-2, "batch_size": 256},  # fmt: skip
    "minilm-setfit": {"embeddings": "contextual-setfit", "encoder": "swem-mean", "contextual_pooling": "mean",
                      "dropout": 0.0, "lr": 1e-2, "batch_size": 256, "setfit_pairs": 1280},  # fmt: skip
    "minilm-finetune": {"embeddings": "contextual-finetune", "encoder": "swem-mean", "contextual_pooling": "mean",
                        "max_epochs": 4, "patience": 2, "batch_size": 16},  # fmt: skip
}
DEFAULT_VARIANTS = "scratch,frozen,finetune,swem,swem-fast"
POOL_TEXT = "pool"
"""A variant's ``"self_train": "pool"``: self-training (``--self-train``) on the SST-2 pool rows not in
its training set, as raw text (their labels unused); ``"pool:N"``: a seeded (0) sample of N of them."""


# --- data -------------------------------------------------------------------------------------------
def text(item) -> str:
    return " ".join(item.tokens)


def whole_sentences(rows: Sequence) -> list:
    """The rows no other row contains at word boundaries and whose last token ends a sentence.

    Longest first: a row inside any longer row is inside a maximal one, so each row is searched
    for in the maximal rows found so far only (rows of one length cannot hold each other)."""
    by_length = defaultdict(list)
    for item in {text(item): item for item in rows}.values():
        by_length[len(text(item))].append(item)
    maximal: list = []
    joined = ""
    for length in sorted(by_length, reverse=True):
        found = [item for item in by_length[length] if f" {text(item)} " not in joined]
        maximal.extend(found)
        if found:
            joined += "".join(f"\n {text(item)} " for item in found)
    return [item for item in maximal if item.tokens[-1].endswith(SENTENCE_END)]


def sst2_split() -> tuple[list, list, list]:
    """(training pool, dev sentences, test sentences); see the module docstring."""
    rows = read_table(DATA / "classify" / "sst2" / "train.tsv")
    sentences = whole_sentences(rows)
    rest, test = train_test_split(sentences, SST2_TEST / len(sentences), seed=0, stratify=LABELS)
    _, dev = train_test_split(rest, SST2_DEV / len(rest), seed=0, stratify=LABELS)
    held_out = "".join(f"\n {text(item)} " for item in test + dev)
    pool = [item for item in rows if f" {text(item)} " not in held_out]
    return pool, dev, test


def mr_folds() -> list[tuple[list, list, list]]:
    """Ten (train, dev, test) folds of MR."""
    files = [DATA / "classify" / "mr" / "rt-polarity.pos", DATA / "classify" / "mr" / "rt-polarity.neg"]
    folds = []
    for rest, test in kfold(read_label_files(files), 10, seed=0, stratify=LABELS):
        train, dev = train_test_split(rest, 0.1, seed=0, stratify=LABELS)
        folds.append((train, dev, test))
    return folds


# --- methods ------------------------------------------------------------------------------------------
# Each baseline trains on the items and returns its predictor of texts: training alone is timed,
# as veclift's train_seconds is.
Predictor = Callable[[list[str]], list[str]]


def tfidf_logreg(train: Sequence, seed: int) -> Predictor:
    features = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=True, ngram_range=(1, 2), sublinear_tf=True)
    x = features.fit_transform([text(i) for i in train])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, [i.label for i in train])
    return lambda texts: list(model.predict(features.transform(texts)))


def fasttext_supervised(train: Sequence, seed: int) -> Predictor:
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        # fastText reads the file in order with a decaying rate: a label-sorted file (MR's) leaves it
        # near chance, so the lines are shuffled
        lines = [f"__label__{i.label} {text(i).lower()}\n" for i in train]
        random.Random(seed).shuffle(lines)
        path.write_text("".join(lines), encoding="utf-8")
        model = fasttext.train_supervised(str(path), seed=seed, **FASTTEXT)

    def predict(texts: list[str]) -> list[str]:
        # a list input: fastText 0.9.2's single-text predict breaks on NumPy 2 (np.array(copy=False))
        labels, _ = model.predict([t.lower() for t in texts])
        return [row[0].removeprefix("__label__") for row in labels]

    return predict


def setfit_classifier(train: Sequence, seed: int) -> Predictor:
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from veclift.contextual.backbone import default_model_dir

    model = SetFitModel.from_pretrained(str(default_model_dir()))
    labels = sorted({i.label for i in train})
    data = Dataset.from_dict({"text": [text(i) for i in train], "label": [labels.index(i.label) for i in train]})
    with tempfile.TemporaryDirectory() as tmp:
        arguments = TrainingArguments(output_dir=tmp, batch_size=16, num_epochs=1, max_steps=SETFIT_PAIRS // 16,
                                      seed=seed, save_strategy="no", report_to="none", show_progress_bar=False)  # fmt: skip
        Trainer(model=model, args=arguments, train_dataset=data).train()
    return lambda texts: [labels[int(p)] for p in model.predict(texts)]


BASELINES = {"tfidf-logreg": tfidf_logreg, "fasttext": fasttext_supervised, "setfit": setfit_classifier}


def novel_texts(train: Sequence, test: Sequence, vectors: Vectors) -> list[bool]:
    """Per test text: does it hold a word absent from the training texts but in the vectors
    (lower-cased, as GloVe 6B)? The grouping of veclift's transfer view, for the baselines."""
    seen = {token.lower() for item in train for token in item.tokens}
    return [any(t.lower() not in seen and t.lower() in vectors.index for t in item.tokens) for item in test]


def baseline_row(method: str, train, test, vectors: Vectors, seed: int) -> dict:
    began = time.perf_counter()
    predict = BASELINES[method](train, seed)
    seconds = time.perf_counter() - began
    predicted = predict([text(i) for i in test])
    right = [p == i.label for p, i in zip(predicted, test)]
    novel = [r for n, r in zip(novel_texts(train, test, vectors), right) if n]
    return {"method": method, "accuracy": sum(right) / len(right), "unseen_known": sum(novel) / max(len(novel), 1),
            "unseen_count": len(novel), "train_s": seconds, "epochs": ""}  # fmt: skip


def veclift_row(variant: str, options: dict, train, dev, test, vectors: Vectors, seed: int) -> dict:
    options = dict(options)
    models = options.pop("ensemble", 1)
    if not isinstance(models, int) or models > 1:
        return ensemble_row(variant, options, models, train, dev, test, vectors, seed)
    result = train_and_evaluate("classify", train, dev, test, vectors, seed=seed, **options)
    transfer = result["transfer"]["unseen_known"]
    rounds = {"self_training": result["self_training"]} if "self_training" in result else {}
    return {"method": f"veclift {variant}", "accuracy": result["accuracy"], "unseen_known": transfer["accuracy"],
            "unseen_count": transfer["count"], "train_s": result["train_seconds"],
            "epochs": f"{result['best_epoch']}/{result['epochs']}", **rounds}  # fmt: skip


def ensemble_row(variant: str, options: dict, models: int | list[dict], train, dev, test, vectors: Vectors,
                 seed: int) -> dict:  # fmt: skip
    """``models`` classifiers on the same rows (seeds ``seed``, ``seed`` + 100, ...), their test
    probabilities averaged; ``models`` a list: one model per entry, its options updated by it. Each
    is one member unless its options say otherwise (the rows measured before members existed). The
    time is that of every model's training."""
    overrides = [{}] * models if isinstance(models, int) else models
    if options["strategy"] != "scratch":  # fitted once and kept out of the time, as train_and_evaluate does
        prepare_oov(vectors, options.get("oov", TextClassifier().config.oov))
    summed, seconds, epochs, first = None, 0.0, [], None
    for k, override in enumerate(overrides):
        member = {"members": 1, **options, **override}
        model = TextClassifier(embeddings=member.pop("strategy"), **member)
        began = time.perf_counter()
        model.fit(train, dev, vectors=vectors, seed=seed + 100 * k, progress=False)
        seconds += time.perf_counter() - began
        epochs.append(f"{model.train_result.best_epoch}/{len(model.train_result.history)}")
        proba = model.predict_proba(test)
        summed, first = (proba if summed is None else summed + proba), first or model
    scores = first.evaluate(test, predictions=first.labels_from_proba(summed / len(overrides)))
    transfer = scores["transfer"]["unseen_known"]
    return {"method": f"veclift {variant}", "accuracy": scores["accuracy"], "unseen_known": transfer["accuracy"],
            "unseen_count": transfer["count"], "train_s": seconds, "epochs": " ".join(epochs)}  # fmt: skip


def usage_error(message: str) -> NoReturn:
    """One line on stderr and exit status 2, as a bad command line gets."""
    print(message, file=sys.stderr)
    raise SystemExit(2)


def parse_variants(spec: str) -> dict[str, dict]:
    """``name`` (of `VARIANTS`) or ``name={json options}``, separated by ``;`` (or ``,`` for names only)."""
    out = {}
    for part in [p.strip() for p in (spec.split(";") if "=" in spec else spec.split(",")) if p.strip()]:
        name, _, options = part.partition("=")
        try:
            chosen = json.loads(options) if options else VARIANTS[name]
        except (KeyError, ValueError) as exc:
            usage_error(f"--variants {name}: {'unknown variant' if isinstance(exc, KeyError) else f'not JSON: {exc}'}")
        members = chosen.get("ensemble", 1) if isinstance(chosen, dict) else None
        if members is None or not (isinstance(members, int) and members >= 1 or isinstance(members, list) and members
                                   and all(isinstance(m, dict) for m in members)):  # fmt: skip
            usage_error(f"--variants {name}: options must be a JSON object whose ensemble is a count >= 1 "
                        "or a non-empty list of objects")  # fmt: skip
        on_pool, count = pool_spec(chosen)
        if on_pool and count is not None and not (count.isdigit() and int(count) > 0):
            usage_error(f"--variants {name}: self_train {chosen['self_train']!r}: expected pool or pool:N, N a count > 0")
        if "embeddings" in chosen and "strategy" in chosen:
            usage_error(f"--variants {name}: give the strategy once, as embeddings or as strategy")
        out[name] = dict(chosen)
        out[name]["strategy"] = out[name].pop("embeddings", out[name].get("strategy", "finetune"))
    return out


def pool_spec(options: dict) -> tuple[bool, str | None]:
    """Whether ``options`` self-train on the pool (`POOL_TEXT`), and the sample size written after
    ``pool:`` (None without one)."""
    pool, colon, count = str(options.get("self_train", "")).partition(":")
    return pool == POOL_TEXT, count if colon else None


def pool_text(options: dict, pool: Sequence, train: Sequence, name: str) -> dict:
    """``options`` with a ``"self_train": "pool"`` or ``"pool:N"`` (`POOL_TEXT`) made the path of a
    raw-text file of (N of) the ``pool`` rows not in ``train``, one a line (rewritten each time: cheap)."""
    on_pool, count = pool_spec(options)
    if not on_pool:
        return options
    chosen = {id(item) for item in train}
    rest = [item for item in pool if id(item) not in chosen]
    if count is not None:
        rest = random.Random(0).sample(rest, min(int(count), len(rest)))
    path = WORK / NAME / f"raw-{POOL_TEXT}{count or ''}-{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(text(item) + "\n" for item in rest))
    return {**options, "self_train": str(path)}


def run_one(key: dict, method: str, options: dict | None, train, dev, test, vectors, seed, store,
            paired: dict | None = None, run_options: dict | None = None) -> None:
    """Train and score one method and store its row; ``paired`` holds fastText's training seconds on
    the same data in this run (``fasttext_s``), filled by fastText's own row, so that the time ratio
    is taken fold by fold (or seed by seed) in one run, not across runs on a shared machine;
    ``run_options``: the options trained with, where they differ from the recorded ``options``."""
    began = time.strftime("%H:%M:%S")
    if options is None:
        try:
            row = baseline_row(method, train, test, vectors, seed)
        except ImportError as exc:  # fastText and SetFit are optional: pip install fasttext-wheel setfit
            print(f"{method} skipped: {exc}", flush=True)
            return
    else:
        row = {**veclift_row(method, run_options or options, train, dev, test, vectors, seed),
               "options": json.dumps(options, sort_keys=True)}  # fmt: skip
    row = {**key, **row, "size": len(train), "threads": torch.get_num_threads()}
    if paired is not None:
        if method == "fasttext":
            paired["fasttext_s"] = row["train_s"]
        if "fasttext_s" in paired:
            row["fasttext_s"] = paired["fasttext_s"]
    print(began, json.dumps(row), flush=True)
    store(row)


def run_mr(vectors, args, store) -> None:
    for name, options in args.variants.items():
        if pool_spec(options)[0]:
            usage_error(f"--variants {name}: MR has no rows outside its folds to self-train on")
    folds = mr_folds()
    for fold in parse_folds(args.folds):
        train, dev, test = folds[fold]
        if args.quick:
            train, test = subsample(train, 500, seed=0, stratify=LABELS), test[:300]
        paired: dict = {}
        for method in args.baselines:
            run_one({"fold": fold}, method, None, train, dev, test, vectors, 0, store, paired)
        for name, options in args.variants.items():
            options = {**options, "max_epochs": 2} if args.quick else options
            run_one({"fold": fold}, name, options, train, dev, test, vectors, 0, store, paired)


def run_sst2(vectors, args, store) -> None:
    pool, dev, test = sst2_split()
    print(f"SST-2: pool {len(pool)} rows, dev {len(dev)}, test {len(test)} sentences", flush=True)
    if args.quick:
        test = test[:300]
    for size in args.sizes:
        for seed in args.seeds:
            train = pool if size == "all" else subsample(pool, int(size), seed=seed, stratify=LABELS)
            contextual_ok = len(train) <= CONTEXTUAL_MAX_SIZE
            key, paired = {"size_name": size, "seed": seed}, {}
            for method in args.baselines:
                if method != "setfit" or contextual_ok:
                    run_one(key, method, None, train, dev, test, vectors, seed, store, paired)
            for name, options in args.variants.items():
                if options["strategy"].startswith("contextual") and not contextual_ok:
                    continue
                options = {**options, "max_epochs": 2} if args.quick else options
                run_options = pool_text(options, pool, train, f"{size}-s{seed}")
                run_one(key, name, options, train, dev, test, vectors, seed, store, paired, run_options)


# --- results ------------------------------------------------------------------------------------------
def summary(rows: list[dict], group_keys: tuple[str, ...], over: str) -> list[dict]:
    """Mean, sample sd and min..max of accuracy over ``over`` (folds or seeds) per group; median
    training seconds and their ratio to fastText's in the same groups, and the median of the ratios
    to fastText's time on the same fold or seed in the same run (rows run with fastText beside them)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[tuple(r[k] for k in group_keys) + (r["method"],)].append(r)
    median_s = {key: statistics.median(r["train_s"] for r in group) for key, group in groups.items()}
    table = []
    for key, group in sorted(groups.items(), key=lambda kv: (_size_order(kv[0][0]), kv[0][1:])):
        acc = [r["accuracy"] for r in group]
        fasttext = median_s.get(key[:-1] + ("fasttext",))
        ratios = [r["train_s"] / r["fasttext_s"] for r in group if r.get("fasttext_s")]
        table.append({
            **dict(zip(group_keys, key)), "method": key[-1], over: len(group),
            "accuracy": round(statistics.mean(acc), 4), "sd": round(statistics.stdev(acc), 4) if len(acc) > 1 else 0.0,
            "min..max": f"{min(acc):.3f}..{max(acc):.3f}",
            "unseen_known": round(statistics.mean(r["unseen_known"] for r in group), 4),
            "median_train_s": round(median_s[key], 2),
            "x_fasttext_time": round(median_s[key] / fasttext, 2) if fasttext else "",
            "x_fasttext_paired": round(statistics.median(ratios), 2) if ratios else "",
        })  # fmt: skip
    return table


def _size_order(size) -> float:
    return float("inf") if size == "all" else float(size) if str(size).isdigit() else 0.0


COMMON_NOTE = ("One torch thread per run, on a shared 2-core machine (sometimes beside another run): compare "
               "time ratios, not seconds. The MiniLM rows have no word rows, so no unseen_known figure (0); the contextual features "
               "are cached per sentence, so a probe's first run also pays for encoding the texts of later runs.")
SECTIONS = {
    "mr": {"key": ("fold", "method"), "group": ("data",), "over": "folds",
           "note": "MR, 10-fold stratified cross-validation (seed 0), 10% of each training split as veclift's dev "
                   "set (early stopping only; the baselines do not use it). accuracy: mean over the folds run, sd: "
                   "their sample standard deviation; unseen_known: accuracy on test sentences holding a word "
                   "absent from training but in GloVe; x_fasttext_time: median training seconds over fastText's "
                   "in the same groups (veclift's time includes building its embedding layer); x_fasttext_paired: the median over "
                   "folds of the ratio to fastText's time on the same fold in the same run (empty for rows run "
                   "without fastText beside them), the figure to read on a shared machine. Rows over 3 folds are the tuning "
                   "runs on folds 0-2, made in other runs under other load: their time ratios do not compare. " + COMMON_NOTE},
    "sst2": {"key": ("size_name", "seed", "method"), "group": ("size_name",), "over": "seeds",
             "note": "SST-2 whole sentences (see the script's docstring): 1,000 held-out test sentences, 501 dev "
                     "sentences (veclift early stopping only), training rows sampled per seed from the 51,022-row "
                     "pool that holds no part of a held-out sentence. Contextual methods and SetFit run up to "
                     "2,000 rows. Mean, sample sd and min..max over seeds; times as for MR. " + COMMON_NOTE},
}


def results_name(quick: bool) -> str:
    """A quick run writes beside the figures, never over them."""
    return f"{NAME}_quick" if quick else NAME


def store_row(section: str, args: argparse.Namespace):
    name = results_name(args.quick)
    path = RESULTS / f"{name}.json"

    def store(row: dict) -> None:
        with open(RESULTS / f".{NAME}.lock", "w") as lock:  # runs of two sections may share the file
            fcntl.flock(lock, fcntl.LOCK_EX)
            merge(row)

    def merge(row: dict) -> None:
        saved = json.loads(path.read_text()) if path.exists() else {"sections": {}}
        stored = saved["sections"].get(section, {"rows": []})
        keys = SECTIONS[section]["key"]
        rows = {tuple(r[k] for k in keys): r for r in stored["rows"]}
        rows[tuple(row[k] for k in keys)] = {**row, "data": section}
        machine = machine_info()
        saved["sections"][section] = {"rows": list(rows.values()), "quick": args.quick, "date": machine["date"],
                                      "command": machine["command"], "fasttext": FASTTEXT}  # fmt: skip
        saved["machine"] = {k: v for k, v in machine.items() if k != "command"}
        write_tables(saved, name)

    return store


# Rows are kept until a variant runs again, so a row can predate a change of the defaults.
DEFAULTS_NOTE = ("The classifier's defaults changed on 2026-12-07 from SWEM mean+max (`swem-concat`, batches of 256, "
                 "lr 8e-3) to `bilstm-max` (batches of 64, lr 2e-3). `scratch`, `frozen`, `finetune`, `swem`, "
                 "`swem-fast` and `bilstm-max-b64` ran after it, as did the variants whose options name the "
                 "encoder, batch size and rate; the other variants ran before it, beside the SWEM defaults. "
                 "On 2026-12-08 the default became three members up to 2,000 training texts (`members` 0, by "
                 "size; one beyond, and with contextual features): at 100-2,000 rows, `finetune`, `scratch` "
                 "and `frozen` ran after it, `members1` is the one-member model, and the variants without "
                 "`members` in their options ran before it, with one member.")


def write_tables(saved: dict, name: str) -> None:
    parts = []
    for section, stored in saved["sections"].items():
        spec = SECTIONS[section]
        table = summary(stored["rows"], spec["group"], spec["over"])
        stored["table"] = table
        options = {r["method"]: r["options"] for r in stored["rows"] if "options" in r}
        listed = "\n".join(f"- `{m}`: `{o}`" for m, o in sorted(options.items()))
        parts.append(f"## {section}{' (quick)' if stored['quick'] else ''}\n\nlast row: `{stored['command']}` "
                     f"({stored['date']})\n\n{markdown_table(table)}\n\n{spec['note']}\n\n"
                     f"veclift variants, their options (beside the classifier's defaults):\n\n{listed}\n\n{DEFAULTS_NOTE}")  # fmt: skip
    write_results(name, saved, "\n\n".join(parts))


def parse_folds(spec: str) -> list[int]:
    first, _, last = spec.partition("-")
    return list(range(int(first), int(last) + 1)) if last else [int(f) for f in spec.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="mr,sst2", help="comma-separated: mr, sst2")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="veclift variants: names, or name={json};...")
    parser.add_argument("--baselines", default="tfidf-logreg,fasttext", help="tfidf-logreg, fasttext, setfit or none")
    parser.add_argument("--seeds", default="0,1,2", help="SST-2 seeds")
    parser.add_argument("--sizes", default=",".join(SIZES), help="SST-2 training sizes (N or all)")
    parser.add_argument("--folds", default="0-9", help="MR folds: 0-9 or a list")
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script (not for figures)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--tables-only", action="store_true", help="rebuild the tables and markdown from the stored rows")
    args = parser.parse_args()
    if args.tables_only:
        write_tables(json.loads((RESULTS / f"{NAME}.json").read_text()), NAME)
        return
    args.variants = parse_variants(args.variants) if args.variants not in ("", "none") else {}
    args.baselines = [b for b in args.baselines.split(",") if b and b != "none"]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.sizes = args.sizes.split(",")
    torch.set_num_threads(args.threads)
    # The first optimizer a process builds imports torch._dynamo (seconds): not part of any run's time.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    vectors = Vectors.load("glove-6b-50d", progress=False)
    vectors.index  # built once on first use, outside the timed runs
    runners = {"mr": run_mr, "sst2": run_sst2}
    for section in args.sections.split(","):
        runners[section](vectors, args, store_row(section, args))


if __name__ == "__main__":
    main()
