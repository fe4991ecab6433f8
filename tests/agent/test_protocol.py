"""The agent protocol: every command and event survives its wire form (Yjs updates as
binary buffers, or base64 in a JSON-only text), and malformed messages are refused with a
reason."""

from __future__ import annotations

import json

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.protocol import agent as proto
from solidtype_jupyter.protocol import agui

IDENTITY = proto.AgentIdentity.for_session("session-1", "instance-1", "kernel")
CONFIG = proto.AgentConfig(identity=IDENTITY, session_id="session-1", user_id="alice")


def _yjs_update() -> bytes:
    document = CadDocument("plate")
    document.set_parameter("width", 60)
    return document.get_update()


COMMANDS = [
    proto.InitCommand(config=CONFIG),
    proto.ChatCommand(
        run_id="r1",
        thread_id="session-1",
        user_id="alice",
        history=[{"id": "m-0", "role": "user", "content": "hi"}],
        decisions=[
            proto.WireDecision(
                interrupt_id="i1",
                tool_call_id="c1",
                tool_name="delete_feature",
                arguments={"feature_id": "extrude1"},
                message_id="m1",
                approved=True,
            )
        ],
        stored_results=[
            proto.WireStoredResult(name="get_geometry", arguments={}, content="{}", is_error=False)
        ],
        tool_rounds=2,
    ),
    proto.CancelCommand(run_id="r1"),
    proto.ExecuteToolCommand(id="t1", tool_name="get_geometry", args={"x": [1, 2]}),
    proto.SyncDocumentCommand(updates=_yjs_update(), reset=True),
    proto.TerminateCommand(),
]

EVENTS = [
    proto.StateChangeEvent(state=proto.AgentState(status="busy", current_task="t", progress=40)),
    proto.ChatResponseEvent(
        run_id="r1", event=agui.RunFinished(run_id="r1", thread_id="s").to_wire(), done=True
    ),
    proto.ToolCallEvent(id="c1", name="extrude", args={"distance": 8}),
    proto.ToolResultEvent(id="c1", result={"ok": True}, error=None),
    proto.DocumentUpdateEvent(updates=_yjs_update(), revision="abc"),
    proto.AwarenessUpdateEvent(state={"user": {"name": IDENTITY.name}}),
    proto.AwarenessUpdateEvent(state=None),
    proto.ErrorEvent(message="boom", fatal=True, code="agent_died"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.type)
def test_every_command_round_trips_with_binary_buffers(command):
    header, buffers = proto.encode(command)
    text = json.dumps(header)  # the header is plain JSON: no bytes left inside it
    assert proto.decode_command(json.loads(text), buffers) == command
    assert proto.decode_command(json.loads(proto.to_json(command))) == command
    if isinstance(command, proto.SyncDocumentCommand):
        assert header["updates"] == {"$buffer": 0}
        assert buffers == [command.updates] and "base64" not in text


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_every_event_round_trips_with_binary_buffers(event):
    header, buffers = proto.encode(event)
    assert proto.decode_event(json.loads(json.dumps(header)), buffers) == event
    assert proto.decode_event(json.loads(proto.to_json(event))) == event


def test_a_yjs_update_arrives_usable():
    source = CadDocument("plate")
    source.set_parameter("width", 60)
    header, buffers = proto.encode(proto.SyncDocumentCommand(updates=source.get_update()))
    command = proto.decode_command(header, [memoryview(b) for b in buffers])
    replica = CadDocument()
    assert isinstance(command, proto.SyncDocumentCommand)
    replica.apply_update(command.updates)
    assert replica.parameters == {"width": 60} and replica.name == "plate"


@pytest.mark.parametrize(
    ("header", "buffers", "reason"),
    [
        ([1, 2], [], "must be a JSON object"),
        ({"type": "fly"}, [], "invalid agent command"),
        ({"type": "execute-tool", "id": "x"}, [], "toolName"),
        ({"type": "sync-document", "updates": {"$buffer": 3}}, [b"x"], "buffer 3"),
        ({"type": "sync-document", "updates": {"$base64": "!!"}}, [], "invalid base64"),
        ({"type": "terminate", "extra": 1}, [], "extra"),
        ({"type": "init", "config": {"sessionId": "s"}}, [], "config.identity"),
    ],
)
def test_malformed_commands_are_refused_with_a_reason(header, buffers, reason):
    with pytest.raises(proto.ProtocolError, match=reason):
        proto.decode_command(header, buffers)


def test_identity_is_stable_per_session_and_purple():
    a = proto.AgentIdentity.for_session("s-1", "one", "kernel")
    b = proto.AgentIdentity.for_session("s-1", "two", "thread")
    c = proto.AgentIdentity.for_session("s-2", "three", "kernel")
    assert (a.name, a.color, a.user_id) == (b.name, b.color, b.user_id)
    assert a.id != b.id and a.user_id != c.user_id
    for identity in (a, b, c):
        assert identity.color in proto.AGENT_COLORS
        red, green, blue = (int(identity.color[i : i + 2], 16) for i in (1, 3, 5))
        assert blue > green and red > green  # purple: red and blue over green


def test_state_progress_is_bounded():
    with pytest.raises(ValueError):
        proto.AgentState(status="busy", progress=101)
    with pytest.raises(ValueError):
        proto.AgentState(status="sleeping")  # type: ignore[arg-type]


def test_binary_frames_round_trip_and_refuse_truncation():
    command = proto.SyncDocumentCommand(updates=_yjs_update())
    header, buffers = proto.encode(command)
    frame = proto.pack_frame(header, buffers)
    assert command.updates in frame  # raw bytes, not base64
    got_header, got_buffers = proto.unpack_frame(frame)
    assert proto.decode_command(got_header, got_buffers) == command
    for cut in (b"", b"\x00\x00", frame[:10], frame[:-1]):
        with pytest.raises(proto.ProtocolError):
            proto.unpack_frame(cut)
    with pytest.raises(proto.ProtocolError, match="not JSON"):
        proto.unpack_frame(b"\x00\x00\x00\x02{x")
