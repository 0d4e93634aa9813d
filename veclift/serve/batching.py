"""Micro-batching: the requests for one model that arrive within a few milliseconds of one another
are answered by one ``predict_records`` call, run in the model's own thread.

Each served model has an asyncio queue and one worker coroutine. The worker takes the first waiting
request, gathers more for up to ``max_wait`` seconds or until ``max_texts`` texts are together (a
request's texts are never split: a request larger than ``max_texts`` runs alone), runs the
prediction in a single-thread executor (models are not thread-safe: every prediction of one model
happens in one thread, one at a time) and hands each request its own answers. Requests with and
without ``marginals`` share the batch but not the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from veclift.errors import VecliftError

Predict = Callable[[list[dict[str, Any]], bool], list[dict[str, Any]]]
"""(records, marginals) -> the records with the model's answers, in order."""


@dataclass
class _Job:
    records: list[dict[str, Any]]
    marginals: bool
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Batches the predictions of one model; `start` it inside the event loop, `close` at shutdown."""

    def __init__(self, name: str, predict: Predict, *, max_texts: int = 64, max_wait: float = 0.005):
        if max_texts < 1 or max_wait < 0:
            raise ValueError("max_texts must be at least 1 and max_wait at least 0")
        self.name = name
        self.predict_fn = predict
        self.max_texts = max_texts
        self.max_wait = max_wait
        self.calls = 0  # predict calls made (batches), for tests and statistics
        self.requests = 0  # requests answered
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task | None = None
        self._held: _Job | None = None  # taken from the queue but too large for the batch being gathered
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"veclift-serve-{self.name}")
        self._worker = asyncio.get_running_loop().create_task(self._work(), name=f"veclift-batcher-{self.name}")

    async def close(self) -> None:
        """Stop the worker (requests still waiting are refused) and the model's thread."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        pending = [self._held] if self._held is not None else []
        while self._queue is not None and not self._queue.empty():
            pending.append(self._queue.get_nowait())
        for job in pending:
            if not job.future.done():
                job.future.set_exception(RuntimeError("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def predict(self, records: list[dict[str, Any]], marginals: bool = False) -> list[dict[str, Any]]:
        """The answers to ``records`` (one request's texts), predicted together with other requests'."""
        if self._queue is None or self._worker is None:
            raise RuntimeError("the batcher is not running")
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(list(records), marginals, future))
        return await future

    async def _work(self) -> None:
        while True:
            batch = await self._gather()
            try:
                await asyncio.get_running_loop().run_in_executor(self._executor, self._run, batch)
            except Exception as exc:  # pragma: no cover - _run answers every job itself
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)

    async def _gather(self) -> list[_Job]:
        """The next batch: the first waiting job, then others for up to ``max_wait`` seconds."""
        assert self._queue is not None
        if self._held is not None:
            first, self._held = self._held, None
        else:
            first = await self._queue.get()
        batch, count = [first], len(first.records)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while count < self.max_texts:
            try:
                job = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self._queue.get(), remaining)
                except (asyncio.TimeoutError, TimeoutError):
                    break
            if job.future.done():  # its client went away
                continue
            if count + len(job.records) > self.max_texts:
                self._held = job  # it starts the next batch
                break
            batch.append(job)
            count += len(job.records)
        return [job for job in batch if not job.future.done()]

    def _run(self, batch: list[_Job]) -> None:
        """In the model's thread: one call per marginals setting, answers handed back to the loop."""
        for marginals in (False, True):
            jobs = [job for job in batch if job.marginals is marginals]
            if jobs:
                self._answer(jobs, marginals)

    def _answer(self, jobs: list[_Job], marginals: bool) -> None:
        records = [record for job in jobs for record in job.records]
        try:
            answers = self.predict_fn(records, marginals)
            self.calls += 1
        except Exception as exc:
            if len(jobs) > 1 and isinstance(exc, VecliftError):  # find the request at fault: each alone
                for job in jobs:
                    self._answer([job], marginals)
                return
            self.calls += 1
            for job in jobs:
                self._settle(job, exc=exc)
            return
        if len(answers) != len(records):  # pragma: no cover - a broken task plugin
            error = RuntimeError(f"the model answered {len(answers)} of {len(records)} records")
            for job in jobs:
                self._settle(job, exc=error)
            return
        position = 0
        for job in jobs:
            self._settle(job, answers[position : position + len(job.records)])
            position += len(job.records)

    def _settle(self, job: _Job, answers: list[dict[str, Any]] | None = None, exc: BaseException | None = None) -> None:
        loop = job.future.get_loop()

        def settle() -> None:
            if job.future.done():
                return
            if exc is not None:
                job.future.set_exception(exc)
            else:
                self.requests += 1
                job.future.set_result(answers)

        loop.call_soon_threadsafe(settle)
