"""The chat route runs editor turns through agent kernels: the agent's document updates come
back into the session's document and are saved; a kernel killed in a tool ends the turn with
RUN_ERROR (stored in the session's stream) and the next message respawns the agent on the
saved document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chat.conftest import (
    ALICE,
    ChatClient,
    extension,
    write_script,
)

from solidtype_jupyter.agent.kernel_runtime import KernelRuntime
from solidtype_jupyter.cad import CadDocument

from .conftest import KERNEL_AGENTS, PLATE_SCRIPT, server_config


@pytest.fixture
def jp_server_config(sqlite_url: str, script_path: Path) -> dict[str, Any]:
    return server_config(
        sqlite_url,
        f"scripted:{script_path}",
        **KERNEL_AGENTS,
        agent_tool_modules=["tests.agent.crash_tools"],
    )


def _types(frames: list[tuple[str | None, dict[str, Any]]]) -> list[str]:
    return [event["type"] for _, event in frames]


async def test_editor_turns_run_in_an_agent_kernel_and_survive_its_death(
    jp_fetch, jp_serverapp, script_path: Path, jp_root_dir: Path
):
    chat = ChatClient(jp_fetch)
    ext = extension(jp_serverapp)
    km = jp_serverapp.kernel_manager
    document = await ext.catalog.register_document(ALICE, "parts/plate.solid.json")
    (jp_root_dir / "parts").mkdir()
    saved = jp_root_dir / "parts" / "plate.solid.json"
    session_id = await chat.session(ALICE, "editor", documentId=str(document.id))

    write_script(script_path, *PLATE_SCRIPT)
    code, frames = await chat.turn(ALICE, session_id, "Make a 60x40x8 plate")
    assert code == 200, frames
    assert _types(frames)[-1] == "RUN_FINISHED", _types(frames)
    assert _types(frames).count("TOOL_CALL_RESULT") == 3
    runtime = ext.agents.live(session_id)
    assert isinstance(runtime, KernelRuntime) and runtime.kernel_id in km.list_kernel_ids()
    first_kernel, identity = runtime.kernel_id, runtime.identity
    assert abs(CadDocument.load(saved).geometry()["volume"] - 60 * 40 * 8) < 1e-6

    try:
        # The agent's kernel dies inside a tool: RUN_ERROR, stored, the agent is in error.
        # (the scripted model answers turn n of the conversation with line n)
        crash = {"tool_calls": [{"name": "crash_kernel", "arguments": {}}]}
        write_script(script_path, *PLATE_SCRIPT, crash)
        code, frames = await chat.turn(ALICE, session_id, "crash")
        assert code == 200
        last = frames[-1][1]
        assert last["type"] == "RUN_ERROR" and last["code"] == "agent_died", frames
        assert "kernel died" in last["message"]
        assert runtime.state.status == "error" and ext.agents.live(session_id) is None
        code, _, hydrated = await chat.call(ALICE, "GET", "session", session_id)
        assert code == 200 and hydrated["activeRun"] is None

        # The next message starts a new agent kernel on the saved document.
        assert [f.id for f in CadDocument.load(saved).features] == ["sketch1", "extrude1"]
        geometry = {"tool_calls": [{"name": "get_geometry", "arguments": {}}]}
        # The killed turn's tool call counts as a turn of the conversation only if its events
        # left the kernel before it died: the script answers either way.
        write_script(script_path, *PLATE_SCRIPT, geometry, geometry, geometry, {"text": "Plate."})
        code, frames = await chat.turn(ALICE, session_id, "is it still there?")
        assert code == 200 and _types(frames)[-1] == "RUN_FINISHED", _types(frames)
        result = next(e for _, e in frames if e["type"] == "TOOL_CALL_RESULT")
        assert '"volume": 19200.0' in result["content"] or "19200" in result["content"]
        again = ext.agents.live(session_id)
        assert again is not None and again.kernel_id != first_kernel
        assert (again.identity.name, again.identity.color) == (identity.name, identity.color)
    finally:
        await ext.agents.close()
    assert km.list_kernel_ids() == []
