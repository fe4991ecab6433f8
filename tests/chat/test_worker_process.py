"""The worker process of the picture and tessellation routes: jobs take turns, each timed
from its own start."""

from __future__ import annotations

import asyncio
import time

from solidtype_jupyter.server.worker import WorkerProcess, WorkerUnavailable


def test_a_job_waiting_behind_another_is_timed_from_its_own_start() -> None:
    # Two 1.5 s jobs asked for at once, each allowed 2.5 s: the second one starts when the
    # first ends, 3 s after it was asked for. Timed from the request it passed its limit
    # and its timeout killed the process, so both requests failed.
    async def scenario() -> None:
        worker = WorkerProcess(lambda: 0.2)
        await worker.run("test", 120.0, time.sleep, 0)  # the process's start is not timed here
        started = time.monotonic()
        results = await asyncio.gather(
            worker.run("test", 2.5, time.sleep, 1.5),
            worker.run("test", 2.5, time.sleep, 1.5),
            return_exceptions=True,
        )
        assert results == [None, None], results
        assert time.monotonic() - started >= 3.0  # one after the other
        await asyncio.sleep(1.0)
        assert not worker.running  # stopped when idle

    asyncio.run(scenario())


def test_a_job_past_its_limit_is_stopped_and_the_next_one_gets_a_new_process() -> None:
    async def scenario() -> None:
        worker = WorkerProcess(lambda: 0.2)
        await worker.run("test", 120.0, time.sleep, 0)
        results = await asyncio.gather(
            worker.run("test", 1.0, time.sleep, 30),
            worker.run("test", 120.0, time.sleep, 0),
            return_exceptions=True,
        )
        assert isinstance(results[0], WorkerUnavailable), results
        assert "took longer than 1 s" in str(results[0])
        assert results[1] is None, results  # waited its turn, then ran in a new process
        await asyncio.sleep(1.0)
        assert not worker.running

    asyncio.run(scenario())
