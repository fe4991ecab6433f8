"""Rebuilding the conversation from the stored events gives the loop's own state back."""

from __future__ import annotations

import json

from solidtype_jupyter.llm import (
    Transcript,
    UserMessage,
    decide_approvals,
    user_message_events,
)
from solidtype_jupyter.protocol import agui

from .test_loop import BOX_CALL, DELETE_CALL, make_loop, scripted


async def test_transcript_of_an_approval_round_trip_equals_the_loop_state():
    loop, _ = make_loop(
        scripted(
            {"text": "Box first.", "tool_calls": [BOX_CALL, DELETE_CALL]},
            {"text": "All done."},
        )
    )
    stored: list[str] = []  # the stream holds JSON lines; parse them back like a restart would
    stored += [e.to_json() for e in user_message_events("u1", "make then delete")]
    run1 = loop.run(thread_id="t", run_id="r1", history=[UserMessage("make then delete")])
    stored += [e.to_json() async for e in run1]

    transcript = Transcript(agui.parse_event(line) for line in stored)
    assert transcript.chat_history() == run1.messages
    assert transcript.pending == run1.pending and transcript.active_run_id is None

    decisions = decide_approvals(
        transcript.pending,
        [agui.ResumeItem(interrupt_id="approval_cd", payload={"approved": True})],
    )
    run2 = loop.run(
        thread_id="t", run_id="r2", history=transcript.chat_history(), decisions=decisions
    )
    stored += [e.to_json() async for e in run2]
    transcript = Transcript(agui.parse_event(line) for line in stored)
    assert transcript.chat_history() == run2.messages
    assert transcript.pending == [] and transcript.last_run_id == "r2"

    wire = transcript.messages
    assert [m.role for m in wire] == ["user", "assistant", "tool", "tool", "assistant"]
    assert wire[1].content == "Box first."
    assert [c.id for c in wire[1].tool_calls] == ["c1", "cd"]
    assert json.loads(wire[1].tool_calls[0].function.arguments) == BOX_CALL["arguments"]
    # a snapshot rebuilt from the wire messages gives the same history
    snap = Transcript([agui.MessagesSnapshot(messages=wire)])
    assert [type(m) for m in snap.chat_history()] == [type(m) for m in run2.messages]


async def test_open_run_and_text_after_a_tool_call():
    events = [
        agui.RunStarted(run_id="r", thread_id="t"),
        agui.ToolCallStart(tool_call_id="a", tool_call_name="x", parent_message_id="m1"),
        agui.ToolCallArgs(tool_call_id="a", delta="{}"),
        agui.ToolCallEnd(tool_call_id="a"),
        agui.TextMessageStart(message_id="m2"),
        agui.TextMessageContent(message_id="m2", delta="and more"),
    ]
    transcript = Transcript(events)
    assert transcript.active_run_id == "r"
    (assistant,) = transcript.chat_history()
    assert assistant.text == "and more" and [c.id for c in assistant.tool_calls] == ["a"]
