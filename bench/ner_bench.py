"""Named-entity tagging with GloVe 6B 50d: veclift's SequenceTagger, and spaCy v3 and flair beside it.

Sections (CoNLL-2003: train on train.txt or a seeded subset, early stopping on and scores of
valid.txt, the only evaluation file here; WNUT-17: train on train, early stopping on dev, scores of
test):
  a  full CoNLL-2003 train, BiLSTM-CRF + char CNN + casing, `finetune`: dev F1 and train time
  b  1,000 sentences: `scratch`, `frozen`, `finetune` x seeds (mean, std, min..max, unseen-entity F1)
  c  1,000 sentences, `finetune`: OOV chains `none`, `lower`, `lower,char-ngram` x seeds
  d  veclift vs spaCy (efficiency NER config, GloVe keyed by LOWER) vs flair (SequenceTagger over
     WordEmbeddings, CRF, hidden 256) at 200 and 1,000 sentences (seeds) and all (seed 0): F1, and the
     training time and dev prediction tokens/s of veclift as ratios to theirs
  e  the same on WNUT-17 at full size
  f  the first 200 / 1,000 train.txt sentences (a few whole documents, as a user who annotated from
     the top has them; seeds vary the model only): each idea of `IDEAS` (TaggerConfig overrides)
     x seeds, with each seed's gain over the default in F1 points

Subset `n`, seed `s` is `veclift.data.subsample(train, n, seed=s)`; the same seed seeds the model.
Every system runs on one thread (torch.set_num_threads(1), OMP_NUM_THREADS=1); spaCy and flair
each run as a subprocess of their own virtualenv under bench/work/ner_bench/venvs (made on first
use: the local CPU torch wheel first, then the pinned package), read the subset files this script
writes, and write predictions that are scored here with veclift's metric. Every finished run is
kept under bench/work/ner_bench/runs/ and reused, so an interrupted run keeps what finished and
sections can run separately (in parallel processes); the runs recorded in
bench/results/ner_bench.json count as kept too (a fresh checkout has no bench/work). Each invocation
rewrites bench/results/ner_bench.{json,md} from all the runs kept.

    python bench/ner_bench.py [--sections a,b,c,d,e] [--sizes 200,1000,full] [--systems veclift,spacy,flair]
        [--seeds 0,1,2] [--ideas default,bio,...] [--first-sizes 200,1000] [--quick] [--rerun]
    python bench/ner_bench.py --sections none   # only rewrite the report from the kept runs

--quick: 2 epochs, 200 sentences, 1 seed, small competitor caps, into bench/work/ner_bench-quick/
(bench/results untouched): a smoke test of the whole harness.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import DATA, RESULTS, ROOT, WORK, markdown_table, write_results  # noqa: E402

from veclift.atomic import atomic_path  # noqa: E402
from veclift.data import read_conll, subsample, write_conll  # noqa: E402
from veclift.tasks import SequenceTagger  # noqa: E402
from veclift.tasks.config import TaggerConfig  # noqa: E402
from veclift.tasks.metrics import ner_scores, unseen_entity_scores  # noqa: E402
from veclift.vectors import Vectors  # noqa: E402

VENV_PACKAGES = {"spacy": ["spacy==3.8.18"], "flair": ["flair==0.15.1", "gensim==4.4.0"]}
TORCH = "torch==2.13.0"  # the CPU wheel on this machine's disk; a looser pin pulls a CUDA build
COMPETITORS = ROOT / "bench" / "competitors"
OOV_CHAINS = ["none", "lower", "lower,char-ngram"]
DEFAULT_OOV = TaggerConfig().oov  # sections a, d, e; section b compares strategies with `lower`
STRATEGIES = ["scratch", "frozen", "finetune"]
# Early stopping on all 3,250 valid.txt sentences costs about as much as an epoch on 1,000
# training sentences; a fixed 1,000-sentence part of it (seed 0) serves every system.
STOPPING_SENTENCES = 1000
# Subsets train with TaggerConfig's own 30 epochs and patience 5; the full sets get a lower cap to
# fit a 2-core machine's wall time. The dev F1 of every epoch is kept in each run's history.
EPOCHS = {"max_epochs": 30, "patience": 5}
FULL_EPOCHS = {"max_epochs": 15, "patience": 3}
# Competitor budgets per training size. spaCy keeps its own early stopping (patience 1,600 steps)
# and step cap; flair's default trainer gets an epoch cap and a training-time cap (seconds).
SPACY_STEPS = {200: 2000, 1000: 4000, "full": 20000}
FLAIR_CAP = {200: (100, 600), 1000: (100, 1200), "full": (20, 2400)}
QUICK = {"veclift": {"max_epochs": 2, "patience": 0}, "spacy_steps": 200, "flair": (2, 120)}
# Section f: the ideas for small training sets, each a set of TaggerConfig overrides (and the
# embedding strategy), measured against today's default on the first N sentences.
UNLABELED_FROM = 1000  # the sentences of train.txt self-training may read untagged: those after the first 1,000
RAW_TEXT = f"conll-raw-after-{UNLABELED_FROM}.txt"
SELF_TRAINING = {"self_train": RAW_TEXT, "self_train_threshold": 0.9, "self_train_sentences": 2000, "self_train_rounds": 1}
"""Self-training settings; `RAW_TEXT` names the file `Bench.raw_text` writes."""
IDEAS = {
    "before": {"bio_constraints": False},  # TaggerConfig before this section: the reference
    "bio": {"bio_constraints": True},  # TaggerConfig's default since
    "scratch": {"embeddings": "scratch", "bio_constraints": False},
    "frozen": {"embeddings": "frozen", "bio_constraints": False},
    "ratio-0.3": {"finetune_lr_ratio": 0.3, "bio_constraints": False},
    "ratio-1": {"finetune_lr_ratio": 1.0, "bio_constraints": False},
    "patience-10": {"max_epochs": 60, "patience": 10, "bio_constraints": False},
    "stacked": {"embeddings": "contextual-finetune+finetune", "contextual_layers": 1, "max_epochs": 10, "patience": 3,
                "bio_constraints": False},  # fmt: skip
    "bio-stacked": {"embeddings": "contextual-finetune+finetune", "contextual_layers": 1, "max_epochs": 10, "patience": 3,
                    "bio_constraints": True},  # fmt: skip
    # fine-tuning at the full rate, held back by the L2 pull of the tuned rows to their GloVe rows
    "bio-ratio-1-pull-0.01": {"finetune_lr_ratio": 1.0, "l2_pull": 0.01, "bio_constraints": True},
    "bio-ratio-1-pull-0.1": {"finetune_lr_ratio": 1.0, "l2_pull": 0.1, "bio_constraints": True},
    # frozen MiniLM features (cached once) beside the fine-tuned GloVe rows: its last layer, or the
    # average of its last 4 or all 6
    "bio-ctx-frozen": {"embeddings": "contextual-frozen+finetune", "contextual_layers": 1, "bio_constraints": True},
    "bio-ctx-frozen-4": {"embeddings": "contextual-frozen+finetune", "contextual_layers": 4, "bio_constraints": True},
    "bio-ctx-frozen-6": {"embeddings": "contextual-frozen+finetune", "contextual_layers": 6, "bio_constraints": True},
    # three models of other seeds, their token marginals averaged (time: all three trainings)
    "bio-ensemble-3": {"bio_constraints": True, "ensemble": 3},
    "bio-ctx-frozen-4-ensemble-3": {"embeddings": "contextual-frozen+finetune", "contextual_layers": 4,
                                    "bio_constraints": True, "ensemble": 3},  # fmt: skip
    # self-training (`--self-train FILE`): the model tags the train.txt sentences after the first
    # 1,000, written as raw text, one sentence a line (their tags unused); its most confident
    # sentences with an entity (every token's best tag at least `threshold` likely; without an
    # entity, a weak model's all-O sentences would win), at most `sentences` of them, join the
    # training set of a model trained afresh, `rounds` times
    "bio-self-train": {"bio_constraints": True, **SELF_TRAINING},
    "bio-ctx-frozen-4-self-train": {"embeddings": "contextual-frozen+finetune", "contextual_layers": 4, "bio_constraints": True,
                                    **SELF_TRAINING},  # fmt: skip
    # the same with two or three rounds, up to 5,000 sentences joining, or a lower threshold
    "bio-self-train-rounds-2": {"bio_constraints": True, **SELF_TRAINING, "self_train_rounds": 2},
    "bio-self-train-5000": {"bio_constraints": True, **SELF_TRAINING, "self_train_sentences": 5000},
    "bio-self-train-rounds-3": {"bio_constraints": True, **SELF_TRAINING, "self_train_rounds": 3},
    "bio-self-train-0.8-rounds-2": {"bio_constraints": True, **SELF_TRAINING, "self_train_threshold": 0.8, "self_train_rounds": 2},
    # all of train.txt (--first-sizes 14041), section a's budget: batch 8, or batches grown to at
    # most 400 / 200 an epoch (batch 36 / 71)
    "bio-full": {"bio_constraints": True, **FULL_EPOCHS},
    "bio-full-max-batches-400": {"bio_constraints": True, "max_batches": 400, **FULL_EPOCHS},
    "bio-full-max-batches-200": {"bio_constraints": True, "max_batches": 200, **FULL_EPOCHS},
    # the same with the learning rate grown by the square root of the batch's growth (x2.1 at 400 batches of 36, x3.0 at 200 of 71)
    "bio-full-max-batches-400-sqrt": {"bio_constraints": True, "max_batches": 400, "lr_scaling": "sqrt", **FULL_EPOCHS},
    "bio-full-max-batches-200-sqrt": {"bio_constraints": True, "max_batches": 200, "lr_scaling": "sqrt", **FULL_EPOCHS},
    # with the subsets' budget (--first-sizes 3000): batches of 8 (the tagger's default up to 3,200
    # sentences before), or of 15 from 200 an epoch at lr x sqrt(15 / 8) (the default since)
    "bio-max-batches-400": {"bio_constraints": True, "max_batches": 400, "lr_scaling": "none"},
    "bio-max-batches-200-sqrt": {"bio_constraints": True, "max_batches": 200, "lr_scaling": "sqrt"},
}


class Bench:
    def __init__(self, quick: bool, rerun: bool, seeds: list[int]):
        self.quick, self.rerun, self.seeds = quick, rerun, seeds
        self.root = WORK / ("ner_bench-quick" if quick else "ner_bench")
        self.runs = self.root / "runs"
        self.recorded = {} if quick else recorded_runs()
        self.glove = Vectors.load("glove-6b-50d", progress=False)
        self.sets = {
            "conll": (read_conll(DATA / "ner" / "conll2003" / "train.txt"),
                      read_conll(DATA / "ner" / "conll2003" / "valid.txt"), None),
            "wnut": (read_conll(DATA / "ner" / "wnut17" / "train.conll"),
                     read_conll(DATA / "ner" / "wnut17" / "dev.conll"),
                     read_conll(DATA / "ner" / "wnut17" / "test.conll")),
        }  # fmt: skip

    # --- data ---------------------------------------------------------------------------------
    def split(self, data: str, size: int | str, seed: int) -> tuple[list, list, list]:
        """(train subset, early-stopping set, scored set). CoNLL-2003 has no test file here: its
        scores are of all of valid.txt, early stopping watches a fixed 1,000-sentence part of it."""
        pool, dev, test = self.sets[data]
        if isinstance(size, str) and size.startswith("first"):
            train = pool[: int(size.removeprefix("first"))]
        else:
            train = pool if size == "full" else subsample(pool, int(size), seed=seed)
        if test is None:
            return train, subsample(dev, STOPPING_SENTENCES, seed=0), dev
        return train, dev, test

    def files(self, data: str, size: int | str, seed: int) -> dict[str, Path]:
        """The subset as token<TAB>TAG files for the competitors (written once)."""
        folder = self.root / "data" / f"{data}-{size}-s{seed}"
        paths = {name: folder / f"{name}.txt" for name in ("train", "dev", "eval")}
        if not all(p.exists() for p in paths.values()):
            folder.mkdir(parents=True, exist_ok=True)
            for path, sentences in zip(paths.values(), self.split(data, size, seed)):
                write_conll(sentences, path, separator="\t")
        return paths

    def raw_text(self) -> Path:
        """The train.txt sentences after the first `UNLABELED_FROM` as raw text, one a line, tokens
        joined by spaces, for ``--self-train`` (written once)."""
        path = self.root / "data" / RAW_TEXT
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                Path(tmp).write_text("".join(" ".join(s.tokens) + "\n" for s in self.sets["conll"][0][UNLABELED_FROM:]))
        return path

    def glove_text(self) -> Path:
        """GloVe 6B 50d as word2vec text (header line), the file both competitors read."""
        path = WORK / "ner_bench" / "glove.6B.50d.w2v.txt"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            self.glove.save(path, format="word2vec")
        return path

    # --- runs ---------------------------------------------------------------------------------
    def kept(self, key: str, make) -> dict:
        path = self.runs / f"{key}.json"
        if path.exists() and not self.rerun:
            return json.loads(path.read_text())
        if key in self.recorded and not self.rerun:
            return self.recorded[key]
        result = {"key": key, **make()}
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, overwrite=True) as tmp:  # --rerun replaces its own run
            Path(tmp).write_text(json.dumps(result, indent=1, default=str))
        print(json.dumps({k: v for k, v in result.items() if k not in ("history", "per_type")}, default=str), flush=True)
        return result

    def veclift(self, data: str, size, strategy: str, seed: int, oov: str = DEFAULT_OOV) -> dict:
        budget = FULL_EPOCHS if size == "full" else EPOCHS
        config = {"oov": oov, **budget}
        if self.quick:
            config.update(QUICK["veclift"])
        key = f"veclift/{data}-{size}-{strategy}-oov_{oov.replace(',', '+')}-s{seed}"

        def make() -> dict:
            train, dev, test = self.split(data, size, seed)
            torch.set_num_threads(1)
            checkpoint = self.root / "checkpoints" / f"{key}.pt"
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            result = train_and_score(train, dev, test, self.glove, strategy, seed, checkpoint, **config)
            checkpoint.unlink()
            return {"system": "veclift", "data": data, "size": len(train), "strategy": strategy, "oov": oov,
                    "config": config, **result}  # fmt: skip

        return self.kept(key, make)

    def idea(self, name: str, size: int, seed: int) -> dict:
        """Section f: the first ``size`` CoNLL-2003 sentences, TaggerConfig with the idea's overrides."""
        overrides = dict(IDEAS[name])
        strategy = overrides.pop("embeddings", "finetune")
        members = overrides.pop("ensemble", 0)
        config = {**EPOCHS, **overrides, **(QUICK["veclift"] if self.quick else {})}
        key = f"veclift-first/{name}-{size}-s{seed}"

        def make() -> dict:
            train, dev, test = self.split("conll", f"first{size}", seed)
            torch.set_num_threads(1)
            checkpoint = self.root / "checkpoints" / f"{key}.pt"
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            if members:
                result = ensemble(train, dev, test, self.glove, strategy, seed, checkpoint, members, config)
            else:
                run = {**config, "self_train": str(self.raw_text())} if config.get("self_train") else config
                result = train_and_score(train, dev, test, self.glove, strategy, seed, checkpoint, **run)
            for path in [checkpoint, *checkpoint.parent.glob(f"{checkpoint.stem}.round*{checkpoint.suffix}")]:  # and self-training's rounds
                path.unlink(missing_ok=True)
            return {"system": "veclift", "idea": name, "size": size, "strategy": strategy, "config": config, **result}

        return self.kept(key, make)

    def competitor(self, system: str, data: str, size, seed: int = 0) -> dict:
        key = f"{system}/{data}-{size}-s{seed}"

        def make() -> dict:
            paths = self.files(data, size, seed)
            out = self.root / "out" / f"{system}-{data}-{size}-s{seed}"
            args = [str(self.venv(system) / "bin" / "python"), str(COMPETITORS / f"{system}_ner.py"),
                    "--train", str(paths["train"]), "--dev", str(paths["dev"]), "--eval", str(paths["eval"]),
                    "--glove", str(self.glove_text()), "--out", str(out), "--work", str(WORK / "ner_bench" / system),
                    "--seed", str(seed)]  # fmt: skip
            args += self.budget(system, size)
            env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
            done = subprocess.run(args, env=env, capture_output=True, text=True)
            (out / "log.txt").write_text(done.stdout + done.stderr) if out.exists() else None
            if done.returncode != 0:
                raise RuntimeError(f"{system} failed ({done.returncode}):\n{done.stderr[-3000:]}")
            report = json.loads(done.stdout.strip().splitlines()[-1])
            train, _, test = self.split(data, size, seed)
            pred = read_tags(out / "pred.txt")
            scores = ner_scores([s.tags for s in test], pred)
            vocab = {t.lower() for s in train for t in s.tokens}
            scores["transfer"] = unseen_entity_scores(test, pred, vocab, lambda w: w.lower() in self.glove, str.lower)
            return {"system": system, "data": data, "size": len(train), "seed": seed, **report, **scores}

        return self.kept(key, make)

    def budget(self, system: str, size) -> list[str]:
        if system == "spacy":
            steps = QUICK["spacy_steps"] if self.quick else SPACY_STEPS[size if size == "full" else int(size)]
            return ["--max-steps", str(steps)]
        epochs, seconds = QUICK["flair"] if self.quick else FLAIR_CAP[size if size == "full" else int(size)]
        return ["--max-epochs", str(epochs), "--max-seconds", str(seconds)]

    def venv(self, system: str) -> Path:
        """bench/work/ner_bench/venvs/SYSTEM: the CPU torch wheel first, then the pinned package."""
        venv = WORK / "ner_bench" / "venvs" / system
        marker = venv / "installed.txt"
        packages = VENV_PACKAGES[system]
        if marker.exists() and marker.read_text().split() == packages:
            return venv
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, TORCH], check=True)
        subprocess.run([*pip, *packages], check=True)
        marker.write_text(" ".join(packages))
        return venv


