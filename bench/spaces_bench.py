"""Space operations on the built-in GloVe 6B 50d (400k x 50): timings, alignment P@1, debias table, plots.

    python bench/spaces_bench.py

Alignment: a skip-gram word2vec (gensim, 50 d, 5 epochs, one worker, seeded) is trained on
every sentence of the shared data sets (CoNLL-2003 train+valid, WikiANN en train/dev/test,
WNUT-17 train/dev/test, Wikigold, MR, SST-2 train), lower-cased like GloVe 6B, then rotated
onto GloVe with the shared vocabulary as anchors; P@1/P@5 are measured on held-out shared
words (10%, three split seeds), searched among all 400,000 GloVe words.
Writes bench/results/spaces_bench.{json,md} and the plots spaces_*.png (+ one .html map).
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from common import DATA, RESULTS, markdown_table, write_results

from veclift.data.labeled import read_labeled
from veclift.data.tagged import read_conll
from veclift.vectors import Vectors, plot
from veclift.vectors.evaluate import default_similarity_files, evaluate_similarity
from veclift.vectors.ops import align, combine, debias, reduce
from veclift.vectors.terms import TermExpander, expand

SEEDS = (0, 1, 2)
ANCHOR_LIMITS = (2000, 5000, 20000)
W2V = {"vector_size": 50, "window": 5, "min_count": 5, "sg": 1, "negative": 5, "epochs": 15, "workers": 1, "seed": 0}
SIMILARITY_SETS = ("EN-WS-353-ALL", "EN-SIMLEX-999", "EN-MEN-TR-3k", "EN-RW-STANFORD")
NER_FILES = [
    "ner/conll2003/train.txt", "ner/conll2003/valid.txt",
    "ner/wikiann-en/train.txt", "ner/wikiann-en/dev.txt", "ner/wikiann-en/test.txt",
    "ner/wnut17/train.conll", "ner/wnut17/dev.conll", "ner/wnut17/test.conll",
    "ner/wikigold/wikigold.conll",
]
GROUPS = {
    "fruit": "apple orange banana mango cherry grape lemon peach pear plum strawberry pineapple".split(),
    "vehicles": "car truck bus train bicycle motorcycle airplane boat ship tractor van taxi".split(),
    "countries": "france germany italy spain china japan india brazil canada mexico egypt kenya".split(),
    "professions": "doctor nurse teacher engineer lawyer farmer pilot chef scientist programmer plumber banker".split(),
    "emotions": "happy sad angry afraid joy anger fear sorrow delight grief surprise disgust".split(),
}


def _stable_hash(text: str) -> int:
    """gensim seeds each word's initial vector by hashing it; Python's str hash changes per process."""
    return int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:4], "little")


def corpus_sentences() -> tuple[list[list[str]], dict[str, int]]:
    sentences, counts = [], {}
    for name in NER_FILES:
        found = [[t.lower() for t in s.tokens] for s in read_conll(DATA / name)]
        sentences += found
        counts[name] = len(found)
    for name, paths in {
        "classify/mr": [DATA / "classify/mr/rt-polarity.pos", DATA / "classify/mr/rt-polarity.neg"],
        "classify/sst2/train.tsv": [DATA / "classify/sst2/train.tsv"],
    }.items():
        found = [[w.lower() for w in t.tokens] for t in read_labeled(paths)]
        sentences += found
        counts[name] = len(found)
    return sentences, counts


def train_word2vec(sentences: list[list[str]]) -> tuple[Vectors, float]:
    from gensim.models import Word2Vec

    start = time.perf_counter()
    model = Word2Vec(sentences, hashfxn=_stable_hash, **W2V)
    seconds = time.perf_counter() - start
    wv = model.wv
    return Vectors(list(wv.index_to_key), wv.vectors, source="word2vec (shared data sentences)"), seconds


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def similarity_scores(vectors: Vectors) -> dict[str, float]:
    files = {p.stem: p for p in default_similarity_files()}
    return {name: evaluate_similarity(vectors, files[name]).spearman for name in SIMILARITY_SETS if name in files}


def main() -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    glove, load_s = timed(lambda: Vectors.load("glove-6b-50d"))
    _ = glove.unit_matrix
    timings = [{"operation": "load built-in (memory-mapped)", "seconds": load_s}]

    # --- alignment -------------------------------------------------------------------------
    sentences, corpus_counts = corpus_sentences()
    tokens = sum(len(s) for s in sentences)
    w2v, train_s = train_word2vec(sentences)
    timings.append({"operation": f"train word2vec ({tokens:,} tokens, 1 worker)", "seconds": train_s})
    alignment_rows = []
    for max_anchors in ANCHOR_LIMITS:
        for center, normalize in ((False, False), (False, True), (True, True)):
            runs = []
            for seed in SEEDS:
                (_, report), seconds = timed(
                    lambda: align(w2v, glove, max_anchors=max_anchors, center=center, normalize=normalize, seed=seed)
                )
                runs.append((report, seconds))
            p1 = np.array([r.precision_at_1 for r, _ in runs])
            p5 = np.array([r.precision_at_5 for r, _ in runs])
            alignment_rows.append({
                "max_anchors": max_anchors,
                "preprocessing": "+".join(n for n, on in (("normalize", normalize), ("center", center)) if on) or "none",
                "anchors": runs[0][0].anchors,
                "held_out": runs[0][0].held_out,
                "fit_cosine": float(np.mean([r.fit_cosine for r, _ in runs])),
                "P@1_mean": float(p1.mean()), "P@1_std": float(p1.std(ddof=1)),
                "P@5_mean": float(p5.mean()), "P@5_std": float(p5.std(ddof=1)),
                "seconds": float(np.mean([s for _, s in runs])),
            })
    timings.append({"operation": f"align word2vec ({len(w2v):,} words, 20k anchors) onto GloVe, incl. P@k search", "seconds": alignment_rows[-3]["seconds"]})
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(glove.dim, glove.dim)))
    rotated = Vectors(glove.words, glove.matrix @ q.astype(np.float32), source="glove rotated")
    (_, sanity), seconds = timed(lambda: align(rotated, glove, seed=0))
    timings.append({"operation": "align rotated GloVe 400k onto GloVe (20k anchors, 2k held out)", "seconds": seconds})

    # --- reduce / combine ------------------------------------------------------------------------
    (reduced, reduce_report), seconds = timed(lambda: reduce(glove, 25))
    timings.append({"operation": "PCA 50 -> 25", "seconds": seconds})
    (abtt, _), seconds = timed(lambda: reduce(glove, None, remove_top=2))
    timings.append({"operation": "all-but-the-top (D=2)", "seconds": seconds})
    (combined, combine_report), seconds = timed(lambda: combine([glove, w2v], vocab="union"))
    timings.append({"operation": f"combine GloVe + word2vec (union, {combine_report.words:,} words)", "seconds": seconds})
    (combined_inter, _), seconds = timed(lambda: combine([glove, w2v], vocab="intersection"))
    timings.append({"operation": "combine GloVe + word2vec (intersection)", "seconds": seconds})
    similarity_rows = []
    for name, vectors in (
        ("GloVe 6B 50d", glove), ("word2vec (shared data)", w2v), ("GloVe PCA 25", reduced),
        ("GloVe all-but-the-top D=2", abtt), ("GloVe + word2vec (union)", combined),
        ("GloVe + word2vec (intersection)", combined_inter), ("GloVe 6B 50d (same intersection words)", glove.subset(combined_inter.words)),
    ):
        similarity_rows.append({"vectors": name, "words": len(vectors), **similarity_scores(vectors)})

    # --- debias ---------------------------------------------------------------------------------
    (debiased, debias_report), seconds = timed(lambda: debias(glove, similarity_files=default_similarity_files()))
    timings.append({"operation": "hard debias + WEAT x3 (10k permutations) + 13 word-similarity sets, before and after", "seconds": seconds})
    debias_rows = [{"measure": f"direct bias ({debias_report.neutral_words} occupations)", **debias_report.direct_bias}]
    for name, r in debias_report.weat.items():
        debias_rows.append({"measure": f"{name}: effect size", "before": r["before"]["effect_size"], "after": r["after"]["effect_size"]})
        debias_rows.append({"measure": f"{name}: p-value", "before": r["before"]["p_value"], "after": r["after"]["p_value"]})
    for name, r in debias_report.similarity.items():
        debias_rows.append({"measure": f"{name} Spearman", "before": r["before"]["spearman"], "after": r["after"]["spearman"]})

    # --- terms -----------------------------------------------------------------------------------
    expander = TermExpander(glove, ["apple", "orange", "banana"])
    terms, seconds = timed(lambda: expand(expander, per_round=10, rounds=2))
    timings.append({"operation": "terms: 2 rounds x 10 candidates (auto)", "seconds": seconds})

    # --- plots -----------------------------------------------------------------------------------
    tsne_map, seconds = timed(lambda: plot.word_map(glove, groups=GROUPS, method="tsne", seed=0))
    timings.append({"operation": f"t-SNE map of {len(tsne_map.words)} words", "seconds": seconds})
    plot.save(tsne_map, RESULTS / "spaces_tsne.png", overwrite=True)
    plot.save(tsne_map, RESULTS / "spaces_tsne.html", overwrite=True)
    pca_map, seconds = timed(lambda: plot.word_map(glove, groups=GROUPS, method="pca"))
    timings.append({"operation": f"PCA map of {len(pca_map.words)} words", "seconds": seconds})
    plot.save(pca_map, RESULTS / "spaces_pca.png", overwrite=True)
    plot.save(plot.parallelogram(glove, "man", "woman", "king", "queen"), RESULTS / "spaces_parallelogram.png", overwrite=True)
    plot.save(plot.word_map(glove, plot.neighborhood(glove, "apple", 40), method="tsne", seed=0), RESULTS / "spaces_neighbors_apple.png", overwrite=True)
    from veclift.vectors.ops.debias import bias_direction, default_definitional_pairs

    direction = bias_direction(glove, default_definitional_pairs()).vector
    bias_groups = {
        "occupations": GROUPS["professions"] + ["homemaker", "receptionist", "architect", "captain", "librarian"],
        "female": ["she", "woman", "her", "mother", "queen"],
        "male": ["he", "man", "his", "father", "king"],
    }
    before_map = plot.bias_axis_map(glove, direction, bias_groups, title="GloVe 6B 50d before debias: x = cosine with the she-he direction")
    after_map = plot.bias_axis_map(debiased, direction, bias_groups, title="after hard debias: occupations neutralised (x = 0), pairs equalised")
    plot.save(before_map, RESULTS / "spaces_debias_before.png", overwrite=True)
    plot.save(after_map, RESULTS / "spaces_debias_after.png", overwrite=True)

    data = {
        "vectors": {"source": glove.source, "count": len(glove), "dim": glove.dim},
        "timings": timings,
        "word2vec": {"params": W2V, "corpus_sentences": corpus_counts, "tokens": tokens, "vocabulary": len(w2v)},
        "alignment": alignment_rows,
        "alignment_sanity_rotated_glove": sanity.to_dict(),
        "reduce": reduce_report.to_dict(),
        "combine": combine_report.to_dict(),
        "similarity": similarity_rows,
        "debias": debias_report.to_dict(),
        "terms": terms,
        "plots": sorted(p.name for p in RESULTS.glob("spaces_*.png")) + ["spaces_tsne.html"],
    }
    md = [
        "Built-in GloVe 6B 50d (400,000 x 50). Timings are one run each, wall clock, on a machine shared "
        "with other jobs (2 cores): read them as orders of magnitude.\n",
        "## Timings\n", markdown_table(timings, ["operation", "seconds"]),
        f"\n## Alignment: word2vec -> GloVe (orthogonal Procrustes)\n\nword2vec: gensim skip-gram {W2V}, trained on "
        f"{sum(corpus_counts.values()):,} lower-cased sentences ({tokens:,} tokens) of {', '.join(corpus_counts)}; "
        f"vocabulary {len(w2v):,}. Anchors: the N most frequent word2vec words also in GloVe; 10% of them held out "
        f"(split seeds {list(SEEDS)}: mean and std); each held-out word's rotated vector is searched among all "
        f"400,000 GloVe words.\n",
        markdown_table(alignment_rows, ["max_anchors", "preprocessing", "anchors", "held_out", "fit_cosine", "P@1_mean", "P@1_std", "P@5_mean", "P@5_std", "seconds"]),
        "\nThe word2vec space is weak (1.6M tokens; see its word-similarity row below), so only its "
        "frequent words map well: precision falls as rarer words enter the anchor and held-out sets.\n"
        f"\nSanity check: GloVe rotated by a random orthogonal matrix, aligned back: fit cosine "
        f"{sanity.fit_cosine:.6f}, P@1 {sanity.precision_at_1:.4f} on {sanity.held_out} held-out words.\n",
        "\n## Word similarity (Spearman) of the derived spaces\n",
        markdown_table(similarity_rows, ["vectors", "words", *SIMILARITY_SETS]),
        f"\nCombination: each set unit-normalised; union rows missing from word2vec are zeros "
        f"({combine_report.sets[1].zero_filled:,} of {combine_report.words:,}).\n",
        "\n## Hard debias (Bolukbasi et al. 2016), GloVe 6B 50d\n",
        f"Bias direction from {len(debias_report.pairs_used)} definitional pairs (first component "
        f"{debias_report.explained_variance[0]:.1%} of their variance); {debias_report.neutralized:,} words "
        f"neutralised, {debias_report.equalized} pairs equalised. WEAT p-values: 10,000 seeded permutations (seed 0).\n",
        markdown_table(debias_rows, ["measure", "before", "after"]),
        f"\n## Terms\n\nSeeds apple, orange, banana; 2 rounds x 10, all accepted: {', '.join(terms[3:])}.\n",
        "\n## Plots\n\n" + "\n".join(f"- `{name}`" for name in data["plots"]),
    ]
    path = write_results("spaces_bench", data, "\n".join(md))
    print(path.read_text())


if __name__ == "__main__":
    main()
