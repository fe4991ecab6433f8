"""``SolidTypeApp.approval_overrides`` reaches the agents: a tool that normally runs at once
waits for approval, and one that normally waits runs at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chat.conftest import ALICE, ChatClient, extension, write_script
from traitlets import TraitError

from solidtype_jupyter.server.extension import SolidTypeApp

from .conftest import server_config


@pytest.fixture
def jp_server_config(sqlite_url: str, script_path: Path) -> dict[str, Any]:
    return server_config(
        sqlite_url,
        f"scripted:{script_path}",
        default_runtime="thread",
        approval_overrides={"create_sketch": "confirm", "set_parameter": "auto"},
    )


async def test_overrides_change_what_waits_for_approval(jp_fetch, jp_serverapp, script_path: Path):
    chat = ChatClient(jp_fetch)
    document = await extension(jp_serverapp).catalog.register_document(ALICE, "part.solid.json")
    write_script(
        script_path,
        {"tool_calls": [{"name": "set_parameter", "arguments": {"name": "t", "value": 8}}]},
        {"tool_calls": [{"name": "create_sketch", "arguments": {"plane": "XY"}}]},
        {"text": "Sketched."},
    )
    session_id = await chat.session(ALICE, "editor", documentId=str(document.id))
    code, frames = await chat.turn(ALICE, session_id, "a sketch, please")
    assert code == 200, frames
    finished = frames[-1][1]
    assert finished["type"] == "RUN_FINISHED", finished
    # set_parameter ("confirm" by default) ran at once; create_sketch ("notify") waits.
    results = [e for _, e in frames if e["type"] == "TOOL_CALL_RESULT"]
    assert len(results) == 1 and '"t": 8.0' in results[0]["content"], results
    interrupts = finished["outcome"]["interrupts"]
    assert [i["metadata"]["toolName"] for i in interrupts] == ["create_sketch"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [({"delete_feature": "never"}, "approval levels must be one of"), ({"x": 1}, "")],
)
def test_bad_overrides_are_refused(value, reason):
    with pytest.raises(TraitError, match=reason):
        SolidTypeApp(approval_overrides=value)
