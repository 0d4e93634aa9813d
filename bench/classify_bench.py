"""Sentence classification with GloVe 6B 50d: MR accuracy per encoder and embedding strategy, and an
SST-2 learning curve, beside TF-IDF logistic regression and fastText on the same splits.

Sections:

- ``mr``: MR sentence polarity (rt-polarity.pos/.neg), one fixed split with seed 0: 10% test
  (stratified), then 10% of the rest as dev (used by veclift for early stopping only), the remaining
  81% to train every method. veclift: SWEM (mean+max concat), BiLSTM (max pooling) and Kim CNN, each
  with ``scratch``/``frozen``/``finetune`` embeddings, plus SWEM ``finetune`` with the fine-tuned rows
  at the full learning rate (``finetune@1``).
- ``curve``: SST-2 train.tsv, a seeded (seed 0) stratified 10% held out as test, 1,000 phrases of the
  rest as dev (veclift early stopping only), the remaining pool subsampled (nested, stratified, per
  seed) to 100, 500, 2,000 and all phrases; SWEM mean+max with each strategy, per seed.

Baselines, trained on exactly the same training texts (tokens joined by spaces): scikit-learn
TfidfVectorizer (word 1-2-grams, sublinear tf) + LogisticRegression (C=1), and fastText supervised
(``fasttext-wheel``; epoch 25, lr 0.5, wordNgrams 2, dim 50, 1 thread) when it is installed.

Every row also gives the transfer view: accuracy on test texts holding a word absent from the
training texts but known to the vectors (``unseen_known``), computed alike for every method.

    python bench/classify_bench.py [--sections mr,curve] [--seeds 3] [--sizes 100,500,2000,all]
        [--encoders swem-concat,bilstm-max,cnn] [--quick]

(``--encoders ""`` runs the MR baselines only.)

Results merge into bench/results/classify_bench.json and .md after every model: rows of another
section, encoder, size or seed stay, rows run again are replaced (quick and full runs do not mix).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from common import DATA, RESULTS, machine_info, markdown_table, write_results
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from veclift.data import read_label_files, read_table, subsample, train_test_split
from veclift.tasks import TextClassifier, train_and_evaluate
from veclift.vectors import Vectors

NAME = "classify_bench"
STRATEGIES = ["scratch", "frozen", "finetune"]
MR_ENCODERS = ["swem-concat", "bilstm-max", "cnn"]
CURVE_ENCODER = "swem-concat"
CURVE_SIZES = ["100", "500", "2000", "all"]
# Epoch budgets for a 2-core shared machine: SWEM converges in a few epochs on thousands of texts;
# the recurrent and convolutional encoders get fewer, costlier epochs.
MR_EPOCHS = {"swem-concat": {"max_epochs": 20, "patience": 3}}
MR_DEEP_EPOCHS = {"max_epochs": 8, "patience": 2}
# Small sets: batches of 8 and more patience, or a 100-text set gets 4 updates an epoch and stops
# before it learns (as bench/contextual_bench.py). The full pool: large batches, few epochs.
SMALL_SET = 2000
SMALL_CONFIG = {"batch_size": 8, "max_epochs": 30, "patience": 5}
LARGE_CONFIG = {"batch_size": 128, "max_epochs": 8, "patience": 2}
FASTTEXT = {"epoch": 25, "lr": 0.5, "wordNgrams": 2, "dim": 50, "thread": 1, "verbose": 0}
LABELS = lambda item: item.labels  # noqa: E731  (stratification key)


def mr_split() -> tuple[list, list, list]:
    files = [DATA / "classify" / "mr" / "rt-polarity.pos", DATA / "classify" / "mr" / "rt-polarity.neg"]
    items = read_label_files(files)
    rest, test = train_test_split(items, 0.1, seed=0, stratify=LABELS)
    train, dev = train_test_split(rest, 0.1, seed=0, stratify=LABELS)
    return train, dev, test


def sst2_split() -> tuple[list, list, list]:
    items = read_table(DATA / "classify" / "sst2" / "train.tsv")
    rest, test = train_test_split(items, 0.1, seed=0, stratify=LABELS)
    pool, dev = train_test_split(rest, 1000 / len(rest), seed=0, stratify=LABELS)
    return pool, dev, test


def novel_texts(train: Sequence, test: Sequence, vectors: Vectors) -> list[bool]:
    """Per test text: does it hold a word absent from the training texts but in the vectors
    (lower-cased, as GloVe 6B)? The same grouping as veclift's transfer view, for the baselines."""
    seen = {token.lower() for item in train for token in item.tokens}
    return [any(t.lower() not in seen and t.lower() in vectors.index for t in item.tokens) for item in test]


