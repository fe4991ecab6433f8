"""The scripted model (format, replay, bundled demo) and choosing an adapter from the setting."""

from __future__ import annotations

import json

import pytest

from solidtype_jupyter.llm import (
    AgentLoop,
    AnthropicAdapter,
    ModelChoice,
    ModelNotConfigured,
    ModelRequest,
    ModelStopped,
    OpenAICompatibleAdapter,
    ScriptedAdapter,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallStarted,
    UserMessage,
    create_adapter,
    history_from_agui,
    history_to_agui,
    not_configured_run,
)
from solidtype_jupyter.llm.adapters.scripted import (
    END_OF_SCRIPT,
    ScriptError,
    load_script,
    parse_script,
)
from solidtype_jupyter.llm.types import AssistantMessage, ToolCall, ToolResultMessage
from solidtype_jupyter.protocol import agui

from .test_agui import CAPTURED_REQUEST_2
from .tools_fixture import BoxShop

TWO_TURNS = """
# a comment
{"text": "Making ", "tool_calls": [{"name": "make_box", "arguments": {"width": 1}}]}

{"text": ["exact", " deltas"], "usage": {"input_tokens": 3, "output_tokens": 2}}
"""


async def stream(adapter, messages):
    return [e async for e in adapter.stream(ModelRequest("s", tuple(messages)))]


async def test_turn_is_chosen_by_the_number_of_assistant_turns():
    adapter = ScriptedAdapter(parse_script(TWO_TURNS))
    first = await stream(adapter, [UserMessage("a")])
    assert isinstance(first[1], ToolCallStarted) and first[1].id == "call_0_0"
    assert json.loads("".join(e.delta for e in first if isinstance(e, ToolCallArgsDelta))) == {
        "width": 1
    }
    assert first[-1] == ModelStopped("tool_calls", first[-1].usage, "tool_calls")
    history = [
        UserMessage("a"),
        AssistantMessage("Making ", (ToolCall("x", "make_box", "{}"),)),
        ToolResultMessage("x", "{}"),
    ]
    second = await stream(adapter, history)
    assert [e.text for e in second if isinstance(e, TextDelta)] == ["exact", " deltas"]
    assert second[-1].usage.output_tokens == 2
    third = await stream(adapter, [*history, AssistantMessage("exact deltas")])
    assert third[0] == TextDelta(END_OF_SCRIPT)


async def test_repeat_and_delay_pace_the_deltas():
    adapter = ScriptedAdapter(parse_script('{"text": ["ab"], "repeat": 1000}'))
    events = await stream(adapter, [])
    assert sum(isinstance(e, TextDelta) for e in events) == 1000
    paced = ScriptedAdapter(parse_script('{"text": ["a", "b", "c"], "delay_ms": 20}'))
    import time

    start = time.monotonic()
    await stream(paced, [])
    assert time.monotonic() - start >= 0.04


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", ":1: not JSON"),
        ("[1]", "must be a JSON object"),
        ('{"txt": "typo"}', "unknown keys"),
        ('{"text": 5}', "text must be"),
        ('{"repeat": 0}', "repeat"),
        ('{"tool_calls": [{"arguments": {}}]}', "needs a string name"),
        ('{"stop": "whenever"}', "stop must be"),
    ],
)
def test_script_errors_name_the_line(line, message):
    with pytest.raises(ScriptError, match=message):
        parse_script(line, "demo.jsonl")


async def test_bundled_quickstart_replays_through_the_loop():
    turns = load_script("quickstart")
    assert len(turns) >= 5
    names = [c.name for t in turns for c in t.tool_calls]
    assert names[:3] == ["create_sketch", "add_rectangle", "extrude"]

    class RecordingTools(BoxShop):
        def definitions(self):
            from solidtype_jupyter.llm import ToolDefinition

            return [ToolDefinition(n, n, {"type": "object"}) for n in set(names)]

        def approval_level(self, name):
            return "auto"

        async def execute(self, name, args, context):
            from solidtype_jupyter.llm import ToolResult

            self.calls.append((name, dict(args), context))
            return ToolResult({"ok": True})

    tools = RecordingTools()
    loop = AgentLoop(ScriptedAdapter(turns), tools, system_prompt="demo")
    run = loop.run(thread_id="t", run_id="r", history=[UserMessage("a plate with holes")])
    events = [e async for e in run]
    assert [c[0] for c in tools.calls] == names
    assert run.finish_reason == "stop"
    assert "Done" in run.messages[-1].text
    assert sum(isinstance(e, agui.ToolCallResult) for e in events) == len(names)


def test_no_model_configured():
    with pytest.raises(ModelNotConfigured, match="ANTHROPIC_API_KEY"):
        create_adapter(None, {})
    with pytest.raises(ModelNotConfigured, match="ANTHROPIC_API_KEY is not set"):
        create_adapter(ModelChoice("anthropic", "claude-sonnet"), {})
    with pytest.raises(ModelNotConfigured, match="OPENAI_BASE_URL"):
        create_adapter(ModelChoice("openai-compatible", "llama3.1"), {})
    with pytest.raises(ModelNotConfigured, match="no script"):
        create_adapter(ModelChoice("scripted", "/no/such/file.jsonl"), {})


def test_adapters_from_the_setting():
    a = create_adapter(ModelChoice("anthropic", "claude-opus"), {"ANTHROPIC_API_KEY": "k"})
    assert isinstance(a, AnthropicAdapter) and a.model.startswith("claude-opus-")
    assert a.label == "anthropic:claude-opus"
    o = create_adapter(
        ModelChoice("openai-compatible", "llama3.1"),
        {"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"},
    )
    assert isinstance(o, OpenAICompatibleAdapter) and o.base_url.startswith(
        "http://127.0.0.1:11434"
    )
    s = create_adapter(ModelChoice("scripted", "quickstart"), {})
    assert isinstance(s, ScriptedAdapter) and s.turns


async def test_not_configured_answer_is_one_clear_notice():
    events = [e async for e in not_configured_run("t", "r", "No chat model is configured. X")]
    assert [e.type for e in events] == [
        "RUN_STARTED",
        "CUSTOM",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
        "RUN_FINISHED",
    ]
    assert events[1].value["kind"] == "model_not_configured"
    assert events[3].delta == "No chat model is configured. X"
    assert events[3].metadata == {"solidtype": {"notice": "model_not_configured"}}
    assert events[-1].metadata["solidtype"]["reason"] == "model_not_configured"


def test_history_from_the_captured_request():
    body = agui.RunAgentInput.model_validate_json(CAPTURED_REQUEST_2)
    history = history_from_agui(body.messages)
    assert history[0] == UserMessage("Send 5 to Ada")
    assert history[1] == AssistantMessage(
        "Sure, transferring.", (ToolCall("call_1", "transfer", '{"amount":5,"recipient":"Ada"}'),)
    )
    assert isinstance(history[2], ToolResultMessage) and history[2].tool_call_id == "call_1"
    back = history_from_agui(history_to_agui(history))
    assert back == history