def train_and_score(train, dev, test, vectors, strategy: str, seed: int, checkpoint: Path, keep_model: bool = False,
                    **config) -> dict:  # fmt: skip
    """`veclift.tasks.train_and_evaluate`, plus a checkpoint after every epoch so that an interrupted
    run resumes (its training time is then the trainer's own clock, summed over the sessions)."""
    resumed = checkpoint.exists()
    model = SequenceTagger(embeddings=strategy, **config)
    began = time.perf_counter()
    model.fit(train, dev, vectors=vectors, seed=seed, extra_tokens=[s.tokens for s in test],
              checkpoint=checkpoint, progress=False)  # fmt: skip
    train_seconds = model.train_result.seconds if resumed else time.perf_counter() - began
    began = time.perf_counter()
    model.predict(test)
    predict_seconds = time.perf_counter() - began
    result = model.train_result
    return {**model.evaluate(test), "seed": seed, "train_seconds": train_seconds, "resumed": resumed,
            "epochs": len(result.history), "best_epoch": result.best_epoch, "dev_score": result.best_score,
            "history": result.history, "predict_tokens_per_s": sum(len(s.tokens) for s in test) / predict_seconds,
            **({"self_training": result.self_training} if result.self_training else {}),
            **({"model": model} if keep_model else {})}  # fmt: skip


