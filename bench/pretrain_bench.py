"""Pre-training on a >= 5M-token corpus of real text at hand: speed beside gensim, GloVe epochs, quality.

The corpus (built into bench/work/pretrain_corpus/, lower-cased when tokenised):
1. the running text of ../shared/data: CoNLL-2003 train+valid, WikiANN-en train/dev/test (``en:``
   prefixes removed), Wikigold, WNUT-17 train/dev/test (one sentence per line), MR polarity;
   SST-2 is left out: its 67k phrases are overlapping pieces of the same few thousand sentences;
2. the Python 3.11 documentation (Debian ``python3.11-doc``: HTML body text, code blocks removed);
3. English manual pages of sections 1, 5, 7 and 8 (``/usr/share/man``, groff markup stripped),
   in sorted order, until the corpus reaches ``TARGET_WORDS`` whitespace-separated words.
No text is repeated. ``apt-get install python3.11-doc`` first; man pages come with the system.

Timings: veclift's ``train_word2vec``/``train_fasttext`` on the prepared (tokenised) corpus against
gensim's ``Word2Vec``/``FastText`` trained directly on the same tokenised file (``LineSentence``)
with the same parameters, alternating which runs first, two rounds, in this one process; both
figures cover building the vocabulary from the counts, initialising the weights and training.
With 2 worker threads gensim is not bit-exact from run to run (thread scheduling orders the
updates), so the two runs are compared on speed and quality, not bit for bit. GloVe: co-occurrence counting time and seconds
per epoch (1 PyTorch thread). Quality: every word-similarity set and the Google analogies
(3CosAdd, 30k most frequent words) for each trained set and the built-in GloVe 6B 50d.

    python bench/pretrain_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import html
import os
import re
import statistics
import time
from pathlib import Path

from common import DATA, WORK, markdown_table, write_results
from gensim.models import FastText, Word2Vec

from veclift.pretrain.corpus import Corpus
from veclift.pretrain.fasttext import FastTextSettings, train_fasttext
from veclift.pretrain.glove import GloveSettings, train_glove
from veclift.pretrain.training import prepare_corpus
from veclift.pretrain.word2vec import Word2VecSettings, train_word2vec
from veclift.vectors import Vectors
from veclift.vectors.evaluate import default_analogy_file, default_similarity_files, evaluate_analogy, evaluate_similarity

TARGET_WORDS = 5_300_000
CORPUS_DIR = WORK / "pretrain_corpus"
PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
MAN = Path("/usr/share/man")


def conll_sentences(path: Path, strip_prefix: str = "") -> list[str]:
    """The token column of a CoNLL file, one sentence per line."""
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if current:
                sentences.append(" ".join(current))
                current = []
            continue
        current.append(parts[0].removeprefix(strip_prefix))
    if current:
        sentences.append(" ".join(current))
    return sentences


def shared_text() -> str:
    ner = DATA / "ner"
    lines = []
    for path in [ner / "conll2003/train.txt", ner / "conll2003/valid.txt", ner / "wikigold/wikigold.conll"]:
        lines += conll_sentences(path)
    for split in ("train", "dev", "test"):
        lines += conll_sentences(ner / f"wikiann-en/{split}.txt", strip_prefix="en:")
        lines += conll_sentences(ner / f"wnut17/{split}.conll")
    for polarity in ("pos", "neg"):
        lines += (DATA / f"classify/mr/rt-polarity.{polarity}").read_text(encoding="latin-1").splitlines()
    return "\n".join(lines) + "\n"


_BLOCK_END = re.compile(r"</(p|li|dt|dd|h[1-6]|div|section|tr|table|blockquote)>", re.I)


def python_docs_text() -> str:
    if not PYTHON_DOCS.is_dir():
        raise SystemExit(f"{PYTHON_DOCS} is missing: apt-get install python3.11-doc")
    parts = []
    for path in sorted(PYTHON_DOCS.rglob("*.html")):
        if "_static" in path.parts:
            continue
        page = path.read_text(encoding="utf-8", errors="replace")
        body = re.search(r'<div class="body" role="main">(.*?)<div class="sphinxsidebar"', page, re.S)
        text = body.group(1) if body else page
        text = re.sub(r"<(script|style|pre)\b.*?</\1>", " ", text, flags=re.S | re.I)
        text = _BLOCK_END.sub("\n\n", text)
        parts.append(html.unescape(re.sub(r"<[^>]+>", " ", text)))
    return "\n\n".join(parts)


def man_page_text(path: Path) -> str:
    """Running text of a groff man page: macros dropped, paragraph macros become blank lines."""
    source = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    if source.startswith(".so "):
        return ""
    out = []
    for line in source.splitlines():
        if line.startswith(('.\\"', "'")) or line.startswith("\\{") or line.startswith("\\}"):
            continue
        if line.startswith((".SH", ".SS", ".PP", ".P ", ".LP", ".TP", ".IP", ".sp", ".br")) or line == ".P":
            out.append("")
            line = re.sub(r"^\.(SH|SS|IP)\s*", "", line) if line.startswith((".SH", ".SS", ".IP")) else ""
        elif line.startswith("."):
            if not re.match(r"^\.(B|I|BR|IR|RB|BI|IB|RI)\b", line):
                continue
            line = re.sub(r"^\.\w+\s*", "", line)
        line = re.sub(r'\\f[BIRP]|\\f\(..|\\\(..|\\[&e|^{}]|\\s[-+]?\d|\\-', lambda m: "-" if m.group() == "\\-" else " ", line)
        out.append(line.replace('"', " "))
    return "\n".join(out)


def build_corpus() -> dict:
    """Write the corpus files once; returns what each source contributed (whitespace words)."""
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    sources = {}
    for name, make in (("shared_data", shared_text), ("python_docs", python_docs_text)):
        path = CORPUS_DIR / f"{name}.txt"
        if not path.exists():
            path.write_text(make(), encoding="utf-8")
        sources[name] = len(path.read_text(encoding="utf-8").split())
    path = CORPUS_DIR / "man_pages.txt"
    if not path.exists():
        budget = TARGET_WORDS - sum(sources.values())
        pages, words, chunks = 0, 0, []
        for page in sorted(p for section in ("man1", "man5", "man7", "man8") for p in (MAN / section).glob("*.gz")):
            text = man_page_text(page)
            if text.strip():
                chunks.append(text)
                pages += 1
                words += len(text.split())
            if words >= budget:
                break
        path.write_text("\n\n".join(chunks), encoding="utf-8")
    sources["man_pages"] = len(path.read_text(encoding="utf-8").split())
    return sources


def timed(run):
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def timed_cpu(run):
    """Wall seconds, CPU seconds of this process (all threads) and the result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def gensim_direct(cls, prepared, options: dict) -> tuple[float, float, object]:
    """gensim on its own: vocabulary from the same counts (what its scan of the file finds, in the
    same order), weights initialised, then ``train()`` over the tokenised file; all of it timed,
    as the veclift call is."""
    from gensim.models.word2vec import LineSentence

    model = cls(**options)
    vocabulary = prepared.vocabulary

    def run():
        model.build_vocab_from_freq(vocabulary.counts, corpus_count=vocabulary.sentences)
        model.train(LineSentence(str(prepared.path)), total_examples=vocabulary.sentences, epochs=options["epochs"])

    wall, cpu, _ = timed_cpu(run)
    return wall, cpu, model


