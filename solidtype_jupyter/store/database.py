"""Database URLs, engines and schema migrations for the one database the product uses.

Sessions, documents and durable streams share one database: a SQLite file in the Jupyter
data directory by default (WAL mode, so the server and kernels can read while one writes),
or PostgreSQL named by URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from jupyter_core.paths import jupyter_data_dir

SQLITE_FILE_NAME = "solidtype.db"


class SchemaBehindError(RuntimeError):
    """The database schema is older than this version of solidtype-jupyter expects."""


@dataclass(frozen=True)
class SchemaStatus:
    current: tuple[str, ...]
    heads: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)


def default_database_url() -> str:
    """The embedded default: a SQLite file in the user's Jupyter data directory."""
    return f"sqlite:///{Path(jupyter_data_dir()) / 'solidtype' / SQLITE_FILE_NAME}"


def normalize_database_url(url: str) -> str:
    """Pick our drivers for plain URLs (``postgresql://`` means psycopg 3 here).

    Raises ``ValueError`` with a readable message for anything we do not support.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"database_url is not a valid database URL: {url!r}") from exc
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg2") or "+" not in parsed.drivername:
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.get_backend_name() != "sqlite":
        raise ValueError(
            f"database_url uses {parsed.get_backend_name()!r}; supported: sqlite, postgresql"
        )
    return parsed.render_as_string(hide_password=False)


def backend_name(url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return sa.make_url(url).get_backend_name()


def _sqlite_file(url: str) -> Path | None:
    database = sa.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_sync_engine(url: str, *, busy_timeout: float = 30.0, **kwargs: Any) -> sa.Engine:
    """A SQLAlchemy engine with the settings every part of the product relies on.

    ``busy_timeout`` (SQLite): seconds a statement waits for another connection's write
    lock before failing with "database is locked"."""
    url = normalize_database_url(url)
    if backend_name(url) == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout}, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _alembic_config(url: str) -> Config:
    config = Config()
    script_location = resources.files("solidtype_jupyter.store") / "migrations"
    config.set_main_option("script_location", str(script_location))
    # Alembic's config is an .ini parser: a literal "%" in a password must be doubled.
    config.set_main_option("sqlalchemy.url", normalize_database_url(url).replace("%", "%%"))
    return config


def schema_status(url: str) -> SchemaStatus:
    config = _alembic_config(url)
    heads = tuple(sorted(ScriptDirectory.from_config(config).get_heads()))
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    finally:
        engine.dispose()
    return SchemaStatus(current=current, heads=heads)


def upgrade_schema(url: str) -> SchemaStatus:
    """Run every pending migration; returns the resulting status."""
    command.upgrade(_alembic_config(url), "heads")
    return schema_status(url)


def ensure_schema(url: str) -> SchemaStatus:
    """Make the schema usable at server start.

    An embedded SQLite database is ours alone, so it is upgraded in place. A PostgreSQL
    schema is shared by every server of a deployment: upgrading it from one of them would
    surprise the others, so a schema that is behind stops the start with instructions.
    """
    if backend_name(url) == "sqlite":
        return upgrade_schema(url)
    status = schema_status(url)
    if not status.up_to_date:
        raise SchemaBehindError(
            f"the PostgreSQL schema is at {list(status.current) or 'nothing'}, this version "
            f"needs {list(status.heads)}; run `solidtype-jupyter db upgrade` against "
            f"this database, then start the server again"
        )
    return status


def explain_plan(connection: sa.Connection, statement: sa.Executable) -> list[str]:
    """The query plan of ``statement`` as text lines (``EXPLAIN QUERY PLAN`` on SQLite,
    ``EXPLAIN`` on PostgreSQL), for benchmarks and for tests that pin an index."""
    # Values rendered inline: EXPLAIN then plans exactly the query the repository sends.
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=connection.dialect, compile_kwargs={"literal_binds": True}
    )
    prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
    rows = connection.exec_driver_sql(prefix + str(compiled)).fetchall()
    if connection.dialect.name == "sqlite":
        return [str(row[-1]) for row in rows]
    return [str(row[0]) for row in rows]
