"""``Chat`` in a kernel-like process: real runtime, database, ChatService, tools and CadQuery.

The model is scripted; the browser is the ``recorder`` (what the widget would send it).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from solidtype_jupyter.agent.event_log import StreamWriter, ensure_stream, read_all
from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.llm import create_adapter, resolve_model, user_message_events
from solidtype_jupyter.protocol import agui
from solidtype_jupyter.protocol.sessions import chat_stream_path
from solidtype_jupyter.store import ChatSessionRepository, ThreadedDatabase, upgrade_schema
from solidtype_jupyter.widgets import Chat, ChatUsageError
from solidtype_jupyter.widgets.chat import PAGE_SIZE
from solidtype_jupyter.widgets.runtime import shared_runtime

from .conftest import APPROVAL_SCRIPT, QUICKSTART_VOLUME, Recorder

PLATE = "a 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets on the vertical edges"


def open_chat(url: str, model: str, **kwargs: Any) -> Chat:
    choice = resolve_model(model, {})
    return Chat.open(
        shared_runtime(url),
        model=lambda: create_adapter(choice, {}),
        model_label=model,
        document=kwargs.pop("document", CadDocument("Plate")),
        **kwargs,
    )


def command(chat: Chat, content: dict[str, Any]) -> None:
    chat.widget._on_browser_message(chat.widget, content, [])


def test_quickstart_builds_the_plate_and_the_server_lists_the_session(
    database_url: str, chat_env: Path, recorder: Recorder
) -> None:
    upgrade_schema(database_url)  # PostgreSQL is upgraded by its admin, SQLite by itself
    chat = open_chat(database_url, "scripted:quickstart")
    assert recorder.kinds()[:2] == ["reset", "sessions"]
    assert recorder.of("reset")[0]["messages"] == []
    # The panel is told it shows a recorded demo, what it can replay, how to get a real model.
    demo = recorder.of("reset")[0]["demo"]
    assert demo["prompts"] == [PLATE[0].upper() + PLATE[1:]]
    assert "ANTHROPIC_API_KEY" in demo["notice"] and "OPENAI_BASE_URL" in demo["notice"]

    turn = chat.send(PLATE)
    assert turn is not None and turn.outcome == "finished"
    assert turn.tool_calls == [
        "create_sketch", "add_rectangle", "extrude", "fillet", "hole", "get_geometry"
    ]  # fmt: skip
    assert chat.document is not None
    assert chat.document.geometry()["volume"] == pytest.approx(QUICKSTART_VOLUME, abs=0.01)
    assert chat.shape.val().isValid()
    script = chat.to_script()
    namespace: dict[str, Any] = {}
    exec(compile(script, "<to_script>", "exec"), namespace)
    assert namespace["result"].val().Volume() == pytest.approx(QUICKSTART_VOLUME, abs=0.01)

    # The panel got the stored events as increments, in order, each once, ending the run.
    recorder.wait_for(lambda: any(e["e"]["type"] == "RUN_FINISHED" for e in recorder.events()))
    offsets = [e["o"] for e in recorder.events()]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    runtime = chat.runtime
    stored = runtime.call(read_all(runtime.engine, chat_stream_path(chat.session_id)))
    assert [e["e"] for e in recorder.events()] == [s.data for s in stored]
    assert len(recorder.of("reset")) == 1  # history is never sent again
    recorder.wait_for(lambda: any(m["png"] for m in recorder.of("view")))
    # The hole's face (the agent's last selection) is named in the viewer's caption.
    recorder.wait_for(lambda: "1 face selected by the agent" in recorder.of("view")[-1]["caption"])

    # The server's repository on the same database sees an ordinary session.
    async def listed() -> Any:
        database = ThreadedDatabase(database_url)
        try:
            return await ChatSessionRepository(database).list("notebook-user")
        finally:
            database.close()

    [row] = asyncio.run(listed())
    assert str(row.id) == chat.session_id
    assert row.title.startswith("a 60x40x8 mm plate")
    assert row.message_count == len(chat.messages) == 14
    assert chat.sessions()[0]["messageCount"] == 14


def test_approve_with_edited_arguments_and_reject(sqlite_url: str, chat_env: Path) -> None:
    model = f"scripted:{APPROVAL_SCRIPT}"
    chat = open_chat(sqlite_url, model)
    turn = chat.send("a plate, then 10 mm thick")
    assert turn is not None and turn.outcome == "approval"
    [waiting] = turn.interrupts
    assert waiting["toolName"] == "modify_feature"
    assert chat.pending == [waiting]
    assert chat.document is not None
    assert chat.document.geometry()["volume"] == pytest.approx(60 * 40 * 8)
    with pytest.raises(ChatUsageError, match="tool calls wait for approval"):
        chat.send("something else")

    done = chat.approve(
        waiting["toolCallId"], {"feature_id": "extrude1", "changes": {"distance": 12}}
    )
    assert done is not None and done.outcome == "finished"
    assert chat.document.geometry()["volume"] == pytest.approx(60 * 40 * 12)
    assert chat.pending == []

    other = open_chat(sqlite_url, model)
    turn = other.send("a plate, then 10 mm thick")
    assert turn is not None
    done = other.reject(turn.interrupts[0]["id"])
    assert done is not None and done.outcome == "finished"
    assert other.document is not None
    assert other.document.geometry()["volume"] == pytest.approx(60 * 40 * 8)
    results = [m for m in other.messages if m["role"] == "tool"]
    assert any("rejected" in m["content"] for m in results)
    with pytest.raises(ChatUsageError, match="does not wait for approval"):
        other.approve("approval_nothing")


def test_stop_ends_a_running_answer(sqlite_url: str, chat_env: Path, tmp_path: Path) -> None:
    script = tmp_path / "slow.jsonl"
    script.write_text(json.dumps({"text": ["word "] * 400, "delay_ms": 20}) + "\n")
    chat = open_chat(sqlite_url, f"scripted:{script}")
    assert chat.send("talk for a while", wait=False) is None
    live = chat.runtime.service.live_run(chat.session_id)  # type: ignore[union-attr]
    assert live is not None
    assert chat.stop() == live.run_id
    turn = chat._wait(live.run_id, 30)
    assert turn.outcome == "cancelled"
    assert 0 < turn.text.count("word") < 400
    assert chat.stop() is None


def test_panel_commands_drive_the_chat(sqlite_url: str, chat_env: Path, recorder: Recorder) -> None:
    chat = open_chat(sqlite_url, f"scripted:{APPROVAL_SCRIPT}")
    first_session = chat.session_id
    command(chat, {"cmd": "ready", "view": "view-1"})
    recorder.wait_for(lambda: any(m.get("view") == "view-1" for m in recorder.of("reset")))

    command(chat, {"cmd": "send", "text": "a plate"})

    def interrupted() -> bool:
        return any(
            e["e"]["type"] == "RUN_FINISHED" and e["e"].get("outcome") for e in recorder.events()
        )

    recorder.wait_for(interrupted)
    [finished] = [e["e"] for e in recorder.events() if e["e"].get("outcome")]
    [interrupt] = finished["outcome"]["interrupts"]
    command(
        chat,
        {"cmd": "approve", "interruptId": interrupt["id"], "toolCallId": interrupt["toolCallId"]},
    )
    recorder.wait_for(lambda: [m["kind"] for m in recorder.messages].count("thumbnail") == 1)
    recorder.wait_for(lambda: sum(e["e"]["type"] == "RUN_FINISHED" for e in recorder.events()) == 2)
    assert chat.document is not None
    assert chat.document.geometry()["volume"] == pytest.approx(60 * 40 * 10)

    # An approval for a call that no longer waits is an inline error, not a crash.
    command(chat, {"cmd": "approve", "interruptId": interrupt["id"]})
    recorder.wait_for(lambda: bool(recorder.of("error")))
    assert "does not wait for approval" in recorder.of("error")[0]["message"]

    command(chat, {"cmd": "new"})
    recorder.wait_for(lambda: chat.session_id != first_session)
    recorder.wait_for(lambda: recorder.of("sessions")[-1]["active"] == chat.session_id)
    listed = {s["id"] for s in recorder.of("sessions")[-1]["sessions"]}
    assert listed == {first_session, chat.session_id}

    command(chat, {"cmd": "switch", "session": first_session})
    recorder.wait_for(lambda: chat.session_id == first_session)
    reset = recorder.of("reset")[-1]
    assert reset["session"] == first_session and reset["total"] == len(chat.messages)

    command(chat, {"cmd": "archive", "session": first_session})
    recorder.wait_for(lambda: chat.session_id != first_session)
    recorder.wait_for(
        lambda: first_session not in {s["id"] for s in recorder.of("sessions")[-1]["sessions"]}
    )
    assert [
        s["status"] for s in chat.sessions(include_archived=True) if s["id"] == first_session
    ] == ["archived"]


def test_a_2000_message_session_is_paged(
    sqlite_url: str, chat_env: Path, recorder: Recorder
) -> None:
    runtime = shared_runtime(sqlite_url)

    async def long_session() -> str:
        session = await runtime.sessions.create(runtime.user_id, "editor")
        path = chat_stream_path(session.id)
        await ensure_stream(runtime.engine, path)
        writer = StreamWriter(runtime.engine, path)
        for i in range(1000):
            await writer.put_all(user_message_events(f"u{i}", f"question {i}"))
            await writer.put(agui.TextMessageStart(message_id=f"a{i}", role="assistant"))
            for word in f"answer number {i} with a few words".split():
                await writer.put(agui.TextMessageContent(message_id=f"a{i}", delta=word + " "))
            await writer.put(agui.TextMessageEnd(message_id=f"a{i}"))
        await writer.drain()
        return str(session.id)

    session_id = runtime.call(long_session())
    chat = open_chat(sqlite_url, "scripted:quickstart", session_id=session_id)
    [reset] = recorder.of("reset")
    assert reset["total"] == 2000 and reset["first"] == 2000 - PAGE_SIZE
    assert len(reset["messages"]) == PAGE_SIZE
    assert reset["messages"][-1]["content"].startswith("answer number 999")
    assert len(json.dumps(reset)) < 20_000

    command(chat, {"cmd": "more", "view": "v", "before": reset["first"]})
    recorder.wait_for(lambda: bool(recorder.of("history")))
    [page] = recorder.of("history")
    assert page["first"] == 2000 - 2 * PAGE_SIZE and len(page["messages"]) == PAGE_SIZE
    assert page["messages"][-1]["content"] == "answer number 949 with a few words "

    # A new turn sends only its own events.
    before = len(recorder.messages)
    chat.send(PLATE)
    recorder.wait_for(lambda: any(e["e"]["type"] == "RUN_FINISHED" for e in recorder.events()))
    later = recorder.messages[before:]
    assert "reset" not in {m["kind"] for m in later}
    assert all(not e["o"] <= reset["offset"] for e in recorder.events())


def test_without_a_model_the_chat_says_how_to_configure_one(shell: Any, recorder: Recorder) -> None:
    chat = shell.run_line_magic("ai_chat", "--new")
    assert chat.model_label == "no model configured"
    assert recorder.of("reset")[-1]["demo"] is None
    turn = chat.send(PLATE)
    assert turn.outcome == "finished"
    assert "No chat model is configured" in turn.text and "scripted:quickstart" in turn.text
    assert chat.document.features == []  # no made-up answer, no scripted demo in disguise
    notices = [e["e"] for e in recorder.events() if e["e"]["type"] == "CUSTOM"]
    assert any(n["value"].get("kind") == "model_not_configured" for n in notices)


def test_a_database_behind_its_schema_is_refused_cleanly(postgres_url: str, chat_env: Path) -> None:
    import threading

    from solidtype_jupyter.store import SchemaBehindError
    from solidtype_jupyter.widgets.runtime import ChatRuntime

    def loops() -> int:
        return sum(t.name == "solidtype-chat" for t in threading.enumerate())

    before = loops()
    with pytest.raises(SchemaBehindError, match="solidtype-jupyter db upgrade"):
        ChatRuntime(postgres_url)
    assert loops() == before  # its background loop was stopped
