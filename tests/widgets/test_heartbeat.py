"""A notebook chat's agent beats into the database while the chat is open (presence)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from solidtype_jupyter.agent import LoggedEvent
from solidtype_jupyter.protocol import agui
from solidtype_jupyter.widgets.heartbeat import NotebookAgentHeartbeat

from .conftest import Recorder


def logged(event: dict[str, Any], position: int = 1) -> LoggedEvent:
    return LoggedEvent(position, json.dumps(event), event)


def test_the_state_follows_the_run() -> None:
    beat = NotebookAgentHeartbeat(None, "ada", "s-1", None)  # type: ignore[arg-type]
    assert beat.state.status == "ready"
    beat.observe([logged({"type": "RUN_STARTED", "threadId": "s-1", "runId": "r"})])
    assert (beat.state.status, beat.state.current_task) == ("busy", "thinking")
    status = {"status": "busy", "currentTask": "Running extrude (2 of 3)", "progress": 33}
    beat.observe(
        [
            logged({"type": "TOOL_CALL_START", "toolCallId": "c", "toolCallName": "extrude"}),
            logged({"type": "CUSTOM", "name": agui.STATUS_EVENT, "value": status}),
        ]
    )
    assert (beat.state.current_task, beat.state.progress) == ("Running extrude (2 of 3)", 33)
    beat.observe([logged({"type": "RUN_FINISHED", "threadId": "s-1", "runId": "r"})])
    assert beat.state.status == "ready" and beat.state.current_task is None


def test_an_open_chat_beats_and_a_closed_one_is_gone(
    shell: Any, chat_env: Path, recorder: Recorder
) -> None:
    chat = shell.run_line_magic("ai_chat", "part.solid.json --model scripted:quickstart --new")

    def alive() -> dict[str, Any]:
        beats = chat.runtime.call(chat.runtime.heartbeats.alive(60))
        return {b.identity.session_id: b for b in beats}

    recorder.wait_for(lambda: chat.session_id in alive())
    beat = alive()[chat.session_id]
    assert beat.user_id == chat.runtime.user_id == "notebook-user"
    assert beat.document_path == str(chat_env / "part.solid.json")
    assert beat.identity.name and beat.identity.color.startswith("#")
    chat.send("a 60x40x8 mm plate with four 5 mm corner holes, 3 mm fillets")
    recorder.wait_for(lambda: alive()[chat.session_id].state.status == "ready")
    chat.close()
    assert chat.session_id not in alive()
