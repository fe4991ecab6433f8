# ruff: noqa: E501
# (captured wire lines are kept whole)
"""AG-UI wire models: the captured TanStack exchange parses and re-serializes byte for byte."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from solidtype_jupyter.protocol import agui

# Lines captured from @tanstack/ai 0.58.0 + @tanstack/ai-client 0.33.2 (notes/ag-ui-chat-wire.md §6)
CAPTURED_RESPONSE_1 = [
    '{"type":"RUN_STARTED","runId":"run-1795462460421-2ua662","threadId":"thread-demo","timestamp":1795462460574}',
    '{"type":"TEXT_MESSAGE_START","messageId":"msg-a1","role":"assistant","timestamp":1795462460576}',
    '{"type":"TEXT_MESSAGE_CONTENT","messageId":"msg-a1","delta":"Sure, ","timestamp":1795462460576}',
    '{"type":"TEXT_MESSAGE_END","messageId":"msg-a1","timestamp":1795462460577}',
    '{"type":"TOOL_CALL_START","toolCallId":"call_1","toolCallName":"transfer","parentMessageId":"msg-a1","timestamp":1795462460577}',
    '{"type":"TOOL_CALL_ARGS","toolCallId":"call_1","delta":"{\\"amount\\":5,","timestamp":1795462460578}',
    '{"type":"TOOL_CALL_END","toolCallId":"call_1","timestamp":1795462460578}',
    '{"type":"TOOL_CALL_RESULT","timestamp":1795462460703,"messageId":"msg-a1","toolCallId":"call_1","content":"{\\"receiptId\\":\\"r-Ada-5\\"}","role":"tool"}',
    '{"type":"RUN_FINISHED","runId":"run-1795462460662-h0ajus","threadId":"thread-demo","timestamp":1795462460705,"metadata":{"tanstack":{"finishReason":"stop"}}}',
    '{"type":"CUSTOM","name":"run.accepted","value":{},"timestamp":1795462556067}',
    '{"type":"RUN_ERROR","timestamp":1,"message":"provider exploded","code":"rate_limited"}',
]

CAPTURED_NATIVE_INTERRUPT = (
    '{"type":"RUN_FINISHED","runId":"run-1795462460421-2ua662","threadId":"thread-demo",'
    '"timestamp":1795462460583,"metadata":{"tanstack":{"finishReason":"tool_calls"}},'
    '"outcome":{"type":"interrupt","interrupts":[{"id":"approval_call_1","reason":"tool_call",'
    '"message":"Approval required to run transfer","toolCallId":"call_1","responseSchema":'
    '{"oneOf":[{"type":"object","properties":{"approved":{"const":true},"editedArgs":'
    '{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":'
    '{"amount":{"type":"number"},"recipient":{"type":"string"}},"required":["amount","recipient"]}},'
    '"required":["approved"],"additionalProperties":false},{"type":"object","properties":'
    '{"approved":{"const":false}},"required":["approved"],"additionalProperties":false}]},'
    '"metadata":{"kind":"approval","toolName":"transfer","input":{"amount":5,"recipient":"Ada"},'
    '"tanstack:interruptBinding":{"v":1,"kind":"tool-approval","interruptId":"approval_call_1",'
    '"toolName":"transfer","toolCallId":"call_1","originalArgs":{"amount":5,"recipient":"Ada"},'
    '"inputSchemaHash":"sha256:0fe072fa7dd0644a82175c47dec81ebdcc29fde0f487881c75a06bef093eb382",'
    '"approvalSchemaHash":"sha256:22f76d9a1c618a3cfaa891208a14f6e5e6ab1be4ff1c38cc8a8cd1e8fd0c0e4e",'
    '"responseSchemaHash":"sha256:ecddc221d5b55c1c6fc26c279539e729a060ad3b80136831cd20ce1cf6bbd920",'
    '"interruptedRunId":"run-1795462460421-2ua662","generation":0}}}]}}'
)

CAPTURED_DESCRIPTOR_INTERRUPT = (
    '{"type":"RUN_FINISHED","threadId":"thread-demo","runId":"run-1795462522573-nm1ryl",'
    '"timestamp":1795462522665,"metadata":{"tanstack":{"finishReason":"tool_calls"}},"outcome":'
    '{"type":"interrupt","interrupts":[{"id":"approval_call_1","reason":"approval_required",'
    '"message":"Approve transfer?","toolCallId":"call_1","metadata":{"kind":"approval",'
    '"toolName":"transfer","input":{"amount":5,"recipient":"Ada"}}}]}}'
)

CAPTURED_REQUEST_2 = (
    '{"threadId":"thread-demo","runId":"run-1795462460662-h0ajus","parentRunId":'
    '"run-1795462460421-2ua662","resume":[{"interruptId":"approval_call_1","payload":'
    '{"approved":true},"status":"resolved"}],"state":{},"messages":[{"id":"msg-1795462460421-s12vj",'
    '"metadata":{"tanstack":{"createdAt":"2026-11-23T19:34:20.421Z"}},"role":"user","content":'
    '"Send 5 to Ada"},{"id":"msg-a1","metadata":{"tanstack":{"createdAt":"2026-11-23T19:34:20.576Z"}},'
    '"role":"assistant","content":"Sure, transferring.","toolCalls":[{"id":"call_1","type":"function",'
    '"function":{"name":"transfer","arguments":"{\\"amount\\":5,\\"recipient\\":\\"Ada\\"}"}}]},'
    '{"role":"tool","id":"tool-call_1","toolCallId":"call_1","content":"{\\"approved\\":true,'
    '\\"pendingExecution\\":true,\\"message\\":\\"User approved this action\\"}","metadata":'
    '{"tanstack":{"toolResult":{}}}}],"tools":[{"name":"transfer","description":"Transfer funds",'
    '"parameters":{"type":"object","properties":{"amount":{"type":"number"},"recipient":'
    '{"type":"string"}},"required":["amount","recipient"]}}],"context":[],"forwardedProps":{},'
    '"data":{}}'
)

TRANSFER_SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "number"}, "recipient": {"type": "string"}},
    "required": ["amount", "recipient"],
}


@pytest.mark.parametrize("line", [*CAPTURED_RESPONSE_1, CAPTURED_NATIVE_INTERRUPT])
def test_captured_events_round_trip_byte_for_byte(line):
    assert agui.parse_event(line).to_json() == line


def test_descriptor_interrupt_round_trips_as_json():
    event = agui.parse_event(CAPTURED_DESCRIPTOR_INTERRUPT)
    assert isinstance(event, agui.RunFinished)
    assert event.finish_reason == "tool_calls"
    assert event.outcome is not None
    assert event.outcome.interrupts[0].tool_call_id == "call_1"
    assert json.loads(event.to_json()) == json.loads(CAPTURED_DESCRIPTOR_INTERRUPT)


def test_built_events_serialize_like_the_capture():
    start = agui.RunStarted(
        run_id="run-1795462460421-2ua662", thread_id="thread-demo", timestamp=1795462460574
    )
    assert start.to_json() == CAPTURED_RESPONSE_1[0]
    result = agui.ToolCallResult(
        message_id="msg-a1",
        tool_call_id="call_1",
        content='{"receiptId":"r-Ada-5"}',
        timestamp=1795462460703,
    )
    assert result.to_json() == CAPTURED_RESPONSE_1[7]
    finished = agui.RunFinished(
        run_id="run-1795462460662-h0ajus",
        thread_id="thread-demo",
        timestamp=1795462460705,
        metadata=agui.tanstack_metadata(finishReason="stop"),
    )
    assert finished.to_json() == CAPTURED_RESPONSE_1[8]


def test_descriptor_built_by_helper_matches_capture_shape():
    interrupt = agui.approval_interrupt(
        tool_call_id="call_1",
        tool_name="transfer",
        tool_input={"amount": 5, "recipient": "Ada"},
        message="Approve transfer?",
    )
    event = agui.RunFinished(
        run_id="run-1795462522573-nm1ryl",
        thread_id="thread-demo",
        timestamp=1795462522665,
        metadata=agui.tanstack_metadata(finishReason="tool_calls"),
        outcome=agui.InterruptOutcome(interrupts=[interrupt]),
    )
    assert json.loads(event.to_json()) == json.loads(CAPTURED_DESCRIPTOR_INTERRUPT)


def test_native_binding_hashes_match_the_captured_ones():
    binding = agui.tanstack_interrupt_binding(
        tool_call_id="call_1",
        tool_name="transfer",
        original_args={"amount": 5, "recipient": "Ada"},
        input_schema=TRANSFER_SCHEMA,
        interrupted_run_id="run-1795462460421-2ua662",
    )
    captured = agui.parse_event(CAPTURED_NATIVE_INTERRUPT)
    assert isinstance(captured, agui.RunFinished) and captured.outcome is not None
    expected = captured.outcome.interrupts[0].metadata["tanstack:interruptBinding"]
    assert binding == expected


def test_request_body_parses():
    body = agui.RunAgentInput.model_validate_json(CAPTURED_REQUEST_2)
    assert body.thread_id == "thread-demo"
    assert body.parent_run_id == "run-1795462460421-2ua662"
    assert body.resume == [
        agui.ResumeItem(interrupt_id="approval_call_1", payload={"approved": True})
    ]
    assistant = body.messages[1]
    assert assistant.tool_calls is not None
    assert json.loads(assistant.tool_calls[0].function.arguments) == {
        "amount": 5,
        "recipient": "Ada",
    }
    assert body.messages[2].role == "tool" and body.messages[2].tool_call_id == "call_1"
    assert body.tools[0].parameters == TRANSFER_SCHEMA


@pytest.mark.parametrize(
    "body",
    [
        "{}",
        '{"threadId":"","runId":"r"}',
        '{"threadId":"t","runId":"r","messages":[{"role":"robot","content":"x"}]}',
        '{"threadId":"t","runId":"r","resume":[{"payload":{}}]}',
    ],
)
def test_bad_request_bodies_are_refused(body):
    with pytest.raises(ValidationError):
        agui.RunAgentInput.model_validate_json(body)


def test_sse_frame_is_single_line_with_offset():
    event = agui.TextMessageContent(message_id="m", delta="line one\nline two\r\n", timestamp=5)
    frame = agui.sse_frame(event, "0000000000000001_0000000000000042")
    lines = frame.split("\n")
    assert lines[0] == "id: 0000000000000001_0000000000000042"
    assert lines[1].startswith("data: ") and json.loads(lines[1][6:])["delta"] == event.delta
    assert lines[2:] == ["", ""]
    assert agui.sse_frame(event).startswith("data: {")
    with pytest.raises(ValueError):
        agui.sse_frame(event, "bad\nid")


def test_unknown_event_type_is_refused():
    with pytest.raises(ValidationError):
        agui.parse_event('{"type":"NOPE","timestamp":1}')


def test_native_interrupt_builder_reproduces_the_capture():
    interrupt = agui.native_approval_interrupt(
        tool_call_id="call_1",
        tool_name="transfer",
        tool_input={"amount": 5, "recipient": "Ada"},
        input_schema=TRANSFER_SCHEMA,
        interrupted_run_id="run-1795462460421-2ua662",
    )
    event = agui.RunFinished(
        run_id="run-1795462460421-2ua662",
        thread_id="thread-demo",
        timestamp=1795462460583,
        metadata=agui.tanstack_metadata(finishReason="tool_calls"),
        outcome=agui.InterruptOutcome(interrupts=[interrupt]),
    )
    assert event.to_json() == CAPTURED_NATIVE_INTERRUPT