def ensemble(train, dev, test, vectors, strategy: str, seed: int, checkpoint: Path, members: int, config: dict) -> dict:
    """``members`` models (seeds ``seed``, ``seed`` + 100, ...): their token marginals on ``test``
    averaged, then the best IOB2-valid path through the averaged log-probabilities. The time is that
    of every member's training."""
    from veclift.data.schemes import iob2_transitions
    from veclift.tasks.decoding import viterbi

    began, averaged, first, scores = time.perf_counter(), None, None, []
    for k in range(members):
        checkpoint.unlink(missing_ok=True)
        result = train_and_score(train, dev, test, vectors, strategy, seed + 100 * k, checkpoint, keep_model=True, **config)
        model = result.pop("model")
        first, scores = first or (model, result), [*scores, result["f1"]]
        answers = model.predict_entities([list(s.tokens) for s in test], marginals=True)
        rows = [np.array([[row[label] for label in model.labels] for row in a["marginals"]]) for a in answers]
        averaged = rows if averaged is None else [a + r for a, r in zip(averaged, rows)]
    model, result = first
    allowed, opens = iob2_transitions(model.labels)
    transitions = np.where(np.array(allowed), 0.0, -1e4).astype(np.float32)
    start, end = np.where(np.array(opens), 0.0, -1e4).astype(np.float32), np.zeros(len(model.labels), np.float32)
    tags = []
    for probabilities in averaged:
        emissions = np.log(probabilities / members + 1e-9).astype(np.float32)[None]
        path = viterbi(emissions, np.array([len(probabilities)]), transitions, start, end)[0]
        tags.append([model.labels[i] for i in path])
    return {**result, **model.evaluate(test, predictions=tags), "train_seconds": time.perf_counter() - began,
            "member_f1": scores}  # fmt: skip


