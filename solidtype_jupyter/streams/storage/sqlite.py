"""SQLite storage: the sessions' database file, WAL mode, one writer thread."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from ..live import LiveTails
from .sql import STREAMS, SQLTx, ThreadedSQLStorage

# How often live readers look for appends made by other processes (e.g. a kernel writing
# to the same file): SQLite has no notifications, so a cheap query on the waited-on
# streams stands in for them. Appends from this process wake readers at once.
REMOTE_POLL_SECONDS = 0.1


class SQLiteStorage(ThreadedSQLStorage):
    name = "sqlite"
    placeholder = "?"
    lock_rows = False

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._poller: asyncio.Task[None] | None = None
        self._known: dict[str, object] = {}

    def connect(self, *, writer: bool) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a crash of this process (the kill -9 test);
        # only an OS crash or power loss can drop the last commits.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    def begin(self, connection: Any) -> None:
        # IMMEDIATE takes the write lock now, so a concurrent writer in another process
        # waits here instead of failing at commit with SQLITE_BUSY.
        connection.execute("BEGIN IMMEDIATE")

    async def start(self, live: LiveTails) -> None:
        self.start_threads()
        await self._ready
        self._poller = asyncio.create_task(self._poll_remote(live))

    async def _poll_remote(self, live: LiveTails) -> None:
        while True:
            await asyncio.sleep(REMOTE_POLL_SECONDS)
            watched = live.watched()
            if not watched:
                self._known.clear()
                continue
            paths = list(watched)

            def states_of(tx: SQLTx, paths: list[str] = paths) -> dict[str, tuple[int, bool]]:
                return _states(tx.c, paths)

            try:
                states = await self.read(states_of)
            except Exception:  # the next round retries; readers also time out
                continue
            for path in paths:
                current = states.get(path)
                previous = self._known.get(path, _UNSEEN)
                self._known[path] = current
                cached = watched[path]
                if cached is not None:
                    changed = current != cached
                else:
                    changed = previous is _UNSEEN or previous != current
                if changed:
                    live.changed(path)
            for path in list(self._known):
                if path not in watched:
                    del self._known[path]

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.stop_threads()


_UNSEEN = object()


def _states(cursor: Any, paths: list[str]) -> dict[str, tuple[int, bool]]:
    marks = ", ".join("?" * len(paths))
    cursor.execute(f"SELECT path, tail, closed FROM {STREAMS} WHERE path IN ({marks})", paths)
    return {path: (int(tail), bool(closed)) for path, tail, closed in cursor.fetchall()}
