"""``AgentHeartbeatRepository``: agents that run outside the server say they are alive.

``%ai_chat`` runs its agent in the notebook's kernel, which has the database but no way
into the server's collaboration rooms. So the kernel writes a row (``ai_agent_heartbeats``)
when its agent's state changes and every few seconds; the server shows each fresh row as a
collaborator and drops it once the row is deleted (the chat closed) or stale (the kernel
died). ``identity`` and ``state`` are ``protocol.agent`` models in their wire JSON.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from ..protocol.agent import AgentIdentity, AgentState
from .schema import agent_heartbeats as _table
from .threaded import ThreadedDatabase

#: Seconds between an agent's beats while nothing changes; readers drop an agent after
#: three missed beats.
HEARTBEAT_INTERVAL = 5.0


@dataclass(frozen=True)
class AgentHeartbeat:
    identity: AgentIdentity
    state: AgentState
    user_id: str
    document_path: str | None  # absolute, as the kernel sees it
    beat_at: float  # seconds since the epoch


class AgentHeartbeatRepository:
    def __init__(self, database: ThreadedDatabase) -> None:
        self.database = database

    async def beat(
        self,
        user_id: str,
        identity: AgentIdentity,
        state: AgentState,
        document_path: str | None = None,
    ) -> None:
        """Record that the agent of ``identity.session_id`` is alive in ``state``."""
        row = {
            "session_id": identity.session_id,
            "user_id": user_id,
            "identity": identity.model_dump_json(by_alias=True),
            "state": state.model_dump_json(by_alias=True),
            "document_path": document_path,
            "beat_at": time.time(),
        }

        def work(connection: sa.Connection) -> None:
            # Delete + insert: one statement set for SQLite and PostgreSQL alike.
            connection.execute(sa.delete(_table).where(_table.c.session_id == row["session_id"]))
            connection.execute(sa.insert(_table).values(**row))

        await self.database.transaction(work)

    async def gone(self, session_id: str) -> None:
        def work(connection: sa.Connection) -> None:
            connection.execute(sa.delete(_table).where(_table.c.session_id == session_id))

        await self.database.transaction(work)

    async def alive(self, max_age: float) -> list[AgentHeartbeat]:
        """The agents whose last beat is at most ``max_age`` seconds old."""
        since = time.time() - max_age
        query = sa.select(_table).where(_table.c.beat_at >= since)

        def work(connection: sa.Connection) -> list[AgentHeartbeat]:
            return [
                AgentHeartbeat(
                    identity=AgentIdentity.model_validate_json(row.identity),
                    state=AgentState.model_validate_json(row.state),
                    user_id=row.user_id,
                    document_path=row.document_path,
                    beat_at=row.beat_at,
                )
                for row in connection.execute(query)
            ]

        return await self.database.transaction(work)
