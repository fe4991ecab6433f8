"""Agents as collaborators: a real jupyter_server with jupyter-collaboration, and Yjs
awareness clients on its WebSocket rooms (as JupyterLab's are), see every live agent as its
own collaborator, including clients that join late, and see it leave when it stops. Agents
of ``%ai_chat`` (in notebook kernels) come in through their heartbeats in the database."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from solidtype_jupyter.presence import GLOBAL_ROOM
from solidtype_jupyter.presence.kernel_agents import KernelAgentWatcher
from solidtype_jupyter.presence.observer import AwarenessObserver, collaborators
from solidtype_jupyter.protocol import agent as proto
from solidtype_jupyter.protocol.agent import AgentIdentity, AgentState
from solidtype_jupyter.store import AgentHeartbeatRepository, ThreadedDatabase, upgrade_schema

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


async def test_a_kernel_agent_appears_and_leaves(
    jp_fetch, jp_serverapp, jp_http_port, sqlite_url: str
) -> None:
    await jp_fetch("api", "status")
    ext = extension(jp_serverapp)
    ext.freeze_startup_heap = False  # not in the test process
    # What the server does once it has started (pytest-jupyter does not run that hook).
    await ext._start_jupyter_server_extension(jp_serverapp)
    assert ext.kernel_agents is not None
    # The kernel's side: its own connection to the same database, as %ai_chat has.
    database = ThreadedDatabase(sqlite_url)
    heartbeats = AgentHeartbeatRepository(database)
    identity = AgentIdentity.for_session(str(uuid.uuid4()), "kernel-1", "thread")
    client = AwarenessClient("browser")
    try:
        await client.enter(jp_serverapp, jp_http_port)
        busy = AgentState(status="busy", current_task="Running extrude (2 of 3)", progress=33)
        await heartbeats.beat("ada", identity, busy, None)
        await client.wait_for(lambda agents: identity.user_id in names(agents), limit=3.0)
        (state,) = client.agents().values()
        assert state["user"]["name"] == identity.name
        assert state["user"]["color"] == identity.color
        assert state["agent"]["currentTask"] == "Running extrude (2 of 3)"
        assert state["agent"]["progress"] == 33

        await heartbeats.gone(identity.session_id)  # the chat closed
        await client.wait_for(lambda agents: not agents, limit=3.0)
    finally:
        await client.close()
        await ext.kernel_agents.close()
        database.close()


async def test_stale_beats_are_dropped(sqlite_url: str) -> None:
    upgrade_schema(sqlite_url)
    database = ThreadedDatabase(sqlite_url)
    heartbeats = AgentHeartbeatRepository(database)
    seen: list[tuple[str, str]] = []

    class Presence:
        def agent_changed(self, identity: AgentIdentity, state: AgentState, **kw: Any) -> None:
            seen.append(("changed", kw["document"]))

        def agent_gone(self, session_id: str) -> None:
            seen.append(("gone", session_id))

    identity = AgentIdentity.for_session(str(uuid.uuid4()), "kernel-1", "thread")
    watcher = KernelAgentWatcher(Presence(), heartbeats, "/srv/notebooks", max_age=60)
    try:
        await heartbeats.beat("ada", identity, AgentState(), "/srv/notebooks/a/part.solid.json")
        await watcher.check()
        await watcher.check()  # nothing changed: nothing published again
        assert seen == [("changed", "a/part.solid.json")]
        watcher.max_age = -1  # every beat is now too old: the kernel stopped beating
        await watcher.check()
        assert seen[-1] == ("gone", identity.session_id)
    finally:
        database.close()


def test_kernel_paths_become_paths_of_the_server(tmp_path: Path) -> None:
    watcher = KernelAgentWatcher(None, None, str(tmp_path))  # type: ignore[arg-type]
    (tmp_path / "work").mkdir()
    assert watcher.relative(str(tmp_path / "work" / "plate.solid.json")) == "work/plate.solid.json"
    assert watcher.relative("work/chat.ipynb") == "work/chat.ipynb"
    assert watcher.relative("/elsewhere/plate.solid.json") is None
    assert watcher.relative(None) is None
