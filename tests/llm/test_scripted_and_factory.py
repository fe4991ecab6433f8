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
    decide_approvals,
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
from solidtype_jupyter.llm.model_choice import CONNECT_A_MODEL
from solidtype_jupyter.llm.types import AssistantMessage, ToolCall, ToolResultMessage
from solidtype_jupyter.protocol import agui

from .test_agui import CAPTURED_REQUEST_2
from .test_loop import make_loop, run_all
from .tools_fixture import BoxShop

TWO_TURNS = """
# a comment
{"text": "Making ", "tool_calls": [{"name": "make_box", "arguments": {"width": 1}}]}

{"text": ["exact", " deltas"], "usage": {"input_tokens": 3, "output_tokens": 2}}
"""


QUICKSTART_REQUEST = (
    "A 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets on the vertical edges"
)


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
    assert "".join(e.text for e in third if isinstance(e, TextDelta)) == END_OF_SCRIPT
    assert "ANTHROPIC_API_KEY" in END_OF_SCRIPT and "OPENAI_BASE_URL" in END_OF_SCRIPT


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
    run = loop.run(thread_id="t", run_id="r", history=[UserMessage(QUICKSTART_REQUEST)])
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


# --- demo scripts: replayed only where they tell the truth -----------------------------------

BOX = {"name": "make_box", "id": "c1", "arguments": {"width": 2, "height": 3, "depth": 4}}
DEMO = [
    {"prompt": "A 2 x 3 x 4 mm box", "text": "Making it.", "tool_calls": [BOX]},
    {"text": "Your box is 24 mm³."},
    {
        "prompt": "Drill a 5 mm hole in it",
        "tool_calls": [
            {"name": "add_hole", "id": "c2", "arguments": {"box": "box1", "diameter": 5}}
        ],
    },
    {"text": "Drilled."},
    {
        "prompt": "Delete the box",
        "tool_calls": [{"name": "delete_box", "id": "cd", "arguments": {"box": "box1"}}],
    },
    {"text": "Deleted."},
]


def demo(*turns: dict) -> ScriptedAdapter:
    return ScriptedAdapter(parse_script("\n".join(json.dumps(t) for t in turns)), name="boxes")


def said(events) -> str:
    return "".join(e.delta for e in events if isinstance(e, agui.TextMessageContent))


async def ask(loop, history, text, **kw):
    events, run = await run_all(loop, [*history, UserMessage(text)], **kw)
    return events, run, said(events)


async def test_a_demo_plays_what_was_asked_going_forward():
    loop, shop = make_loop(demo(*DEMO))
    events, run, text = await ask(loop, [], "a 2x3x4 mm box, please")
    assert [c[0] for c in shop.calls] == ["make_box"]
    assert text == "Making it.Your box is 24 mm³."
    # Something it did not record: what it can still show (not the played box) and how to
    # connect a model; nothing runs.
    _, run, text = await ask(loop, run.messages, "thanks! now make it blue")
    assert "recorded demo (scripted:boxes)" in text and "not one of them" in text
    assert "- Drill a 5 mm hole in it\n- Delete the box" in text
    assert "A 2 x 3 x 4 mm box" not in text and CONNECT_A_MODEL in text
    assert len(shop.calls) == 1
    # A later exchange may be asked before the one in between; then the demo moves past it.
    _, run, text = await ask(loop, run.messages, "delete the box")
    assert run.pending and run.pending[0].tool_name == "delete_box"
    decisions = decide_approvals(
        run.pending,
        [agui.ResumeItem(interrupt_id="approval_cd", payload={"approved": True})],
    )
    events, run = await run_all(loop, run.messages, decisions=decisions, run_id="r2")
    assert said(events) == "Deleted."
    _, run, text = await ask(loop, run.messages, "Drill a 5 mm hole in it")
    assert "comes before a request already played here" in text
    _, run, text = await ask(loop, run.messages, "and now?")
    assert "not one of them" in text and "All of them have been played" in text
    # Asked again, a played request is not replayed on what it already changed.
    _, _, text = await ask(loop, run.messages, "A 2 x 3 x 4 mm box")
    assert "played already in this chat" in text and "start a new chat" in text
    assert [c[0] for c in shop.calls] == ["make_box", "delete_box"]


@pytest.mark.parametrize(
    "request_text",
    ["a 4 x 5 x 6 mm box", "a box", "make a 2 x 3 mm box with a 6 mm hole", ""],
)
async def test_a_request_it_did_not_record_gets_an_honest_answer(request_text):
    loop, shop = make_loop(demo(*DEMO))
    events, _, text = await ask(loop, [], request_text)
    assert shop.calls == [] and not any(isinstance(e, agui.ToolCallStart) for e in events)
    assert text.startswith("This chat runs a recorded demo (scripted:boxes), not a model")
    assert "- A 2 x 3 x 4 mm box\n- Drill a 5 mm hole in it\n- Delete the box" in text
    assert text.endswith(CONNECT_A_MODEL)
    assert events[-1].metadata["solidtype"]["reason"] == "stop"


