"""Fixtures shared by every test: a real jupyter_server with the extension, and databases.

PostgreSQL tests use ``SOLIDTYPE_TEST_POSTGRES_URL`` (CI sets it). Each test that asks
for ``postgres_url`` gets a fresh database, dropped afterwards. Without a server they
are skipped with the reason printed, except when ``SOLIDTYPE_REQUIRE_POSTGRES=1`` (CI),
where a missing server is an error.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from solidtype_jupyter.store.database import normalize_database_url

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'solidtype.db'}"


@pytest.fixture
def jp_server_config(sqlite_url):
    return {
        "ServerApp": {"jpserver_extensions": {"solidtype_jupyter": True}},
        "SolidTypeApp": {"database_url": sqlite_url},
    }


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The admin URL of the test PostgreSQL server, or a skip/failure saying why not."""
    url = os.environ.get("SOLIDTYPE_TEST_POSTGRES_URL")
    required = os.environ.get("SOLIDTYPE_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            pytest.fail("SOLIDTYPE_REQUIRE_POSTGRES=1 but SOLIDTYPE_TEST_POSTGRES_URL is unset")
        pytest.skip("PostgreSQL tests skipped: SOLIDTYPE_TEST_POSTGRES_URL is not set")
    url = normalize_database_url(url)
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        if required:
            pytest.fail(f"PostgreSQL at {url} does not answer: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: no server answers at {url}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A URL to a new, empty PostgreSQL database that is dropped after the test."""
    name = f"solidtype_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.make_url(postgres_server_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")
