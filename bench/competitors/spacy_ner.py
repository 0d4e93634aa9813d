"""spaCy v3 NER on `token<TAB>TAG` files, run in its own virtualenv by bench/ner_bench.py.

Trains spaCy's efficiency NER config with static vectors looked up by LOWER (GloVe 6B is
lower-cased), predicts the evaluation file and writes one predicted tag per token (blank line
between sentences) to OUT/pred.txt; prints one JSON object: train_seconds, predict_tokens_per_s,
epochs, versions. The parent scores the predictions with veclift's metric.

    python spacy_ner.py --train T --dev D --eval E --glove GLOVE.txt --out DIR [--seed 0]
        [--max-epochs 0] [--max-steps 20000]

spaCy 3.8's `init vectors --attr LOWER` leaves the attribute out of `vectors.cfg` for ordinary
vectors, so they reload with ORTH (exact spelling) keys; this script writes
{"mode": "default", "attr": 66} (66 = spaCy's LOWER) into that file before training and into the
trained model's copy before predicting, and asserts that lower-cased lookup is in effect.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import spacy
import thinc
import torch
from spacy.attrs import LOWER
from spacy.tokens import Doc, DocBin

VECTORS_CFG = {"mode": "default", "attr": int(LOWER)}


def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    """(tokens, IOB2 tags) per blank-line separated sentence of a `token TAG` file."""
    sentences, tokens, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if tokens:
                sentences.append((tokens, tags))
                tokens, tags = [], []
            continue
        cols = line.split("\t")
        tokens.append(cols[0])
        tags.append(cols[-1])
    if tokens:
        sentences.append((tokens, tags))
    return sentences


def to_docbin(sentences, vocab, path: Path) -> None:
    bin_ = DocBin()
    for tokens, tags in sentences:
        bin_.add(Doc(vocab, words=tokens, ents=tags))
    bin_.to_disk(path)


def force_lower(vectors_dir: Path) -> None:
    """Write the LOWER key attribute into a vectors.cfg (see the module docstring)."""
    (vectors_dir / "vocab" / "vectors.cfg").write_text(json.dumps(VECTORS_CFG))


def check_lower(nlp) -> None:
    vectors = nlp.vocab.vectors
    assert vectors.attr == LOWER, f"vectors keyed by attribute {vectors.attr}, not LOWER ({LOWER})"
    upper, lower = nlp.vocab.get_vector("Apple"), nlp.vocab.get_vector("apple")
    assert abs(lower).sum() > 0 and (upper == lower).all(), "'Apple' does not get the vector of 'apple'"


def prepare_vectors(glove: Path, work: Path) -> Path:
    """`spacy init vectors en GLOVE DIR --attr LOWER` once per work folder, then the cfg fix."""
    target = work / "vectors"
    if not (target / "meta.json").exists():
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "spacy", "init", "vectors", "en", str(glove), str(target),
                        "--attr", "LOWER"], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    force_lower(target)
    check_lower(spacy.load(target))
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("train", "dev", "eval", "glove", "out", "work"):
        parser.add_argument(f"--{name}", type=Path, required=name != "work")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=20000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    vectors_dir = prepare_vectors(args.glove, args.work or out)

    blank = spacy.blank("en")
    to_docbin(read_conll(args.train), blank.vocab, out / "train.spacy")
    to_docbin(read_conll(args.dev), blank.vocab, out / "dev.spacy")
    config = out / "config.cfg"
    subprocess.run([sys.executable, "-m", "spacy", "init", "config", str(config), "--lang", "en",
                    "--pipeline", "ner", "--optimize", "efficiency", "--force"], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    text = config.read_text()
    assert "include_static_vectors = false" in text, "efficiency config without include_static_vectors"
    config.write_text(text.replace("include_static_vectors = false", "include_static_vectors = true"))

    from spacy.cli.train import train

    overrides = {
        "paths.train": str(out / "train.spacy"), "paths.dev": str(out / "dev.spacy"),
        "paths.vectors": str(vectors_dir), "initialize.vectors": str(vectors_dir),
        "system.seed": args.seed, "training.max_epochs": args.max_epochs, "training.max_steps": args.max_steps,
    }  # fmt: skip
    began = time.perf_counter()
    train(config, out / "model", overrides=overrides, use_gpu=-1)
    train_seconds = time.perf_counter() - began

    best = out / "model" / "model-best"
    force_lower(best)
    nlp = spacy.load(best)
    check_lower(nlp)
    meta = json.loads((best / "meta.json").read_text())
    sentences = read_conll(args.eval)
    began = time.perf_counter()
    docs = list(nlp.pipe(Doc(nlp.vocab, words=tokens) for tokens, _ in sentences))
    predict_seconds = time.perf_counter() - began
    lines = []
    for doc in docs:
        lines.extend(f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in doc)
        lines.append("")
    (out / "pred.txt").write_text("\n".join(lines) + "\n")
    tokens = sum(len(tokens) for tokens, _ in sentences)
    print(json.dumps({
        "train_seconds": train_seconds,
        "predict_tokens_per_s": tokens / predict_seconds,
        "dev_score_spacy": meta.get("performance", {}).get("ents_f"),
        "versions": {"spacy": spacy.__version__, "thinc": thinc.__version__, "torch": torch.__version__},
        "budget": {"max_epochs": args.max_epochs, "max_steps": args.max_steps, "config": "efficiency, ner"},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
