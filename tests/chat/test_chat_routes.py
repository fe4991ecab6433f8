"""The chat routes in a real jupyter_server with the scripted model, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from solidtype_jupyter.streams import json_values

from .conftest import ALICE, BOB, extension, write_script


def types(frames: list[tuple[str | None, dict[str, Any]]]) -> list[str]:
    return [event["type"] for _, event in frames]


def ui_text(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(role, text) per hydrated UIMessage."""
    return [
        (m["role"], "".join(p["content"] for p in m["parts"] if p["type"] == "text"))
        for m in messages
    ]


def text_of(frames: list[tuple[str | None, dict[str, Any]]]) -> str:
    return "".join(e["delta"] for _, e in frames if e["type"] == "TEXT_MESSAGE_CONTENT")


async def stored_events(serverapp: Any, session_id: str) -> list[dict[str, Any]]:
    engine = await extension(serverapp).started_stream_engine()
    result = await engine.read(f"ai-chat/{session_id}")
    return [value for message in result.messages for value in json_values(message.data)]


async def test_a_turn_streams_stores_and_updates_the_session(chat, jp_serverapp, script_path):
    write_script(script_path, {"text": "Hello there, Ada."})
    session_id = await chat.session(ALICE)
    code, frames = await chat.turn(ALICE, session_id, "Say hello to Ada please")
    assert code == 200
    assert types(frames)[:2] == ["CUSTOM", "RUN_STARTED"]
    assert types(frames)[-1] == "RUN_FINISHED"
    assert text_of(frames) == "Hello there, Ada."
    ids = [frame_id for frame_id, _ in frames]
    assert all(ids) and ids == sorted(ids) and len(set(ids)) == len(ids)
    # Every event sent is in the stream, in the same order, after the user's message.
    stored = await stored_events(jp_serverapp, session_id)
    assert [e["type"] for e in stored[:3]] == [
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
    ]
    assert stored[0]["role"] == "user"
    assert stored[3:] == [event for _, event in frames]
    code, _, row = await chat.call(ALICE, "GET", "sessions", session_id)
    assert row["title"] == "Say hello to Ada please"
    assert row["messageCount"] == 2
    # Hydrate: the conversation rebuilt from the stream, on both routes.
    code, _, hydrated = await chat.call(ALICE, "GET", "session", session_id)
    assert code == 200
    assert ui_text(hydrated["messages"]) == [
        ("user", "Say hello to Ada please"),
        ("assistant", "Hello there, Ada."),
    ]
    assert hydrated["activeRun"] is None and hydrated["interrupts"] is None
    code, _, same = await chat.call(ALICE, "GET", "chat", params={"threadId": session_id})
    assert same["messages"] == hydrated["messages"]


async def test_resume_by_last_event_id_and_by_offset_without_duplicates(chat, script_path):
    write_script(script_path, {"text": ["one ", "two ", "three ", "four ", "five"]})
    session_id = await chat.session(ALICE)
    code, frames = await chat.turn(ALICE, session_id, "count", run_id="run-count")
    assert code == 200
    for cut in range(len(frames) - 1):
        last_id = frames[cut][0]
        assert last_id is not None
        # The client's reconnect: the same request again with Last-Event-ID.
        code, again = await chat.turn(
            ALICE, session_id, "count", run_id="run-count", headers={"Last-Event-ID": last_id}
        )
        assert code == 200
        assert again == frames[cut + 1 :]
        code, _, by_get = await chat.call(
            ALICE, "GET", "session", session_id, params={"offset": last_id, "live": "sse"}
        )
        assert by_get == frames[cut + 1 :]
    # The same run posted again without an offset follows that run (no second run).
    code, again = await chat.turn(ALICE, session_id, "count", run_id="run-count")
    assert again == frames
    # JSON catch-up and long-poll from an offset.
    code, _, page = await chat.call(
        ALICE, "GET", "session", session_id, params={"offset": frames[2][0]}
    )
    assert [e["event"] for e in page["events"]] == [e for _, e in frames[3:]]
    assert page["nextOffset"] == frames[-1][0]
    code, _, polled = await chat.call(
        ALICE, "GET", "session", session_id, params={"offset": frames[2][0], "live": "long-poll"}
    )
    assert [e["offset"] for e in polled["events"]] == [i for i, _ in frames[3:]]


