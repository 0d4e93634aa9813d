"""The practitioner's loop end to end, on the shared CoNLL-2003 data, every step a `veclift` command:
terms from seed words -> patterns -> `label` -> `annotate` (its HTTP API driven by this script, the
annotator simulated by the gold tags) -> `annotate export` -> `train` -> `study` -> `train
--init-model` with a new entity type.

The "raw" sentences are CoNLL-2003 training sentences 2,000-2,399 (tags dropped, PER and LOC to
annotate); the annotator accepts each sentence with its gold PER/LOC spans, so what is measured is how
much of the work the pre-labels did (their precision and recall against gold), the time per answer,
and what the models trained on the answers score on the first 1,000 sentences of valid.txt (PER and
LOC only). The last step teaches the model ORG from the next 300 sentences annotated with ORG only.

    python bench/story_bench.py [--sentences 400] [--epochs 8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import httpx  # noqa: E402
from common import DATA, WORK, markdown_table, write_results  # noqa: E402

from veclift.data import TaggedSentence, read_conll, spans, tags_from_spans, write_conll  # noqa: E402

VECLIFT = [sys.executable, "-m", "veclift"]
SEEDS = {"LOC": "germany,france,london,paris,china,russia", "PER": "clinton,yeltsin,smith,john,peter,michael"}


def run(*args: str, cwd: Path) -> tuple[str, float]:
    start = time.perf_counter()
    done = subprocess.run([*VECLIFT, *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"veclift {' '.join(args)} failed: {done.stderr.strip()[-800:]}")
    return done.stdout, round(time.perf_counter() - start, 2)


def keep_types(sentences: list[TaggedSentence], types: set[str]) -> list[TaggedSentence]:
    return [TaggedSentence(s.tokens, tags_from_spans([e for e in spans(s.tags) if e[0] in types], len(s))) for s in sentences]


def annotate(work: Path, gold: dict[tuple[str, ...], list[tuple[str, int, int]]], seconds: dict) -> dict:
    """Start `veclift annotate`, answer every sentence with its gold spans through the HTTP API, stop it."""
    process = subprocess.Popen([*VECLIFT, "annotate", "raw.conll", "--labels", "LOC,PER", "--patterns", "patterns.jsonl",
                                "--session", "ann.sqlite", "--port", "0", "--quiet"], cwd=work,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        lines = []
        for line in process.stderr:  # warnings first (repeated sentences left out), then the ready line
            lines.append(line)
            url = re.search(r"http://\S+", line)
            if url is not None:
                break
        else:
            raise SystemExit(f"veclift annotate did not start: {''.join(lines)[-800:]}")
        counts = {"answers": 0, "suggested": 0, "suggested_right": 0, "gold": 0}
        start = time.perf_counter()
        with httpx.Client(base_url=url.group().rstrip("/"), timeout=30) as http:
            while True:
                item = http.get("/api/next", params={"client": "bench"}).json()["item"]
                if item is None:
                    break
                truth = gold[tuple(item["tokens"])]
                suggested = {(s["label"], s["token_start"], s["token_end"]) for s in item["spans"]}
                counts["suggested"] += len(suggested)
                counts["suggested_right"] += len(suggested & set(truth))
                counts["gold"] += len(truth)
                answer = {"id": item["id"], "decision": "accept", "client": "bench",
                          "spans": [{"label": k, "token_start": s, "token_end": e} for k, s, e in truth]}  # fmt: skip
                response = http.post("/api/answer", json=answer)
                if response.status_code != 200:
                    raise SystemExit(f"answer refused: {response.text}")
                counts["answers"] += 1
        seconds["annotate"] = round(time.perf_counter() - start, 2)
    finally:
        process.terminate()
        process.wait(30)
    counts["ms_per_answer"] = round(1000 * seconds["annotate"] / max(counts["answers"], 1), 1)
    counts["prelabel_precision"] = round(counts["suggested_right"] / max(counts["suggested"], 1), 4)
    counts["prelabel_recall"] = round(counts["suggested_right"] / max(counts["gold"], 1), 4)
    return counts


def scores(model: str, test: str, work: Path) -> dict:
    out, _ = run("evaluate", model, test, "--json", cwd=work)
    result = json.loads(out)
    return {"f1": round(result["f1"], 4), **{k: round(v["f1"], 4) for k, v in sorted(result["per_type"].items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    conll = DATA / "ner" / "conll2003"
    pool = read_conll(conll / "train.txt")
    raw = pool[2000 : 2000 + args.sentences]
    new = pool[2000 + args.sentences : 2300 + args.sentences]
    valid = read_conll(conll / "valid.txt")[:1000]
    work = WORK / "story_bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    write_conll([TaggedSentence(s.tokens, ["O"] * len(s)) for s in raw], work / "raw.conll")
    write_conll(keep_types(valid, {"LOC", "PER"}), work / "valid-per-loc.conll")
    write_conll(valid, work / "valid.conll")
    write_conll(keep_types(new, {"ORG"}), work / "new-org.conll")
    gold = {tuple(s.tokens): [e for e in spans(s.tags) if e[0] in ("LOC", "PER")] for s in raw}
    seconds: dict[str, float] = {}
    patterns = []
    for label, seed in SEEDS.items():
        _, seconds[f"terms {label}"] = run("terms", "--vectors", "glove-6b-50d", "--seed", seed, "--label", label, "--auto", "40",
                                           "--output", f"terms-{label}.txt", "--patterns", f"patterns-{label}.jsonl", cwd=work)  # fmt: skip
        patterns.append((work / f"patterns-{label}.jsonl").read_text())
    (work / "patterns.jsonl").write_text("".join(patterns))
    (work / "raw.txt").write_text("".join(" ".join(s.tokens) + "\n" for s in raw))
    out, seconds["label"] = run("label", "raw.txt", "--patterns", "patterns.jsonl", "--output", "prelabeled.conll", "--json", cwd=work)
    annotation = annotate(work, gold, seconds)
    out, seconds["export"] = run("annotate", "export", "ann.sqlite", "--output", "annotated.conll", cwd=work)
    common = ["--vectors", "glove-6b-50d", "--epochs", str(args.epochs), "--quiet"]
    _, seconds["train"] = run("train", "ner", "--train", "annotated.conll", "--dev", "valid-per-loc.conll", *common,
                              "--output", "model", cwd=work)  # fmt: skip
    trained = scores("model", "valid-per-loc.conll", work)
    out, seconds["study"] = run("study", "ner", "--train", "annotated.conll", "--test", "valid-per-loc.conll", "--vectors",
                                "glove-6b-50d", "--sizes", "100,all", "--strategies", "scratch,finetune", "--seeds", "1",
                                "--epochs", str(args.epochs), "--jobs", "1", "--output", "study", "--quiet", "--json",
                                cwd=work)  # fmt: skip
    study = json.loads(out)
    _, seconds["train --init-model"] = run("train", "ner", "--init-model", "model", "--train", "new-org.conll", *common,
                                           "--output", "model-org", cwd=work)  # fmt: skip
    before, after = scores("model", "valid.conll", work), scores("model-org", "valid.conll", work)
    data = {"sentences": len(raw), "annotation": annotation, "trained_per_loc": trained, "study_summary": study,
            "before_update": before, "after_update": after, "seconds": seconds}  # fmt: skip
    steps = [{"step": name, "seconds": value} for name, value in seconds.items()]
    update = [{"model": name, **{k: s.get(k, "") for k in ("PER", "LOC", "ORG", "MISC")}} for name, s in
              (("before --init-model (PER, LOC)", before), ("after --init-model with ORG", after))]  # fmt: skip
    markdown = "\n\n".join([
        f"{len(raw)} CoNLL-2003 training sentences (2,000 onwards) annotated for PER and LOC through `veclift annotate`'s "
        f"HTTP API, the annotator simulated by the gold tags; test: the first 1,000 valid.txt sentences.",
        "## Annotation",
        f"Pre-labels from the patterns grown from {len(SEEDS)} seed lists: precision **{annotation['prelabel_precision']}**, "
        f"recall **{annotation['prelabel_recall']}** against the gold PER/LOC spans; {annotation['answers']} answers, "
        f"{annotation['ms_per_answer']} ms per `next` + `answer` round trip.",
        "## The tagger trained on the answers (PER/LOC F1 on valid)",
        markdown_table([trained]),
        "## `veclift study` on the answers (PER/LOC F1 on valid, seed 1; report in `bench/work/story_bench/study/`)",
        markdown_table([{"size": row["size"], "strategy": row["strategy"], "f1": round(row["mean"], 4)}
                        for row in study.get("summary", [])], ["size", "strategy", "f1"]),  # fmt: skip
        "## Teaching it ORG (`train --init-model`, 300 further sentences annotated with ORG only; entity F1 per type on valid)",
        markdown_table(update, ["model", "PER", "LOC", "ORG", "MISC"]),
        "## Time of each step (s)",
        markdown_table(steps, ["step", "seconds"]),
    ])  # fmt: skip
    print(write_results("story_bench", data, markdown).read_text())


if __name__ == "__main__":
    main()