def read_tags(path: Path) -> list[list[str]]:
    sentences, tags = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            tags.append(line.strip())
        elif tags:
            sentences.append(tags)
            tags = []
    if tags:
        sentences.append(tags)
    return sentences


# --- sections ---------------------------------------------------------------------------------
def run_sections(bench: Bench, sections: list[str], sizes: list, systems: list[str], chains: list[str],
                 ideas: list[str], first_sizes: list[int]) -> None:  # fmt: skip
    seeds = [0] if bench.quick else bench.seeds
    if "f" in sections:
        for size in first_sizes:
            for name in ideas:
                for seed in seeds:
                    bench.idea(name, size, seed)
    small = 200 if bench.quick else 1000
    if "b" in sections:
        for seed in seeds:
            for strategy in STRATEGIES:
                bench.veclift("conll", small, strategy, seed, "lower")
    if "c" in sections:
        for seed in seeds:
            for oov in chains:
                bench.veclift("conll", small, "finetune", seed, oov)
    if "d" in sections:
        for size in sizes:
            for seed in [0] if size == "full" else seeds:
                for system in systems:
                    run_system(bench, system, "conll", size, seed)
    if "a" in sections:
        bench.veclift("conll", "full", "finetune", 0)
    if "e" in sections:
        for system in systems:
            run_system(bench, system, "wnut", "full")


