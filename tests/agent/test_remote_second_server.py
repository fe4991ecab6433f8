"""The remote runtime between two jupyter_servers: this server (the test's) runs editor turns
on ``default_runtime = "remote"``, and a second server, started in a subprocess on the same
database, runs the agent behind ``solidtype/api/ai/agent/{session}/ws``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chat.conftest import (
    ALICE,
    ChatClient,
    HeaderIdentityProvider,
    extension,
)
from conformance.run import jupyter_server

from solidtype_jupyter.cad import CadDocument

from .conftest import PLATE_SCRIPT, write_script


@pytest.fixture
def script_path(tmp_path: Path) -> Path:
    return write_script(tmp_path / "turns.jsonl", PLATE_SCRIPT)


@pytest.fixture
def second_server(tmp_path: Path, sqlite_url: str, script_path: Path) -> Iterator[str]:
    workdir = tmp_path / "second"
    workdir.mkdir()
    # A single-user agent server of alice's: its (token-less) logins act as alice. The agent
    # server decides its agents' settings, the model included (a client's are refused).
    extra = [
        "--SolidTypeApp.anonymous_owner=alice",
        "--SolidTypeApp.default_runtime=thread",
        f"--SolidTypeApp.model=scripted:{script_path}",
    ]
    with jupyter_server(sqlite_url, workdir, extra) as base:
        yield base.removesuffix("solidtype")


@pytest.fixture
def jp_server_config(sqlite_url: str, script_path: Path, second_server: str) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"solidtype_jupyter": True},
            "identity_provider_class": HeaderIdentityProvider,
        },
        "SolidTypeApp": {
            "database_url": sqlite_url,
            "model": f"scripted:{script_path}",
            "default_runtime": "remote",
            "agent_remote_url": second_server,
            "agent_init_timeout": 120,
        },
    }


async def test_editor_turns_run_on_the_second_server(jp_fetch, jp_serverapp, jp_root_dir: Path):
    assert ALICE == "alice"
    chat = ChatClient(jp_fetch)
    session_id = await chat.session(ALICE, "editor", documentPath="plate.solid.json")
    code, frames = await chat.turn(ALICE, session_id, "Make a 60x40x8 plate")
    assert code == 200, frames
    types = [event["type"] for _, event in frames]
    assert types[-1] == "RUN_FINISHED", types
    assert types.count("TOOL_CALL_RESULT") == 3
    runtime = extension(jp_serverapp).agents.live(session_id)
    assert runtime is not None and runtime.kind == "remote" and runtime.alive
    # Small request/answer messages go out at once (without TCP_NODELAY every command
    # waited for the peer's delayed ACK: 44 ms a round trip in benchmarks/runtime.py).
    stream = runtime._socket.protocol.stream
    assert stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    # The agent's edits came back over the WebSocket into this server's document.
    saved = CadDocument.load(jp_root_dir / "plate.solid.json")
    assert abs(saved.geometry()["volume"] - 60 * 40 * 8) < 1e-6
    await extension(jp_serverapp).agents.terminate(session_id)
