"""Query, evaluation and OOV-model speed on the built-in 400k x 50 GloVe 6B vectors, beside gensim.

Same vectors in both libraries (gensim ``KeyedVectors`` built from veclift's matrix), one run:
- opening the native cache, then the first and the second ``most_similar`` on the opened object: the
  stored row norms make the first cost what the second does (before, the first built a normalized
  copy of the matrix: that copy's cost is timed beside them);
- ``most_similar(topn=10)`` median latency over 200 query words (targets: < 5 ms, <= gensim);
- 1,000 queries batched (``most_similar_many``; target < 2 s) vs 1,000 gensim calls;
- the Google analogy evaluation restricted to 30k words, 3CosAdd (target < 5 s) vs gensim's
  ``evaluate_word_analogies``, with both accuracies;
- fitting the char n-gram OOV model on all 400k words (target < 60 s);
- the reference intrinsic figures of ../shared/data/README.md, reproduced.

    python bench/vectors_query_bench.py
"""

from __future__ import annotations

import logging
import os
import statistics
import time

import numpy as np
from common import DATA, markdown_table, write_results

from veclift.vectors import Vectors
from veclift.vectors.charngram import CharNgramModel
from veclift.vectors.evaluate import evaluate_analogy, evaluate_similarity

REFERENCE = {"EN-WS-353-ALL": 0.503, "EN-SIMLEX-999": 0.265, "EN-MEN-TR-3k": 0.652, "EN-RW-STANFORD": 0.340}
REFERENCE_ANALOGY = (0.497, 14877)
OOV_EXAMPLES = ["appletonian", "microsofties", "unfriendliest", "covid19", "transformerless"]


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def first_query_after_open(repeats: int = 7) -> tuple[list[dict], dict]:
    """Median seconds of opening, of the first and second ``most_similar`` after it (queried by vector, so
    the word index, built once per object, is not in them), and of the normalized copy queries no longer need."""
    runs = []
    for _ in range(repeats):
        opened, vectors = timed(lambda: Vectors.load("glove-6b-50d", progress=False))
        query = np.asarray(vectors.matrix[1000])
        first, _ = timed(lambda: vectors.most_similar(query, topn=10))
        second, _ = timed(lambda: vectors.most_similar(query, topn=10))
        fresh = Vectors(vectors.words, vectors.matrix)  # no norms: the copy is built from scratch, as before
        copy, _ = timed(lambda: fresh.unit_matrix)
        runs.append({"open": opened, "first": first, "second": second, "unit_matrix": copy})
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    ratios = {"first / second": median["first"] / median["second"], "first / open": median["first"] / median["open"],
              "unit_matrix / open": median["unit_matrix"] / median["open"]}  # fmt: skip
    rows = [
        {"task": "open glove-6b-50d (native, norms stored) (ms)", "veclift": median["open"] * 1e3, "gensim": "",
         "gensim / veclift": "", "target": "", "note": f"median of {repeats} opens, each a new object"},
        {"task": "first most_similar after open (ms)", "veclift": median["first"] * 1e3, "gensim": "", "gensim / veclift": "",
         "target": "= second", "note": f"first / second {ratios['first / second']:.2f}, first / open {ratios['first / open']:.2f}"},
        {"task": "second most_similar (ms)", "veclift": median["second"] * 1e3, "gensim": "", "gensim / veclift": "", "target": "",
         "note": ""},
        {"task": "normalized copy the first query used to build (ms)", "veclift": median["unit_matrix"] * 1e3, "gensim": "",
         "gensim / veclift": "", "target": "", "note": f"{ratios['unit_matrix / open']:.1f} x the open; now never built by a query"},
    ]  # fmt: skip
    return rows, {"repeats": repeats, "median_seconds": median, "ratios": ratios}


def gensim_keyed_vectors(vectors: Vectors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.dim)
    kv.add_vectors(list(vectors.words), np.asarray(vectors.matrix))
    kv.fill_norms()
    return kv


def query_latency(vectors: Vectors, kv) -> list[dict]:
    words = list(vectors.words[1000:1200])
    for word in words[:5]:  # warm caches on both sides
        vectors.most_similar(word, topn=10)
        kv.most_similar(word, topn=10)
    ours = [timed(lambda w=w: vectors.most_similar(w, topn=10))[0] for w in words]
    theirs = [timed(lambda w=w: kv.most_similar(w, topn=10))[0] for w in words]
    agree = sum(
        [n for n, _ in vectors.most_similar(w, topn=10)] == [n for n, _ in kv.most_similar(w, topn=10)] for w in words
    )
    ours_ms, theirs_ms = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
    return [
        {
            "task": "most_similar topn=10, median of 200 (ms)",
            "veclift": ours_ms,
            "gensim": theirs_ms,
            "gensim / veclift": theirs_ms / ours_ms,
            "target": "< 5 ms, <= gensim",
            "note": f"same top-10 for {agree}/200 words",
        }
    ]


