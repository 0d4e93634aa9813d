"""Micro-batching: the requests for one model that arrive within a few milliseconds of one another
are answered by one ``predict_records`` call, run in the model's own thread.

Each served model has a queue of waiting requests and one worker coroutine. The worker waits for a
request, lets more gather for up to ``max_wait`` seconds or until ``max_texts`` texts wait, takes
the waiting requests in order while they fit in ``max_texts`` texts (a request's texts are never
split: a request larger than ``max_texts`` runs alone), runs the prediction in a single-thread
executor (models are not thread-safe: every prediction of one model happens in one thread, one at
a time) and hands each request its own answers. Requests with and without ``marginals`` share the
batch but not the call. When a call fails, whatever the error, each of its requests runs alone, so
a bad request fails only itself.

Backpressure: a request that would make more than ``max_queue`` texts wait is refused at once
(`Busy`; a request larger than that is taken when nothing waits). `close` refuses what arrives
after it and what still waits (`ShuttingDown`), after the call under way has finished.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

Predict = Callable[[list[dict[str, Any]], bool], list[dict[str, Any]]]
"""(records, marginals) -> the records with the model's answers, in order."""

MAX_QUEUE = 4096  # texts waiting per model: 16 requests of the default --max-texts


class Busy(Exception):
    """Too many texts wait for the model: the request is refused, to be sent again a moment later."""


class ShuttingDown(Exception):
    """The batcher is closing: the request is refused."""


@dataclass
class _Job:
    records: list[dict[str, Any]]
    marginals: bool
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Batches the predictions of one model; `start` it inside the event loop, `close` at shutdown."""

    def __init__(self, name: str, predict: Predict, *, max_texts: int = 64, max_wait: float = 0.005,
                 max_queue: int = MAX_QUEUE):  # fmt: skip
        if max_texts < 1 or max_queue < 1 or max_wait < 0:
            raise ValueError("max_texts and max_queue must be at least 1 and max_wait at least 0")
        self.name = name
        self.predict_fn = predict
        self.max_texts = max_texts
        self.max_wait = max_wait
        self.max_queue = max_queue
        self._waiting: deque[_Job] = deque()
        self._waiting_texts = 0
        self._arrived: asyncio.Event | None = None  # set when a job joins the queue
        self._running: list[_Job] = []  # the batch handed to the model's thread last
        self._closed = False
        self._worker: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._closed = False
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"veclift-serve-{self.name}")
        self._worker = asyncio.get_running_loop().create_task(self._work(), name=f"veclift-batcher-{self.name}")

    async def close(self) -> None:
        """Refuse new requests, let the call under way finish (its requests get their answers), refuse
        the requests still waiting and stop the model's thread."""
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._executor is not None:  # its answers reach the loop before this await returns
            await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
            self._executor = None
        for job in [*self._running, *self._waiting]:
            if not job.future.done():
                job.future.set_exception(ShuttingDown("the server is shutting down"))
        self._running = []
        self._waiting.clear()
        self._waiting_texts = 0

    async def predict(self, records: list[dict[str, Any]], marginals: bool = False) -> list[dict[str, Any]]:
        """The answers to ``records`` (one request's texts), predicted together with other requests'.
        `ShuttingDown` once `close` has begun, `Busy` when too many texts wait already."""
        if self._closed:
            raise ShuttingDown("the server is shutting down")
        if self._worker is None or self._arrived is None:
            raise RuntimeError("the batcher is not running")
        if self._waiting_texts and self._waiting_texts + len(records) > self.max_queue:
            raise Busy(f"busy: {self._waiting_texts} texts are waiting for model {self.name!r} and the limit is "
                       f"{self.max_queue} (--max-queue); send the request again in a moment")  # fmt: skip
        job = _Job(list(records), marginals, asyncio.get_running_loop().create_future())
        self._waiting.append(job)
        self._waiting_texts += len(job.records)
        self._arrived.set()
        return await job.future

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._running = await self._gather()
            await loop.run_in_executor(self._executor, self._run, self._running)

    async def _gather(self) -> list[_Job]:
        """The next batch: once a job waits, others for up to ``max_wait`` seconds or until
        ``max_texts`` texts wait; then the waiting jobs, in order, while they fit (the first always).
        Jobs leave the queue only here, after the last await, so a cancelled worker drops none."""
        assert self._arrived is not None
        while not self._waiting:
            self._arrived.clear()
            await self._arrived.wait()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while self._waiting_texts < self.max_texts and (remaining := deadline - loop.time()) > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        batch: list[_Job] = []
        count = 0
        while self._waiting and (not batch or count + len(self._waiting[0].records) <= self.max_texts):
            job = self._waiting.popleft()
            self._waiting_texts -= len(job.records)
            if not job.future.done():  # else its client went away
                batch.append(job)
                count += len(job.records)
        return batch

    def _run(self, batch: list[_Job]) -> None:
        """In the model's thread: one call per marginals setting, answers handed back to the loop."""
        for marginals in (False, True):
            jobs = [job for job in batch if job.marginals is marginals]
            if jobs:
                self._answer(jobs, marginals)

    def _answer(self, jobs: list[_Job], marginals: bool) -> None:
        records = [record for job in jobs for record in job.records]
        try:
            answers = list(self.predict_fn(records, marginals))
            if len(answers) != len(records):
                raise RuntimeError(f"the model answered {len(answers)} of {len(records)} records")
        except Exception as exc:
            if len(jobs) > 1:  # find the request at fault: each alone
                for job in jobs:
                    self._answer([job], marginals)
            else:
                self._settle(jobs[0], exc=exc)
            return
        position = 0
        for job in jobs:
            self._settle(job, answers[position : position + len(job.records)])
            position += len(job.records)

    def _settle(self, job: _Job, answers: list[dict[str, Any]] | None = None, exc: BaseException | None = None) -> None:
        def settle() -> None:
            if job.future.done():  # refused at shutdown, or its client went away
                return
            if exc is not None:
                job.future.set_exception(exc)
            else:
                job.future.set_result(answers)

        job.future.get_loop().call_soon_threadsafe(settle)