def transfer_accuracy(novel: list[bool], right: list[bool]) -> tuple[float, int]:
    hits = [r for n, r in zip(novel, right) if n]
    return (sum(hits) / len(hits) if hits else 0.0), len(hits)


def text(item) -> str:
    return " ".join(item.tokens)


def tfidf_logreg(train: Sequence, test: Sequence) -> tuple[list[str], float]:
    """Predicted test labels and training seconds of TF-IDF word 1-2-grams + logistic regression."""
    began = time.perf_counter()
    features = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=True, ngram_range=(1, 2), sublinear_tf=True)
    x = features.fit_transform([text(i) for i in train])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, [i.label for i in train])
    seconds = time.perf_counter() - began
    return list(model.predict(features.transform([text(i) for i in test]))), seconds


def fasttext_supervised(train: Sequence, test: Sequence, seed: int) -> tuple[list[str], float] | None:
    """Predicted test labels and training seconds of fastText's supervised classifier; None without it."""
    try:
        import fasttext
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        # fastText reads the file in order with a decaying learning rate: a label-sorted file (MR's
        # readers give all pos then all neg) leaves it near chance, so the lines are shuffled
        lines = [f"__label__{i.label} {text(i).lower()}\n" for i in train]
        random.Random(seed).shuffle(lines)
        path.write_text("".join(lines), encoding="utf-8")
        began = time.perf_counter()
        model = fasttext.train_supervised(str(path), seed=seed, **FASTTEXT)
        seconds = time.perf_counter() - began
    # a list input: fastText 0.9.2's single-text predict breaks on NumPy 2 (np.array(copy=False))
    labels, _ = model.predict([text(i).lower() for i in test])
    return [row[0].removeprefix("__label__") for row in labels], seconds


def baselines(data: str, train: Sequence, test: Sequence, vectors: Vectors, seed: int, extra: dict) -> list[dict]:
    novel = novel_texts(train, test, vectors)
    gold = [i.label for i in test]
    rows = []
    for method, result in (("tfidf-logreg", tfidf_logreg(train, test)), ("fasttext", fasttext_supervised(train, test, seed))):
        if result is None:
            continue
        predicted, seconds = result
        right = [p == g for p, g in zip(predicted, gold)]
        unseen, count = transfer_accuracy(novel, right)
        rows.append({"data": data, **extra, "method": method, "strategy": "", "seed": seed, "size": len(train),
                     "accuracy": sum(right) / len(right), "unseen_known": unseen, "unseen_count": count,
                     "train_s": seconds, "epochs": ""})  # fmt: skip
    return rows


def veclift_row(data: str, encoder: str, strategy: str, train, dev, test, vectors, seed: int, config: dict) -> dict:
    options = dict(config)
    label = strategy
    if strategy == "finetune@1":
        strategy, options["finetune_lr_ratio"] = "finetune", 1.0
    result = train_and_evaluate("classify", train, dev, test, vectors, strategy, seed, encoder=encoder, **options)
    transfer = result["transfer"]["unseen_known"]
    return {"data": data, "method": f"veclift {encoder}", "strategy": label, "seed": seed, "size": len(train),
            "accuracy": result["accuracy"], "unseen_known": transfer["accuracy"], "unseen_count": transfer["count"],
            "train_s": result["train_seconds"], "epochs": f"{result['best_epoch']}/{result['epochs']}"}  # fmt: skip


def run_mr(vectors: Vectors, args: argparse.Namespace, save: Callable[[list[dict]], None]) -> list[dict]:
    quick = args.quick
    train, dev, test = mr_split()
    if quick:
        train = subsample(train, 1000, seed=0, stratify=LABELS)
    rows = baselines("MR", train, test, vectors, 0, {})
    _show(rows)
    save(rows)
    for encoder in [e for e in args.encoders.split(",") if e]:
        config = dict(MR_EPOCHS.get(encoder, MR_DEEP_EPOCHS))
        if quick:
            config["max_epochs"] = 2
        strategies = STRATEGIES + (["finetune@1"] if encoder.startswith("swem") else [])
        for strategy in strategies:
            rows.append(veclift_row("MR", encoder, strategy, train, dev, test, vectors, 0, config))
            _show(rows[-1:])
            save(rows)
    return rows


