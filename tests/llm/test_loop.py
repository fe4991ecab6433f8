"""The agentic loop: AG-UI events from model output and tool execution, approvals, cancel."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from solidtype_jupyter.llm import (
    AgentLoop,
    AnthropicAdapter,
    CancelToken,
    LoopConfig,
    OpenAICompatibleAdapter,
    ResumeError,
    ScriptedAdapter,
    ToolResultMessage,
    UserMessage,
    decide_approvals,
    pending_approvals,
    system_prompt_source,
)
from solidtype_jupyter.llm.adapters.scripted import parse_script
from solidtype_jupyter.protocol import agui

from .conftest import FAST_RETRY
from .fake_llm_server import ToolUse, Turn
from .tools_fixture import BoxShop


def scripted(*turns: dict) -> ScriptedAdapter:
    return ScriptedAdapter(parse_script("\n".join(json.dumps(t) for t in turns)))


def make_loop(adapter, shop=None, **config) -> tuple[AgentLoop, BoxShop]:
    shop = shop or BoxShop()
    loop = AgentLoop(
        adapter,
        shop,
        system_prompt="test",
        config=LoopConfig(**config),
        tool_context={"session": "s1"},
    )
    return loop, shop


async def run_all(loop, history, **kw):
    run = loop.run(thread_id="t1", run_id=kw.pop("run_id", "r1"), history=history, **kw)
    events = [event async for event in run]
    for event in events:  # every event is one valid single-line SSE frame
        frame = agui.sse_frame(event, "0_1")
        assert frame.count("\n") == 3 and agui.parse_event(frame.split("data: ", 1)[1]) == event
    return events, run


def types(events):
    return [e.type for e in events]


def results(events):
    return {
        e.tool_call_id: json.loads(e.content) for e in events if isinstance(e, agui.ToolCallResult)
    }


BOX_CALL = {"name": "make_box", "id": "c1", "arguments": {"width": 2, "height": 3, "depth": 4}}


async def test_text_only_run():
    loop, _ = make_loop(scripted({"text": "Hello there, maker."}))
    events, run = await run_all(loop, [UserMessage("hi")])
    assert types(events) == [
        "RUN_STARTED",
        "TEXT_MESSAGE_START",
        *["TEXT_MESSAGE_CONTENT"] * 3,
        "TEXT_MESSAGE_END",
        "RUN_FINISHED",
    ]
    assert (
        "".join(e.delta for e in events if isinstance(e, agui.TextMessageContent))
        == "Hello there, maker."
    )
    assert events[-1].finish_reason == "stop" and run.finish_reason == "stop"
    assert run.messages[-1].text == "Hello there, maker."


async def test_tool_round_trip():
    loop, shop = make_loop(
        scripted(
            {
                "text": "Making a box.",
                "tool_calls": [BOX_CALL],
                "usage": {"input_tokens": 5, "output_tokens": 3},
            },
            {"text": "Your box is 24 mm³.", "usage": {"input_tokens": 9, "output_tokens": 4}},
        )
    )
    events, run = await run_all(loop, [UserMessage("a box please")])
    assert shop.calls == [("make_box", {"width": 2, "height": 3, "depth": 4}, {"session": "s1"})]
    t = types(events)
    assert t.index("TOOL_CALL_END") < t.index("TOOL_CALL_RESULT") < t.index("RUN_FINISHED")
    args = "".join(e.delta for e in events if isinstance(e, agui.ToolCallArgs))
    assert json.loads(args) == BOX_CALL["arguments"]
    start = next(e for e in events if isinstance(e, agui.ToolCallStart))
    first_text = next(e for e in events if isinstance(e, agui.TextMessageStart))
    assert start.parent_message_id == first_text.message_id
    assert results(events) == {"c1": {"id": "box1", "volume": 24}}
    assert events[-1].metadata["solidtype"]["usage"] == {"inputTokens": 14, "outputTokens": 7}
    assert [m.role for m in run.messages] == ["user", "assistant", "tool", "assistant"]
    assert run.tool_rounds == 1


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_tool_round_trip_through_real_sdk(fake_llm, provider):
    script = fake_llm.anthropic if provider == "anthropic" else fake_llm.openai
    script.push(
        Turn(
            text=["On it."],
            tool_calls=[
                ToolUse("call_9", "make_box", ['{"width": 1', ', "height": 2, "dep', 'th": 3}'])
            ],
        ),
        Turn(text=["Done: ", "6 mm³."]),
    )
    adapter = (
        AnthropicAdapter(
            "claude-sonnet", api_key="k", base_url=fake_llm.anthropic_url, retry=FAST_RETRY
        )
        if provider == "anthropic"
        else OpenAICompatibleAdapter("m", base_url=fake_llm.openai_url, retry=FAST_RETRY)
    )
    loop, shop = make_loop(adapter)
    events, run = await run_all(loop, [UserMessage("box")])
    assert shop.calls[0][:2] == ("make_box", {"width": 1, "height": 2, "depth": 3})
    assert run.finish_reason == "stop"
    second = fake_llm.requests_to(provider)[1].body
    if provider == "anthropic":
        tool_result = second["messages"][-1]["content"][0]
        assert tool_result["type"] == "tool_result" and tool_result["tool_use_id"] == "call_9"
        assert json.loads(tool_result["content"]) == {"id": "box1", "volume": 6}
        assert second["messages"][1]["content"][-1]["input"] == {
            "width": 1,
            "height": 2,
            "depth": 3,
        }
    else:
        assert second["messages"][-1]["role"] == "tool"
        assert json.loads(second["messages"][-1]["content"]) == {"id": "box1", "volume": 6}
    assert events[-1].metadata["solidtype"]["usage"] == {"inputTokens": 22, "outputTokens": 14}


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"width": -1, "height": 3, "depth": 4}, "invalid arguments"),
        ({"width": 1, "height": 3}, "invalid arguments"),
        ('{"width": 1, "height": ', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
async def test_invalid_arguments_become_a_tool_error_the_model_sees(fake_llm, arguments, fragment):
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    fake_llm.anthropic.push(
        Turn(tool_calls=[ToolUse("toolu_1", "make_box", [raw])]),
        Turn(text=["Sorry, fixing that."]),
    )
    adapter = AnthropicAdapter(
        "claude-sonnet", api_key="k", base_url=fake_llm.anthropic_url, retry=FAST_RETRY
    )
    loop, shop = make_loop(adapter)
    events, run = await run_all(loop, [UserMessage("box")])
    assert shop.calls == []
    result = next(e for e in events if isinstance(e, agui.ToolCallResult))
    assert fragment in json.loads(result.content)["error"]
    assert result.metadata == {"solidtype": {"isError": True}}
    sent = fake_llm.requests_to("anthropic")[1].body["messages"][-1]["content"][0]
    assert sent["is_error"] is True and fragment in sent["content"]
    assert run.finish_reason == "stop"


async def test_schema_problems_are_listed_with_paths():
    loop, _ = make_loop(
        scripted(
            {
                "tool_calls": [
                    {
                        "name": "make_box",
                        "id": "c1",
                        "arguments": {"width": 0, "height": "x", "depth": 1, "color": 1},
                    }
                ]
            },
            {"text": "ok"},
        )
    )
    events, _ = await run_all(loop, [UserMessage("box")])
    problems = results(events)["c1"]["problems"]
    assert any(p.startswith("width:") for p in problems)
    assert any(p.startswith("height:") for p in problems)
    assert any("color" in p for p in problems)


async def test_unknown_and_failing_tools_are_errors_not_crashes():
    loop, _ = make_loop(
        scripted(
            {"tool_calls": [{"name": "no_such_tool", "id": "c1"}, {"name": "explode", "id": "c2"}]},
            {"text": "Both failed."},
        )
    )
    events, run = await run_all(loop, [UserMessage("go")])
    got = results(events)
    assert "unknown tool 'no_such_tool'" in got["c1"]["error"]
    assert "make_box" in got["c1"]["available"]
    assert got["c2"] == {"error": "explode failed: kaboom"}
    assert run.finish_reason == "stop"


async def test_max_tool_iterations_stops_the_loop():
    turns = [{"tool_calls": [{**BOX_CALL, "id": f"c{i}"}]} for i in range(5)]
    loop, shop = make_loop(scripted(*turns), max_tool_iterations=2)
    events, run = await run_all(loop, [UserMessage("boxes forever")])
    assert len(shop.calls) == 2
    assert "not run" in results(events)["c2"]["error"]
    notice = next(e for e in events if _is(e, agui.NOTICE_EVENT))
    assert notice.name == agui.NOTICE_EVENT and notice.value["kind"] == "max_tool_iterations"
    assert run.finish_reason == "max_tool_iterations"
    assert events[-1].metadata["solidtype"]["reason"] == "max_tool_iterations"
    assert isinstance(run.messages[-1], ToolResultMessage)  # history stays well-formed


async def test_notify_runs_at_once_and_emits_a_notice():
    loop, shop = make_loop(
        scripted(
            {
                "tool_calls": [
                    BOX_CALL,
                    {"name": "add_hole", "id": "c2", "arguments": {"box": "box1", "diameter": 5}},
                ]
            },
            {"text": "Drilled."},
        )
    )
    events, _ = await run_all(loop, [UserMessage("box with a hole")])
    assert [c[0] for c in shop.calls] == ["make_box", "add_hole"]
    i = next(n for n, e in enumerate(events) if _is(e, agui.NOTICE_EVENT))
    assert isinstance(events[i - 1], agui.ToolCallResult) and events[i - 1].tool_call_id == "c2"
    assert events[i].value == {
        "kind": "tool",
        "toolCallId": "c2",
        "toolName": "add_hole",
        "input": {"box": "box1", "diameter": 5},
        "isError": False,
        "message": "add_hole ran",
    }


def _is(event: agui.AguiEvent, name: str) -> bool:
    return isinstance(event, agui.Custom) and event.name == name


async def test_the_status_names_each_tool_and_counts_the_calls_of_a_step():
    loop, _ = make_loop(
        scripted(
            {
                "tool_calls": [
                    BOX_CALL,
                    {"name": "add_hole", "id": "c2", "arguments": {"box": "box1", "diameter": 5}},
                ]
            },
            {"tool_calls": [{**BOX_CALL, "id": "c3"}]},
            {"text": "Done."},
        )
    )
    events, _ = await run_all(loop, [UserMessage("boxes")])
    statuses = [e.value for e in events if _is(e, agui.STATUS_EVENT)]
    assert statuses == [
        {"status": "busy", "currentTask": "Running make_box (1 of 2)", "progress": 0},
        {"status": "busy", "currentTask": "Running add_hole (2 of 2)", "progress": 50},
        {"status": "busy", "currentTask": "Running make_box"},  # one call: no fraction
    ]
    # Each comes just before its tool's result, after the model finished asking.
    first = next(n for n, e in enumerate(events) if _is(e, agui.STATUS_EVENT))
    assert types(events)[first - 1] == "TOOL_CALL_END"
    assert types(events)[first + 1] == "TOOL_CALL_RESULT"


DELETE_CALL = {"name": "delete_box", "id": "cd", "arguments": {"box": "box1"}}


async def interrupted_run(final_turns=({"text": "Deleted."},), **config):
    loop, shop = make_loop(
        scripted(
            {"text": "Making and then deleting.", "tool_calls": [BOX_CALL, DELETE_CALL]},
            *final_turns,
        ),
        **config,
    )
    events, run = await run_all(loop, [UserMessage("make then delete")])
    return loop, shop, events, run


async def test_confirm_ends_the_run_with_an_interrupt():
    _, shop, events, run = await interrupted_run()
    assert [c[0] for c in shop.calls] == ["make_box"]  # the confirm call waits
    finished = events[-1]
    assert isinstance(finished, agui.RunFinished)
    assert finished.finish_reason == "tool_calls"
    assert finished.outcome is not None
    (interrupt,) = finished.outcome.interrupts
    assert interrupt.id == "approval_cd" and interrupt.reason == "approval_required"
    assert interrupt.tool_call_id == "cd"
    assert interrupt.metadata["kind"] == "approval"
    assert interrupt.metadata["toolName"] == "delete_box"
    assert interrupt.metadata["input"] == {"box": "box1"}
    assert run.finish_reason == "approval_required"
    assert [p.tool_call_id for p in run.pending] == ["cd"]


async def resume(loop, run, finished_json, payload, status="resolved"):
    # The pending approval comes back from the stored event, as after a server restart.
    pending = pending_approvals(agui.parse_event(finished_json))
    assert pending == run.pending
    decisions = decide_approvals(
        pending, [agui.ResumeItem(interrupt_id="approval_cd", payload=payload, status=status)]
    )
    # The client's placeholder row for the waiting call is replaced by the real result.
    history = [*run.messages, ToolResultMessage("cd", '{"approved":true,"pendingExecution":true}')]
    return await run_all(loop, history, decisions=decisions, run_id="r2")


async def test_resume_approve_runs_the_call_before_run_started():
    loop, shop, events, run = await interrupted_run()
    events2, run2 = await resume(loop, run, events[-1].to_json(), {"approved": True})
    assert types(events2)[:2] == ["TOOL_CALL_RESULT", "RUN_STARTED"]
    assert events2[0].tool_call_id == "cd" and json.loads(events2[0].content) == {"deleted": True}
    assert events2[0].message_id == events[-1].outcome.interrupts[0].metadata["messageId"]
    assert shop.calls[-1][:2] == ("delete_box", {"box": "box1"})
    assert run2.finish_reason == "stop"
    tool_rows = [m for m in run2.messages if isinstance(m, ToolResultMessage)]
    assert [m.tool_call_id for m in tool_rows] == ["c1", "cd"]
    assert "pendingExecution" not in tool_rows[1].content


async def test_resume_approve_with_edited_args():
    loop, shop, events, run = await interrupted_run()
    events2, _ = await resume(
        loop, run, events[-1].to_json(), {"approved": True, "editedArgs": {"box": "box7"}}
    )
    assert shop.calls[-1][:2] == ("delete_box", {"box": "box7"})
    content = json.loads(events2[0].content)
    assert content["arguments"] == {"box": "box7"} and content["result"] == {"deleted": False}
    assert "edited" in content["note"]


async def test_resume_with_invalid_edited_args_is_a_tool_error():
    loop, shop, events, run = await interrupted_run()
    events2, _ = await resume(
        loop, run, events[-1].to_json(), {"approved": True, "editedArgs": {"box": 3}}
    )
    assert [c[0] for c in shop.calls] == ["make_box"]
    assert "invalid arguments" in json.loads(events2[0].content)["error"]


@pytest.mark.parametrize(
    ("payload", "status"), [({"approved": False}, "resolved"), (None, "cancelled")]
)
async def test_resume_reject(payload, status):
    loop, shop, events, run = await interrupted_run(({"text": "Understood, kept it."},))
    events2, run2 = await resume(loop, run, events[-1].to_json(), payload, status)
    assert [c[0] for c in shop.calls] == ["make_box"]
    assert json.loads(events2[0].content)["rejected"] is True
    assert run2.messages[-1].text == "Understood, kept it."


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([], "unanswered"),
        ([("approval_zz", {"approved": True})], "unknown"),
        ([("approval_cd", {"approved": True}), ("approval_cd", {"approved": True})], "twice"),
        ([("approval_cd", {"approved": "yes please"})], "approved"),
        ([("approval_cd", {"approved": True, "extra": 1})], "approved"),
    ],
)
async def test_bad_resume_is_refused(answers, message):
    _, _, _events, run = await interrupted_run()
    items = [agui.ResumeItem(interrupt_id=i, payload=p) for i, p in answers]
    with pytest.raises(ResumeError, match=message):
        decide_approvals(run.pending, items)


async def test_approval_overrides_from_config():
    _loop, shop, _events, run = await interrupted_run(
        approval_overrides={"delete_box": "auto", "make_box": "confirm"}
    )
    assert [c[0] for c in shop.calls] == ["delete_box"]
    assert [p.tool_name for p in run.pending] == ["make_box"]
    with pytest.raises(ValueError, match="approval levels"):
        LoopConfig(approval_overrides={"x": "sometimes"})


async def test_tool_without_a_rule_needs_confirmation():
    loop, shop = make_loop(scripted({"tool_calls": [{"name": "mystery", "id": "cm"}]}))
    _events, run = await run_all(loop, [UserMessage("?")])
    assert shop.calls == [] and [p.tool_name for p in run.pending] == ["mystery"]


async def test_cancel_while_the_model_streams(fake_llm):
    fake_llm.anthropic.push(
        Turn(text=["Partial ", "answer ", "never sent"], fault="stall", fault_after=5)
    )
    adapter = AnthropicAdapter(
        "claude-sonnet", api_key="k", base_url=fake_llm.anthropic_url, retry=FAST_RETRY
    )
    loop, _ = make_loop(adapter)
    cancel = CancelToken()
    run = loop.run(thread_id="t1", run_id="r1", history=[UserMessage("long")], cancel=cancel)
    events = []
    cancelled_at = None
    async for event in run:
        events.append(event)
        if isinstance(event, agui.TextMessageContent) and event.delta == "answer ":
            asyncio.get_running_loop().call_later(0.05, cancel.cancel)
            cancelled_at = time.monotonic()
    assert time.monotonic() - cancelled_at < 2
    assert types(events)[-2:] == ["TEXT_MESSAGE_END", "RUN_FINISHED"]
    assert events[-1].metadata["solidtype"]["reason"] == "cancelled"
    assert run.messages[-1].text == "Partial answer "  # partial text kept
    for _ in range(100):  # the provider connection is closed, not left hanging
        if fake_llm.stalls_ended:
            break
        await asyncio.sleep(0.02)
    assert fake_llm.stalls_ended == 1


async def test_stop_while_the_scripted_model_waits_ends_the_run_at_once():
    """The model is read in the run's own task: a stop while it is silent interrupts the
    wait (no queue, no second task) and the run finishes as cancelled."""
    loop, _ = make_loop(scripted({"text": ["first ", "second"], "delay_ms": 60_000}))
    cancel = CancelToken()
    run = loop.run(thread_id="t1", run_id="r1", history=[UserMessage("slow")], cancel=cancel)
    events = []
    started = time.monotonic()
    async for event in run:
        events.append(event)
        if isinstance(event, agui.TextMessageContent):
            asyncio.get_running_loop().call_later(0.05, cancel.cancel)
    assert time.monotonic() - started < 5
    assert events[-1].metadata["solidtype"]["reason"] == "cancelled"
    assert run.messages[-1].text == "first "


async def test_cancelling_the_task_is_not_taken_for_a_stop():
    """A cancel of the task itself (the server stopping) while the model is silent still
    cancels the task: only the stop's own interruption is taken back."""
    loop, _ = make_loop(scripted({"text": ["first ", "second"], "delay_ms": 60_000}))
    run = loop.run(thread_id="t1", run_id="r1", history=[UserMessage("slow")])
    events: list[agui.AguiEvent] = []
    first_delta = asyncio.Event()

    async def consume() -> None:
        async for event in run:
            events.append(event)
            if isinstance(event, agui.TextMessageContent):
                first_delta.set()

    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(first_delta.wait(), 10)
    await asyncio.sleep(0.05)  # the loop now waits for the silent model
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "RUN_FINISHED" not in types(events)


