"""Study outputs: results.csv, summary.csv, plots, the self-contained report and its conclusions;
and the report rendered by a real browser (headless Chromium) when one is installed."""

from __future__ import annotations

import csv
import html as html_lib
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from study_fakes import fake_results, outcome_results, word_right, word_study_spec, write_conll

from veclift.study import StudySpec
from veclift.study.conclusions import conclusions
from veclift.study.results import StudyResults


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    train = write_conll(data / "train.txt", 40, 0)
    test = write_conll(data / "test.txt", 10, 1)
    return StudySpec("ner", train, test=test, sizes=[5, 10, "all"], strategies=["scratch", "frozen", "finetune"], seeds=3)


@pytest.fixture(scope="module")
def report(spec, tmp_path_factory):
    return fake_results(spec, "veclift study ner --train train.txt").report(tmp_path_factory.mktemp("out"))


def _row(trial, strategy, size, seed, f1):
    return {"id": f"n{size}-{strategy}-s{seed}", "size": size, "strategy": strategy, "seed": seed, "seconds": 1.0,
            "finished": "", "metrics": {"f1": f1, "train_size": 40 if size == "all" else size}}


def test_outputs_are_written(report):
    out = report.parent
    for name in ("results.csv", "results.jsonl", "summary.csv", "learning_curve.png", "learning_curve.svg", "transfer_view.png", "transfer_view.svg"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ET.parse(out / "learning_curve.svg").getroot().tag.endswith("svg")
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 27 and {"trial", "size", "strategy", "seed", "f1", "transfer.known.f1"} <= set(rows[0])
    first = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    assert first["trial"] == "n5-scratch-s0" and first["metrics"]["transfer"]["known"]["f1"] == pytest.approx(0.315)


def test_summary_is_mean_std_min_max_n_over_seeds(report):
    rows = [r for r in csv.DictReader((report.parent / "summary.csv").open()) if r["metric"] == "f1"]
    cell = next(r for r in rows if r["size"] == "5" and r["strategy"] == "scratch")
    # fake_scores: 0.3 + 0.01 * 5 + 0.01 * seed for seeds 0, 1, 2
    assert float(cell["mean"]) == pytest.approx(0.36) and float(cell["std"]) == pytest.approx(0.01)
    assert float(cell["min"]) == pytest.approx(0.35) and float(cell["max"]) == pytest.approx(0.37) and cell["n"] == "3"


def test_report_is_self_contained_with_plots_tables_command_and_versions(report):
    html = report.read_text()
    assert len(re.findall(r"<img class='plot' alt='[^']+' src='data:image/png;base64,", html)) == 2
    assert not re.search(r"(src|href)=['\"]https?:", html)
    assert html.count("<table>") >= 4
    assert "veclift study ner --train train.txt" in html
    assert "test words never seen in training get" in html and "as `veclift predict MODEL` gives them" in html
    for package in ("python", "torch", "numpy", "veclift"):
        assert f"{package} " in html


def test_conclusions_quote_the_numbers(spec):
    results = fake_results(spec)
    lines = conclusions(results)
    # at 5 sentences: finetune mean 0.35 + 0.2 * (1 - 5/40) + 0.01 = 0.535, scratch 0.36
    assert lines[0] == ("With 5 training sentences, finetune beats scratch by 17.5 F1 points (3 seeds, spread 2.0): "
                        "53.5 vs 36.0.")
    assert any(line.startswith("Pre-training stops mattering from all 40 training sentences on") for line in lines)
    assert any(line.startswith("On test entities never seen in training but known to the vectors (trained on 5 training sentences), finetune") for line in lines)


def test_conclusions_say_when_pretraining_still_helps_or_never_does(spec):
    helps = [_row(None, s, size, seed, {"scratch": 0.5, "finetune": 0.6}[s] + 0.001 * seed)
             for size in (5, 10) for s in ("scratch", "finetune") for seed in range(2)]
    small = StudySpec("ner", spec.train, test=spec.test, sizes=[5, 10], strategies=["scratch", "finetune"], seeds=2)
    lines = conclusions(StudyResults(small, helps))
    assert lines[-1].startswith("These trials carry no per-item test outcomes")  # older stores: the spread decides
    lines = lines[:-1]
    assert lines[-1] == "Pre-trained vectors still help at the largest size (10 training sentences): +10.0 F1 points with finetune."
    same = [_row(None, s, size, seed, 0.5 + 0.001 * seed) for size in (5, 10) for s in ("scratch", "finetune") for seed in range(2)]
    assert "make no difference" in conclusions(StudyResults(small, same))[-2]
    overtaken = [_row(None, s, size, seed, {(5, "scratch"): 0.5, (5, "finetune"): 0.6, (10, "scratch"): 0.8,
                                             (10, "finetune"): 0.7}[size, s] + 0.001 * seed)
                 for size in (5, 10) for s in ("scratch", "finetune") for seed in range(2)]
    lines = conclusions(StudyResults(small, overtaken))[:-1]
    assert lines[1] == ("With 10 training sentences, scratch beats the best pre-trained strategy (finetune) by 10.0 F1 "
                        "points (2 seeds, spread 0.1): 80.0 vs 70.0.")
    assert lines[-1] == ("Pre-trained vectors help up to 5 training sentences, but at the largest size (10 training "
                         "sentences) training from scratch does better: 10.0 F1 points ahead of finetune, beyond the "
                         "spread across seeds (0.1).")


HOSTILE = "<img src=x onerror=alert(1)>"


def test_words_from_the_data_are_escaped_in_the_report(tmp_path):
    train = write_conll(tmp_path / f"{HOSTILE}.txt", 40, 0)
    spec = StudySpec("ner", train, test=train, vectors=HOSTILE, sizes=[5], strategies=["scratch", "finetune"], seeds=1,
                     options={"label": HOSTILE})
    results = fake_results(spec, f"veclift study ner --train '{HOSTILE}.txt'")
    failed = StudyResults(spec, results.rows[:1], {results.rows[1]["id"]: f"VecliftError: unknown label {HOSTILE}"}, results.command)
    html = failed.report(tmp_path / "out").read_text()
    assert HOSTILE not in html and "onerror=alert(1)>" not in html
    # title, heading, command, train, vectors, model options and the failure, each escaped
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 7
    assert html.count("<img") == 2


CHROMIUM = Path("/usr/bin/chromium")
MEASURE = """<script>
window.addEventListener('load', () => {
  const images = [...document.images].map(i => [i.naturalWidth, Math.round(i.getBoundingClientRect().width), Math.round(i.getBoundingClientRect().height)]);
  const tables = [...document.querySelectorAll('table')].map(t => t.rows.length);
  const shown = e => e.getBoundingClientRect().height > 0 && getComputedStyle(e).visibility !== 'hidden';
  const words = [...document.querySelectorAll('table.words')].map(t => [...t.rows].slice(1).filter(shown).map(r => [...r.cells].map(c => c.innerText)));
  const counts = [...document.querySelectorAll('.count')].filter(shown).map(e => [e.innerText, getComputedStyle(e).color]);
  const verdicts = [...document.querySelectorAll('table.tests tr')].slice(1).map(r => r.cells[4].innerText);
  const out = document.createElement('pre'); out.id = 'measured';
  out.textContent = JSON.stringify({images, tables, words, counts, verdicts});
  document.body.appendChild(out);
});
</script></body>"""


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1100,3000"]


def _measure(report: Path, tmp_path: Path) -> dict:
    """What headless Chromium lays out of ``report``: images, table rows, word tables, counts, verdicts."""
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", MEASURE))
    flags = [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([str(CHROMIUM), *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    measured = re.search(r"<pre id=\"measured\">(.*?)</pre>", dom.stdout, re.S)
    assert measured, dom.stderr[-2000:]
    return json.loads(html_lib.unescape(measured.group(1)))


needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")


@needs_chromium
def test_report_renders_in_headless_chromium(report, tmp_path):
    sizes = _measure(report, tmp_path)
    assert len(sizes["images"]) == 2 and all(natural > 0 and width > 300 and height > 150 for natural, width, height in sizes["images"])
    assert len(sizes["tables"]) >= 4 and all(rows >= 2 for rows in sizes["tables"])
    shot = tmp_path / "report.png"
    flags = [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([str(CHROMIUM), *flags, f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120)
    assert shot.stat().st_size > 10_000


@needs_chromium
def test_the_word_table_counts_and_verdicts_render_in_headless_chromium(tmp_path):
    spec = word_study_spec(tmp_path / "data")
    report = outcome_results(spec, word_right).report(tmp_path / "out")
    shown = _measure(report, tmp_path)
    helped, hurt = shown["words"]
    assert [row[:3] for row in helped] == [["apple", "FOOD", "apple ← orange (FOOD in training)"]]
    assert helped[0][4:] == ["3/3", "0/3"]  # frozen, scratch: right in 3 of 3 tries (1 occurrence x 3 seeds)
    assert [row[:3] for row in hurt] == [["vienna", "LOC", "vienna ← paris (LOC in training)"]]
    # the known group: apple, vienna, kiwi, per strategy (3 entities, flagged); the unknown one is empty
    assert [text for text, _ in shown["counts"]] == ["3 entities ⚠ too few"] * 2
    assert all(color == "rgb(187, 0, 0)" for _, color in shown["counts"])
    assert shown["verdicts"] == ["no difference"]
