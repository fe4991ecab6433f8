"""The kernel runtime on a real jupyter_server's kernel manager: a turn in an agent kernel,
a second client attached to the same agent, malformed commands, a kernel killed in a tool
(the turn ends with RUN_ERROR, the next message respawns, the document is intact), the
warm pool and the init timeout. Kernels are few and reused within each test."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from solidtype_jupyter.agent.client import AgentClient, AgentRuntimes
from solidtype_jupyter.agent.in_process import AgentTurn
from solidtype_jupyter.agent.pool import KernelPool
from solidtype_jupyter.agent.runtime import AgentInitError
from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import UserMessage
from solidtype_jupyter.protocol import agent as proto

from .conftest import PLATE_SCRIPT, write_script


def _turn(session: str, run_id: str, text: str, document: CadDocument | None) -> AgentTurn:
    turn = AgentTurn(session, run_id, "alice", "editor", [UserMessage(text)])
    turn.document = document
    return turn


async def _collect(client: AgentClient, turn: AgentTurn) -> list:
    return [event async for event in client.send_message(turn)]


async def _until(predicate, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_kernel_agent_turn_shared_attach_crash_and_respawn(jp_serverapp, tmp_path: Path):
    km = jp_serverapp.kernel_manager
    script = write_script(tmp_path / "turns.jsonl", PLATE_SCRIPT)
    runtimes = AgentRuntimes(kernel_manager=km, default_runtime="kernel", init_timeout=60)
    path = tmp_path / "plate.solid.json"
    document = CadDocument("plate")
    a = AgentClient(
        runtimes,
        "session-k",
        user_id="alice",
        model=f"scripted:{script}",
        document=document,
        document_path=path,
        tool_modules=["tests.agent.crash_tools"],
    )
    states: list[proto.AgentState] = []
    a.on("state-change", lambda e: states.append(e.state))
    try:
        identity = await a.spawn()
        assert identity.runtime == "kernel" and a.state.status == "ready"
        assert len(km.list_kernel_ids()) == 1
        kernel_id = a.runtime.kernel_id

        events = await _collect(a, _turn("session-k", "run-1", "a plate", document))
        types = [e.type for e in events]
        assert types[0] == "RUN_STARTED" and types[-1] == "RUN_FINISHED", types
        assert types.count("TOOL_CALL_RESULT") == 3
        results = [e for e in events if e.type == "TOOL_CALL_RESULT"]
        assert not any((r.metadata or {}).get("solidtype", {}).get("isError") for r in results)
        assert json.loads(results[-1].content)["geometry"]["volume"] == 60 * 40 * 8
        # The kernel's edits reached the owner's document (binary Yjs updates) and were saved.
        assert [f.id for f in document.features] == ["sketch1", "extrude1"]
        assert abs(CadDocument.load(path).geometry()["volume"] - 60 * 40 * 8) < 1e-6
        assert any(s.status == "busy" and s.current_task for s in states)

        # A second client of the same session attaches to the running agent.
        b = AgentClient(runtimes, "session-k", user_id="alice", model=f"scripted:{script}")
        assert (await b.spawn()).id == identity.id
        assert km.list_kernel_ids() == [kernel_id]
        seen_by_a: list[proto.ToolResultEvent] = []
        a.on("tool-result", seen_by_a.append)
        result = await b.execute_tool("get_geometry", {})
        assert result.error is None
        assert abs(result.result["content"]["geometry"]["volume"] - 60 * 40 * 8) < 1e-6
        assert [r.id for r in seen_by_a] == [result.id]  # both clients see the agent's events

        # Malformed commands: error events, the agent keeps running.
        errors: list[proto.ErrorEvent] = []
        b.on("error", errors.append)
        await b.runtime.send_raw({"type": "chat", "runId": ""}, [])
        await b.runtime.send_raw({"type": "sync-document", "updates": {"$buffer": 0}}, [])
        await _until(lambda: len(errors) == 2)
        assert all(e.code == "invalid_command" and not e.fatal for e in errors)
        assert (await b.execute_tool("list_features", {})).error is None

        # The kernel dies inside a tool: the turn ends with RUN_ERROR, the agent is in error.
        write_script(script, [{"text": "Crashing.", "tool_calls": [
            {"name": "crash_kernel", "arguments": {}}]}])  # fmt: skip
        events = await _collect(a, _turn("session-k", "run-2", "crash", document))
        assert events[-1].type == "RUN_ERROR", [e.type for e in events]
        assert events[-1].code == "agent_died" and "kernel died" in events[-1].message
        assert a.state.status == "error" and "kernel died" in a.state.error
        await _until(lambda: kernel_id not in km.list_kernel_ids())

        # The next message respawns the agent on the saved document, intact.
        reloaded = CadDocument.load(path)
        assert [f.id for f in reloaded.features] == ["sketch1", "extrude1"]
        write_script(script, [{"tool_calls": [{"name": "get_geometry", "arguments": {}}]},
                              {"text": "Still there."}])  # fmt: skip
        events = await _collect(a, _turn("session-k", "run-3", "still there?", reloaded))
        assert events[-1].type == "RUN_FINISHED", [e.type for e in events]
        assert a.identity.id != identity.id
        assert (a.identity.name, a.identity.color) == (identity.name, identity.color)
        assert a.runtime.kernel_id != kernel_id and a.state.status == "ready"
        geometry = await a.execute_tool("get_geometry", {})
        assert abs(geometry.result["content"]["geometry"]["volume"] - 60 * 40 * 8) < 1e-6
    finally:
        await a.terminate()
    assert a.runtime is None and runtimes.live("session-k") is None
    await _until(lambda: km.list_kernel_ids() == [])


async def test_kernel_pool_spawn_and_init_timeout(jp_serverapp):
    km = jp_serverapp.kernel_manager
    pool = KernelPool(km, 1)
    runtimes = AgentRuntimes(kernel_manager=km, pool=pool, init_timeout=3)
    try:
        await pool.wait_filled()
        pooled = km.list_kernel_ids()
        assert len(pooled) == 1

        # An agent that does not get ready in time: a clear error, its kernel stopped.
        slow = AgentClient(
            runtimes, "session-slow", user_id="alice", tool_modules=["tests.agent.slow_import"]
        )
        with pytest.raises(AgentInitError, match=r"did not become ready within 3 s"):
            await slow.spawn()
        assert runtimes.live("session-slow") is None
        assert pooled[0] not in km.list_kernel_ids()

        # The pool refilled behind the taken kernel; the next spawn uses a warm kernel.
        await pool.wait_filled()
        warm = km.list_kernel_ids()
        client = AgentClient(runtimes, "session-warm", user_id="alice")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.spawn()
        print(f"warm spawn: {loop.time() - started:.2f} s")
        assert client.runtime.kernel_id in warm and client.state.status == "ready"
        result = await client.execute_tool("list_features", {})
        assert result.error == "no document is open" or result.error is not None
        await client.terminate()
    finally:
        await runtimes.close()
    await _until(lambda: km.list_kernel_ids() == [])
