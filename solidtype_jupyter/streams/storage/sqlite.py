"""SQLite storage: the sessions' database file, WAL mode, one writer (thread or process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ...sqlite_writers import SQLiteWriteGate, write_gate
from ..live import LiveTails
from .sql import STREAMS, SQLTx, ThreadedSQLStorage

log = logging.getLogger(__name__)
T = TypeVar("T")

# How often live readers look for appends made by other processes (e.g. a kernel writing
# to the same file): SQLite has no notifications, so a cheap query on the waited-on
# streams stands in for them. Appends from this process wake readers at once.
REMOTE_POLL_SECONDS = 0.1
#: How long the writer waits for another connection's write lock before giving up.
BUSY_TIMEOUT_SECONDS = 30.0
#: How often the checkpoint thread looks at how much the writer has written, and how many
#: changed rows (two per append) make it copy the WAL into the database file: about what
#: SQLite's own default (1,000 WAL pages) holds, so a quiet server never checkpoints.
CHECKPOINT_SECONDS = 0.5
CHECKPOINT_ROWS = 2000


class SQLiteStorage(ThreadedSQLStorage):
    name = "sqlite"
    placeholder = "?"
    lock_rows = False

    def __init__(self, path: str | Path, *, writer_process: bool = False) -> None:
        super().__init__(writer_process=writer_process)
        self.path = Path(path)
        self._poller: asyncio.Task[None] | None = None
        self._known: dict[str, object] = {}
        self._writing: dict[str, int] = {}  # this process's writes in flight, per path
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        self._writer_connection: sqlite3.Connection | None = None

    def connect(self, *, writer: bool) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a crash of this process (the kill -9 test);
        # only an OS crash or power loss can drop the last commits.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if writer:
            # Checkpoints (copying the WAL into the database file, with an fsync) run in
            # their own thread (``_checkpoint_loop``): run by the writer's COMMIT, as
            # SQLite does by default, one took 50-220 ms and held up every append behind it.
            connection.execute("PRAGMA wal_autocheckpoint=0")
            connection.execute("PRAGMA busy_timeout=0")  # ``begin`` waits for the lock
        return connection

    def commit_mark(self, connection: Any) -> object:
        # Changes when any other connection (a session-row write, a kernel, another
        # server) commits to the file; our own commits leave it as it is.
        return connection.execute("PRAGMA data_version").fetchone()[0]

    def write_gate(self) -> SQLiteWriteGate:
        # Shared with the session repository's writes to the same file (sqlite_writers).
        return write_gate(self.path)

    def writer_spec(self) -> tuple[str, tuple[Any, ...]]:
        return f"{__name__}:SQLiteStorage", (str(self.path),)

    def start_writer_side(self, connection: Any) -> None:
        self._writer_connection = connection
        self._stop_checkpoints.clear()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="sqlite-stream-checkpoints", daemon=True
        )
        self._checkpointer.start()

    def stop_writer_side(self) -> None:
        if self._checkpointer is not None:  # first: it reads the writer's connection
            self._stop_checkpoints.set()
            self._checkpointer.join()
            self._checkpointer = None
        self._writer_connection = None

    def begin(self, connection: Any) -> None:
        """``BEGIN IMMEDIATE``, polling every 0.5 ms while another connection writes.

        IMMEDIATE takes the write lock now, so a concurrent writer (the session repository,
        a kernel, another server) makes us wait here instead of failing at commit. Polled by
        hand because SQLite's own busy handler sleeps 1, 2, 5, ... up to 100 ms between
        tries: a lock held for a millisecond by a session-row update cost the stream writer,
        and so every live reader, 100-190 ms (BENCHMARKS.md, Chat); Python's ``sqlite3``
        offers no other busy handler.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.0005)

    def _checkpoint_loop(self) -> None:
        connection = self.connect(writer=False)
        checkpointed_at = 0
        try:
            while not self._stop_checkpoints.wait(CHECKPOINT_SECONDS):
                writer = self._writer_connection
                changes = writer.total_changes if writer is not None else 0
                if changes - checkpointed_at < CHECKPOINT_ROWS:
                    continue
                checkpointed_at = changes
                try:
                    # PASSIVE: copies what it can without waiting for readers or writers.
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.warning("durable streams: WAL checkpoint failed", exc_info=True)
        finally:
            connection.close()

    async def start(self, live: LiveTails) -> None:
        self.start_threads()
        await self._ready
        self._poller = asyncio.create_task(self._poll_remote(live))

    async def write(self, function: Callable[..., T], *args: Any, path: str | None = None) -> T:
        if path is None:
            return await super().write(function, *args)
        self._writing[path] = self._writing.get(path, 0) + 1
        try:
            return await super().write(function, *args, path=path)
        finally:
            left = self._writing[path] - 1
            if left:
                self._writing[path] = left
            else:
                del self._writing[path]

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
            # What the cache holds now, after the read: our appends committed meanwhile
            # are in it, so they are not mistaken for another process's.
            watched = live.watched()
            for path in paths:
                if path not in watched:
                    continue
                current = states.get(path)
                previous = self._known.get(path, _UNSEEN)
                self._known[path] = current
                cached = watched[path]
                if self._writing.get(path):
                    # Our own append may be committed and not yet in the cache. Calling that
                    # a change dropped the cache and sent every reader to the database: 100
                    # SSE readers of one stream stalled 20-70 ms, and the chat benchmark
                    # made about 50 extra reads per session. A foreign append shows once
                    # we are quiet, or as a gap at our next append.
                    changed = False
                elif cached is not None:
                    # The cache may also be ahead of this read (our append committed after
                    # it): only a tail beyond the cache, or a change of state, is news.
                    changed = (
                        current is None
                        or current[0] > cached[0]
                        or (current[0] == cached[0] and current[1] != cached[1])
                    )
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
        await self.stop_threads()  # the writer side stops the checkpoints first


_UNSEEN = object()


def _states(cursor: Any, paths: list[str]) -> dict[str, tuple[int, bool]]:
    marks = ", ".join("?" * len(paths))
    cursor.execute(f"SELECT path, tail, closed FROM {STREAMS} WHERE path IN ({marks})", paths)
    return {path: (int(tail), bool(closed)) for path, tail, closed in cursor.fetchall()}
