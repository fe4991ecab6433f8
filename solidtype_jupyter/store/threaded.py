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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import sqlalchemy as sa

from .database import backend_name, create_sync_engine

T = TypeVar("T")

#: Threads per database: the connection pool is sized to match, so no call waits for both.
DEFAULT_THREADS = 4


class ThreadedDatabase:
    """An engine plus the threads that use it; ``await db.transaction(fn)`` runs ``fn(conn)``
    inside one transaction on a worker thread and returns its result."""

    def __init__(self, url: str, *, threads: int = DEFAULT_THREADS) -> None:
        self.url = url
        self.backend = backend_name(url)
        self.engine = create_sync_engine(url, pool_size=threads, max_overflow=0)
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix=f"solidtype-{self.backend}"
        )

    async def transaction(self, work: Callable[[sa.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, self._in_transaction, work)
        return await loop.run_in_executor(self._executor, call)

    def _in_transaction(self, work: Callable[[sa.Connection], T]) -> T:
        with self.engine.begin() as connection:
            return work(connection)

    def close(self) -> None:
        """Finish queued calls, then close every pooled connection."""
        self._executor.shutdown(wait=True)
        self.engine.dispose()