async def test_approval_interrupt_then_approve_and_reject(chat, jp_serverapp, script_path):
    # editor tools: delete_feature needs confirmation; the session has no document, so the
    # approved call answers "no document" (the approval round trip is what is tested).
    write_script(
        script_path,
        {
            "text": "Deleting it.",
            "tool_calls": [{"name": "delete_feature", "arguments": {"feature_id": "extrude1"}}],
        },
        {"text": "Done after your answer."},
        {
            "text": "Deleting again.",
            "tool_calls": [{"name": "delete_feature", "arguments": {"feature_id": "sketch1"}}],
        },
        {"text": "Understood, not deleting."},
    )
    session_id = await chat.session(ALICE, "editor")
    code, frames = await chat.turn(ALICE, session_id, "delete extrude1", run_id="run-a")
    assert code == 200
    finished = frames[-1][1]
    assert finished["type"] == "RUN_FINISHED"
    interrupts = finished["outcome"]["interrupts"]
    assert [i["metadata"]["toolName"] for i in interrupts] == ["delete_feature"]
    interrupt_id = interrupts[0]["id"]
    # While it waits: a new message is refused (409 naming it), hydrate shows it.
    code, refused = await chat.turn(ALICE, session_id, "something else")
    assert code == 409 and interrupt_id in refused["message"]
    code, _, hydrated = await chat.call(ALICE, "GET", "session", session_id)
    assert hydrated["interrupts"]["runId"] == "run-a"
    assert [i["id"] for i in hydrated["interrupts"]["pending"]] == [interrupt_id]
    call = hydrated["messages"][-1]["parts"][-1]
    assert call["type"] == "tool-call" and call["state"] == "approval-requested"
    assert call["approval"] == {"id": interrupt_id, "needsApproval": True}
    # Only the owner can answer; bad answers are 422, not 500.
    code, _ = await chat.turn(
        BOB, session_id, resume=[{"interruptId": interrupt_id, "payload": {"approved": True}}]
    )
    assert code == 404
    code, bad = await chat.turn(
        ALICE, session_id, resume=[{"interruptId": "approval_nope", "payload": {"approved": True}}]
    )
    assert code == 422 and "unknown" in bad["message"]
    code, bad = await chat.turn(
        ALICE, session_id, resume=[{"interruptId": interrupt_id, "payload": {"yes": 1}}]
    )
    assert code == 422
    code, bad = await chat.turn(
        ALICE,
        session_id,
        parent_run_id="run-other",
        resume=[{"interruptId": interrupt_id, "payload": {"approved": True}}],
    )
    assert code == 422
    # Approve: the tool result comes before RUN_STARTED, then the model goes on.
    code, frames = await chat.turn(
        ALICE,
        session_id,
        parent_run_id="run-a",
        resume=[{"interruptId": interrupt_id, "payload": {"approved": True}}],
    )
    assert code == 200, frames
    assert types(frames)[:3] == ["CUSTOM", "TOOL_CALL_RESULT", "RUN_STARTED"]
    assert "no CAD document" in frames[1][1]["content"]
    assert text_of(frames) == "Done after your answer."
    assert frames[-1][1]["type"] == "RUN_FINISHED" and "outcome" not in frames[-1][1]
    # A second approval, rejected this time.
    code, frames = await chat.turn(ALICE, session_id, "delete sketch1")
    second = frames[-1][1]["outcome"]["interrupts"][0]["id"]
    code, frames = await chat.turn(
        ALICE, session_id, resume=[{"interruptId": second, "payload": {"approved": False}}]
    )
    assert code == 200
    assert "rejected" in frames[1][1]["content"]
    assert text_of(frames) == "Understood, not deleting."
    code, _, hydrated = await chat.call(ALICE, "GET", "session", session_id)
    assert [role for role, _ in ui_text(hydrated["messages"])] == [
        "user", "assistant", "assistant", "user", "assistant", "assistant",
    ]  # fmt: skip
    parts = [p["type"] for p in hydrated["messages"][1]["parts"]]
    assert parts == ["text", "tool-call", "tool-result"]
    assert hydrated["messages"][1]["parts"][1]["state"] == "complete"
    assert hydrated["interrupts"] is None


