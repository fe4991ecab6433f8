"""``AgentHeartbeatRepository`` on SQLite and PostgreSQL: one row per agent, fresh or not."""

from __future__ import annotations

import uuid

from solidtype_jupyter.protocol.agent import AgentIdentity, AgentState
from solidtype_jupyter.store import AgentHeartbeatRepository, ThreadedDatabase, upgrade_schema


async def test_beat_alive_gone(database_url: str) -> None:
    upgrade_schema(database_url)
    database = ThreadedDatabase(database_url)
    heartbeats = AgentHeartbeatRepository(database)
    try:
        identity = AgentIdentity.for_session(str(uuid.uuid4()), "kernel-7", "thread")
        await heartbeats.beat("ada", identity, AgentState(status="ready"), "/w/part.solid.json")
        busy = AgentState(status="busy", current_task="Running fillet", progress=None)
        await heartbeats.beat("ada", identity, busy)  # replaces the row
        (beat,) = await heartbeats.alive(60)
        assert (beat.identity, beat.state, beat.user_id) == (identity, busy, "ada")
        assert beat.document_path is None
        assert await heartbeats.alive(-1) == []  # older than "from now on"
        await heartbeats.gone(identity.session_id)
        assert await heartbeats.alive(60) == []
        await heartbeats.gone(identity.session_id)  # twice is fine
    finally:
        database.close()
