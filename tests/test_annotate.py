"""`veclift annotate`: the session store (resume, one answer per item from two writers, WAL, every
answer on disk before it is confirmed, export without rejected and skipped sentences), the input
readers and the queue (uncertainty order, tabs kept apart), the HTTP API on a real uvicorn
(`veclift annotate --port 0` in a subprocess: answers, undo, guards, limits, restart, retraining),
and one browser test: five sentences annotated by keyboard and mouse in Chromium, a reload that
resumes, then the session and the export checked."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from live_command import LiveCommand
from task_fixtures import tagged_sentences, tiny_vectors

from veclift.data import read_tagged
from veclift.errors import VecliftError
from veclift.serve.annotate_input import is_tagged, read_input
from veclift.serve.annotate_queue import AnnotationQueue, uncertainty
from veclift.serve.annotate_session import AnnotationSession, Sentence

ROOT = Path(__file__).resolve().parents[1]
READY = re.compile(r"^annotating .* on (http://127\.0\.0\.1:\d+)$", re.M)
CHROMIUM = Path("/usr/bin/chromium")
LABELS = ["PRODUCT", "BRAND"]
HOSTILE = '<script>window.pwned = 1</script> <img src=x onerror="window.pwned = 2"> Apple fans .'
TEXT = ("Apple sells the iPhone in Paris .\n"
        "Samsung makes the Galaxy S24 .\n"
        "The weather was nice today .\n"
        "Nothing to see here .\n"
        f"{HOSTILE}\n"
        "Google builds the Pixel phone .\n"
        "Apple sells the iPhone in Paris .\n")  # fmt: skip
PATTERNS = '{"label": "BRAND", "pattern": [{"LOWER": "apple"}]}\n{"label": "SHOP", "pattern": "Paris"}\n'


def sentence(text: str, spans=()) -> Sentence:
    from veclift.data.tokenize import tokenize_with_offsets

    return Sentence(text, tuple((s, e) for _, s, e in tokenize_with_offsets(text)), tuple(spans))


SENTENCES = [sentence(f"Sentence number {n} about Apple .") for n in range(1, 21)]


# --- the session store --------------------------------------------------------------------------
def test_a_session_resumes_and_refuses_another_input(tmp_path):
    path = tmp_path / "ann.sqlite"
    with AnnotationSession(path) as session:
        session.start(SENTENCES, LABELS, "in.txt")
        assert session.answer(1, "accept", [("BRAND", 4, 5)]) is False
        session.answer(2, "reject")
        session.answer(3, "skip")
    with AnnotationSession(path) as session:
        session.start(SENTENCES, LABELS, "again.txt")  # the same sentences: resumes
        session.start(None, None, None)  # no input: resumes too
        assert session.answered() == {1, 2, 3}
        assert [a.decision for a in session.answers()] == ["accept", "reject", "skip"]
        assert session.progress() == {"total": 20, "done": 3, "left": 17, "accepted": 1, "rejected": 1, "skipped": 1,
                                      "labels": {"PRODUCT": 0, "BRAND": 1}}  # fmt: skip
        with pytest.raises(VecliftError, match=r"other sentences \(20 read from in.txt, not the 19 of b.txt\)") as error:
            session.start(SENTENCES[1:], LABELS, "b.txt")
        assert "\n" not in str(error.value)
        with pytest.raises(VecliftError, match="use the label.s. BRAND: keep them"):
            session.start(None, ["PRODUCT"], None)
        session.start(None, [*LABELS, "SHOP"], None)  # a label added is fine
        assert session.labels == [*LABELS, "SHOP"]
        assert session.undo() is not None and session.answered() == {1, 2}


def test_a_new_session_needs_input_and_labels_and_only_a_session_file_is_opened(tmp_path):
    with AnnotationSession(tmp_path / "new.sqlite") as session:
        with pytest.raises(VecliftError, match="give the INPUT"):
            session.start(None, LABELS, None)
        with pytest.raises(VecliftError, match="--labels"):
            session.start(SENTENCES, None, "in.txt")
    notes = tmp_path / "notes.sqlite"
    notes.write_text("my notes\n")
    with pytest.raises(VecliftError, match="cannot open the annotation session|not a veclift annotation session"):
        AnnotationSession(notes)
    assert notes.read_text() == "my notes\n"
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE mine (x)").connection.commit()
    with pytest.raises(VecliftError, match="not a veclift annotation session"):
        AnnotationSession(other)
    assert [r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")] == ["mine"]
    with pytest.raises(VecliftError, match="no such annotation session"):
        AnnotationSession(tmp_path / "missing.sqlite", create=False)


def test_answers_are_checked(tmp_path):
    with AnnotationSession(tmp_path / "ann.sqlite") as session:
        session.start(SENTENCES, LABELS, "in.txt")  # "Sentence number 1 about Apple ." has 6 tokens
        for spans, says in [([("SHOP", 0, 1)], "unknown label 'SHOP'"), ([("BRAND", 4, 7)], "not inside"),
                            ([("BRAND", 2, 2)], "not inside"), ([("BRAND", 0, 2), ("PRODUCT", 1, 3)], "overlap")]:  # fmt: skip
            with pytest.raises(VecliftError, match=says):
                session.answer(1, "accept", spans)
        with pytest.raises(VecliftError, match="unknown decision"):
            session.answer(1, "maybe")
        with pytest.raises(VecliftError, match="no item 99"):
            session.answer(99, "skip")
        session.answer(1, "reject", [("SHOP", 0, 1)])  # spans of a rejected sentence are not kept
        assert session.get_answer(1).spans == () and session.answered() == {1}


def test_two_writers_answering_the_same_items_make_one_row_each(tmp_path):
    path = tmp_path / "ann.sqlite"
    with AnnotationSession(path) as session:
        session.start(SENTENCES, LABELS, "in.txt")
    replaced: dict[str, list[bool]] = {"a": [], "b": []}

    def writer(name: str) -> None:
        with AnnotationSession(path) as mine:  # a connection of its own, as a second server has
            for number in range(1, 21):
                replaced[name].append(mine.answer(number, "accept", [("BRAND", 4, 5)], client=name))

    threads = [threading.Thread(target=writer, args=(name,)) for name in replaced]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = sqlite3.connect(path).execute("SELECT item_id, client FROM answers ORDER BY item_id").fetchall()
    assert [r[0] for r in rows] == list(range(1, 21))  # one row per item
    for number in range(20):  # exactly one of the two answers found the item unanswered
        assert replaced["a"][number] != replaced["b"][number]
    with AnnotationSession(path) as session:  # the later answer replaced the earlier one
        later = {n + 1: "b" if replaced["b"][n] else "a" for n in range(20)}
        assert {a.item_id: a.client for a in session.answers()} == later


def test_the_session_is_in_wal_mode_and_an_answer_is_on_disk_before_it_returns(tmp_path):
    path = tmp_path / "ann.sqlite"
    with AnnotationSession(path) as session:
        session.start(SENTENCES, LABELS, "in.txt")
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    script = ("import os, signal, sys\n"
              "from veclift.serve.annotate_session import AnnotationSession\n"
              "session = AnnotationSession(sys.argv[1])\n"
              "for number in range(1, 8):\n"
              "    session.answer(number, 'accept' if number % 2 else 'skip', [('BRAND', 4, 5)] if number % 2 else [])\n"
              "    print(number, flush=True)\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    confirmed = [int(line) for line in done.stdout.split()]
    assert confirmed == list(range(1, 8))
    with AnnotationSession(path) as session:  # killed without closing: every confirmed answer is there
        assert session.answered() == set(confirmed)
        assert session.progress()["accepted"] == 4


def test_export_writes_the_accepted_sentences_only(tmp_path):
    path = tmp_path / "ann.sqlite"
    with AnnotationSession(path) as session:
        session.start(SENTENCES[:5], LABELS, "in.txt")
        with pytest.raises(VecliftError, match="no accepted sentence"):
            session.export(tmp_path / "none.conll")
        session.answer(3, "accept", [("BRAND", 4, 5), ("PRODUCT", 0, 2)])
        session.answer(1, "reject")
        session.answer(2, "skip")
        session.answer(5, "accept", [])
        assert session.export(tmp_path / "train.conll") == 2
        assert session.export(tmp_path / "train.jsonl") == 2
        with pytest.raises(VecliftError, match="exists"):
            session.export(tmp_path / "train.conll")
    for name in ("train.conll", "train.jsonl"):
        got = read_tagged(tmp_path / name)
        assert [list(s.tokens) for s in got] == [SENTENCES[2].tokens, SENTENCES[4].tokens]
        assert list(got[0].tags) == ["B-PRODUCT", "I-PRODUCT", "O", "O", "B-BRAND", "O"]
        assert set(got[1].tags) == {"O"}
    first = json.loads((tmp_path / "train.jsonl").read_text().splitlines()[0])
    assert set(first) == {"tokens", "tags"}


# --- input and queue ----------------------------------------------------------------------------
def test_inputs_raw_text_conll_and_jsonl(tmp_path):
    raw = tmp_path / "notes.txt"
    raw.write_text("Apple sells phones. Mr. Smith buys one in Paris!\n\nSamsung too.\nSamsung too.\n")
    with pytest.warns(UserWarning, match="1 repeated sentence"):
        got = read_input([raw])
    assert [s.text for s in got] == ["Apple sells phones.", "Mr. Smith buys one in Paris!", "Samsung too."]
    assert got[1].tokens == ["Mr", ".", "Smith", "buys", "one", "in", "Paris", "!"] and got[1].spans == ()
    conll = tmp_path / "tagged.txt"
    conll.write_text("-DOCSTART- O\n\nApple B-BRAND\nsells O\niPhones B-PRODUCT\n\nGo O\n")
    assert is_tagged(conll) and not is_tagged(raw)
    tagged = read_input([conll])
    assert tagged[0].text == "Apple sells iPhones" and tagged[0].spans == (("BRAND", 0, 1), ("PRODUCT", 2, 3))
    spans = tmp_path / "spans.jsonl"
    spans.write_text('{"text": "Apple rocks", "spans": [{"start": 0, "end": 5, "label": "BRAND"}]}\n')
    documents = tmp_path / "docs.jsonl"
    documents.write_text('{"body": "One here. Two there."}\n')
    assert read_input([spans])[0].spans == (("BRAND", 0, 1),)
    assert [s.text for s in read_input([documents], text_field="body")] == ["One here.", "Two there."]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(VecliftError, match="no sentence"):
        read_input([empty])


class FakeTagger:
    """A tagger whose entities and marginals are set per text: ``scores[text] = (entities, margins)``."""

    task = "ner"

    def __init__(self, scores, labels=("O", "B-BRAND", "I-BRAND", "B-PER", "I-PER")):
        self.scores = scores
        self.labels = list(labels)

    def entities(self, texts, token_lists, offsets, *, vectors=None, marginals=False):
        answers = []
        for text, tokens in zip(texts, token_lists):
            entities, margin = self.scores.get(text, ([], 0.98))
            rows = [{"O": (1 + margin) / 2, "B-BRAND": (1 - margin) / 2} for _ in tokens]
            answers.append({"entities": [{"label": label, "token_start": s, "token_end": e, "score": score}
                                         for label, s, e, score in entities], "marginals": rows})  # fmt: skip
        return answers


def test_the_queue_serves_the_most_uncertain_first_and_keeps_tabs_apart(tmp_path):
    assert uncertainty([("A", 0, 1, 0.7)], [{"O": 0.9, "B-A": 0.1}]) == pytest.approx(0.7)
    assert uncertainty([], [{"O": 0.6, "B-A": 0.3, "I-A": 0.1}]) == pytest.approx(0.3)
    assert uncertainty([], []) == 1.0
    with AnnotationSession(tmp_path / "ann.sqlite") as session:
        session.start(SENTENCES[:6], LABELS, "in.txt")
        texts = [s.text for s in SENTENCES]
        model = FakeTagger({texts[3]: ([("BRAND", 4, 5, 0.35)], 0.9), texts[1]: ([("PER", 0, 1, 0.1)], 0.5),
                            texts[4]: ([("BRAND", 4, 5, 0.8)], 0.95)})  # fmt: skip
        with pytest.warns(UserWarning, match="model's label.s. PER are not shown"):
            queue = AnnotationQueue(session, model=model)
        first = queue.next("tab-a")
        assert first["id"] == 4 and first["uncertainty"] == pytest.approx(0.35)
        assert first["spans"] == [{"label": "BRAND", "token_start": 4, "token_end": 5, "start": 24, "end": 29,
                                   "text": "Apple", "source": "model", "score": 0.35}]  # fmt: skip
        assert queue.next("tab-a")["id"] == 4  # a reload shows the same sentence
        assert queue.next("tab-b")["id"] == 2  # the PER entity is not shown, but its margin of 0.5 counts
        assert queue.next("tab-b")["spans"] == []
        assert queue.next(None)["id"] == 5  # no client: the first free one
        session.answer(4, "accept", [("BRAND", 4, 5)], "tab-a")
        assert queue.next("tab-a")["id"] == 5
        for number in (1, 2, 3, 5, 6):
            session.answer(number, "skip")
        assert queue.next("tab-a") is None and queue.next("tab-b") is None


def test_suggestions_come_from_the_input_then_patterns_then_the_model(tmp_path):
    patterns = tmp_path / "terms.jsonl"
    patterns.write_text(PATTERNS)
    from veclift.serve.annotate_input import Suggester

    with pytest.warns(UserWarning, match="label.s. SHOP are left out"):
        suggester = Suggester(patterns, LABELS)
    with AnnotationSession(tmp_path / "ann.sqlite") as session:
        session.start([sentence("Apple and Orange sell in Paris", [("PRODUCT", 2, 3), ("SHOP", 5, 6)])], LABELS, "x")
        with pytest.warns(UserWarning, match="input's tags of the label.s. SHOP"):
            queue = AnnotationQueue(session, suggester=suggester,
                                    model=FakeTagger({"Apple and Orange sell in Paris": (
                                        [("BRAND", 0, 1, 0.6), ("BRAND", 2, 4, 0.9), ("PRODUCT", 4, 5, 0.4)], 0.9)},
                                        ["O", "B-BRAND", "B-PRODUCT"]))  # fmt: skip
        spans = [(s["label"], s["token_start"], s["token_end"], s["source"], s["score"]) for s in queue.next()["spans"]]
        assert spans == [("BRAND", 0, 1, "pattern", 0.6), ("PRODUCT", 2, 3, "input", None), ("PRODUCT", 4, 5, "model", 0.4)]


# --- the HTTP API on a real server ---------------------------------------------------------------
class Annotator(LiveCommand):
    """``veclift annotate ARGS --port 0`` in a subprocess."""

    def __init__(self, args: list, log: Path, deadline: float = 60.0):
        super().__init__("annotate", args, log, READY, deadline=deadline)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=30, **kwargs)

    def post(self, path: str, payload=None, **kwargs) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=payload, timeout=30, **kwargs)


@pytest.fixture()
def corpus(tmp_path):
    (tmp_path / "in.txt").write_text(TEXT)
    (tmp_path / "terms.jsonl").write_text(PATTERNS)
    return tmp_path


def one_line_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert "\n" not in response.text.strip()
    return response.json()["error"]


def test_the_api_answers_undoes_and_resumes_after_a_restart(corpus):
    session = corpus / "ann.sqlite"
    args = [corpus / "in.txt", "--labels", "PRODUCT,BRAND", "--patterns", corpus / "terms.jsonl", "--session", session]
    server = Annotator(args, corpus / "log1.txt")
    try:
        assert "patterns of the label(s) SHOP are left out" in server.stderr()
        first = server.get("/api/next", params={"client": "tab1"}).json()
        item = first["item"]
        assert first["progress"]["total"] == 6 and item["id"] == 1  # the repeated sentence is annotated once
        assert item["tokens"][:2] == ["Apple", "sells"] and item["spans"][0]["source"] == "pattern"
        assert server.get("/api/next", params={"client": "tab2"}).json()["item"]["id"] == 2  # another tab
        answer = {"id": 1, "decision": "accept", "client": "tab1",
                  "spans": [{"label": "BRAND", "start": 0, "end": 5}, {"label": "PRODUCT", "token_start": 3, "token_end": 4}]}
        assert server.post("/api/answer", answer).json()["replaced"] is False
        again = server.post("/api/answer", {**answer, "client": "tab2"}).json()  # the same item from another tab
        assert again["replaced"] is True and again["progress"]["done"] == 1
        assert again["progress"]["labels"] == {"PRODUCT": 1, "BRAND": 1}
        assert server.get("/api/next", params={"client": "tab1"}).json()["item"]["id"] == 3
        assert server.post("/api/answer", {"id": 2, "decision": "skip", "client": "tab2"}).status_code == 200
        undone = server.post("/api/undo", {"client": "tab2"}).json()
        assert undone["item"]["id"] == 2 and undone["item"]["answer"]["decision"] == "skip"
        assert server.get("/api/next", params={"client": "tab2"}).json()["item"]["id"] == 2  # the undone one is next
        assert server.post("/api/answer", {"id": 2, "decision": "reject", "client": "tab2"}).status_code == 200
        # bad requests: one line of JSON each, nothing stored
        assert "not valid JSON" in one_line_error(server.post("/api/answer", content=b'{"id": 1,',
                                                              headers={"Content-Type": "application/json"}), 400)  # fmt: skip
        assert "decision" in one_line_error(server.post("/api/answer", {"id": 3, "decision": "maybe"}), 422)
        assert "no item 99" in one_line_error(server.post("/api/answer", {"id": 99, "decision": "skip"}), 404)
        assert "unknown label 'SHOP'" in one_line_error(server.post("/api/answer", {"id": 3, "decision": "accept", "spans": [
            {"label": "SHOP", "token_start": 0, "token_end": 1}]}), 422)  # fmt: skip
        assert "on tokens" in one_line_error(server.post("/api/answer", {"id": 3, "decision": "accept", "spans": [
            {"label": "BRAND", "start": 1, "end": 3}]}), 422)  # fmt: skip
        assert "client" in one_line_error(server.get("/api/next", params={"client": "../x"}), 422)
        # the guards: JSON only, this page's origin only, this server's name only, bodies bounded
        assert "JSON" in one_line_error(server.post("/api/answer", content=b'{"id": 3, "decision": "skip"}',
                                                    headers={"Content-Type": "text/plain"}), 415)  # fmt: skip
        assert "another site" in one_line_error(server.post("/api/answer", {"id": 3, "decision": "skip"},
                                                            headers={"Origin": "http://evil.example"}), 403)  # fmt: skip
        assert "answers to" in one_line_error(server.get("/api/progress", headers={"Host": "evil.example"}), 421)
        assert "limit" in one_line_error(server.post("/api/answer", {"id": 3, "decision": "skip", "x": "a" * 70_000}), 413)
        page = server.get("/")
        assert "nonce-" in page.headers["content-security-policy"] and page.headers["x-frame-options"] == "DENY"
        progress = server.get("/api/progress").json()
        assert (progress["done"], progress["left"], progress["rejected"]) == (2, 4, 1)
        assert server.terminate() == 0, server.stderr()
    finally:
        server.kill()
    other = corpus / "other.txt"
    other.write_text("A different text .\n")
    refused = subprocess.run([sys.executable, "-m", "veclift", "annotate", other, "--session", session, "--port", "0"],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "other sentences" in refused.stderr
    server = Annotator(["--session", session], corpus / "log2.txt")  # resumed without the input
    try:
        state = server.get("/api/next").json()
        assert state["item"]["id"] == 3 and state["progress"]["done"] == 2
    finally:
        server.kill()
    exported = subprocess.run([sys.executable, "-m", "veclift", "annotate", "export", session, "--output",
                               corpus / "train.conll"], capture_output=True, text=True, cwd=ROOT, timeout=60)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "1 accepted sentences" in exported.stdout and "1 rejected and 0 skipped left out" in exported.stdout
    assert [list(s.tags) for s in read_tagged(corpus / "train.conll")] == [["B-BRAND", "O", "O", "B-PRODUCT", "O", "O", "O"]]


@pytest.fixture(scope="module")
def tagger_dir(tmp_path_factory):
    """A tiny PER/LOC tagger and the native vectors it was trained with."""
    from veclift.tasks import SequenceTagger

    root = tmp_path_factory.mktemp("annotate-model")
    vectors = tiny_vectors()
    vectors.save(root / "vectors")
    tagger = SequenceTagger(max_epochs=8, hidden=16, char_filters=8, batch_size=8, lr=0.01)
    tagger.fit(tagged_sentences(40), vectors=vectors, seed=0, progress=False)
    tagger.save(root / "ner")
    return root


def test_a_model_orders_the_queue_and_is_retrained_in_the_background(tagger_dir, tmp_path):
    text = tmp_path / "people.txt"
    names = ["John lives in Paris .", "Mary met Anna in Rome today .", "Peter lives in Berlin .", "Lucy met Paul in Madrid .",
             "the visited said .", "Anna lives in London .", "Paul visited Vienna today .", "John met Mary in Berlin ."]  # fmt: skip
    text.write_text("\n".join(names) + "\n")
    session = tmp_path / "people.sqlite"
    server = Annotator([text, "--labels", "PER", "--model", tagger_dir / "ner", "--vectors", tagger_dir / "vectors",
                        "--session", session, "--update-every", 3, "--train-args", "--epochs 2 --hidden 8 --char none",
                        "--quiet"], tmp_path / "log.txt")  # fmt: skip
    try:
        assert "label(s) LOC are not shown" in server.stderr()
        served = []
        for _ in range(len(names)):
            item = server.get("/api/next", params={"client": "t"}).json()["item"]
            served.append(item)
            assert all(span["label"] == "PER" and 0 < span["score"] <= 1 for span in item["spans"])
            spans = [{"label": "PER", "token_start": s["token_start"], "token_end": s["token_end"]} for s in item["spans"]]
            assert server.post("/api/answer", {"id": item["id"], "decision": "accept", "spans": spans, "client": "t"}).status_code == 200
            if len(served) == 6:
                break
        certainty = [item["uncertainty"] for item in served[:5]]  # before the first retraining starts
        assert certainty == sorted(certainty) and certainty[0] < certainty[-1]  # the most uncertain first
        deadline = time.monotonic() + 90
        while (training := server.get("/api/progress").json()["training"])["rounds"] < 1:
            assert training["error"] is None, training["error"]
            assert time.monotonic() < deadline, server.stderr()
            time.sleep(0.2)
        progress = server.get("/api/progress").json()
        assert progress["model"].endswith("people.model") and 0 <= training["dev_score"] <= 1
        assert training["trained_on"] >= 2 and (tmp_path / "people.model" / "config.json").exists()
        assert server.terminate() == 0, server.stderr()
    finally:
        server.kill()


# --- the page in a real browser ------------------------------------------------------------------
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium; apt-get install chromium)")
def test_five_sentences_annotated_in_the_browser_by_keyboard_and_mouse(corpus):
    playwright = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python (pip install playwright)")
    session = corpus / "ann.sqlite"
    server = Annotator([corpus / "in.txt", "--labels", "PRODUCT,BRAND", "--patterns", corpus / "terms.jsonl", "--session",
                        session], corpus / "log.txt")  # fmt: skip
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("dialog", lambda dialog: (problems.append(f"dialog {dialog.message}"), dialog.dismiss()))
            page.goto(server.url)

            def at(number: int) -> None:
                page.wait_for_selector(f'#sentence[data-id="{number}"]', timeout=10_000)

            def token(i: int):
                return page.locator(f'#sentence .tok[data-i="{i}"]')

            # 1: "Apple sells the iPhone in Paris ." Apple is suggested by the patterns; iPhone by keyboard
            at(1)
            assert page.locator("#sentence mark").all_inner_texts()[0].startswith("Apple")
            for _ in range(4):
                page.keyboard.press("ArrowRight")
            page.keyboard.press("1")
            page.keyboard.press("Enter")
            # 2: "Samsung makes the Galaxy S24 ." by mouse: pick BRAND, click Samsung; pick PRODUCT, drag over Galaxy S24
            at(2)
            page.keyboard.press("2")
            token(0).click()
            page.keyboard.press("1")
            token(3).hover()
            page.mouse.down()
            token(4).hover()
            page.mouse.up()
            assert page.locator('#sentence mark[data-label="PRODUCT"]').inner_text().startswith("Galaxy S24")
            page.click("#accept")
            # 3 rejected, 4 skipped
            at(3)
            page.keyboard.press("x")
            at(4)
            page.keyboard.press("s")
            # 5: the hostile sentence shows as text; Shift+arrows select "Apple fans", a wrong label first, then undo
            at(5)
            shown = page.inner_text("#sentence")
            assert "<script>window.pwned = 1</script>" in shown and 'onerror="window.pwned = 2">' in shown
            assert page.evaluate("window.pwned === undefined && !document.querySelector('#sentence script, #sentence img')")
            ids = page.evaluate("[...document.querySelectorAll('#sentence .tok')].map(t => t.textContent)")
            apple = ids.index("Apple")
            for _ in range(apple + 1):
                page.keyboard.press("ArrowRight")
            page.keyboard.press("Shift+ArrowRight")
            page.keyboard.press("2")
            page.keyboard.press("Enter")
            at(6)
            page.keyboard.press("u")  # back to 5, with the answer's span
            at(5)
            assert page.locator('#sentence mark[data-label="BRAND"]').inner_text().startswith("Apple fans")
            page.locator('#sentence mark[data-label="BRAND"] .remove').click()
            for _ in range(apple + 1):
                page.keyboard.press("ArrowRight")
            page.keyboard.press("1")
            page.keyboard.press("Enter")
            at(6)
            assert page.inner_text("#done") == "5" and page.inner_text("#left") == "1"
            assert "PRODUCT 3" in page.inner_text("#counts") and "BRAND 2" in page.inner_text("#counts")
            page.reload()  # resumes at the first unanswered sentence
            at(6)
            assert page.inner_text("#done") == "5"
            browser.close()
        assert not problems, problems
    finally:
        server.kill()  # a kill, not a shutdown: nothing answered may be lost
    with AnnotationSession(session, create=False) as store:
        answers = {a.item_id: (a.decision, a.spans) for a in store.answers()}
    assert answers == {
        1: ("accept", (("BRAND", 0, 1), ("PRODUCT", 3, 4))),
        2: ("accept", (("BRAND", 0, 1), ("PRODUCT", 3, 5))),
        3: ("reject", ()),
        4: ("skip", ()),
        5: ("accept", (("PRODUCT", apple, apple + 1),)),
    }
    done = subprocess.run([sys.executable, "-m", "veclift", "annotate", "export", session, "--output", corpus / "out.jsonl"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    exported = read_tagged(corpus / "out.jsonl")
    assert [s.tokens[0] for s in exported] == ["Apple", "Samsung", "<"]
    assert list(exported[1].tags) == ["B-BRAND", "O", "O", "B-PRODUCT", "I-PRODUCT", "O"]
