"""The bundled verify-and-fix demo through the real chat loop, tools and CadQuery: the agent
builds a plate, verifies it, finds the hole too small, fixes it and verifies again."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import (
    AgentLoop,
    ScriptedAdapter,
    UserMessage,
    decide_approvals,
    pending_approvals,
)
from solidtype_jupyter.llm.prompts import build_system_prompt
from solidtype_jupyter.protocol import agui
from solidtype_jupyter.tools import ToolContext, editor_registry

REQUEST = "A 60x40x10 mm plate with a 20 mm through hole in the middle"


async def run_approving(loop: AgentLoop, request: str) -> tuple[list[Any], list[str]]:
    """Run a request to the end, approving every call that waits for approval."""
    events: list[Any] = []
    approved: list[str] = []
    run = loop.run(thread_id="t", run_id="r0", history=[UserMessage(request)])
    events += [e async for e in run]
    for number in range(1, 10):
        if run.finish_reason != "approval_required":
            break
        pending = pending_approvals(agui.parse_event(events[-1].to_json()))
        approved += [p.tool_name for p in pending]
        answers = [
            agui.ResumeItem(interrupt_id=p.interrupt_id, payload={"approved": True})
            for p in pending
        ]
        run = loop.run(
            thread_id="t",
            run_id=f"r{number}",
            history=run.messages,
            decisions=decide_approvals(pending, answers),
        )
        events += [e async for e in run]
    assert run.finish_reason == "stop"
    return events, approved


def tool_results(events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    names = {e.tool_call_id: e.tool_call_name for e in events if isinstance(e, agui.ToolCallStart)}
    return [
        (names[e.tool_call_id], json.loads(e.content))
        for e in events
        if isinstance(e, agui.ToolCallResult)
    ]


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


async def test_the_agent_verifies_finds_the_miss_fixes_it_and_verifies_again():
    doc = CadDocument("plate")
    loop = AgentLoop(
        ScriptedAdapter.from_file("verify-and-fix"),
        editor_registry(),
        system_prompt=build_system_prompt("editor"),
        tool_context=ToolContext(user_id="alice", document=doc),
    )
    events, approved = await run_approving(loop, REQUEST)
    results = tool_results(events)
    assert [name for name, _ in results] == [
        "create_sketch",
        "extrude",
        "hole",
        "verify",
        "modify_feature",
        "verify",
    ]
    assert all("error" not in content for _, content in results), results
    assert approved == ["modify_feature"]  # verify is read-only: it never waits

    first, second = (content for name, content in results if name == "verify")
    assert first["all_hold"] is False and first["errors"] == 0
    checks = by_name(first)
    diameter = checks["hole diameter 20 mm"]
    assert diameter["holds"] is False
    assert diameter["actual"] == pytest.approx(10)
    assert diameter["deviation"] == pytest.approx(-10)
    volume = checks["volume: plate minus the hole"]
    assert volume["holds"] is False
    assert volume["actual"] == pytest.approx(60 * 40 * 10 - math.pi * 5**2 * 10)
    assert first["failures"] == [
        "check 3 (hole diameter 20 mm) misses: 10.0 mm, expected 20.0 (tolerance 0.01; beyond "
        "it by -9.99)",
        "check 5 (volume: plate minus the hole) misses: 23214.601837 mm3, expected 20858.407 "
        "(tolerance 20.858407; beyond it by 2335.33643)",
    ]
    held = {name for name, check in checks.items() if check["holds"]}
    assert held == {"plate 60 x 40 x 10 mm", "one hole", "hole in the middle", "one valid solid"}

    assert second["all_hold"] is True and second["held"] == len(second["checks"]) == 6
    assert second["failures"] == []
    assert by_name(second)["hole diameter 20 mm"]["actual"] == pytest.approx(20)
    geometry = doc.geometry()
    assert geometry["volume"] == pytest.approx(60 * 40 * 10 - math.pi * 10**2 * 10, rel=1e-6)

    text = "".join(e.delta for e in events if isinstance(e, agui.TextMessageContent))
    assert text.rstrip().endswith("one valid solid.")


def test_the_editor_prompt_asks_to_verify_before_done():
    prompt = build_system_prompt("editor")
    assert "verify" in prompt and "verify again" in prompt
    assert "verify" not in build_system_prompt("dashboard")
