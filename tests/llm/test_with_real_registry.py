"""The loop with the real tool registry and a real CadQuery document (tools.editor_registry)."""

from __future__ import annotations

import json
import math

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import (
    AgentLoop,
    AnthropicAdapter,
    ScriptedAdapter,
    UserMessage,
    decide_approvals,
    pending_approvals,
)
from solidtype_jupyter.llm.adapters.scripted import parse_script
from solidtype_jupyter.protocol import agui
from solidtype_jupyter.tools import ToolContext, dashboard_registry, editor_registry

from .conftest import FAST_RETRY
from .fake_llm_server import ToolUse, Turn


def plate_volume() -> float:
    """60x40x8 plate, 3 mm fillets on the 4 vertical edges, four 5 mm through holes."""
    area = 60 * 40 - 4 * 3**2 * (1 - math.pi / 4) - 4 * math.pi * 2.5**2
    return area * 8


async def collect(run):
    return [event async for event in run]


async def test_quickstart_script_builds_the_plate_through_the_real_tools():
    doc = CadDocument("plate")
    context = ToolContext(user_id="alice", document=doc)
    loop = AgentLoop(
        ScriptedAdapter.from_file("quickstart"),
        editor_registry(),
        system_prompt="demo",
        tool_context=context,
    )
    request = "A 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets on the vertical edges"
    run = loop.run(thread_id="t", run_id="r", history=[UserMessage(request)])
    events = await collect(run)
    results = [e for e in events if isinstance(e, agui.ToolCallResult)]
    assert len(results) == 6
    assert all("error" not in json.loads(r.content) for r in results), [r.content for r in results]
    notices = [
        e.value["toolName"]
        for e in events
        if isinstance(e, agui.Custom) and e.name == agui.NOTICE_EVENT
    ]
    assert notices == ["create_sketch", "add_rectangle", "extrude", "fillet", "hole"]  # notify
    geometry = doc.geometry()
    assert geometry["valid"] is True
    assert geometry["volume"] == pytest.approx(plate_volume(), rel=1e-4)
    assert geometry["bbox"]["size"] == pytest.approx([60, 40, 8])
    assert run.finish_reason == "stop"


