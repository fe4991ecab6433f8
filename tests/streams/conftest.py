"""Fixtures of the durable streams tests: a migrated database on every backend."""

from __future__ import annotations

import pytest

from solidtype_jupyter.store.database import upgrade_schema


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def streams_url(request) -> str:
    """A database URL with the streams schema: in memory, SQLite, PostgreSQL."""
    if request.param == "memory":
        return "memory://"
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    upgrade_schema(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def durable_url(request) -> str:
    """A migrated database that outlives a process: SQLite and PostgreSQL."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    upgrade_schema(url)
    return url
