"""Elicited approvals on the 2026-07-28 protocol, driven by hand: the server asks with an
``InputRequiredResult`` bound to the call's name and arguments, and takes an answer only
with that binding (the real server in process, through the official client's session)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import Client

from solidtype_jupyter.mcp import LocalWorkspace, build_server


async def _client(tmp_path: Path, answer: Any) -> Any:
    workspace = LocalWorkspace(tmp_path, user_id="ada")
    opened = await workspace.open("part.solid.json")
    assert opened.ok

    async def workspace_of(ctx: Any) -> LocalWorkspace:
        return workspace

    return Client(build_server(workspace_of, approvals="elicit"), elicitation_callback=answer)


async def _accept(context: Any, params: Any) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"approve": True})


def _saved(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "part.solid.json").read_text())  # type: ignore[no-any-return]


async def test_an_answer_counts_only_for_the_call_it_was_asked_about(tmp_path: Path) -> None:
    async with await _client(tmp_path, _accept) as client:
        asked = await client.session.call_tool(
            "set_parameter", {"name": "width", "value": 10}, allow_input_required=True
        )
        assert isinstance(asked, types.InputRequiredResult)
        assert asked.input_requests is not None and asked.request_state
        [(key, request)] = asked.input_requests.items()
        assert isinstance(request, types.ElicitRequest)
        assert "set_parameter" in request.params.message
        yes = {key: types.ElicitResult(action="accept", content={"approve": True})}

        # The same answer replayed for other arguments, or with a forged state: refused.
        other = await client.session.call_tool(
            "set_parameter",
            {"name": "width", "value": 99},
            input_responses=yes,
            request_state=asked.request_state,
            allow_input_required=True,
        )
        assert isinstance(other, types.CallToolResult) and other.is_error
        forged = await client.session.call_tool(
            "set_parameter",
            {"name": "width", "value": 10},
            input_responses=yes,
            request_state="0" * 64,
            allow_input_required=True,
        )
        assert isinstance(forged, types.CallToolResult) and forged.is_error
        assert "width" not in _saved(tmp_path)["parameters"]

        # "approve": false is a refusal too.
        no = {key: types.ElicitResult(action="accept", content={"approve": False})}
        refused = await client.session.call_tool(
            "set_parameter",
            {"name": "width", "value": 10},
            input_responses=no,
            request_state=asked.request_state,
            allow_input_required=True,
        )
        assert isinstance(refused, types.CallToolResult) and refused.is_error

        done = await client.session.call_tool(
            "set_parameter",
            {"name": "width", "value": 10},
            input_responses=yes,
            request_state=asked.request_state,
            allow_input_required=True,
        )
        assert isinstance(done, types.CallToolResult) and not done.is_error
        assert _saved(tmp_path)["parameters"]["width"]["value"] == 10


async def test_a_client_without_elicitation_decides_itself(tmp_path: Path) -> None:
    async with await _client(tmp_path, None) as client:  # no callback: no capability
        done = await client.call_tool("set_parameter", {"name": "width", "value": 5})
        assert not done.is_error
    assert _saved(tmp_path)["parameters"]["width"]["value"] == 5
