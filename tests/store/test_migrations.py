"""Migration 0002 builds the tables the code expects, on SQLite and PostgreSQL, and the
listing query is served by an index in order, without a sort."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from solidtype_jupyter.store import create_sync_engine, schema_status, upgrade_schema
from solidtype_jupyter.store.database import _alembic_config, explain_plan
from solidtype_jupyter.store.schema import ai_chat_sessions, metadata
from solidtype_jupyter.store.sessions import list_query

OUR_TABLES = {"workspaces", "projects", "documents", "ai_chat_sessions", "ai_agent_heartbeats"}


def _diffs(url: str) -> list[object]:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": False}
            )
            diffs = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    def ours(diff: object) -> bool:
        text = repr(diff)
        return any(f"'{table}'" in text for table in OUR_TABLES)

    return [diff for diff in diffs if ours(diff)]


def test_migrated_schema_matches_the_code(database_url: str):
    upgrade_schema(database_url)
    assert _diffs(database_url) == []
    engine = create_sync_engine(database_url)
    try:
        indexes = {index["name"] for index in sa.inspect(engine).get_indexes("ai_chat_sessions")}
    finally:
        engine.dispose()
    assert {
        "idx_ai_chat_sessions_user",
        "idx_ai_chat_sessions_user_context",
        "idx_ai_chat_sessions_document",
        "idx_ai_chat_sessions_project",
    } <= indexes


def test_downgrade_and_upgrade_again(database_url: str):
    upgrade_schema(database_url)
    command.downgrade(_alembic_config(database_url), "0001")
    engine = create_sync_engine(database_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert not tables & OUR_TABLES
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                types = connection.execute(
                    sa.text("select typname from pg_type where typname like 'ai_chat_%'")
                ).all()
            assert types == []
    finally:
        engine.dispose()
    assert not schema_status(database_url).up_to_date
    assert upgrade_schema(database_url).up_to_date
    assert _diffs(database_url) == []


def test_listing_reads_the_index_without_sorting(database_url: str):
    upgrade_schema(database_url)
    engine = create_sync_engine(database_url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": f"user-{user}",
            "context": "editor" if n % 3 else "dashboard",
            "status": "active",
            "title": "t",
            "message_count": 0,
            "durable_stream_id": "ai-chat/x",
            "created_at": start,
            "updated_at": start + timedelta(seconds=n * 7 + user),
        }
        for user in range(100)
        for n in range(100)
    ]
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(ai_chat_sessions), rows)
            connection.exec_driver_sql("ANALYZE")
        with engine.connect() as connection:
            plain = explain_plan(connection, list_query("user-7", None, 50))
            by_context = explain_plan(connection, list_query("user-7", "editor", 50))
    finally:
        engine.dispose()
    for plan, index in (
        (plain, "idx_ai_chat_sessions_user "),
        (by_context, "idx_ai_chat_sessions_user_context "),
    ):
        text = "\n".join(plan)
        assert index in text, text
        assert "Sort" not in text and "TEMP B-TREE" not in text, text


def test_stream_messages_are_compressed_with_lz4_where_postgresql_has_it(database_url: str):
    """Migration 0005: large appends (a fast model's batches) compress with LZ4 instead of
    pglz on PostgreSQL servers built with it; a downgrade restores the default."""
    upgrade_schema(database_url)
    engine = create_sync_engine(database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        return  # SQLite stores values as they are: nothing to check

    def compression() -> str:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT attcompression FROM pg_attribute WHERE attname = 'data' "
                    "AND attrelid = 'durable_stream_messages'::regclass"
                )
            ).scalar_one()

    try:
        with engine.connect() as connection:
            has_lz4 = connection.execute(
                sa.text(
                    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                    "WHERE name = 'default_toast_compression'"
                )
            ).scalar()
        assert compression() == ("l" if has_lz4 else "")
        command.downgrade(_alembic_config(database_url), "0003")
        assert compression() == ""
        upgrade_schema(database_url)
        assert compression() == ("l" if has_lz4 else "")
    finally:
        engine.dispose()
