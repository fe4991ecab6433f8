"""The thread runtime: an agent with its own loop in a worker thread of this process."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from solidtype_jupyter.agent.client import AgentClient, AgentRuntimes
from solidtype_jupyter.agent.in_process import AgentTurn
from solidtype_jupyter.agent.runtime import AgentInitError
from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import UserMessage
from solidtype_jupyter.protocol import agent as proto

from .conftest import write_script


def _agent_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("solidtype-agent-")]


async def _collect(client: AgentClient, turn: AgentTurn) -> list:
    return [event async for event in client.send_message(turn)]


async def test_thread_agent_runs_a_turn_on_the_owners_document(plate_script: Path, tmp_path):
    runtimes = AgentRuntimes(default_runtime="thread")
    document = CadDocument("plate")
    path = tmp_path / "plate.solid.json"
    client = AgentClient(
        runtimes,
        "session-thread",
        user_id="alice",
        model=f"scripted:{plate_script}",
        document=document,
        document_path=path,
    )
    states: list[str] = []
    tasks: list[tuple[str | None, int | None]] = []
    updates: list[proto.DocumentUpdateEvent] = []
    client.on("state-change", lambda e: states.append(e.state.status))
    client.on("state-change", lambda e: tasks.append((e.state.current_task, e.state.progress)))
    client.on("document-update", updates.append)
    identity = await client.spawn()
    assert identity.runtime == "thread" and client.state.status == "ready"
    assert _agent_threads() == [f"solidtype-agent-{identity.id}"]
    try:
        turn = AgentTurn("session-thread", "run-1", "alice", "editor", [UserMessage("plate")])
        turn.document = document
        events = await _collect(client, turn)
        types = [e.type for e in events]
        assert types[0] == "RUN_STARTED" and types[-1] == "RUN_FINISHED", types
        assert types.count("TOOL_CALL_RESULT") == 3
        # The agent's edits came back as Yjs updates into the owner's document, and were saved.
        assert len(updates) == 3 and all(u.updates for u in updates)
        assert [f.id for f in document.features] == ["sketch1", "extrude1"]
        assert abs(CadDocument.load(path).geometry()["volume"] - 60 * 40 * 8) < 1e-6
        assert "busy" in states and states[-1] == "ready"
        # Its state names the tool it is running (what collaborators and the panels show).
        assert ("Running extrude", None) in tasks

        result = await client.execute_tool("get_geometry", {})
        assert result.error is None and result.result["ok"] is True
        assert abs(result.result["content"]["geometry"]["volume"] - 60 * 40 * 8) < 1e-6

        # A malformed command: an error event, and the agent keeps working.
        errors: list[proto.ErrorEvent] = []
        client.on("error", errors.append)
        await client.runtime.send_raw({"type": "execute-tool"}, [])
        await client.runtime.send_raw({"type": "sync-document", "updates": {"$buffer": 1}}, [])
        for _ in range(100):
            if len(errors) == 2:
                break
            await asyncio.sleep(0.02)
        assert [e.code for e in errors] == ["invalid_command", "invalid_command"]
        assert "id" in errors[0].message and "buffer 1" in errors[1].message
        assert (await client.execute_tool("list_features", {})).error is None
        bad = await client.execute_tool("extrude", {"sketch_id": "nope", "distance": 1})
        assert bad.error and client.state.status == "ready"
    finally:
        await client.terminate()
    assert client.state.status == "terminated" or client.runtime is None
    assert _agent_threads() == []


async def test_thread_agent_init_timeout_is_a_clear_error():
    runtimes = AgentRuntimes(default_runtime="thread", init_timeout=0.5)
    client = AgentClient(
        runtimes, "session-slow", user_id="alice", tool_modules=["tests.agent.slow_import"]
    )
    with pytest.raises(AgentInitError, match=r"did not become ready within 0.5 s"):
        await client.spawn()
    assert runtimes.live("session-slow") is None


async def test_idle_agents_are_stopped_and_the_next_message_respawns(plate_script: Path):
    runtimes = AgentRuntimes(default_runtime="thread", idle_timeout=0.3)
    client = AgentClient(
        runtimes, "session-idle", user_id="alice", model=f"scripted:{plate_script}"
    )
    try:
        first = await client.spawn()
        for _ in range(100):
            if client.state.status == "terminated" and not _agent_threads():
                break
            await asyncio.sleep(0.05)
        assert runtimes.live("session-idle") is None and client.state.status == "terminated"
        assert _agent_threads() == []
        turn = AgentTurn("session-idle", "run-1", "alice", "editor", [UserMessage("hi")])
        events = [e async for e in client.send_message(turn)]
        assert events[-1].type == "RUN_FINISHED"
        assert client.identity.id != first.id and client.state.status == "ready"
    finally:
        await runtimes.close()
    assert _agent_threads() == []


async def test_a_cancelled_turn_stops_in_the_agent(tmp_path: Path):
    script = write_script(
        tmp_path / "slow.jsonl", [{"text": ["word "], "repeat": 400, "delay_ms": 10}]
    )
    runtimes = AgentRuntimes(default_runtime="thread")
    client = AgentClient(runtimes, "session-stop", user_id="alice", model=f"scripted:{script}")
    try:
        turn = AgentTurn("session-stop", "run-1", "alice", "editor", [UserMessage("talk")])
        events = []
        loop = asyncio.get_running_loop()
        started = loop.time()
        async for event in client.send_message(turn):
            events.append(event)
            if event.type == "TEXT_MESSAGE_CONTENT" and not turn.cancel.cancelled:
                turn.cancel.cancel()
        assert events[-1].type == "RUN_FINISHED"
        deltas = sum(1 for e in events if e.type == "TEXT_MESSAGE_CONTENT")
        assert deltas < 100 and loop.time() - started < 3  # 400 deltas would take 4 s
        assert client.state.status == "ready"
    finally:
        await runtimes.close()


async def test_approval_decisions_cross_the_runtime(tmp_path: Path):
    from solidtype_jupyter.llm import (
        ApprovalDecision,
        AssistantMessage,
        ToolCall,
        pending_approvals,
    )

    script = write_script(
        tmp_path / "approve.jsonl",
        [
            {"tool_calls": [{"name": "set_parameter", "arguments": {"name": "w", "value": 5}}]},
            {"text": "Set."},
        ],
    )
    document = CadDocument("plate")
    runtimes = AgentRuntimes(default_runtime="thread")
    client = AgentClient(
        runtimes, "session-ok", user_id="alice", model=f"scripted:{script}", document=document
    )
    try:
        turn = AgentTurn("session-ok", "run-1", "alice", "editor", [UserMessage("w=5")])
        turn.document = document
        events = [e async for e in client.send_message(turn)]
        finished = events[-1]
        assert finished.type == "RUN_FINISHED" and finished.outcome is not None
        pending = pending_approvals(finished)
        assert [p.tool_name for p in pending] == ["set_parameter"] and document.parameters == {}
        call = ToolCall(pending[0].tool_call_id, "set_parameter", '{"name": "w", "value": 5}')
        resume = AgentTurn(
            "session-ok",
            "run-2",
            "alice",
            "editor",
            [UserMessage("w=5"), AssistantMessage("", (call,))],
            decisions=[ApprovalDecision(pending[0], approved=True)],
        )
        resume.document = document
        events = [e async for e in client.send_message(resume)]
        assert events[-1].type == "RUN_FINISHED", [e.type for e in events]
        assert document.parameters == {"w": 5}  # applied in the agent, synced back
    finally:
        await runtimes.close()