def compare_speed(
    name: str, veclift_train, gensim_cls, prepared, options: dict, rounds: int
) -> tuple[dict, Vectors, Vectors]:
    """Alternate veclift and gensim runs; overhead from the medians of CPU seconds and of wall seconds."""
    words = prepared.vocabulary.tokens * options["epochs"]
    runs = {"veclift": [], "gensim": []}
    vectors, model = None, None
    for round_ in range(rounds):
        for who in ("veclift", "gensim") if round_ % 2 == 0 else ("gensim", "veclift"):
            if who == "veclift":
                wall, cpu, vectors = timed_cpu(lambda: veclift_train(prepared))
            else:
                wall, cpu, model = gensim_direct(gensim_cls, prepared, options)
            runs[who].append((wall, cpu))
            print(f"{name} {who}: {wall:.1f} s wall, {cpu:.1f} s CPU, {words / wall:,.0f} words/s", flush=True)
    assert vectors.words == tuple(model.wv.index_to_key)  # the same vocabulary, in the same order
    wall = {who: statistics.median(w for w, _ in r) for who, r in runs.items()}
    cpu = {who: statistics.median(c for _, c in r) for who, r in runs.items()}
    row = {
        "trainer": name,
        "vocabulary": len(vectors),
        "epochs": options["epochs"],
        "veclift_words_per_s": words / wall["veclift"],
        "gensim_words_per_s": words / wall["gensim"],
        "veclift_words_per_cpu_s": words / cpu["veclift"],
        "gensim_words_per_cpu_s": words / cpu["gensim"],
        "overhead_wall_pct": 100 * (wall["veclift"] / wall["gensim"] - 1),
        "overhead_cpu_pct": 100 * (cpu["veclift"] / cpu["gensim"] - 1),
        "runs_wall_cpu_s": {who: [[round(w, 1), round(c, 1)] for w, c in r] for who, r in runs.items()},
    }
    return row, vectors, Vectors(list(model.wv.index_to_key), model.wv.vectors, source=f"gensim {name}")


