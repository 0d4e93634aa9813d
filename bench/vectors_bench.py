"""Vector store speed, side by side with gensim on the built-in 400k x 50 GloVe 6B vectors.

Load times: opening the native format vs gensim ``load_word2vec_format`` of the same vectors as
GloVe text, and veclift's own GloVe text and word2vec binary readers vs gensim's. Each figure is the
median of several repetitions in one run. Sections are functions returning rows, so other timings
(queries, evaluation) can be added as further sections.

    python bench/vectors_bench.py [--reps N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from common import WORK, markdown_table, write_results

from veclift.vectors import Vectors

BUILTIN = "glove-6b-50d"


def median_seconds(run: Callable[[], object], reps: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def work_files() -> dict[str, object]:
    """The built-in vectors written once as GloVe text and word2vec binary into bench/work/."""
    vectors = Vectors.load(BUILTIN, progress=False)
    files = {"glove": WORK / "glove.6B.50d.txt", "word2vec-binary": WORK / "glove.6B.50d.w2v.bin"}
    for format, path in files.items():
        if not path.exists():
            vectors.save(path, format)
    return files


def load_section(reps: int) -> tuple[list[dict], dict]:
    """Rows of load timings and the ratios the issue asks for."""
    from gensim.models import KeyedVectors

    files = work_files()
    glove, binary = str(files["glove"]), str(files["word2vec-binary"])

    def open_native_and_index():
        Vectors.load(BUILTIN, progress=False).index

    cases = [
        ("native open (memory-mapped)", "veclift", lambda: Vectors.load(BUILTIN, progress=False), reps * 4),
        ("native open + word index", "veclift", open_native_and_index, reps * 4),
        ("GloVe text", "veclift", lambda: Vectors.load(glove, progress=False), reps),
        ("GloVe text", "gensim", lambda: KeyedVectors.load_word2vec_format(glove, binary=False, no_header=True), reps),
        ("word2vec binary", "veclift", lambda: Vectors.load(binary, progress=False), reps),
        ("word2vec binary", "gensim", lambda: KeyedVectors.load_word2vec_format(binary, binary=True), reps),
    ]
    rows, by_case = [], {}
    for what, library, run, n in cases:
        median, times = median_seconds(run, n)
        by_case[(what, library)] = median
        rows.append({"load": what, "library": library, "median_s": median, "min_s": min(times), "max_s": max(times), "reps": n})
        print(f"{what:32} {library:8} median {median:.4f} s over {n}", flush=True)
    gensim_text = by_case[("GloVe text", "gensim")]
    ratios = {
        "gensim_glove_text_over_native_open": gensim_text / by_case[("native open (memory-mapped)", "veclift")],
        "native_open_s": by_case[("native open (memory-mapped)", "veclift")],
        "gensim_glove_text_over_veclift_glove_text": gensim_text / by_case[("GloVe text", "veclift")],
        "gensim_binary_over_veclift_binary": by_case[("word2vec binary", "gensim")] / by_case[("word2vec binary", "veclift")],
    }
    ratios["targets_met"] = (
        ratios["gensim_glove_text_over_native_open"] >= 100
        and ratios["native_open_s"] < 0.2
        and ratios["gensim_glove_text_over_veclift_glove_text"] >= 1
    )
    return rows, ratios


SECTIONS = {"load": load_section}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the slow cases (fast ones run 4x as many)")
    args = parser.parse_args()
    results, markdown = {"vectors": f"{BUILTIN}, 400000 x 50"}, []
    for name, section in SECTIONS.items():
        rows, ratios = section(args.reps)
        results[name] = {"rows": rows, "ratios": ratios}
        markdown += [f"## {name}", "", markdown_table(rows), "", markdown_table([ratios]), ""]
    print(write_results("vectors_bench", results, "\n".join(markdown)))


if __name__ == "__main__":
    main()
