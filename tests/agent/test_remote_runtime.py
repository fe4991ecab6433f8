"""The remote runtime: an AgentClient here drives an agent served by a jupyter_server over
``solidtype/api/ai/agent/{session}/ws`` (binary frames), bridged to that server's kernel
runtime."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from solidtype_jupyter.agent.client import AgentClient, AgentRuntimes
from solidtype_jupyter.agent.in_process import AgentTurn
from solidtype_jupyter.agent.remote_runtime import agent_socket_url
from solidtype_jupyter.agent.runtime import AgentInitError
from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import UserMessage
from solidtype_jupyter.protocol import agent as proto

from .conftest import KERNEL_AGENTS, PLATE_SCRIPT, server_config, write_script


class ReadOnlyCarol(Authorizer):
    """carol may read and nothing else."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return user.username != "carol" or action == "read"


@pytest.fixture
def jp_server_config(sqlite_url: str, tmp_path: Path) -> dict[str, Any]:
    script = write_script(tmp_path / "turns.jsonl", PLATE_SCRIPT)
    config = server_config(sqlite_url, f"scripted:{script}", **KERNEL_AGENTS)
    config["ServerApp"]["authorizer_class"] = ReadOnlyCarol
    return config


async def test_a_user_who_may_only_read_cannot_drive_an_agent(jp_fetch, jp_serverapp):
    remote = jp_serverapp.extension_manager.extension_points["solidtype"].app
    session = await remote.sessions.create("carol", "editor")  # from when carol could write
    # carol may still read her session (jp_fetch also starts serving the app).
    response = await jp_fetch(
        "solidtype", "api", "ai", "sessions", str(session.id), headers={"X-Test-User": "carol"}
    )
    assert response.code == 200
    url = agent_socket_url(jp_serverapp.connection_url, str(session.id))
    headers = {
        "Authorization": f"token {jp_serverapp.identity_provider.token}",
        "X-Test-User": "carol",
    }
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(HTTPRequest(url, headers=headers))
    assert refused.value.code == 403
    assert jp_serverapp.kernel_manager.list_kernel_ids() == []


async def test_remote_agent_over_the_websocket(jp_fetch, jp_serverapp):
    response = await jp_fetch(
        "solidtype",
        "api",
        "ai",
        "sessions",
        method="POST",
        body=json.dumps({"context": "editor"}),
        headers={"X-Test-User": "alice"},
    )
    session_id = json.loads(response.body)["id"]
    remote = jp_serverapp.extension_manager.extension_points["solidtype"].app
    km = jp_serverapp.kernel_manager
    runtimes = AgentRuntimes(
        default_runtime="remote",
        remote_url=jp_serverapp.connection_url,
        remote_token=jp_serverapp.identity_provider.token,
        remote_headers={"X-Test-User": "alice"},
        init_timeout=120,
    )
    document = CadDocument("plate")
    a = AgentClient(runtimes, session_id, user_id="ignored-by-the-server", document=document)
    b = AgentClient(
        AgentRuntimes(
            default_runtime="remote",
            remote_url=jp_serverapp.connection_url,
            remote_token=jp_serverapp.identity_provider.token,
            remote_headers={"X-Test-User": "alice"},
        ),
        session_id,
        user_id="x",
    )
    try:
        identity = await a.spawn()
        assert identity.runtime == "remote" and a.state.status == "ready"
        served = remote.agents.live(session_id)
        assert served is not None and served.kind == "kernel"
        assert km.list_kernel_ids() == [served.kernel_id]

        turn = AgentTurn(session_id, "run-1", "x", "editor", [UserMessage("a plate")])
        turn.document = document
        events = [e async for e in a.send_message(turn)]
        assert events[-1].type == "RUN_FINISHED", [e.type for e in events]
        # The remote kernel's Yjs updates came back as binary frames into our document.
        assert abs(document.geometry()["volume"] - 60 * 40 * 8) < 1e-6

        # A second remote client of the session attaches to the same served agent.
        await b.spawn()
        assert remote.agents.live(session_id) is served and len(km.list_kernel_ids()) == 1
        result = await b.execute_tool("get_geometry", {})
        assert result.error is None

        # A malformed frame: an error event, the agent keeps running.
        errors: list[proto.ErrorEvent] = []
        b.on("error", errors.append)
        await b.runtime._socket.write_message(b"\x00\x00\x00\x09{not json", binary=True)
        for _ in range(100):
            if errors:
                break
            await asyncio.sleep(0.05)
        assert errors and errors[0].code == "invalid_command"
        assert (await b.execute_tool("list_features", {})).error is None
    finally:
        await a.terminate()
        b.close()
    assert remote.agents.live(session_id) is None
    for _ in range(200):  # the served agent reports terminated, then its kernel stops
        if not km.list_kernel_ids():
            break
        await asyncio.sleep(0.05)
    assert km.list_kernel_ids() == []

    # A session that is not the caller's: the socket is refused, a clear error.
    stranger = AgentClient(runtimes, "00000000-0000-0000-0000-000000000000", user_id="x")
    with pytest.raises(AgentInitError, match=r"cannot reach the remote agent.*404"):
        await stranger.spawn()


async def test_the_agent_socket_refuses_settings_from_the_client(jp_fetch, jp_serverapp):
    """A caller who may only use solidtype must not pick the module an agent kernel
    imports, nor its model or any other setting of the server's: such an init is refused
    before any kernel starts."""
    response = await jp_fetch(
        "solidtype",
        "api",
        "ai",
        "sessions",
        method="POST",
        body=json.dumps({"context": "editor"}),
        headers={"X-Test-User": "bob"},
    )
    session_id = json.loads(response.body)["id"]
    remote = jp_serverapp.extension_manager.extension_points["solidtype"].app
    km = jp_serverapp.kernel_manager
    url = agent_socket_url(jp_serverapp.connection_url, session_id)
    headers = {
        "Authorization": f"token {jp_serverapp.identity_provider.token}",
        "X-Test-User": "bob",
    }
    identity = proto.AgentIdentity.for_session(session_id, "x", "remote")
    base = {"identity": identity, "session_id": session_id, "user_id": "bob"}
    attempts = [
        ({"tool_modules": ["tests.agent.crash_tools"]}, "tool_modules"),
        ({"model": "scripted:/etc/hostname"}, "model"),
        ({"approval_overrides": {"delete_feature": "auto"}, "root_dir": "/"}, "approval_over"),
        ({"tool_timeout": 86400}, "tool_timeout"),
        ({"context": "dashboard"}, "has the context editor"),
    ]
    for settings, reason in attempts:
        socket = await websocket_connect(HTTPRequest(url, headers=headers))
        init = proto.InitCommand(config=proto.AgentConfig(**base, **settings))
        await socket.write_message(proto.pack_frame(*proto.encode(init)), binary=True)
        events = []
        while (frame := await asyncio.wait_for(socket.read_message(), 30)) is not None:
            events.append(proto.decode_event(*proto.unpack_frame(frame)))
        assert socket.close_code == 1008, (settings, events)
        errors = [e for e in events if isinstance(e, proto.ErrorEvent)]
        assert errors and errors[0].code == "forbidden_setting" and errors[0].fatal
        assert reason in errors[0].message, errors[0].message
        states = [e.state for e in events if isinstance(e, proto.StateChangeEvent)]
        assert [s.status for s in states] == ["error"] and reason in states[0].error
        assert remote.agents.live(session_id) is None and km.list_kernel_ids() == []