def run_system(bench: Bench, system: str, data: str, size, seed: int = 0) -> None:
    try:
        if system == "veclift":
            bench.veclift(data, size, "finetune", seed)
        else:
            bench.competitor(system, data, size, seed)
    except RuntimeError as exc:
        print(f"{system} {data} {size}: {exc}", file=sys.stderr, flush=True)


# --- report -----------------------------------------------------------------------------------
def recorded_runs() -> dict[str, dict]:
    """The runs bench/results/ner_bench.json holds: the kept ones live under the git-ignored
    bench/work, so a fresh checkout has only these, and a report built without them would drop them."""
    path = RESULTS / "ner_bench.json"
    return json.loads(path.read_text()).get("runs", {}) if path.exists() else {}


def load_runs(bench: Bench) -> dict[str, dict]:
    kept = {p.relative_to(bench.runs).with_suffix("").as_posix(): json.loads(p.read_text())
            for p in sorted(bench.runs.rglob("*.json"))}  # fmt: skip
    return {**bench.recorded, **kept}


def spread(values: list[float]) -> dict:
    return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}  # fmt: skip


def unseen(run: dict) -> tuple[float, float, float]:
    t = run["transfer"]
    return t["unseen"]["f1"], t["known"]["f1"], t["unknown"]["f1"]


