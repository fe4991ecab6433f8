"""Run blocking SQLAlchemy work off the event loop, on a small dedicated thread pool.

Why a sync engine in threads rather than SQLAlchemy's asyncio engine: one code path for SQLite
and PostgreSQL with the drivers we already ship (no aiosqlite, no greenlet), and it measured
as fast or faster (``benchmarks/sessions.py --compare-async``, figures in BENCHMARKS.md): a
repository call is one short transaction, so the cost that matters is the hand-off to a thread,
about the same as aiosqlite's own hand-off to its thread, without greenlet switches on top.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import sqlalchemy as sa

from .database import backend_name, create_sync_engine

T = TypeVar("T")

#: Threads per database: the connection pool is sized to match, so no call waits for both.
DEFAULT_THREADS = 4
#: SQLite: how often a transaction that found the write lock taken tries again, and for how
#: long (the stream writer takes the lock with the same polling: ``streams/storage/sqlite``).
LOCK_POLL_SECONDS = 0.0005
LOCK_TIMEOUT_SECONDS = 30.0


class ThreadedDatabase:
    """An engine plus the threads that use it; ``await db.transaction(fn)`` runs ``fn(conn)``
    inside one transaction on a worker thread and returns its result."""

    def __init__(self, url: str, *, threads: int = DEFAULT_THREADS) -> None:
        self.url = url
        self.backend = backend_name(url)
        # SQLite: no busy handler of SQLite's own (see ``_in_transaction``).
        busy = {"busy_timeout": 0.0} if self.backend == "sqlite" else {}
        self.engine = create_sync_engine(url, pool_size=threads, max_overflow=0, **busy)
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix=f"solidtype-{self.backend}"
        )

    async def transaction(self, work: Callable[[sa.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, self._in_transaction, work)
        return await loop.run_in_executor(self._executor, call)

    def _in_transaction(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work`` in a transaction; on SQLite, run it again while the write lock is
        taken.

        Why not SQLite's busy handler: it sleeps 1, 2, 5, ... up to 100 ms between tries,
        while the stream writer, appending without a pause under load, holds the lock
        again a fraction of a millisecond after each commit; a session-row update then
        waited up to 3.6 s (p99 1.7 s) with 200 sessions streaming (BENCHMARKS.md, Chat).
        Trying every 0.5 ms, as the stream writer does, shares the lock fairly. ``work``
        only touches the database, so running it again after the rollback is safe.
        """
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        while True:
            try:
                with self.engine.begin() as connection:
                    return work(connection)
            except sa.exc.OperationalError as exc:
                if self.backend != "sqlite" or "locked" not in str(exc.orig):
                    raise
                if time.monotonic() > deadline:
                    raise
            time.sleep(LOCK_POLL_SECONDS)

    def close(self) -> None:
        """Finish queued calls, then close every pooled connection."""
        self._executor.shutdown(wait=True)
        self.engine.dispose()