async def test_cancel_while_a_tool_runs():
    loop, shop = make_loop(
        scripted({"tool_calls": [{"name": "wait_forever", "id": "cw"}]}, {"text": "never"})
    )
    cancel = CancelToken()
    run = loop.run(thread_id="t1", run_id="r1", history=[UserMessage("wait")], cancel=cancel)

    async def stop_when_started():
        await shop.tool_started.wait()
        cancel.cancel()

    stopper = asyncio.ensure_future(stop_when_started())
    events = [e async for e in run]
    await stopper
    assert results(events)["cw"] == {"error": "cancelled by the user"}
    assert run.finish_reason == "cancelled"
    assert isinstance(run.messages[-1], ToolResultMessage)


async def test_cancel_before_start_emits_a_clean_run():
    loop, _ = make_loop(scripted({"text": "unused"}))
    cancel = CancelToken()
    cancel.cancel()
    events, run = await run_all(loop, [UserMessage("x")], cancel=cancel)
    assert types(events) == ["RUN_STARTED", "RUN_FINISHED"]
    assert run.finish_reason == "cancelled"


async def test_model_failure_ends_with_run_error():
    loop, _ = make_loop(
        scripted({"text": "Starting", "error": {"code": "overloaded", "message": "busy"}})
    )
    events, run = await run_all(loop, [UserMessage("x")])
    assert types(events)[-2:] == ["TEXT_MESSAGE_END", "RUN_ERROR"]
    assert (events[-1].message, events[-1].code) == ("busy", "overloaded")
    assert run.finish_reason == "error" and run.messages[-1].text == "Starting"


