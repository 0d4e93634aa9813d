"""A task defined outside the package (tests/toy_task.py) registers itself and then trains,
evaluates, saves, loads and runs a study through the public API like the built-in ones."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import toy_task
from task_fixtures import CITIES, NEGATIVE, PEOPLE, POSITIVE, tiny_vectors

from veclift.errors import VecliftError
from veclift.study import StudySpec, TransferStudy
from veclift.tasks import load_model, model_class, train_and_evaluate
from veclift.tasks.registry import get_task, task_names, unregister_task

TOPICS = {"people": [w.lower() for w in PEOPLE], "places": [w.lower() for w in CITIES],
          "moods": [w.lower() for w in POSITIVE + NEGATIVE]}  # fmt: skip


def _write(path: Path, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        topic = rng.choice(sorted(TOPICS))
        words = [rng.choice(TOPICS[topic]) for _ in range(2)] + [rng.choice(["the", "a", "and", "said"])]
        rng.shuffle(words)
        lines.append(f"{topic}\t{' '.join(words)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    tiny_vectors().save(tmp_path / "vectors")
    return {"train": _write(tmp_path / "train.txt", 120, 0), "test": _write(tmp_path / "test.txt", 90, 1),
            "vectors": tmp_path / "vectors"}  # fmt: skip


def _majority(items) -> float:
    labels = [item.label for item in items]
    return max(labels.count(label) for label in set(labels)) / len(labels)


def test_the_toy_task_is_registered_next_to_the_builtin_ones():
    assert task_names()[:2] == ["ner", "classify"]
    assert toy_task.NAME in task_names()
    assert model_class(toy_task.NAME) is toy_task.ToyTopicModel
    assert get_task(toy_task.NAME).config_class is toy_task.ToyConfig
    with pytest.raises(VecliftError, match="unknown task 'nope'"):
        get_task("nope")


def test_train_evaluate_save_and_load_a_registered_task(files, tmp_path):
    task = get_task(toy_task.NAME)
    train, test = task.read_files([files["train"]]), task.read_files([files["test"]])
    scores = train_and_evaluate(toy_task.NAME, train, None, test, str(files["vectors"]), "frozen", seed=0,
                                max_epochs=15, lr=0.05)  # fmt: skip
    assert scores["accuracy"] > _majority(test) + 0.2, scores  # well above the constant answer
    model = toy_task.ToyTopicModel(embeddings="frozen", max_epochs=15, lr=0.05)
    model.fit(train, None, vectors=str(files["vectors"]), seed=0, progress=False)
    model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert type(loaded) is toy_task.ToyTopicModel
    assert loaded.predict(test) == model.predict(test)


def test_a_two_trial_study_runs_a_registered_task_in_trial_processes(files, tmp_path):
    spec = StudySpec(task=toy_task.NAME, train=files["train"], test=files["test"], vectors=str(files["vectors"]),
                     sizes=("all",), strategies=("frozen", "scratch"), seeds=1,
                     options={"max_epochs": 15, "lr": 0.05})  # fmt: skip
    results = TransferStudy(spec, tmp_path / "study").run(jobs=2, progress=False)
    assert not results.failures, results.failures
    rows = {row["strategy"]: row for row in results.table()}
    assert set(rows) == {"frozen", "scratch"}
    assert results.metric == "accuracy"
    test = get_task(toy_task.NAME).read_files([files["test"]])
    assert rows["frozen"]["accuracy"] > _majority(test) + 0.2, rows
    report = TransferStudy(spec, tmp_path / "study").report(results)
    assert report.is_file() and "texts" in report.read_text(encoding="utf-8")


def test_unregistering_forgets_the_task():
    task = get_task(toy_task.NAME)
    unregister_task(toy_task.NAME)
    try:
        assert toy_task.NAME not in task_names()
        with pytest.raises(VecliftError):
            get_task(toy_task.NAME)
    finally:
        toy_task.register_task(task)


def test_an_installed_package_makes_its_task_known_through_an_entry_point(tmp_path, monkeypatch):
    import veclift.tasks.registry as registry

    (tmp_path / "toy_plugin.py").write_text(
        "import dataclasses, toy_task\n"
        "class PluginModel(toy_task.ToyTopicModel):\n    task = 'toy-plugin'\n"
        "toy_task.register_task(dataclasses.replace(toy_task.TOY, name='toy-plugin', model_class=PluginModel))\n"
    )  # fmt: skip
    dist = tmp_path / "toy_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[veclift.tasks]\ntoy = toy_plugin\nbroken = no_such_module_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    try:
        with pytest.warns(Warning, match="task plugin 'broken'"):
            names = task_names()
        assert "toy-plugin" in names and names[:2] == ["ner", "classify"]
    finally:
        unregister_task("toy-plugin")


def test_a_transfer_group_under_thirty_items_is_flagged():
    from veclift.tasks.registry import MIN_BUCKET, group_size

    assert group_size(MIN_BUCKET, "gold") == "30 gold"
    assert group_size(MIN_BUCKET - 1, "texts") == "29 texts, fewer than 30: too few to conclude from"
