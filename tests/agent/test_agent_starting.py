"""A turn's ``run.accepted`` marker says whether the session's agent must be started first
(a kernel agent takes seconds before its ``RUN_STARTED``): the panels show "Starting the
agent…" only then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chat.conftest import ALICE, ChatClient, extension

from .conftest import server_config, write_script


@pytest.fixture
def jp_server_config(sqlite_url: str, tmp_path: Path) -> dict[str, Any]:
    script = write_script(tmp_path / "turns.jsonl", [{"text": "Hello."}] * 3)
    return server_config(sqlite_url, f"scripted:{script}", default_runtime="thread")


def _accepted(frames: list[tuple[str | None, dict[str, Any]]]) -> dict[str, Any]:
    first = frames[0][1]
    assert first["type"] == "CUSTOM" and first["name"] == "run.accepted", frames
    return dict(first["value"])


async def test_run_accepted_says_when_the_agent_starts(jp_fetch, jp_serverapp) -> None:
    chat = ChatClient(jp_fetch)
    ext = extension(jp_serverapp)
    document = await ext.catalog.register_document(ALICE, "plate.solid.json")
    editor = await chat.session(ALICE, "editor", documentId=str(document.id))
    try:
        code, frames = await chat.turn(ALICE, editor, "hello")
        assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
        assert _accepted(frames)["agentStarting"] is True  # no agent yet: one is started
        assert ext.agents.live(editor) is not None
        code, frames = await chat.turn(ALICE, editor, "again")
        assert code == 200 and _accepted(frames)["agentStarting"] is False  # it runs

        # Dashboard turns run in the server process: there is no agent to start.
        dashboard = await chat.session(ALICE, "dashboard")
        code, frames = await chat.turn(ALICE, dashboard, "hello")
        assert code == 200 and _accepted(frames)["agentStarting"] is False
    finally:
        await ext.agents.close()