def run_curve(vectors: Vectors, args: argparse.Namespace, save: Callable[[list[dict]], None]) -> list[dict]:
    quick, seeds = args.quick, args.seeds
    pool, dev, test = sst2_split()
    if quick:
        test = test[:1000]
    rows = []
    for size in args.sizes.split(","):
        n = len(pool) if size == "all" else int(size)
        config = dict(SMALL_CONFIG if n <= SMALL_SET else LARGE_CONFIG)
        if quick:
            config["max_epochs"] = 2
        for seed in range(seeds):
            train = subsample(pool, n, seed=seed, stratify=LABELS)
            rows.extend(baselines("SST-2", train, test, vectors, seed, {}))
            for strategy in STRATEGIES:
                rows.append(veclift_row("SST-2", CURVE_ENCODER, strategy, train, dev, test, vectors, seed, config))
            _show(rows[-5:])
            save(rows)
    return rows


def run_speed(vectors: Vectors, args: argparse.Namespace, save: Callable[[list[dict]], None]) -> list[dict]:
    """SWEM, one epoch on the 8,635 MR training texts: CPU seconds of this process (steadier than
    wall time on a shared machine) and wall seconds, embedding layer built included."""
    train, _, _ = mr_split()
    rows = []
    for strategy in STRATEGIES:
        model = TextClassifier(embeddings=strategy, encoder=CURVE_ENCODER, max_epochs=1)
        cpu, wall = time.process_time(), time.perf_counter()
        model.fit(train, vectors=vectors, seed=0, progress=False)
        rows.append({"strategy": strategy, "texts": len(train), "epochs": 1,
                     "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall})
        _show(rows[-1:])
        save(rows)
    return rows


def _show(rows: list[dict]) -> None:
    for row in rows:
        print(json.dumps(row, default=str), flush=True)


def mr_table(rows: list[dict]) -> list[dict]:
    """One row per method and strategy, with train time relative to TF-IDF + logistic regression."""
    reference = {r["method"]: r["train_s"] for r in rows if r["strategy"] == ""}
    table = []
    for r in rows:
        table.append({**{k: r[k] for k in ("method", "strategy", "accuracy", "unseen_known", "unseen_count", "train_s", "epochs")},
                      "x_logreg_time": r["train_s"] / reference["tfidf-logreg"],
                      "x_fasttext_time": r["train_s"] / reference["fasttext"] if "fasttext" in reference else ""})  # fmt: skip
    return table


def curve_table(rows: list[dict]) -> list[dict]:
    """Mean, sample standard deviation and min..max of accuracy over seeds per size and method/strategy;
    median training seconds."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["size"], r["method"], r["strategy"]), []).append(r)
    # median: the first run of a process may carry one-off start-up costs
    time_of = {key: statistics.median(x["train_s"] for x in group) for key, group in groups.items()}
    table = []
    for (size, method, strategy), group in sorted(groups.items(), key=lambda kv: kv[0][0]):
        acc = [r["accuracy"] for r in group]
        unseen = [r["unseen_known"] for r in group]
        table.append({
            "size": size, "method": method, "strategy": strategy, "seeds": len(group),
            "accuracy": statistics.mean(acc), "sd": statistics.stdev(acc) if len(acc) > 1 else 0.0,
            "min..max": f"{min(acc):.4f}..{max(acc):.4f}", "unseen_known": statistics.mean(unseen),
            "unseen_count": round(statistics.mean(r["unseen_count"] for r in group)),
            "median_train_s": time_of[(size, method, strategy)],
            "x_logreg_time": time_of[(size, method, strategy)] / time_of[(size, "tfidf-logreg", "")],
        })  # fmt: skip
    return table


NOTES = {
    "speed": "SWEM mean+max, one epoch over the MR training texts, 1 torch thread; cpu_s is this process's CPU time.",
    "mr": (
        "MR: one stratified split, seed 0: 1,067 test, 960 dev (veclift early stopping only), 8,635 train for "
        "every method. accuracy on test; unseen_known: accuracy on the unseen_count test texts holding a word "
        "absent from train but in GloVe; epochs: best/run. x_*_time: training seconds relative to the baseline "
        "in the same run (veclift's time includes building its embedding layer). Published Kim CNN with 300d "
        "word2vec: about 81% (10-fold CV). Times are on a 2-core machine shared with other jobs (load ~15): "
        "compare ratios, not seconds."
    ),
    "curve": (
        "SST-2: stratified 10% of train.tsv held out as test (seed 0; SST-2 phrases overlap, so test phrases "
        "are often parts of training phrases), 1,000 dev phrases (veclift early stopping only), training "
        "subsets nested and stratified per seed from the rest; veclift SWEM mean+max concat; batch 8 for sizes "
        "<= 2,000, batch 128 and at most 8 epochs for the full pool. Mean, sd (sample) and min..max over seeds; "
        "unseen_known as for MR; median_train_s and its ratio to TF-IDF + logistic regression in the same runs."
    ),
}


ROW_KEYS = {"mr": ("method", "strategy"), "curve": ("size", "method", "strategy", "seed"), "speed": ("strategy",)}
TABLES = {"mr": mr_table, "curve": curve_table, "speed": lambda rows: rows}


def save(section: str, rows: list[dict], args: argparse.Namespace) -> None:
    """Merge ``rows`` into the section's stored rows (same key: replaced) and rewrite the results, so
    a partial rerun (some encoders, some sizes) or a parallel run of another section keeps the rest;
    with no rows, only the tables are rebuilt."""
    path = RESULTS / f"{NAME}.json"
    sections = json.loads(path.read_text()).get("sections", {}) if path.exists() else {}
    key = lambda row: tuple(row[k] for k in ROW_KEYS[section])  # noqa: E731
    previous = sections.get(section, {})
    merged = {key(r): r for r in previous.get("rows", []) if previous.get("quick") == args.quick}
    merged.update((key(r), r) for r in rows)
    machine = machine_info()
    ran = {"command": machine["command"], "date": machine["date"]} if rows else {
        "command": previous["command"], "date": previous["date"]}  # fmt: skip
    sections[section] = {"rows": list(merged.values()), "table": TABLES[section](list(merged.values())),
                         "quick": args.quick, "threads": args.threads, "fasttext": FASTTEXT, **ran}  # fmt: skip
    markdown = "\n\n".join(
        f"## {name}{' (quick)' if s['quick'] else ''}\n\n`{s['command']}` ({s['date']})\n\n"
        f"{markdown_table(s['table'])}\n\n{NOTES[name]}"
        for name, s in sections.items()
    )
    write_results(NAME, {"sections": sections}, markdown)


def rebuild_tables(args: argparse.Namespace) -> None:
    """Rebuild the tables and markdown from the stored rows (after a change to the tables or notes)."""
    path = RESULTS / f"{NAME}.json"
    sections = json.loads(path.read_text()).get("sections", {}) if path.exists() else {}
    for name, stored in sections.items():
        save(name, [], argparse.Namespace(**{**vars(args), "quick": stored["quick"], "threads": stored["threads"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="mr,curve", help="comma-separated: mr, curve, speed")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the learning curve")
    parser.add_argument("--sizes", default=",".join(CURVE_SIZES), help="learning-curve sizes (N or all)")
    parser.add_argument("--encoders", default=",".join(MR_ENCODERS), help="MR encoders")
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script (not for figures)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--tables-only", action="store_true", help="rebuild tables/markdown from stored rows")
    args = parser.parse_args()
    if args.tables_only:
        rebuild_tables(args)
        return
    torch.set_num_threads(args.threads)
    # The first optimizer a process builds imports torch._dynamo (seconds): not part of any run's time.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    vectors = Vectors.load("glove-6b-50d", progress=False)
    vectors.index  # built once on first use, outside the timed runs
    for section in args.sections.split(","):
        if section not in ROW_KEYS:
            raise SystemExit(f"unknown section {section!r}; choose mr, curve or speed")
        runner = {"mr": run_mr, "curve": run_curve, "speed": run_speed}[section]
        runner(vectors, args, lambda rows, section=section: save(section, rows, args))


if __name__ == "__main__":
    main()
