"""Agents as collaborators: a real jupyter_server with jupyter-collaboration, and Yjs
awareness clients on its WebSocket rooms (as JupyterLab's are), see every live agent as its
own collaborator, including clients that join late, and see it leave when it stops."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from solidtype_jupyter.presence import GLOBAL_ROOM
from solidtype_jupyter.presence.observer import AwarenessObserver, collaborators
from solidtype_jupyter.protocol import agent as proto

pytest.importorskip("jupyter_server_ydoc", reason="presence needs jupyter-collaboration")


@pytest.fixture
def jp_server_config(sqlite_url: str) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {
                "solidtype_jupyter": True,
                "jupyter_server_ydoc": True,
                "jupyter_server_fileid": True,
            },
        },
        "SolidTypeApp": {"database_url": sqlite_url, "model": "scripted:quickstart"},
    }


def extension(serverapp: Any) -> Any:
    return serverapp.extension_manager.extension_points["solidtype"].app


class AwarenessClient(AwarenessObserver):
    """A collaborator of the test server's global room."""

    async def enter(self, serverapp: Any, port: int) -> None:
        url = f"http://127.0.0.1:{port}{serverapp.base_url}"
        await self.join(url, serverapp.identity_provider.token, GLOBAL_ROOM)

    async def wait_for(self, check: Any, limit: float = 1.0) -> float:
        """Seconds until ``check(self.agents())`` holds (fails after ``limit``)."""
        start = time.monotonic()
        while not check(self.agents()):
            if time.monotonic() - start > limit:
                raise AssertionError(f"not within {limit} s: {self.agents()}")
            await asyncio.sleep(0.02)
        return time.monotonic() - start


async def spawn(ext: Any) -> proto.AgentIdentity:
    session_id = str(uuid.uuid4())
    config = proto.AgentConfig(
        identity=proto.AgentIdentity.for_session(session_id, "pending", "thread"),
        session_id=session_id,
        user_id="ada",
        model="scripted:quickstart",
    )
    runtime = await ext.agents.attach(config, "thread")
    return runtime.identity  # type: ignore[no-any-return]


def names(agents: dict[int, dict[str, Any]]) -> set[str]:
    return {state["user"]["username"] for state in agents.values()}


async def test_agents_are_collaborators(jp_fetch, jp_serverapp, jp_http_port):
    await jp_fetch("api", "status")  # the server listens
    ext = extension(jp_serverapp)
    assert ext.presence.enabled
    early = AwarenessClient("early")
    late = AwarenessClient("late")
    try:
        # The agent starts before anyone is there: the global room does not exist yet.
        first = await spawn(ext)
        await early.enter(jp_serverapp, jp_http_port)
        await early.wait_for(lambda agents: first.user_id in names(agents))
        (state,) = early.agents().values()
        assert state["user"] == {
            "username": first.user_id,
            "name": first.name,
            "display_name": first.name,
            "initials": first.initials,
            "color": first.color,
            "avatar_url": None,
        }
        assert state["autosave"] is False and state["agent"]["status"] in ("ready", "busy")

        second = await spawn(ext)
        await early.wait_for(lambda agents: names(agents) == {first.user_id, second.user_id})
        assert len(early.agents()) == 2  # two agents, two collaborators (client ids)

        # A client that joins late sees both at once (no heartbeat wait).
        await late.enter(jp_serverapp, jp_http_port)
        seconds = await late.wait_for(lambda agents: len(agents) == 2)
        assert seconds < 1.0

        # The one-shot view (demo notebooks): agents answer a newcomer at once (humans'
        # browsers only when they renew their state, every 15 s).
        url = f"http://127.0.0.1:{jp_http_port}{jp_serverapp.base_url}"
        seen = await collaborators(url, jp_serverapp.identity_provider.token, listen=0.5)
        assert {s["user"]["username"] for s in seen} >= {first.user_id, second.user_id}

        # A stopped agent leaves at once; the other stays.
        await ext.agents.terminate(first.session_id)
        await early.wait_for(lambda agents: names(agents) == {second.user_id})
        await late.wait_for(lambda agents: names(agents) == {second.user_id})
    finally:
        await early.close()
        await late.close()