def fmt_spread(s: dict) -> str:
    return f"{s['mean']:.4f} ± {s['std']:.4f} ({s['min']:.4f}..{s['max']:.4f}, n={s['n']})"


def report(bench: Bench) -> tuple[dict, str]:
    runs = load_runs(bench)
    small = 200 if bench.quick else 1000
    data: dict = {"runs": runs, "settings": {"epochs": EPOCHS, "full_epochs": FULL_EPOCHS, "stopping_sentences": STOPPING_SENTENCES, "spacy_max_steps": SPACY_STEPS,
                  "flair_cap_epochs_seconds": {str(k): v for k, v in FLAIR_CAP.items()}, "quick": bench.quick}}  # fmt: skip
    md = [__doc__.split("\n\n")[0], ""]

    def group(prefix: str) -> list[dict]:
        return [r for k, r in runs.items() if k.startswith(prefix)]

    full = runs.get(f"veclift/conll-full-finetune-oov_{DEFAULT_OOV.replace(',', '+')}-s0")
    if full:
        data["a"] = {k: full[k] for k in ("f1", "precision", "recall", "train_seconds", "epochs", "best_epoch", "predict_tokens_per_s")}
        md += [f"## a. Full CoNLL-2003, BiLSTM-CRF + char CNN + casing, finetune, OOV `{DEFAULT_OOV}` (seed 0)", "",
               markdown_table([{"dev F1": full["f1"], "P": full["precision"], "R": full["recall"],
                                "train s": full["train_seconds"], "epochs": full["epochs"], "best epoch": full["best_epoch"],
                                "predict tok/s": full["predict_tokens_per_s"], "target": ">= 0.92"}]), ""]  # fmt: skip

    rows = []
    data["b"] = {}
    for strategy in STRATEGIES:
        found = group(f"veclift/conll-{small}-{strategy}-oov_lower-")
        if found:
            f1 = spread([r["f1"] for r in found])
            data["b"][strategy] = {"f1": f1, "unseen_f1": spread([unseen(r)[0] for r in found]),
                                   "unseen_known_f1": spread([unseen(r)[1] for r in found]),
                                   "unseen_unknown_f1": spread([unseen(r)[2] for r in found]),
                                   "train_seconds": spread([r["train_seconds"] for r in found])}  # fmt: skip
            rows.append({"strategy": strategy, "dev F1 mean ± std (min..max)": fmt_spread(f1),
                         "unseen F1": data["b"][strategy]["unseen_f1"]["mean"],
                         "unseen, vectors know": data["b"][strategy]["unseen_known_f1"]["mean"],
                         "unseen, vectors lack": data["b"][strategy]["unseen_unknown_f1"]["mean"],
                         "train s (mean)": data["b"][strategy]["train_seconds"]["mean"]})  # fmt: skip
    if rows:
        seeds_b = sorted({r["seed"] for s in STRATEGIES for r in group(f"veclift/conll-{small}-{s}-oov_lower-")})
        md += [f"## b. {small} sentences, embedding strategies, OOV `lower` (seeds {seeds_b}; subset and model seeded alike)",
               "", markdown_table(rows), ""]  # fmt: skip

    rows = []
    data["c"] = {}
    default_f1 = {r["seed"]: r["f1"] for r in group(f"veclift/conll-{small}-finetune-oov_lower-")}
    for oov in OOV_CHAINS:
        found = group(f"veclift/conll-{small}-finetune-oov_{oov.replace(',', '+')}-")
        if found:
            f1 = spread([r["f1"] for r in found])
            paired = [r["f1"] - default_f1[r["seed"]] for r in found if r["seed"] in default_f1]
            data["c"][oov] = {"f1": f1, "unseen_f1": spread([unseen(r)[0] for r in found]),
                              "unseen_unknown_f1": spread([unseen(r)[2] for r in found]), "minus_lower": paired}  # fmt: skip
            rows.append({"oov": oov, "dev F1 mean ± std (min..max)": fmt_spread(f1),
                         "minus `lower`, same seed (F1 points)": ", ".join(f"{100 * d:+.2f}" for d in paired),
                         "unseen F1": data["c"][oov]["unseen_f1"]["mean"],
                         "unseen, vectors lack": data["c"][oov]["unseen_unknown_f1"]["mean"]})  # fmt: skip
    if rows:
        winner = max(data["c"], key=lambda o: (data["c"][o]["f1"]["mean"], data["c"][o]["unseen_f1"]["mean"]))
        data["c"]["winner"] = winner
        md += [f"## c. OOV chains at {small} sentences, finetune", "", markdown_table(rows), "",
               f"Highest mean dev F1: `{winner}`.", ""]  # fmt: skip

    for section, dataset, label in (("d", "conll", "CoNLL-2003 dev"), ("e", "wnut", "WNUT-17 test")):
        rows = []
        data[section] = []
        for size in ([200, 1000, "full"] if dataset == "conll" else ["full"]):
            found = {system: group(f"veclift/{dataset}-{size}-finetune-oov_{DEFAULT_OOV.replace(',', '+')}-s") if system == "veclift"
                     else group(f"{system}/{dataset}-{size}-s") for system in ("veclift", "spacy", "flair")}  # fmt: skip
            mean = {system: {k: statistics.mean(r[k] for r in got) for k in ("train_seconds", "predict_tokens_per_s")}
                    for system, got in found.items() if got}  # fmt: skip
            for system, got in found.items():
                if not got:
                    continue
                f1 = spread([r["f1"] for r in got])
                row = {"size": got[0]["size"], "system": system, "F1 mean ± std (min..max)": fmt_spread(f1),
                       "seeds": sorted(r["seed"] for r in got), "unseen F1": statistics.mean(unseen(r)[0] for r in got),
                       "train s": mean[system]["train_seconds"], "predict tok/s": mean[system]["predict_tokens_per_s"]}  # fmt: skip
                if "veclift" in mean and system != "veclift":
                    row["veclift train time / theirs"] = mean["veclift"]["train_seconds"] / mean[system]["train_seconds"]
                    row["veclift tok/s / theirs"] = mean["veclift"]["predict_tokens_per_s"] / mean[system]["predict_tokens_per_s"]
                row["budget"] = json.dumps(got[0].get("budget") or got[0].get("config"))
                if "epochs" in got[0]:
                    row["budget"] += f" ran {', '.join(str(r['epochs']) for r in got)} ep"
                data[section].append({**row, "f1": f1})
                rows.append(row)
        if rows:
            columns = ["size", "system", "F1 mean ± std (min..max)", "seeds", "unseen F1", "train s", "predict tok/s",
                       "veclift train time / theirs", "veclift tok/s / theirs", "budget"]  # fmt: skip
            md += [f"## {section}. veclift vs spaCy vs flair, {label} (one thread each; means over the seeds listed)", "",
                   markdown_table(rows, columns), "",
                   "Timings: each system on one thread of the 2-core machine, mostly beside one other benchmark "
                   "process (load about 2, at times up to 4); time and speed ratios are of the means and indicative.",
                   ""]  # fmt: skip
    data["f"], rows = ideas_section(group)
    if rows:
        md += ["## f. The first 200 / 1,000 CoNLL-2003 sentences: ideas for small training sets", "",
               "Train on the first N sentences of train.txt (whole documents), early stopping on the fixed "
               "1,000 valid.txt sentences, F1 of all of valid.txt; seeds vary the model only. Gain: the idea's "
               "F1 minus `before`'s (TaggerConfig before this section) with the same seed, in points. Goal: 0.80 at 200, 0.87 at 1,000. "
               "Unseen: test entities never seen in the model's training data, `unseen n` of them (mean over the seeds); "
               "with self-training that data includes the sentences it tagged, so fewer, other entities count as unseen.", "",
               markdown_table(rows), ""]  # fmt: skip
    unfinished = interrupted_runs(bench)
    data["unfinished"] = unfinished
    if unfinished:
        md += ["## Unfinished veclift runs (checkpoint kept: rerun the same command to resume)", "",
               markdown_table(unfinished), ""]  # fmt: skip
    md += [f"Settings: veclift epochs {json.dumps(EPOCHS)}, full training sets {json.dumps(FULL_EPOCHS)}, "
           f"early stopping on {STOPPING_SENTENCES} valid.txt sentences (seed 0) for CoNLL-2003; spaCy max steps "
           f"{json.dumps(SPACY_STEPS)}; flair (max epochs, max training seconds) "
           f"{json.dumps({str(k): v for k, v in FLAIR_CAP.items()})}.", ""]  # fmt: skip
    versions = {r["system"]: r.get("versions") for r in runs.values() if r.get("versions")}
    data["competitor_versions"] = versions
    md += [f"Competitor versions: {json.dumps(versions)}", ""]
    return data, "\n".join(md)


