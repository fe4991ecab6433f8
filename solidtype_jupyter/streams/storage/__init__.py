"""Storage backends of the stream engine: memory (tests), SQLite (default), PostgreSQL."""

from __future__ import annotations

from .base import Storage, StorageTx
from .memory import MemoryStorage

__all__ = ["WRITERS", "MemoryStorage", "Storage", "StorageTx", "open_storage"]


WRITERS = ("thread", "process", "auto")


def open_storage(database_url: str, *, writer: str = "thread") -> Storage:
    """The backend for a SQLAlchemy-style URL (``memory://`` for the in-memory one).

    ``writer``: where a SQL backend runs its write transactions. ``thread``: a thread of
    this process. ``process``: a child process (``writer_process.py``), so their Python
    work leaves this interpreter's lock. ``auto`` (the server's default): a process for
    PostgreSQL, whose driver costs about twice SQLite's per append and halved the chat's
    p99 delay there, a thread for SQLite, where a process made it worse (BENCHMARKS.md,
    Chat)."""
    if writer not in WRITERS:
        raise ValueError(f"durable streams: writer must be one of {WRITERS}, not {writer!r}")
    if database_url in ("memory", "memory://"):
        return MemoryStorage()
    import sqlalchemy as sa

    url = sa.make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        from .sqlite import SQLiteStorage

        if not url.database or url.database == ":memory:":
            raise ValueError("durable streams need a SQLite file, not an in-memory database")
        return SQLiteStorage(url.database, writer_process=writer == "process")
    if backend == "postgresql":
        from .postgres import PostgresStorage

        return PostgresStorage(database_url, writer_process=writer != "thread")
    raise ValueError(f"durable streams: unsupported database {backend!r}")
