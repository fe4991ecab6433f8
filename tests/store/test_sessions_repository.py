"""ChatSessionRepository on SQLite and PostgreSQL: the seed's server functions, scoped by user."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from solidtype_jupyter.protocol.sessions import (
    DEFAULT_TITLE,
    TITLE_MAX_LENGTH,
    ChatContext,
    ChatStatus,
    auto_title,
)
from solidtype_jupyter.store import (
    CatalogRepository,
    ChatSessionRepository,
    SessionReferenceError,
    ThreadedDatabase,
)
from solidtype_jupyter.streams import StreamNotFoundError, open_engine


def _recent(moment: datetime) -> bool:
    return moment.tzinfo is not None and abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


async def test_create_fills_the_seed_defaults(sessions: ChatSessionRepository):
    session = await sessions.create("alice", "editor")
    assert session.user_id == "alice"
    assert session.context is ChatContext.EDITOR
    assert session.status is ChatStatus.ACTIVE
    assert session.title == DEFAULT_TITLE
    assert session.message_count == 0
    assert session.last_message_at is None
    assert session.document_id is None and session.project_id is None
    assert session.durable_stream_id == f"ai-chat/{session.id}"
    assert _recent(session.created_at) and session.updated_at == session.created_at
    assert session.created_at.utcoffset() == timedelta(0)
    # What the database returns is what create returned (timestamps included).
    assert await sessions.get("alice", session.id) == session
    assert await sessions.get("alice", str(session.id)) == session


async def test_create_with_a_title_keeps_it(sessions: ChatSessionRepository):
    session = await sessions.create("alice", ChatContext.DASHBOARD, title="  Bracket ideas ")
    assert session.title == "Bracket ideas"
    with pytest.raises(ValueError, match="title"):
        await sessions.create("alice", "editor", title="x" * (TITLE_MAX_LENGTH + 1))
    with pytest.raises(ValueError):
        await sessions.create("alice", "kitchen")


async def test_list_is_newest_first_limited_and_filtered(sessions: ChatSessionRepository):
    created = [await sessions.create("alice", "editor" if i % 2 else "dashboard") for i in range(6)]
    await sessions.create("bob", "editor")
    listed = await sessions.list("alice")
    assert [s.id for s in listed] == [s.id for s in reversed(created)]
    assert [s.id for s in await sessions.list("alice", limit=2)] == [
        created[5].id,
        created[4].id,
    ]
    editor = await sessions.list("alice", context="editor")
    assert [s.id for s in editor] == [created[5].id, created[3].id, created[1].id]
    # Touching an old session brings it to the front.
    await sessions.update("alice", created[0].id, title="renamed")
    assert (await sessions.list("alice", limit=1))[0].id == created[0].id
    with pytest.raises(ValueError, match="limit"):
        await sessions.list("alice", limit=0)
    with pytest.raises(ValueError, match="limit"):
        await sessions.list("alice", limit=10_000)


async def test_update_renames_and_sets_status(sessions: ChatSessionRepository):
    session = await sessions.create("alice", "editor")
    renamed = await sessions.update("alice", session.id, title="Plate with holes")
    assert renamed is not None
    assert renamed.title == "Plate with holes"
    assert renamed.updated_at > session.updated_at
    errored = await sessions.update("alice", session.id, status="error")
    assert errored is not None and errored.status is ChatStatus.ERROR
    assert errored.title == "Plate with holes"
    archived = await sessions.archive("alice", session.id)
    assert archived is not None and archived.status is ChatStatus.ARCHIVED
    unchanged = await sessions.update("alice", session.id)
    assert unchanged == archived
    with pytest.raises(ValueError):
        await sessions.update("alice", session.id, status="deleted")
    with pytest.raises(ValueError):
        await sessions.update("alice", session.id, title="   ")


async def test_record_message_counts_and_titles_from_the_first_user_message(
    sessions: ChatSessionRepository,
):
    session = await sessions.create("alice", "editor")
    long_request = (
        "A 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets on the vertical edges"
    )
    first = await sessions.record_message("alice", session.id, role="user", text=long_request)
    assert first is not None
    assert first.message_count == 1
    assert first.title == long_request[:50] + "..."
    assert first.last_message_at is not None and _recent(first.last_message_at)
    reply = await sessions.record_message("alice", session.id, role="assistant", text="Here it is.")
    assert reply is not None and reply.message_count == 2 and reply.title == first.title
    again = await sessions.record_message("alice", session.id, role="user", text="thicker")
    assert again is not None and again.message_count == 3 and again.title == first.title
    assert again.last_message_at is not None and again.last_message_at >= first.last_message_at


async def test_record_message_keeps_a_chosen_title(sessions: ChatSessionRepository):
    session = await sessions.create("alice", "editor", title="My bracket")
    updated = await sessions.record_message("alice", session.id, role="user", text="hello")
    assert updated is not None and updated.title == "My bracket"
    short = await sessions.create("alice", "editor")
    titled = await sessions.record_message("alice", short.id, role="user", text="a cube\n")
    assert titled is not None and titled.title == "a cube"


def test_auto_title_rule():
    assert auto_title("x" * 50) == "x" * 50
    assert auto_title("x" * 51) == "x" * 50 + "..."
    assert auto_title("  two\n\nlines  ") == "two lines"
    assert auto_title("   ") == DEFAULT_TITLE


async def test_concurrent_messages_are_all_counted(sessions: ChatSessionRepository):
    session = await sessions.create("alice", "editor")
    await asyncio.gather(
        *(
            sessions.record_message("alice", session.id, role="assistant", text=str(i))
            for i in range(20)
        )
    )
    found = await sessions.get("alice", session.id)
    assert found is not None and found.message_count == 20


async def test_one_user_cannot_reach_another_users_session(sessions: ChatSessionRepository):
    mine = await sessions.create("alice", "editor", title="secret")
    assert await sessions.list("bob") == []
    assert await sessions.get("bob", mine.id) is None
    assert await sessions.update("bob", mine.id, title="pwned") is None
    assert await sessions.archive("bob", mine.id) is None
    assert await sessions.record_message("bob", mine.id, role="user", text="hi") is None
    assert await sessions.delete("bob", mine.id) is False
    assert await sessions.get("alice", mine.id) == mine


async def test_ids_that_are_not_uuids_find_nothing(sessions: ChatSessionRepository):
    for bad in ("", "not-a-uuid", "../etc", "1; drop table ai_chat_sessions"):
        assert await sessions.get("alice", bad) is None
        assert await sessions.update("alice", bad, title="x") is None
        assert await sessions.delete("alice", bad) is False
    assert await sessions.get("alice", uuid.uuid4()) is None


async def test_delete_removes_the_row_and_its_durable_stream(
    database: ThreadedDatabase, database_url: str
):
    engine = open_engine(database_url)
    await engine.start()
    try:
        sessions = ChatSessionRepository(
            database, delete_stream=lambda path: engine.delete(path, missing_ok=True)
        )
        mine = await sessions.create("alice", "editor")
        other = await sessions.create("alice", "editor")
        for session in (mine, other):
            await engine.create(
                session.durable_stream_id, content_type="application/json", data=b"[]"
            )
            await engine.append(
                session.durable_stream_id, b'{"role":"user"}', content_type="application/json"
            )
        assert await sessions.delete("bob", mine.id) is False
        assert (await engine.head(mine.durable_stream_id)).path == mine.durable_stream_id
        assert await sessions.delete("alice", mine.id) is True
        assert await sessions.get("alice", mine.id) is None
        with pytest.raises(StreamNotFoundError):
            await engine.head(mine.durable_stream_id)
        assert (await engine.read(other.durable_stream_id)).messages
        # A session whose stream was never written deletes cleanly too.
        empty = await sessions.create("alice", "dashboard")
        assert await sessions.delete("alice", empty.id) is True
        assert await sessions.delete("alice", empty.id) is False
    finally:
        await engine.close()


async def test_references_must_be_the_users_own(
    sessions: ChatSessionRepository, catalog: CatalogRepository
):
    workspace = await catalog.create_workspace("alice", "Shop")
    project = await catalog.create_project("alice", workspace.id, "Jigs")
    document = await catalog.create_document("alice", "base plate", project_id=project.id)
    session = await sessions.create(
        "alice", "editor", document_id=document.id, project_id=project.id
    )
    assert (session.document_id, session.project_id) == (document.id, project.id)
    with pytest.raises(SessionReferenceError, match="document"):
        await sessions.create("bob", "editor", document_id=document.id)
    with pytest.raises(SessionReferenceError, match="project"):
        await sessions.create("bob", "dashboard", project_id=project.id)
    with pytest.raises(SessionReferenceError, match="document"):
        await sessions.create("alice", "editor", document_id=uuid.uuid4())
    # The seed's ON DELETE SET NULL: losing the document keeps the session.
    await catalog.forget_path(document.path)
    kept = await sessions.get("alice", session.id)
    assert kept is not None and kept.document_id is None and kept.project_id == project.id


async def test_the_database_itself_rejects_unknown_enum_values(database: ThreadedDatabase):
    def insert_bogus(context: str, status: str):
        def work(connection: sa.Connection) -> None:
            connection.execute(
                sa.text(
                    "INSERT INTO ai_chat_sessions (id, user_id, context, status, message_count,"
                    " created_at, updated_at) VALUES (:id, 'alice', :context, :status, 0,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": uuid.uuid4().hex, "context": context, "status": status},
            )

        return work

    with pytest.raises(sa.exc.DBAPIError):
        await database.transaction(insert_bogus("kitchen", "active"))
    with pytest.raises(sa.exc.DBAPIError):
        await database.transaction(insert_bogus("editor", "deleted"))


async def test_a_failed_stream_deletion_keeps_the_session_for_a_retry(database: ThreadedDatabase):
    class StreamStoreDown(Exception):
        pass

    attempts: list[str] = []

    async def flaky_delete(path: str) -> None:
        attempts.append(path)
        if len(attempts) == 1:
            raise StreamStoreDown(path)

    sessions = ChatSessionRepository(database, delete_stream=flaky_delete)
    session = await sessions.create("alice", "editor")
    with pytest.raises(StreamStoreDown):
        await sessions.delete("alice", session.id)
    assert await sessions.get("alice", session.id) == session
    assert await sessions.delete("alice", session.id) is True
    assert attempts == [session.durable_stream_id] * 2
    assert await sessions.get("alice", session.id) is None
