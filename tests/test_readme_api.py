"""The README's Python API block runs as written, on the demo data, and does what its comments say."""

from __future__ import annotations

import re
import shutil
from importlib import resources
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def api_blocks() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_api_block_runs(tmp_path, monkeypatch):
    demo = resources.files("veclift") / "resources" / "demo"
    for name in ("train.conll", "test.conll"):
        shutil.copyfile(demo / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    first, spacy_block = api_blocks()
    exec(compile(first, "README.md", "exec"), scope)
    assert scope["tagger"].evaluate("test.conll")["f1"] > 0.3  # a constant tagger scores 0
    assert (tmp_path / "models" / "ner" / "config.json").is_file()
    entities = scope["tagger"].predict_entities(["Kevin flew to Vienna ."])[0]["entities"]
    assert all("Kevin flew to Vienna ."[e["start"] : e["end"]] == e["text"] for e in entities)
    assert "applesburg" in scope["glove"].with_oov("char-ngram") and "applesburg" not in scope["glove"]
    assert scope["classifier"].score(scope["texts"], scope["labels"]) == 1.0
    exec(compile(spacy_block, "README.md", "exec"), scope)  # the spaCy component on the saved tagger
    assert [(e.start_char, e.end_char, e.label_) for e in scope["doc"].ents] == [(e["start"], e["end"], e["label"]) for e in entities]