async def test_cancel_keeps_the_partial_text(chat, jp_serverapp, script_path):
    write_script(script_path, {"text": ["word "], "repeat": 400, "delay_ms": 10})
    session_id = await chat.session(ALICE)
    answer = asyncio.ensure_future(chat.turn(ALICE, session_id, "talk a lot"))
    service = extension(jp_serverapp).chat
    for _ in range(200):
        await asyncio.sleep(0.02)
        folded = await service.session_log(await _session(jp_serverapp, session_id))
        if (
            folded.transcript.messages
            and (folded.transcript.messages[-1].content or "").count("word") >= 5
        ):
            break
    code, _, body = await chat.call(ALICE, "POST", "session", session_id, "cancel")
    assert code == 202 and body["cancelled"] is True
    code, frames = await answer
    assert frames[-1][1]["type"] == "RUN_FINISHED"
    assert frames[-1][1]["metadata"]["solidtype"]["reason"] == "cancelled"
    partial = text_of(frames)
    assert 5 * len("word ") <= len(partial) < 400 * len("word ")
    code, _, hydrated = await chat.call(ALICE, "GET", "session", session_id)
    assert ui_text(hydrated["messages"])[-1] == ("assistant", partial)
    code, _, body = await chat.call(ALICE, "POST", "session", session_id, "cancel")
    assert code == 409


async def _session(serverapp: Any, session_id: str) -> Any:
    return await extension(serverapp).sessions.get(ALICE, session_id)


async def test_two_users_are_isolated_and_bad_input_is_4xx(chat, script_path):
    session_id = await chat.session(ALICE)
    code, _ = await chat.turn(ALICE, session_id, "hello")
    assert code == 200
    for method, path, params in [
        ("GET", ("session", session_id), None),
        ("GET", ("session", session_id), {"offset": "-1", "live": "sse"}),
        ("GET", ("chat",), {"threadId": session_id}),
        ("POST", ("session", session_id, "cancel"), None),
    ]:
        code, _, _ = await chat.call(BOB, method, *path, params=params)
        assert code == 404, (method, path)
    code, _ = await chat.turn(BOB, session_id, "hi")
    assert code == 404
    bad_bodies = [
        "not json",
        json.dumps({"runId": "r"}),
        json.dumps({"threadId": session_id, "runId": ""}),
        json.dumps({"threadId": session_id, "runId": "r", "messages": [{"role": "robot"}]}),
        json.dumps({"threadId": session_id, "runId": "r", "messages": []}),
        json.dumps(
            {"threadId": session_id, "runId": "r", "messages": [{"role": "user", "content": " "}]}
        ),
        json.dumps({"threadId": "not-a-uuid", "runId": "r"}),
    ]
    for raw in bad_bodies:
        code, _, body = await chat.call(ALICE, "POST", "chat", raw=raw)
        assert 400 <= code < 500, (raw, code, body)
    for params in [
        {"offset": "garbage", "live": "sse"},
        {"offset": "-1", "live": "websocket"},
        {"live": "sse"},
    ]:
        code, _, body = await chat.call(ALICE, "GET", "session", session_id, params=params)
        assert 400 <= code < 500, (params, code, body)
    code, _, body = await chat.call(ALICE, "GET", "session", "nope")
    assert code == 404
