"""Repositories on a migrated database (SQLite file or a fresh PostgreSQL database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from solidtype_jupyter.store import (
    CatalogRepository,
    ChatSessionRepository,
    ThreadedDatabase,
    upgrade_schema,
)


@pytest.fixture
def database(database_url: str) -> Iterator[ThreadedDatabase]:
    upgrade_schema(database_url)
    database = ThreadedDatabase(database_url)
    yield database
    database.close()


@pytest.fixture
def sessions(database: ThreadedDatabase) -> ChatSessionRepository:
    return ChatSessionRepository(database)


@pytest.fixture
def catalog(database: ThreadedDatabase) -> CatalogRepository:
    return CatalogRepository(database)
