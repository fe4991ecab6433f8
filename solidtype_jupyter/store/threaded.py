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

from ..sqlite_writers import write_gate
from .database import backend_name, create_sync_engine

T = TypeVar("T")

#: Threads per database: the connection pool is sized to match, so no call waits for both.
DEFAULT_THREADS = 4
#: SQLite: how often a transaction that found the write lock taken by another process tries
#: again, and for how long (the stream writer polls the same way: ``streams/storage/sqlite``).
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
        database = self.engine.url.database
        self._gate = (
            write_gate(database)
            if self.backend == "sqlite" and database and database != ":memory:"
            else None
        )
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix=f"solidtype-{self.backend}"
        )

    async def transaction(self, work: Callable[[sa.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, self._in_transaction, work)
        return await loop.run_in_executor(self._executor, call)

    def _in_transaction(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work`` in a transaction; on SQLite, when another connection holds the
        write lock, wait in line for it and run ``work`` again.

        In line: the durable streams' writer thread in this process writes the same file
        almost without a pause under load; it and the transactions that found it writing
        take turns through ``sqlite_writers``'s gate, asleep, instead of each retrying on
        its own (SQLite's busy handler sleeps up to 100 ms between tries and let a session
        row wait 3.6 s; polling every 0.5 ms from four threads took the interpreter lock
        from the event loop). A writer in another process is still polled for, every
        0.5 ms. ``work`` only touches the database, so running it again after the rollback
        is safe.
        """
        try:
            return self._attempt(work)
        except sa.exc.OperationalError as exc:
            if self._gate is None or "locked" not in str(exc.orig):
                raise
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        with self._gate:
            while True:
                try:
                    return self._attempt(work)
                except sa.exc.OperationalError as exc:
                    if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                        raise
                time.sleep(LOCK_POLL_SECONDS)

    def _attempt(self, work: Callable[[sa.Connection], T]) -> T:
        with self.engine.begin() as connection:
            return work(connection)

    def close(self) -> None:
        """Finish queued calls, then close every pooled connection."""
        self._executor.shutdown(wait=True)
        self.engine.dispose()