async def test_editor_prompt_is_rebuilt_each_turn_with_the_document(fake_llm):
    fake_llm.anthropic.push(
        Turn(tool_calls=[ToolUse("t1", "make_box", ['{"width":1,"height":1,"depth":1}'])]),
        Turn(text=["ok"]),
    )
    shop = BoxShop()
    summary = lambda: f"boxes: {sorted(shop.boxes)}"  # noqa: E731
    loop = AgentLoop(
        AnthropicAdapter("claude-sonnet", api_key="k", base_url=fake_llm.anthropic_url),
        shop,
        system_prompt=system_prompt_source("editor", summary),
    )
    await run_all(loop, [UserMessage("box")])
    first, second = (r.body["system"] for r in fake_llm.requests_to("anthropic"))
    assert first.endswith("boxes: []") and second.endswith("boxes: ['box1']")
    assert "millimetres" in first


def test_bad_tool_schema_is_refused_at_start():
    class BadShop(BoxShop):
        def definitions(self):
            return [
                *super().definitions(),
                type(super().definitions()[0])("bad", "x", {"type": "nonsense"}),
            ]

    with pytest.raises(ValueError, match="bad: invalid JSON Schema"):
        make_loop(scripted(), BadShop())


async def test_cancel_before_a_resume_answers_every_waiting_call():
    loop, shop, _events, run = await interrupted_run()
    decisions = decide_approvals(
        run.pending, [agui.ResumeItem(interrupt_id="approval_cd", payload={"approved": True})]
    )
    cancel = CancelToken()
    cancel.cancel()
    events2, run2 = await run_all(loop, run.messages, decisions=decisions, cancel=cancel)
    assert types(events2) == ["TOOL_CALL_RESULT", "RUN_STARTED", "RUN_FINISHED"]
    assert results(events2)["cd"] == {"error": "cancelled by the user"}
    assert [c[0] for c in shop.calls] == ["make_box"]
    assert run2.finish_reason == "cancelled"


