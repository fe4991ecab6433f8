"""The user's selection in the 3D view reaches the agent (issue 23): a chat request's
``forwardedProps.selection`` (references as the tessellation route gives them) is what the
run's ``get_current_selection`` returns, through a real jupyter_server and an agent in a
thread or in a kernel (the same wire protocol); a malformed selection is a 422."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from chat.conftest import ALICE, ChatClient

from .conftest import KERNEL_AGENTS, PLATE_SCRIPT, server_config, write_script

RUNTIMES = {"thread": {"default_runtime": "thread", "agent_pool_size": 0}, "kernel": KERNEL_AGENTS}


@pytest.fixture(params=list(RUNTIMES))
def runtime(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def jp_server_config(sqlite_url: str, script_path: Path, runtime: str) -> dict[str, Any]:
    return server_config(sqlite_url, f"scripted:{script_path}", **RUNTIMES[runtime])


def turn_body(session_id: str, text: str, forwarded: Any) -> dict[str, Any]:
    return {
        "threadId": session_id,
        "runId": f"run-{uuid.uuid4().hex[:8]}",
        "messages": [{"id": f"u-{uuid.uuid4().hex[:8]}", "role": "user", "content": text}],
        "forwardedProps": forwarded,
    }


async def references(jp_fetch, path: str) -> dict[str, Any]:
    response = await jp_fetch(
        "solidtype",
        "api",
        "documents",
        "tessellation",
        params={"path": path},
        headers={"X-Test-User": ALICE},
        request_timeout=300,
    )
    answer = json.loads(response.body)
    [part] = answer["references"].values()
    return dict(part)


def tool_results(frames: list[tuple[str | None, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [
        json.loads(event["content"]) for _, event in frames if event["type"] == "TOOL_CALL_RESULT"
    ]


async def test_the_users_pick_is_the_agents_current_selection(
    jp_fetch, script_path: Path, jp_root_dir: Path
):
    chat = ChatClient(jp_fetch)
    session_id = await chat.session(ALICE, "editor", documentPath="plate.solid.json")
    write_script(script_path, PLATE_SCRIPT)
    code, frames = await chat.turn(ALICE, session_id, "Make a 60x40x8 plate")
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames

    # What the view picks from: the references of the plate's faces and edges.
    part = await references(jp_fetch, "plate.solid.json")
    [top] = [f for f in part["faces"] if f.get("normal") == [0.0, 0.0, 1.0]]
    edge = next(e for e in part["edges"] if e["center"][2] == 8.0)
    # A raw script's turn n answers the conversation's n-th assistant turn: the whole
    # conversation so far, then this turn's.
    asked = [
        *PLATE_SCRIPT,
        {"tool_calls": [{"name": "get_current_selection", "arguments": {}}]},
        {"text": "You picked the top face and one of its edges."},
    ]
    write_script(script_path, asked)
    body = turn_body(session_id, "what did I pick?", {"selection": [top, edge]})
    code, _, frames = await chat.call(ALICE, "POST", "chat", body=body)
    assert code == 200 and frames[-1][1]["type"] == "RUN_FINISHED", frames
    [picked] = tool_results(frames)
    assert picked["count"] == 2, picked
    face, line = picked["items"]
    assert "error" not in face and "error" not in line, picked
    assert face["body"] == "body1" and face["resolved"]["type"] == "PLANE"
    assert face["resolved"]["normal"] == [0.0, 0.0, 1.0]
    assert face["resolved"]["center"] == [0.0, 0.0, 8.0]
    assert face["resolved"]["area"] == pytest.approx(60 * 40)
    assert line["resolved"]["kind"] == "edge"
    assert line["resolved"]["center"] == edge["center"]
    assert line["resolved"]["length"] == pytest.approx(edge["length"])

    # The next turn without a selection: nothing is selected any more.
    write_script(
        script_path,
        [
            *asked,
            {"tool_calls": [{"name": "get_current_selection", "arguments": {}}]},
            {"text": "Nothing is selected."},
        ],
    )
    code, frames = await chat.turn(ALICE, session_id, "and now?")
    assert code == 200, frames
    [result] = tool_results(frames)
    assert result == {"count": 0, "items": []}, result


@pytest.mark.parametrize("runtime", ["thread"], indirect=True)
async def test_a_malformed_selection_is_refused(jp_fetch, runtime: str):
    chat = ChatClient(jp_fetch)
    session_id = await chat.session(ALICE, "editor", documentPath="plate.solid.json")
    face = {"kind": "face", "body": "body1", "type": "PLANE", "center": [0, 0, 8]}
    for selection, where in [
        ([{**face, "kind": "vertex"}], "kind"),
        ([{**face, "body": "../etc"}], "body"),
        ([{**face, "colour": "red"}], "colour"),
        ([{**face, "center": [0, 0]}], "center"),
        ([{key: v for key, v in face.items() if key != "center"}], "center"),
        ([face] * 101, "selection"),
        ("top face", "selection"),
    ]:
        body = turn_body(session_id, "fillet these", {"selection": selection})
        code, _, answer = await chat.call(ALICE, "POST", "chat", body=body)
        assert code == 422, (selection, answer)
        assert any(where in [str(p) for p in e["loc"]] for e in answer["errors"]), answer
    code, _, answer = await chat.call(
        ALICE,
        "POST",
        "chat",
        raw=json.dumps(turn_body(session_id, "x", {"selection": [face]})).replace(
            "[0, 0, 8]", "[0, NaN, 8]"
        ),
    )
    assert code == 422, answer
