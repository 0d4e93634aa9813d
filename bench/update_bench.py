"""Teaching a trained tagger a new entity type (`veclift train ner --init-model`): how much of the old
types an update forgets, with pseudo-rehearsal and the pull to the old weights (the defaults), and
with plain fine-tuning.

Per seed s (GloVe 6B 50d, `finetune`, the default tagger settings but the epoch budget, one torch thread):

- base: 1,000 CoNLL-2003 train sentences (`subsample(train, 1000, seed=s)`) with MISC removed
  (PER/LOC/ORG only), early stopping on 500 further train sentences (MISC removed);
- conll update: 300 further train sentences annotated with MISC only (PER/LOC/ORG removed), early
  stopping on the 500 sentences with MISC only; PER/LOC/ORG F1 and MISC F1 on all of valid.txt;
- wnut update (the new domain): 300 WNUT-17 train sentences annotated with `product` and
  `creative-work` only (half of them drawn from the 234 sentences holding such an entity: in a
  random 300 there are about 22), early stopping on WNUT-17 dev (those types only); PER/LOC/ORG F1
  on CoNLL valid.txt, the new types' F1 on WNUT-17 test.

The updates: `pseudo` is pseudo-rehearsal (`rehearsal = "pseudo"`, the default): the old model's
PER/LOC/ORG added to the new sentences and to raw text that it tags, on which the new types are left
open (partial targets). `kept sentences` is the default raw text: the 1,000 training sentences the
base model keeps (`rehearsal_sentences`, here all of its training set); `raw text` is 500 further
CoNLL train sentences instead (`rehearse = FILE`); `new sentences only` rehearses on the new
sentences alone (`rehearse = "none"`); `pull` adds the L2 pull of the embedding and encoder weights
to the old model's (`init_pull`); `none (plain fine-tuning)` trains on the new data as given.
Old-type F1 is the micro F1 over PER/LOC/ORG with other types left out of gold and predictions
alike; new-type F1 likewise over the new types. "update s" is the wall time of the whole update
(loading, pseudo-labelling, training).

    python bench/update_bench.py [--seeds 0,1,2] [--epochs 20] [--datasets conll,wnut] [--variants "NAME;..."] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
from common import DATA, WORK, markdown_table, write_results  # noqa: E402

from veclift.data import TaggedSentence, read_conll, subsample  # noqa: E402
from veclift.data.sampling import sample_order  # noqa: E402
from veclift.tasks import SequenceTagger  # noqa: E402
from veclift.tasks.metrics import ner_scores  # noqa: E402
from veclift.tasks.update import restricted_tags  # noqa: E402
from veclift.vectors import Vectors  # noqa: E402

OLD = {"PER", "LOC", "ORG"}
NEW = {"conll": {"MISC"}, "wnut": {"product", "creative-work"}}
BASE_SIZE, UPDATE_SIZE, STOP_SIZE = 1000, 300, 500
RAW_SIZE = 500  # `rehearse`: this many further CoNLL train sentences, as raw text (one a line)
VARIANTS = {  # name -> settings of the update
    "pseudo, kept sentences (default)": {"rehearsal": "pseudo"},
    "pseudo + raw text": {"rehearsal": "pseudo", "rehearse": True},
    "pseudo, new sentences only": {"rehearsal": "pseudo", "rehearse": "none"},
    "pseudo + pull, new sentences only": {"rehearsal": "pseudo", "rehearse": "none", "init_pull": 1.0},
    "pseudo, kept sentences + pull 0.3": {"rehearsal": "pseudo", "init_pull": 0.3},
    "none (plain fine-tuning)": {"rehearsal": "none"},
}


def parts(items: list, seed: int, sizes: tuple[int, ...]) -> list[list]:
    """Disjoint seeded parts of ``items`` of ``sizes``: the first is `subsample(items, sizes[0], seed)`
    (the 1,000-sentence subset of ner_bench), each next one the items the next nested subsample adds."""
    order, found, start = sample_order(items, seed), [], 0
    for size in sizes:
        found.append([items[i] for i in sorted(order[start : start + size])])
        start += size
    return found


def only(sentences: list[TaggedSentence], types: set[str]) -> list[TaggedSentence]:
    """The sentences with only the entities of ``types`` kept (the others tagged ``O``)."""
    return [TaggedSentence(s.tokens, restricted_tags(s.tags, types)) for s in sentences]


def f1(gold: list[TaggedSentence], pred: list[list[str]], types: set[str]) -> float:
    """Micro F1 over ``types``, other types left out of gold and predictions."""
    return ner_scores([restricted_tags(s.tags, types) for s in gold], [restricted_tags(p, types) for p in pred])["f1"]


def wnut_sample(sentences: list[TaggedSentence], seed: int) -> list[TaggedSentence]:
    """UPDATE_SIZE sentences, half (seeded) of those holding a new-type entity and half of the others:
    in a random 300 the new types are too rare (about 22 entities) to learn anything from."""
    holding = [s for s in sentences if any(kind in NEW["wnut"] for kind, _, _ in s.entities())]
    others = [s for s in sentences if not any(kind in NEW["wnut"] for kind, _, _ in s.entities())]
    return subsample(holding, UPDATE_SIZE // 2, seed=seed) + subsample(others, UPDATE_SIZE - UPDATE_SIZE // 2, seed=seed)


def mean_std(values: list[float], scale: float = 100.0) -> str:
    values = [v * scale for v in values]
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {spread:.2f} ({min(values):.2f}..{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=20, help="max epochs of the base model and of each update")
    parser.add_argument("--patience", type=int, default=SequenceTagger.config_class().patience)
    parser.add_argument("--datasets", default=",".join(NEW), help="the updates to run (comma-separated)")
    parser.add_argument("--variants", default=None, help="the update variants to run (names separated by ;); all by default")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 seed, results not written")
    args = parser.parse_args()
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    datasets = args.datasets.split(",")
    variants = {name: VARIANTS[name] for name in args.variants.split(";")} if args.variants else VARIANTS
    budget = {"max_epochs": 2 if args.quick else args.epochs, "patience": args.patience}
    torch.set_num_threads(1)
    began = time.perf_counter()
    glove = Vectors.load("glove-6b-50d", progress=False)
    conll_train = read_conll(DATA / "ner" / "conll2003" / "train.txt")
    valid = read_conll(DATA / "ner" / "conll2003" / "valid.txt")
    wnut_train = read_conll(DATA / "ner" / "wnut17" / "train.conll")
    wnut_dev, wnut_test = (read_conll(DATA / "ner" / "wnut17" / f"{name}.conll") for name in ("dev", "test"))
    valid_tokens, wnut_tokens = [list(s.tokens) for s in valid], [list(s.tokens) for s in wnut_test]
    work = WORK / ("update_bench-quick" if args.quick else "update_bench")
    bases, runs = [], []
    for seed in seeds:
        base_train, new_train, stop, raw = parts(conll_train, seed, (BASE_SIZE, UPDATE_SIZE, STOP_SIZE, RAW_SIZE))
        rehearse = work / f"raw-s{seed}.txt"
        rehearse.parent.mkdir(parents=True, exist_ok=True)
        rehearse.write_text("".join(" ".join(s.tokens) + "\n" for s in raw), encoding="utf-8")
        t0 = time.perf_counter()
        base = SequenceTagger(**budget).fit(only(base_train, OLD), only(stop, OLD), vectors=glove, seed=seed, progress=False)
        base_seconds = time.perf_counter() - t0
        directory = base.save(work / f"base-s{seed}", overwrite=True)
        before = f1(valid, base.predict(valid_tokens), OLD)
        bases.append({"seed": seed, "old_f1": before, "seconds": base_seconds, "epochs": len(base.train_result.history)})
        print(f"base s{seed}: PER/LOC/ORG F1 {before:.4f} in {base_seconds:.0f} s", flush=True)
        updates = {
            "conll": (only(new_train, NEW["conll"]), only(stop, NEW["conll"]), valid, valid_tokens),
            "wnut": (only(wnut_sample(wnut_train, seed), NEW["wnut"]), only(wnut_dev, NEW["wnut"]), wnut_test, wnut_tokens),
        }  # fmt: skip
        for dataset in datasets:
            train, dev, scored, scored_tokens = updates[dataset]
            for variant, settings in variants.items():
                t0 = time.perf_counter()
                settings = {**settings, "rehearse": str(rehearse)} if settings.get("rehearse") is True else settings
                model = SequenceTagger(init_model=str(directory), **{**budget, **settings})
                model.fit(train, dev, seed=seed, progress=False)
                seconds = time.perf_counter() - t0
                valid_pred = model.predict(valid_tokens)
                after = f1(valid, valid_pred, OLD)
                new_f1 = f1(scored, valid_pred if scored is valid else model.predict(scored_tokens), NEW[dataset])
                run = {"dataset": dataset, "variant": variant, "seed": seed, "old_before": before,
                       "old_after": after, "old_change": after - before, "new_f1": new_f1,
                       "new_entities": sum(len(s.entities()) for s in train), "seconds": seconds,
                       "epochs": len(model.train_result.history), "best_epoch": model.train_result.best_epoch}  # fmt: skip
                runs.append(run)
                print({k: round(v, 4) if isinstance(v, float) else v for k, v in run.items()}, flush=True)
    total = time.perf_counter() - began
    rows = []
    for dataset in datasets:
        for variant in variants:
            group = [r for r in runs if (r["dataset"], r["variant"]) == (dataset, variant)]
            rows.append({
                "new data": dataset, "update": variant,
                "PER/LOC/ORG F1 before": mean_std([r["old_before"] for r in group]),
                "after": mean_std([r["old_after"] for r in group]),
                "change (points)": mean_std([r["old_change"] for r in group]),
                f"new type F1 ({', '.join(sorted(NEW[dataset]))})": mean_std([r["new_f1"] for r in group]),
                "update s": statistics.mean(r["seconds"] for r in group),
                "epochs": ", ".join(str(r["epochs"]) for r in group),
            })  # fmt: skip
    tables = []
    for dataset in datasets:
        part = [r for r in rows if r["new data"] == dataset]
        tables.append(f"## {dataset} update\n\n" + markdown_table(part, [c for c in part[0] if c != "new data"]))
    base_line = (f"Base models: PER/LOC/ORG F1 {mean_std([b['old_f1'] for b in bases])} on valid.txt, "
                 f"{statistics.mean(b['seconds'] for b in bases):.0f} s to train (mean), epochs "
                 f"{', '.join(str(b['epochs']) for b in bases)}.")  # fmt: skip
    markdown = "\n\n".join([
        __doc__.rsplit("\n\n", 1)[0], f"Seeds {seeds}; F1 in points, mean ± std (min..max) over the seeds; "
        f"budget {budget} for the base and each update; total run time {total / 60:.1f} min.", base_line, *tables,
    ])  # fmt: skip
    if args.quick:
        print(markdown)
        return
    write_results("update_bench", {"seeds": seeds, "budget": budget, "bases": bases, "runs": runs, "summary": rows,
                                   "seconds": total}, markdown)  # fmt: skip
    print(markdown)


if __name__ == "__main__":
    main()
