"""A worker process for CadQuery work the server asks for (pictures, meshes): never in the
server's own process, where OCCT and VTK hold the interpreter lock through their long calls
and would freeze the event loop; with a time limit per job, since a document's features are
bounded one by one, not in sum."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any


class WorkerUnavailable(Exception):
    """The worker process stopped, or a job passed its time limit (a 503)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class WorkerProcess:
    """One spawned process that runs one job at a time (CadQuery work off the event loop).

    It starts with the first job (it imports CadQuery: seconds) and stops when it has been
    idle for ``idle()`` seconds; a job past its time limit kills it, and the next job
    starts a new one. Spawned, not forked: the server runs threads (database writers).
    """

    def __init__(self, idle: Callable[[], float]) -> None:
        self._idle = idle
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0  # jobs running or waiting their turn
        self._idle_stop: asyncio.TimerHandle | None = None
        self._turn: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @property
    def running(self) -> bool:
        return self._pool is not None

    async def run(self, what: str, limit: float, job: Callable[..., Any], *args: Any) -> Any:
        """``job(*args)`` in the process; ``WorkerUnavailable`` after ``limit`` seconds of
        its own (time spent waiting behind other jobs does not count)."""
        loop = asyncio.get_running_loop()
        if self._idle_stop is not None:
            self._idle_stop.cancel()
            self._idle_stop = None
        self._busy += 1
        try:
            # One job at a time, timed from its own start: the process runs one job at a
            # time anyway, and a job queued in the pool behind a long one counted that
            # one's time against its limit, then killed the process in the middle of it.
            async with self._lock(loop):
                return await self._run_now(what, limit, job, *args)
        finally:
            self._busy -= 1
            if self._busy == 0 and self._pool is not None:
                self._idle_stop = loop.call_later(self._idle(), self._stop_idle, self._pool)

    def _lock(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop (a server has one; tests start several).
        if self._turn is None or self._turn[0] is not loop:
            self._turn = (loop, asyncio.Lock())
        return self._turn[1]

    async def _run_now(self, what: str, limit: float, job: Callable[..., Any], *args: Any) -> Any:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        pool = self._pool
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(pool, job, *args), limit)
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = None
            raise WorkerUnavailable(f"the {what} worker stopped; try again") from None
        except TimeoutError:
            if self._pool is pool:
                self._pool = None
            _kill(pool)
            raise WorkerUnavailable(
                f"the {what} took longer than {limit:g} s and was stopped", timed_out=True
            ) from None

    def _stop_idle(self, pool: ProcessPoolExecutor) -> None:
        self._idle_stop = None
        if self._pool is pool and self._busy == 0:
            self._pool = None
            pool.shutdown(wait=False)


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a worker in the middle of a job: ``shutdown`` waits for the job to end, and
    ``ProcessPoolExecutor`` has no public way to kill its processes before Python 3.14."""
    kill = getattr(pool, "kill_workers", None)
    if kill is not None:
        kill()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
