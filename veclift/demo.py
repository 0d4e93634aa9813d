"""The demo: the whole transfer story on the built-in GloVe and a small sample shipped with veclift.

The sample (``veclift/resources/demo``, written for veclift by ``scripts/make_demo_data.py``) tags
people, places and food; every test entity is unseen in training ("apple" where training had
"orange"), and half the sentences give no hint of the type, so only the word's vector can tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from veclift.data import TaggedSentence, read_conll, tokenize
from veclift.study import StudySpec, TransferStudy
from veclift.study.results import StudyResults
from veclift.vectors import Vectors
from veclift.vectors.coverage import CoverageReport, coverage

DEMO_DIR = Path(__file__).parent / "resources" / "demo"
TRAIN, TEST = DEMO_DIR / "train.conll", DEMO_DIR / "test.conll"
STRATEGIES = ("scratch", "frozen", "finetune")
SIZES: tuple[int | str, ...] = (50, "all")
# Small and quick: the sample is easy, and the demo must finish in about a minute on 2 cores.
# finetune_lr_ratio 1: fine-tuned rows move at the full learning rate, so fine-tuning can drift from
# frozen (at the default 0.1 the rows barely move in 12 epochs and both lines coincide in the plot).
MODEL_OPTIONS = {"hidden": 50, "char": "none", "max_epochs": 12, "patience": 0, "keep_vectors": 0, "min_batches": 10,
                 "finetune_lr_ratio": 1.0}
EXAMPLES = (
    "I keep thinking about apple .",
    "Everyone was talking about Vienna yesterday .",
    "Kevin bought kiwi and papaya at the market .",
    "The documentary about Lisbon was surprisingly good .",
    "Rachel moved from Oslo to Dublin in May .",
)
NEIGHBOR_WORDS = ("banana", "vienna", "kevin", "apple")


@dataclass
class Demo:
    """Everything the demo shows, in the order it tells it."""

    vectors: Vectors
    neighbors: dict[str, list[tuple[str, float]]]
    coverage: CoverageReport
    train_size: int
    test_size: int
    results: StudyResults
    report: Path
    examples: dict[str, list[tuple[list[str], list[str]]]]


def demo_data() -> tuple[list[TaggedSentence], list[TaggedSentence]]:
    return read_conll(TRAIN), read_conll(TEST)


def demo_spec(vectors: str = "glove-6b-50d", seeds: int = 2) -> StudySpec:
    return StudySpec(
        task="ner", train=TRAIN, test=TEST, vectors=vectors, sizes=SIZES, strategies=STRATEGIES,
        seeds=seeds, test_rows="vectors", options=MODEL_OPTIONS,
    )  # fmt: skip


def example_predictions(
    vectors: Vectors, train: list[TaggedSentence], strategies: tuple[str, ...] = ("scratch", "finetune"), seed: int = 0
) -> dict[str, list[tuple[list[str], list[str]]]]:
    """Tag the example sentences with a model per strategy trained on the whole sample, their words
    given their rows from ``vectors`` as in the demo study (the models keep no pre-trained rows)."""
    from veclift.tasks import SequenceTagger

    sentences = [tokenize(text) for text in EXAMPLES]
    tagged = {}
    for strategy in strategies:
        model = SequenceTagger(embeddings=strategy, **MODEL_OPTIONS)
        model.fit(train, vectors=vectors, seed=seed, progress=False)
        tagged[strategy] = list(zip(sentences, model.predict(sentences, vectors=vectors)))
    return tagged


def run_demo(output: str | Path, *, vectors: str = "glove-6b-50d", seeds: int = 2, jobs: int | None = None,
             progress: bool = True, overwrite: bool = False) -> Demo:  # fmt: skip
    """Run the demo study into ``output`` (resumable like any study) and gather what it shows."""
    loaded = Vectors.load(vectors, progress=progress)
    train, test = demo_data()
    neighbors = {w: loaded.most_similar(w, topn=5) for w in NEIGHBOR_WORDS if w in loaded}
    spec = demo_spec(vectors, seeds)
    study = TransferStudy(spec, output, command=f"veclift demo --output {output}", overwrite=overwrite)
    results = study.run(jobs=jobs, progress=progress)
    return Demo(
        vectors=loaded,
        neighbors=neighbors,
        coverage=coverage(loaded, [s.tokens for s in train + test], strategies="lower"),
        train_size=len(train),
        test_size=len(test),
        results=results,
        report=study.report(results),
        examples=example_predictions(loaded, train),
    )
