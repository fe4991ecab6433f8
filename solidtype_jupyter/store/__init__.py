"""Relational storage: SQLAlchemy engine set-up, Alembic migrations, repositories.

Public API: ``default_database_url``, ``normalize_database_url``, ``backend_name``,
``create_sync_engine``, ``upgrade_schema``, ``schema_status``, ``SchemaStatus``,
``SchemaBehindError``, ``ensure_schema``.
"""

from .database import (
    SchemaBehindError,
    SchemaStatus,
    backend_name,
    create_sync_engine,
    default_database_url,
    ensure_schema,
    normalize_database_url,
    schema_status,
    upgrade_schema,
)

__all__ = [
    "SchemaBehindError",
    "SchemaStatus",
    "backend_name",
    "create_sync_engine",
    "default_database_url",
    "ensure_schema",
    "normalize_database_url",
    "schema_status",
    "upgrade_schema",
]
