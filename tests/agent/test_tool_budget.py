"""Every tool call has a time budget (``SolidTypeApp.tool_timeout``), and Stop ends a run
whose tool does not return: on a real jupyter_server with agent kernels, through the chat
and cancel routes; and on the thread runtime, whose agent's own loop is blocked."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from chat.conftest import ALICE, ChatClient, extension, write_script

from solidtype_jupyter.agent.client import AgentClient, AgentRuntimes
from solidtype_jupyter.agent.in_process import AgentTurn
from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import UserMessage

from .conftest import KERNEL_AGENTS, server_config

BUDGET = 2.0


@pytest.fixture
def jp_server_config(sqlite_url: str, script_path: Path) -> dict[str, Any]:
    return server_config(
        sqlite_url,
        f"scripted:{script_path}",
        **KERNEL_AGENTS,
        agent_tool_modules=["tests.agent.slow_tools"],
        tool_timeout=BUDGET,
    )


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def _results(frames: list[tuple[str | None, dict[str, Any]]]) -> list[str]:
    return [e["content"] for _, e in frames if e["type"] == "TOOL_CALL_RESULT"]


async def _until(predicate: Any, limit: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_tool_budget_and_stop_in_agent_kernels(
    jp_fetch, jp_serverapp, script_path: Path, jp_root_dir: Path
):
    chat = ChatClient(jp_fetch)
    ext = extension(jp_serverapp)
    km = jp_serverapp.kernel_manager
    document = await ext.catalog.register_document(ALICE, "slow.solid.json")
    session_id = await chat.session(ALICE, "editor", documentId=str(document.id))
    # The scripted model answers the conversation holding n assistant turns with line n.
    write_script(
        script_path,
        _call("slow_tool", seconds=60),
        {"text": "That took too long."},
        _call("blocking_tool", seconds=60),
        _call("list_features"),
        _call("list_features"),
        {"text": "Still here."},
    )
    clock = asyncio.get_running_loop()
    try:
        # A tool that outlasts its budget: the model reads the tool error and answers.
        started = clock.time()
        code, frames = await chat.turn(ALICE, session_id, "slow please")
        elapsed = clock.time() - started
        assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
        error = json.loads(_results(frames)[0])["error"]
        assert f"slow_tool took longer than {BUDGET:g} s and was stopped" in error
        assert "too long" in "".join(e.get("delta", "") for _, e in frames)  # it went on
        assert elapsed < 60, elapsed  # not the tool's 60 s (this includes the kernel start)
        # Its thread may still be working: the agent is replaced, its kernel shut down.
        first = ext.agents._live.get(session_id)
        first_kernel = getattr(first, "kernel_id", None)
        await _until(lambda: ext.agents.live(session_id) is None)
        await _until(lambda: first_kernel not in km.list_kernel_ids())

        # Stop while a tool blocks the agent's kernel (as OCCT code does): the run ends
        # within seconds and the stuck kernel is shut down.
        turn = asyncio.ensure_future(chat.turn(ALICE, session_id, "block please"))

        def blocked() -> bool:
            runtime = ext.agents.live(session_id)
            return runtime is not None and "blocking_tool" in (runtime.state.current_task or "")

        await _until(blocked, 120)
        stuck_kernel = ext.agents.live(session_id).kernel_id
        await asyncio.sleep(1.0)  # well inside the tool
        assert not turn.done()
        code, _, body = await chat.call(ALICE, "POST", "session", session_id, "cancel")
        assert code == 202, body
        stopped = clock.time()
        code, frames = await asyncio.wait_for(turn, 30)
        assert clock.time() - stopped < 4.0, clock.time() - stopped
        last = frames[-1][1]
        assert last["type"] == "RUN_FINISHED", frames
        assert last["metadata"]["solidtype"]["reason"] == "cancelled"
        assert "stopped by the user" in _results(frames)[-1]
        await _until(lambda: stuck_kernel not in km.list_kernel_ids(), 10)
        code, _, hydrated = await chat.call(ALICE, "GET", "session", session_id)
        assert code == 200 and hydrated["activeRun"] is None

        # The next message works, in a new agent kernel.
        code, frames = await chat.turn(ALICE, session_id, "are you there?")
        assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
        result = next(e for _, e in frames if e["type"] == "TOOL_CALL_RESULT")
        assert not (result.get("metadata") or {}).get("solidtype", {}).get("isError"), result
        assert ext.agents.live(session_id).kernel_id not in (first_kernel, stuck_kernel)
    finally:
        await ext.agents.close()
    assert km.list_kernel_ids() == []


async def test_a_thread_agent_stuck_in_a_tool_is_replaced(tmp_path: Path):
    """The agent's own loop is blocked, so its budget cannot fire: the host stops waiting
    after the budget and a grace, ends the run with the tool error, and starts a new agent."""
    script = tmp_path / "turns.jsonl"
    runtimes = AgentRuntimes(default_runtime="thread")
    client = AgentClient(
        runtimes,
        "session-stuck",
        user_id=ALICE,
        model=f"scripted:{script}",
        tool_modules=["tests.agent.slow_tools"],
        tool_timeout=BUDGET,
        document=CadDocument("stuck"),
    )
    try:
        write_script(script, _call("blocking_tool", seconds=30), {"text": "never"})
        turn = AgentTurn("session-stuck", "run-1", ALICE, "editor", [UserMessage("block")])
        clock = asyncio.get_running_loop()
        started = clock.time()
        events = [e async for e in client.send_message(turn)]
        assert clock.time() - started < BUDGET + 10
        assert events[-1].type == "RUN_ERROR" and events[-1].code == "tool_timeout", events
        assert f"blocking_tool took longer than {BUDGET:g} s" in events[-1].message
        results = [e for e in events if e.type == "TOOL_CALL_RESULT"]
        assert len(results) == 1 and "took longer than" in results[0].content
        stuck = client.runtime
        assert runtimes.live("session-stuck") is None and not stuck.alive

        write_script(script, {"text": "Fresh agent."})
        turn = AgentTurn("session-stuck", "run-2", ALICE, "editor", [UserMessage("hello")])
        events = [e async for e in client.send_message(turn)]
        assert events[-1].type == "RUN_FINISHED", events
        assert client.runtime is not stuck and client.state.status == "ready"
    finally:
        await runtimes.close()