async def test_a_demo_does_not_start_where_its_tools_are_missing():
    class NoBoxes(BoxShop):
        def definitions(self):
            return [d for d in super().definitions() if d.name != "make_box"]

    loop, shop = make_loop(demo(*DEMO), NoBoxes())
    events, _, text = await ask(loop, [], "A 2 x 3 x 4 mm box")
    assert shop.calls == [] and not any(isinstance(e, agui.ToolCallStart) for e in events)
    assert "needs a CAD document" in text and "(`make_box`)" in text
    assert "Nothing was run" in text and "%ai_chat plate.solid.json" in text
    assert "24 mm³" not in text
    # Asked for something else, it lists what it can show, marking what cannot run here.
    _, _, text = await ask(loop, [], "a cylinder")
    assert "- A 2 x 3 x 4 mm box (needs a chat with a CAD document)\n" in text
    assert "- Drill a 5 mm hole in it\n" in text
    # The exchanges whose tools are there still play (this one on a box never made: it fails
    # and says so).
    _, _, text = await ask(loop, [], "Drill a 5 mm hole in it")
    assert [c[0] for c in shop.calls] == ["add_hole"]
    assert text.startswith("Step 1 of the recording (`add_hole`) failed: no box box1")


async def test_the_replay_stops_at_a_failed_step_and_names_it():
    loop, shop = make_loop(
        demo(
            {"prompt": "Build it", "text": "Box first.", "tool_calls": [BOX]},
            {"tool_calls": [{"name": "explode", "id": "c2"}]},
            {"text": "Done: everything worked."},
        )
    )
    _, run, text = await ask(loop, [], "build it")
    assert [c[0] for c in shop.calls] == ["make_box", "explode"]
    assert "Step 2 of the recording (`explode`) failed: explode failed: kaboom" in text
    assert "Done" not in text and "the steps before it were applied" in text
    assert run.finish_reason == "stop"


async def test_invalid_arguments_of_a_recorded_step_stop_the_replay_with_the_problems():
    bad = {**BOX, "arguments": {"width": -2, "height": 3, "depth": 4}}
    loop, shop = make_loop(demo({"prompt": "Build it", "tool_calls": [bad]}, {"text": "Built."}))
    _, _, text = await ask(loop, [], "build it")
    assert shop.calls == [] and "Built." not in text
    assert "Step 1 of the recording (`make_box`) failed: invalid arguments" in text
    assert "width:" in text  # the problems, not a JSON dump


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"approved": True}, "Deleted."),
        ({"approved": False}, "Step 1 of the recording (`delete_box`) was declined"),
        (
            {"approved": True, "editedArgs": {"box": "box7"}},
            'arguments you edited ({"box": "box7"})',
        ),
    ],
)
async def test_after_an_approval_the_recorded_answer_plays_only_if_the_call_ran_as_recorded(
    payload, expected
):
    loop, _ = make_loop(demo(*DEMO))
    _, run, _ = await ask(loop, [], "Delete the box")
    decisions = decide_approvals(
        run.pending, [agui.ResumeItem(interrupt_id="approval_cd", payload=payload)]
    )
    events, _ = await run_all(loop, run.messages, decisions=decisions, run_id="r2")
    assert expected in said(events)
    if expected != "Deleted.":
        assert "Deleted." not in said(events)


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            '{"text": "a"}\n{"prompt": "b", "text": "b"}',
            ":1: a demo script's first turn needs a prompt",
        ),
        (
            '{"prompt": "a box", "tool_calls": [{"name": "make_box"}]}',
            ":1: the last turn of an exchange",
        ),
        (
            '{"prompt": "a", "tool_calls": [{"name": "x"}]}\n{"prompt": "b", "text": "b"}',
            ":1: the last turn of an exchange",
        ),
        ('{"prompt": "  ?! ", "text": "a"}', ":1: prompt must be a request in words"),
        ('{"prompt": 5, "text": "a"}', ":1: prompt must be a request in words"),
    ],
)
def test_demo_script_errors_name_the_line(script, message):
    with pytest.raises(ScriptError, match=message):
        parse_script(script, "demo.jsonl")


def test_bundled_scripts_are_demos_whose_prompts_match_the_notebooks():
    for name, requests in {
        "quickstart": [
            QUICKSTART_REQUEST,
            "A 60x40x8 mm plate with four 5 mm corner holes",  # notebooks/04-collaboration
            "a 60 \u00d7 40 \u00d7 8 mm plate, four \u00d85 mm corner holes, 3 mm fillets",
        ],
        "edit-existing-part": [
            "What is this part, and which parameters does it have?",
            "Make the plate 12 mm thick.",
            "Change the fillet radius to 6 mm.",
            "Undo the last change.",
        ],
        "sessions-and-resume": ["An M8 washer, please.", "Is it still valid?"],
    }.items():
        adapter = ScriptedAdapter.from_file(name)
        assert adapter.is_demo
        exchanges = [adapter._match(r, 0) for r in requests]
        assert exchanges == sorted(exchanges) and None not in exchanges, (name, exchanges)
    quickstart = ScriptedAdapter.from_file("quickstart")
    # The request from issue 18, and other parts: not the recorded plate.
    for other in ("make a 40 x 30 x 8 mm plate with a 6 mm hole in the middle", "a plate"):
        assert quickstart._match(other, 0) is None
