"""Does pre-training the tagger's encoder on raw text (like `spacy pretrain`) help a small NER set?

Pre-training corpus (raw text: each sentence's tokens joined by spaces, then re-tokenised by
veclift): CoNLL-2003 train.txt, then WikiANN-en train, Wikigold, WNUT-17 train and MR sentences
(no CoNLL-2003 valid.txt text: it is the evaluation set). The encoder is veclift's default tagger
(BiLSTM 200 per direction + char CNN + casing, GloVe 6B 50d rows) trained to predict 15% masked
words' GloVe vectors (cosine), for ``--pretrain-epochs`` passes over the first ``--max-sentences``
sentences.

Then CoNLL-2003 with 200 and 1,000 training sentences (`veclift.data.subsample`, seeds 0,1,2; the
same seed seeds the model), `finetune` GloVe, up to ``--epochs`` epochs with early stopping on
valid.txt, with and without ``init_encoder``: dev F1 (valid.txt) mean, std, min..max and the
per-seed difference.

Two worker processes, one torch thread each: the pre-training runs beside the baselines, the
initialised taggers after it.

    python bench/encoder_pretrain_bench.py [--sizes 200,1000] [--seeds 0,1,2] [--pretrain-epochs 2]
        [--max-sentences 40000] [--epochs 20] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, WORK, markdown_table, write_results

CONLL = DATA / "ner" / "conll2003"
ENCODER_DIR = WORK / "encoder_pretrain_bench" / "encoder"


def raw_text() -> tuple[list[str], dict[str, dict[str, int]]]:
    """Sentences as raw strings, CoNLL-2003 train first, and sentence/token counts per source."""
    from veclift.data import read_tagged

    ner = DATA / "ner"
    sources = {
        "conll2003/train.txt": read_tagged(CONLL / "train.txt"),
        "wikiann-en/train.txt": read_tagged(ner / "wikiann-en" / "train.txt"),
        "wikigold/wikigold.conll": read_tagged(ner / "wikigold" / "wikigold.conll"),
        "wnut17/train.conll": read_tagged(ner / "wnut17" / "train.conll"),
    }
    texts: dict[str, list[str]] = {name: [" ".join(s.tokens) for s in data] for name, data in sources.items()}
    mr = DATA / "classify" / "mr"
    texts["mr/rt-polarity.{pos,neg}"] = [
        line.strip() for name in ("rt-polarity.pos", "rt-polarity.neg")
        for line in (mr / name).read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()
    ]  # fmt: skip
    counts = {name: {"sentences": len(t), "tokens": sum(len(s.split()) for s in t)} for name, t in texts.items()}
    return [s for t in texts.values() for s in t], counts


def pretrain(epochs: int, max_sentences: int, seed: int) -> dict:
    import torch

    torch.set_num_threads(1)
    from veclift.pretrain.encoder import pretrain_encoder
    from veclift.tasks import TaggerConfig
    from veclift.vectors import Vectors

    sentences, counts = raw_text()
    used = sentences[:max_sentences]
    encoder = pretrain_encoder(used, Vectors.load("glove-6b-50d", progress=False), TaggerConfig(),
                               epochs=epochs, max_sentences=max_sentences, seed=seed, progress=False)  # fmt: skip
    encoder.save(ENCODER_DIR, overwrite=True)
    return {"sources": counts, "sentences_available": len(sentences), **encoder.meta}


def trial(size: int, seed: int, init: bool, max_epochs: int) -> dict:
    import torch

    torch.set_num_threads(1)
    from veclift.data import read_tagged, subsample
    from veclift.tasks import SequenceTagger, TaggerConfig
    from veclift.vectors import Vectors

    train, dev = read_tagged(CONLL / "train.txt"), read_tagged(CONLL / "valid.txt")
    config = TaggerConfig(embeddings="finetune", max_epochs=max_epochs, init_encoder=str(ENCODER_DIR) if init else None)
    began = time.perf_counter()
    model = SequenceTagger(config).fit(subsample(train, size, seed), dev, vectors=Vectors.load("glove-6b-50d", progress=False),
                                       seed=seed, progress=False)  # fmt: skip
    result = model.train_result
    return {"size": size, "seed": seed, "encoder": "pre-trained" if init else "random", "dev_f1": result.best_score,
            "best_epoch": result.best_epoch, "epochs": len(result.history), "seconds": time.perf_counter() - began}  # fmt: skip


COLUMNS = ["train sentences", "encoder", "seeds", "dev F1 mean", "std", "min..max", "paired gain mean", "gains per seed"]


def summarise(trials: list[dict], sizes: list[int]) -> list[dict]:
    rows = []
    for size in sizes:
        by = {kind: {t["seed"]: t["dev_f1"] for t in trials if t["size"] == size and t["encoder"] == kind} for kind in ("random", "pre-trained")}
        for kind, scores in by.items():
            values = list(scores.values())
            rows.append({"train sentences": size, "encoder": kind, "seeds": len(values), "dev F1 mean": statistics.mean(values),
                         "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                         "min..max": f"{min(values):.4f}..{max(values):.4f}"})  # fmt: skip
        paired = [by["pre-trained"][s] - by["random"][s] for s in by["random"] if s in by["pre-trained"]]
        rows[-1]["paired gain mean"] = statistics.mean(paired)
        rows[-1]["gains per seed"] = ", ".join(f"{g:+.4f}" for g in paired)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--pretrain-epochs", type=int, default=2)
    parser.add_argument("--max-sentences", type=int, default=40_000)
    parser.add_argument("--epochs", type=int, default=20, help="maximum tagger epochs (patience 5)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 200 sentences, 1 seed, tiny budgets, no results")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.quick:
        sizes, seeds, args.pretrain_epochs, args.max_sentences, args.epochs = [200], [0], 1, 500, 2
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        pretraining = pool.submit(pretrain, args.pretrain_epochs, args.max_sentences, 0)
        baselines = [pool.submit(trial, n, s, False, args.epochs) for n in sorted(sizes, reverse=True) for s in seeds]
        pretrained = pretraining.result()
        print(f"pre-trained: {pretrained['history']}", flush=True)
        initialised = [pool.submit(trial, n, s, True, args.epochs) for n in sorted(sizes, reverse=True) for s in seeds]
        trials = [f.result() for f in baselines + initialised]
    for t in trials:
        print(t, flush=True)
    rows = summarise(trials, sizes)
    wall = time.perf_counter() - began
    if args.quick:
        print(markdown_table(rows, COLUMNS))
        return
    corpus = "; ".join(f"{name} {c['sentences']:,} sentences / {c['tokens']:,} tokens" for name, c in pretrained["sources"].items())
    epochs = ", ".join(f"epoch {h['epoch']}: loss {h['loss']:.4f}, {h['words_per_second']:,.0f} words/s" for h in pretrained["history"])
    markdown = (
        "Encoder pre-training (masked words predict their GloVe 6B 50d vector, cosine loss), then CoNLL-2003 NER, "
        "`finetune` GloVe, BiLSTM-CRF + char CNN + casing, with the encoder and char/casing features initialised from the "
        "pre-training or at random. Dev F1 = best valid.txt F1 (early stopping on valid.txt, patience 5, "
        f"at most {args.epochs} epochs); seeds {args.seeds} (subsample and model).\n\n"
        + markdown_table(rows, COLUMNS)
        + f"\n\nPre-training text available (tokens by whitespace): {corpus}. Used: the first {pretrained['sentences']:,} "
        f"sentences ({pretrained['tokens']:,} veclift tokens, {pretrained['known_tokens']:,} with a GloVe vector via 'lower'), "
        f"{pretrained['epochs']} epochs, mask 15%, batch 32, Adam lr {pretrained['lr']}, seed 0, one thread: "
        f"{pretrained['seconds'] / 60:.1f} min ({epochs}).\n\n"
        f"Whole benchmark: {wall / 60:.1f} min wall on 2 worker processes (one torch thread each) on a machine shared "
        "with other benchmark runs.\n"
    )
    write_results("encoder_pretrain_bench", {"settings": vars(args), "pretraining": pretrained, "trials": trials,
                                             "summary": rows, "wall_seconds": wall}, markdown)  # fmt: skip
    print(markdown)


if __name__ == "__main__":
    main()