def ideas_section(group) -> tuple[dict, list[dict]]:
    data, rows = {}, []
    for size in sorted({r["size"] for r in group("veclift-first/")}):
        default = {r["seed"]: r["f1"] for r in group(f"veclift-first/before-{size}-s")}
        for name in IDEAS:
            found = group(f"veclift-first/{name}-{size}-s")
            if not found:
                continue
            f1 = spread([r["f1"] for r in found])
            gains = [100 * (r["f1"] - default[r["seed"]]) for r in found if r["seed"] in default]
            data[f"{name}-{size}"] = {"f1": f1, "gains": gains, "seeds": [r["seed"] for r in found],
                                      "train_seconds": spread([r["train_seconds"] for r in found])}  # fmt: skip
            rows.append({"size": size, "idea": name, "overrides": json.dumps(IDEAS[name]),
                         "dev F1 mean ± std (min..max)": fmt_spread(f1),
                         "gain per seed (points)": ", ".join(f"{g:+.2f}" for g in gains) if name != "before" else "",
                         "mean gain": statistics.mean(gains) if gains and name != "before" else "",
                         "unseen F1": statistics.mean(unseen(r)[0] for r in found),
                         "unseen n": round(statistics.mean(r["transfer"]["unseen"]["gold"] for r in found)),
                         "train s (mean)": data[f"{name}-{size}"]["train_seconds"]["mean"],
                         "epochs": ", ".join(str(r["epochs"]) for r in found)})  # fmt: skip
    return data, rows