async def test_reader_leaving_early_closes_the_model_stream(fake_llm):
    fake_llm.anthropic.push(Turn(text=["a", "b"], fault="stall", fault_after=4))
    adapter = AnthropicAdapter(
        "claude-sonnet", api_key="k", base_url=fake_llm.anthropic_url, retry=FAST_RETRY
    )
    loop, _ = make_loop(adapter)
    run = loop.run(thread_id="t1", run_id="r1", history=[UserMessage("x")])
    async for event in run:
        if isinstance(event, agui.TextMessageContent):
            break
    await run.aclose()
    for _ in range(100):
        if fake_llm.stalls_ended:
            break
        await asyncio.sleep(0.02)
    assert fake_llm.stalls_ended == 1


async def test_native_interrupt_style_carries_the_tanstack_binding():
    _, _, events, run = await interrupted_run(interrupt_style="native")
    (interrupt,) = events[-1].outcome.interrupts
    assert interrupt.reason == "tool_call"
    binding = interrupt.metadata["tanstack:interruptBinding"]
    assert binding["interruptedRunId"] == "r1" and binding["toolCallId"] == "cd"
    assert interrupt.response_schema["oneOf"][0]["properties"]["editedArgs"]["required"] == ["box"]
    assert pending_approvals(agui.parse_event(events[-1].to_json())) == run.pending


async def test_a_bug_in_the_prompt_builder_ends_the_run_with_run_error():
    def broken_prompt():
        raise KeyError("document")

    loop = AgentLoop(scripted({"text": "x"}), BoxShop(), system_prompt=broken_prompt)
    events, _run = await run_all(loop, [UserMessage("x")])
    assert types(events) == ["RUN_STARTED", "RUN_ERROR"]
    assert events[-1].code == "internal_error" and "document" in events[-1].message


async def test_cancel_during_a_tool_round_answers_the_waiting_calls_too():
    shop = BoxShop()
    loop, _ = make_loop(
        scripted({"tool_calls": [{"name": "wait_forever", "id": "cw"}, DELETE_CALL]}), shop
    )
    cancel = CancelToken()

    async def stop_when_started():
        await shop.tool_started.wait()
        cancel.cancel()

    stopper = asyncio.ensure_future(stop_when_started())
    events, run = await run_all(loop, [UserMessage("x")], cancel=cancel)
    await stopper
    assert results(events) == {
        "cw": {"error": "cancelled by the user"},
        "cd": {"error": "cancelled by the user"},
    }
    assert run.finish_reason == "cancelled" and run.pending == []