def batched(vectors: Vectors, kv) -> list[dict]:
    words = list(vectors.words[2000:3000])
    ours, results = timed(lambda: vectors.most_similar_many(words, topn=10))
    theirs, _ = timed(lambda: [kv.most_similar(w, topn=10) for w in words])
    same = sum([n for n, _ in r] == [n for n, _ in vectors.most_similar(w, topn=10)] for w, r in zip(words[:100], results))
    return [
        {
            "task": "1,000 queries topn=10 (s)",
            "veclift": ours,
            "gensim": theirs,
            "gensim / veclift": theirs / ours,
            "target": "< 2 s",
            "note": f"batched vs 1,000 gensim calls; batched == single for {same}/100 checked",
        }
    ]


def analogy_eval(vectors: Vectors, kv) -> tuple[list[dict], dict]:
    path = DATA / "analogy" / "questions-words.txt"
    ours, result = timed(lambda: evaluate_analogy(vectors, path, restrict_vocab=30000))
    logging.getLogger("gensim").setLevel(logging.WARNING)
    theirs, (score, _) = timed(lambda: kv.evaluate_word_analogies(str(path), restrict_vocab=30000))
    cosmul_time, cosmul = timed(lambda: evaluate_analogy(vectors, path, restrict_vocab=30000, method="3cosmul"))
    rows = [
        {
            "task": "Google analogy, restrict 30k, 3CosAdd (s)",
            "veclift": ours,
            "gensim": theirs,
            "gensim / veclift": theirs / ours,
            "target": "< 5 s",
            "note": f"accuracy veclift {result.accuracy:.4f} / gensim {score:.4f} on {result.questions} questions",
        },
        {
            "task": "Google analogy, restrict 30k, 3CosMul (s)",
            "veclift": cosmul_time,
            "gensim": "",
            "gensim / veclift": "",
            "target": "",
            "note": f"accuracy {cosmul.accuracy:.4f} (gensim has no 3CosMul evaluation)",
        },
    ]
    return rows, {"3cosadd": result.to_dict(), "3cosmul": cosmul.to_dict(), "gensim_3cosadd_accuracy": score}


def char_ngram_fit(vectors: Vectors) -> tuple[list[dict], dict]:
    seconds, model = timed(lambda: CharNgramModel.fit(vectors.words, vectors.matrix, progress=False))
    examples = {w: [n for n, _ in vectors.most_similar(model.vector(w), topn=5)] for w in OOV_EXAMPLES if w not in vectors}
    row = {
        "task": "char n-gram OOV model fit, 400k words (s)",
        "veclift": seconds,
        "gensim": "",
        "gensim / veclift": "",
        "target": "< 60 s",
        "note": f"{model.buckets} buckets, {model.info['iterations']} CG steps, residual {model.info['residual']:.3f}",
    }
    return [row], {"seconds": seconds, "info": model.info, "oov_neighbors": examples}


def reference_figures(vectors: Vectors, analogy: dict) -> tuple[list[dict], dict]:
    rows, figures = [], {}
    for name, expected in REFERENCE.items():
        result = evaluate_similarity(vectors, DATA / "wordsim" / f"{name}.txt")
        figures[name] = result.to_dict()
        rows.append(
            {"figure": f"{name} Spearman", "reference": expected, "veclift": round(result.spearman, 4),
             "pairs": f"{result.pairs}/{result.total}", "match (3 d.p.)": round(result.spearman, 3) == expected}
        )
    acc, questions = analogy["3cosadd"]["accuracy"], analogy["3cosadd"]["questions"]
    rows.append(
        {"figure": "Google analogy 3CosAdd, restrict 30k", "reference": REFERENCE_ANALOGY[0], "veclift": round(acc, 4),
         "pairs": f"{questions} questions", "match (3 d.p.)": (round(acc, 3), questions) == REFERENCE_ANALOGY}
    )
    return rows, figures


def main() -> None:
    load_before = os.getloadavg()
    vectors = Vectors.load("glove-6b-50d", progress=False)
    vectors.index, vectors.norms  # the word index is built once per object, before timing; the norms are stored
    kv = gensim_keyed_vectors(vectors)
    open_rows, first_query = first_query_after_open()
    timings = open_rows + query_latency(vectors, kv) + batched(vectors, kv)
    analogy_rows, analogy = analogy_eval(vectors, kv)
    timings += analogy_rows
    fit_rows, fit = char_ngram_fit(vectors)
    timings += fit_rows
    reference_rows, figures = reference_figures(vectors, analogy)
    load = {"before": load_before, "after": os.getloadavg(), "cores": os.cpu_count()}
    columns = ["task", "veclift", "gensim", "gensim / veclift", "target", "note"]
    markdown = (
        "## Speed (one run, same 400k x 50 vectors in both libraries)\n\n"
        f"Load average before/after: {load['before'][0]:.1f} / {load['after'][0]:.1f} on {load['cores']} cores "
        "(other jobs share the machine: compare the ratios, measured in the same run).\n\n"
        + markdown_table(timings, columns)
        + "\n\n## Reference figures (../shared/data/README.md)\n\n"
        + markdown_table(reference_rows)
        + "\n\n## char n-gram OOV neighbours (words not in GloVe)\n\n"
        + "\n".join(f"- {w}: {', '.join(n)}" for w, n in fit["oov_neighbors"].items())
    )
    write_results(
        "vectors_query_bench",
        {"load_average": load, "timings": timings, "first_query_after_open": first_query, "reference": reference_rows,
         "similarity": figures, "analogy": analogy, "char_ngram": fit},
        markdown,
    )
    print(markdown)


if __name__ == "__main__":
    main()