def interrupted_runs(bench: Bench) -> list[dict]:
    """The epochs done so far by runs whose checkpoint is still there (running or interrupted)."""
    rows = []
    for path in sorted((bench.root / "checkpoints").rglob("*.pt")):
        history = torch.load(path, weights_only=True)["loop"]["history"]  # a checkpoint this bench wrote
        if history:
            best = max(history, key=lambda h: h.get("dev", 0.0))
            rows.append({"run": path.relative_to(bench.root / "checkpoints").with_suffix("").as_posix(),
                         "epochs done": len(history), "best early-stopping F1": best.get("dev"),
                         "at epoch": best["epoch"], "epoch seconds so far": sum(h["seconds"] for h in history)})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="a,b,c,d,e")
    parser.add_argument("--sizes", default="200,1000,full", help="training sizes of section d")
    parser.add_argument("--systems", default="veclift,spacy,flair", help="systems of sections d and e")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of sections b, c and d (d's full size: seed 0)")
    parser.add_argument("--oov-chains", action="append", help=f"OOV chains of section c (repeat; default {OOV_CHAINS})")
    parser.add_argument("--ideas", default=",".join(IDEAS), help="ideas of section f")
    parser.add_argument("--first-sizes", default="200,1000", help="training sizes of section f")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rerun", action="store_true", help="train again runs already kept")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = Bench(args.quick, args.rerun, [int(s) for s in args.seeds.split(",")])
    sizes = [s if s == "full" else int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes = [200]
    unknown = set(args.ideas.split(",")) - set(IDEAS)
    if unknown:
        parser.error(f"unknown ideas {sorted(unknown)} (known: {', '.join(IDEAS)})")
    run_sections(bench, args.sections.split(","), sizes, args.systems.split(","), args.oov_chains or OOV_CHAINS,
                 args.ideas.split(","), [int(n) for n in args.first_sizes.split(",")])
    data, markdown = report(bench)
    if args.quick:
        (bench.root / "ner_bench.md").write_text(markdown)
        print(markdown)
    else:
        print(write_results("ner_bench", data, markdown))


if __name__ == "__main__":
    main()