def quality(name: str, vectors: Vectors) -> dict:
    row = {"vectors": name, "words": len(vectors)}
    for path in default_similarity_files():
        result = evaluate_similarity(vectors, path)
        row[path.stem.removeprefix("EN-")] = round(result.spearman, 3)
        row[f"{path.stem.removeprefix('EN-')}_pairs"] = f"{result.pairs}/{result.total}"
    analogy = evaluate_analogy(vectors, default_analogy_file(), restrict_vocab=30000)
    row["analogy"] = round(analogy.accuracy, 3)
    row["analogy_questions"] = analogy.questions
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one round, fewer epochs (a smoke run)")
    args = parser.parse_args()
    rounds, w2v_epochs, ft_epochs, glove_epochs = (1, 1, 1, 2) if args.quick else (2, 1, 1, 5)
    workers = 2
    load_before = os.getloadavg()

    sources = build_corpus()
    files = [CORPUS_DIR / f"{name}.txt" for name in sources]
    corpus = Corpus(files, lowercase=True)
    tokenise_seconds, prepared = timed(lambda: prepare_corpus(corpus, WORK / "pretrain_tokens.txt", progress=False))
    vocab = prepared.vocabulary
    print(f"corpus: {vocab.tokens:,} tokens, {vocab.sentences:,} sentences, {len(vocab.counts):,} types "
          f"(tokenised in {tokenise_seconds:.1f} s)", flush=True)

    common = dict(dim=100, window=5, min_count=5, sg=True, negative=5, sample=1e-3, workers=workers, seed=0)
    gensim_common = dict(vector_size=100, window=5, min_count=5, sg=1, hs=0, negative=5, ns_exponent=0.75,
                         sample=1e-3, workers=workers, seed=0)
    speed, trained = [], {}
    row, trained["word2vec"], trained["word2vec, gensim direct"] = compare_speed(
        "word2vec (skip-gram)", lambda p: train_word2vec(p, Word2VecSettings(epochs=w2v_epochs, **common), progress=False), Word2Vec, prepared,
        {**gensim_common, "epochs": w2v_epochs}, rounds,
    )
    speed.append(row)
    row, trained["fasttext"], trained["fasttext, gensim direct"] = compare_speed(
        "fastText (skip-gram, n=3..6)",
        lambda p: train_fasttext(p, FastTextSettings(epochs=ft_epochs, buckets=500_000, **common), progress=False), FastText, prepared,
        {**gensim_common, "epochs": ft_epochs, "min_n": 3, "max_n": 6, "bucket": 500_000}, rounds,
    )
    speed.append(row)

    glove_seconds, trained["glove"] = timed(
        lambda: train_glove(prepared, GloveSettings(dim=100, window=10, min_count=5, epochs=glove_epochs, x_max=10.0, seed=0,
                                                    threads=1), progress=False)
    )
    glove_stats = trained["glove"].meta["training"]
    glove_row = {
        "vocabulary": glove_stats["vocabulary"],
        "nonzero_cells": glove_stats["nonzero_cells"],
        "counting_seconds": glove_stats["counting_seconds"],
        "seconds_per_epoch": statistics.mean(glove_stats["epoch_seconds"]),
        "epochs": glove_epochs,
        "cost_first_last": [glove_stats["cost_per_epoch"][0], glove_stats["cost_per_epoch"][-1]],
        "total_seconds": glove_seconds,
    }
    print(f"glove: {glove_row}", flush=True)
    prepared.close()

    builtin = Vectors.load("glove-6b-50d", progress=False)
    rows = [quality(name if "gensim" in name else f"veclift {name}", v) for name, v in trained.items()]
    rows.append(quality("built-in GloVe 6B 50d (6B tokens)", builtin))

    sim_columns = [p.stem.removeprefix("EN-") for p in default_similarity_files()]
    markdown = "\n\n".join([
        f"Corpus: {vocab.tokens:,} tokens (veclift tokenizer, lower-cased), {vocab.sentences:,} sentences, "
        f"{len(vocab.counts):,} word types; whitespace words per source: {sources}. Tokenising took "
        f"{tokenise_seconds:.1f} s. Load average before the run: {load_before} (2 cores shared with other work).",
        "## Training speed (same run, same parameters: dim 100, window 5, k=5 negative samples, sample 1e-3, "
        f"min count 5, {workers} worker threads; median of the rounds)",
        markdown_table(speed, ["trainer", "epochs", "veclift_words_per_s", "gensim_words_per_s", "overhead_wall_pct",
                               "veclift_words_per_cpu_s", "gensim_words_per_cpu_s", "overhead_cpu_pct",
                               "runs_wall_cpu_s"]),
        "Words/s are corpus tokens x epochs per wall second; per CPU second counts the CPU time of all "
        "threads of this process, which other programs on the shared cores disturb less than wall time.",
        "## GloVe (PyTorch, 1 thread, dim 100, window 10, x_max 10, AdaGrad lr 0.05, batches of 8192 cells)",
        markdown_table([glove_row]),
        f"## Quality after {w2v_epochs} epoch(s) of word2vec, {ft_epochs} of fastText, {glove_epochs} of GloVe "
        "(Spearman per similarity set; Google analogy 3CosAdd accuracy within the 30k most frequent words)",
        markdown_table(rows, ["vectors", "words", *sim_columns, "analogy", "analogy_questions"]),
        "Pairs evaluated per set (in vocabulary / total):",
        markdown_table(rows, ["vectors", *[f"{c}_pairs" for c in sim_columns]]),
        "Multi-threaded gensim (workers > 1) is not bit-exact between runs; with workers=1 and a seed "
        "veclift's word2vec and fastText are repeatable (tested), and GloVe is repeatable for a seed.",
    ])
    write_results("pretrain_bench", {"corpus": {"sources_words": sources, "tokens": vocab.tokens,
                                                "sentences": vocab.sentences, "types": len(vocab.counts),
                                                "tokenise_seconds": tokenise_seconds},
                                     "load_average_before": load_before, "speed": speed, "glove": glove_row,
                                     "quality": rows}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
