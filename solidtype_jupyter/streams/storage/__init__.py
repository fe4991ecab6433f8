"""Storage backends of the stream engine: memory (tests), SQLite (default), PostgreSQL."""

from __future__ import annotations

from .base import Storage, StorageTx
from .memory import MemoryStorage

__all__ = ["MemoryStorage", "Storage", "StorageTx", "open_storage"]


def open_storage(database_url: str) -> Storage:
    """The backend for a SQLAlchemy-style URL (``memory://`` for the in-memory one)."""
    if database_url in ("memory", "memory://"):
        return MemoryStorage()
    import sqlalchemy as sa

    url = sa.make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        from .sqlite import SQLiteStorage

        if not url.database or url.database == ":memory:":
            raise ValueError("durable streams need a SQLite file, not an in-memory database")
        return SQLiteStorage(url.database)
    if backend == "postgresql":
        from .postgres import PostgresStorage

        return PostgresStorage(database_url)
    raise ValueError(f"durable streams: unsupported database {backend!r}")