async def test_delete_feature_waits_for_approval_with_the_real_registry():
    doc = CadDocument("plate")
    context = ToolContext(user_id="alice", document=doc)
    script = parse_script(
        "\n".join(
            json.dumps(t)
            for t in [
                {"tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]},
                {
                    "tool_calls": [
                        {
                            "name": "delete_feature",
                            "id": "del1",
                            "arguments": {"feature_id": "sketch1"},
                        }
                    ]
                },
                {"text": "Deleted."},
            ]
        )
    )
    loop = AgentLoop(
        ScriptedAdapter(script), editor_registry(), system_prompt="x", tool_context=context
    )
    run = loop.run(thread_id="t", run_id="r1", history=[UserMessage("sketch, then delete")])
    events = await collect(run)
    assert [f.id for f in doc.features] == ["sketch1"]  # not deleted yet
    pending = pending_approvals(agui.parse_event(events[-1].to_json()))
    assert [(p.tool_name, p.arguments) for p in pending] == [
        ("delete_feature", {"feature_id": "sketch1"})
    ]
    decisions = decide_approvals(
        pending, [agui.ResumeItem(interrupt_id="approval_del1", payload={"approved": True})]
    )
    run2 = loop.run(thread_id="t", run_id="r2", history=run.messages, decisions=decisions)
    events2 = await collect(run2)
    assert events2[0].type == "TOOL_CALL_RESULT" and "error" not in json.loads(events2[0].content)
    assert list(doc.features) == []
    assert run2.finish_reason == "stop"


async def test_registry_errors_reach_the_model(fake_llm):
    doc = CadDocument("plate")
    fake_llm.anthropic.push(
        Turn(tool_calls=[ToolUse("t1", "extrude", ['{"sketch_id": "sketch9", "distance": 5}'])]),
        Turn(text=["That sketch does not exist."]),
    )
    adapter = AnthropicAdapter(
        "claude-sonnet", api_key="k", base_url=fake_llm.anthropic_url, retry=FAST_RETRY
    )
    loop = AgentLoop(
        adapter,
        editor_registry(),
        system_prompt="x",
        tool_context=ToolContext(user_id="alice", document=doc),
    )
    await collect(loop.run(thread_id="t", run_id="r", history=[UserMessage("extrude")]))
    sent = fake_llm.requests_to("anthropic")[1].body["messages"][-1]["content"][0]
    assert sent["type"] == "tool_result"
    assert "sketch9" in sent["content"] and json.loads(sent["content"])["error"]


async def test_rendered_view_is_shown_to_the_model(fake_llm):
    doc = CadDocument("cube")
    context = ToolContext(user_id="alice", document=doc)
    registry = editor_registry()
    for name, args in [
        ("create_sketch", {"plane": "XY"}),
        ("add_rectangle", {"sketch_id": "sketch1", "width": 10, "height": 10}),
        ("extrude", {"sketch_id": "sketch1", "distance": 10}),
    ]:
        assert (await registry.execute(name, args, context)).ok
    probe = await registry.execute("render_view", {"width": 64, "height": 64}, context)
    if not probe.ok:
        pytest.skip(f"no offscreen rendering here: {probe.error}")
    fake_llm.anthropic.push(
        Turn(tool_calls=[ToolUse("v1", "render_view", ['{"width": 64, "height": 64}'])]),
        Turn(text=["It is a cube."]),
    )
    adapter = AnthropicAdapter(
        "claude-sonnet", api_key="k", base_url=fake_llm.anthropic_url, retry=FAST_RETRY
    )
    loop = AgentLoop(adapter, registry, system_prompt="x", tool_context=context)
    events = await collect(loop.run(thread_id="t", run_id="r", history=[UserMessage("look")]))
    result = next(e for e in events if isinstance(e, agui.ToolCallResult))
    assert "base64" not in result.content  # the stream carries text only
    blocks = fake_llm.requests_to("anthropic")[1].body["messages"][-1]["content"][0]["content"]
    assert blocks[0]["type"] == "text"
    assert blocks[1]["type"] == "image" and blocks[1]["source"]["media_type"] == "image/png"
    assert blocks[1]["source"]["data"].startswith("iVBOR")  # PNG signature in base64


QUICKSTART_REQUEST = (
    "A 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets on the vertical edges"
)


async def test_the_quickstart_demo_does_not_run_in_a_chat_without_a_document():
    """Issue 18: in a dashboard chat the demo called six editor tools that are not there
    ("unknown tool" six times), then said "Done: a 60 x 40 x 8 mm plate"."""
    loop = AgentLoop(
        ScriptedAdapter.from_file("quickstart"),
        dashboard_registry(),
        system_prompt="demo",
        tool_context=ToolContext(user_id="alice"),
    )
    run = loop.run(thread_id="t", run_id="r", history=[UserMessage(QUICKSTART_REQUEST)])
    events = await collect(run)
    assert not [e for e in events if isinstance(e, agui.ToolCallStart | agui.ToolCallResult)]
    text = "".join(e.delta for e in events if isinstance(e, agui.TextMessageContent))
    assert text.startswith("This recorded demo needs a CAD document")
    assert "`create_sketch`" in text and "Done" not in text
    assert run.finish_reason == "stop"


async def test_a_failed_real_step_stops_the_demo_with_the_error_message():
    """The registry's errors are objects ({code, message}): the demo quotes the message."""
    doc = CadDocument("plate")
    script = parse_script(
        "\n".join(
            json.dumps(t)
            for t in [
                {
                    "prompt": "extrude the sketch",
                    "tool_calls": [
                        {"name": "extrude", "arguments": {"sketch_id": "sketch9", "distance": 8}}
                    ],
                },
                {"text": "Done: extruded."},
            ]
        )
    )
    loop = AgentLoop(
        ScriptedAdapter(script),
        editor_registry(),
        system_prompt="x",
        tool_context=ToolContext(user_id="alice", document=doc),
    )
    run = loop.run(thread_id="t", run_id="r", history=[UserMessage("Extrude the sketch.")])
    events = await collect(run)
    (result,) = [e for e in events if isinstance(e, agui.ToolCallResult)]
    message = json.loads(result.content)["error"]["message"]
    text = "".join(e.delta for e in events if isinstance(e, agui.TextMessageContent))
    assert f"Step 1 of the recording (`extrude`) failed: {message}" in text
    assert "Done" not in text and "{" not in text
