"""An MCP agent and the chat on one document: both edit the server's one copy, so neither
overwrites the other's change (the chat's turn runs in its own agent kernel, the MCP
session's in another)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agent.conftest import KERNEL_AGENTS, server_config, write_script  # noqa: E402
from chat.conftest import ChatClient  # noqa: E402

CHAT_SCRIPT = [
    {"tool_calls": [{"name": "modify_feature",
                     "arguments": {"feature_id": "extrude1", "changes": {"distance": 20}}}]},
    {"text": "Now 20 mm thick."},
]  # fmt: skip


@pytest.fixture
def jp_server_config(sqlite_url: str, tmp_path: Path) -> dict[str, Any]:
    script = write_script(tmp_path / "turns.jsonl", CHAT_SCRIPT)
    # modify_feature without an approval stop, so the chat's turn runs in one request
    overrides = {"approval_overrides": {"modify_feature": "notify"}}
    return server_config(sqlite_url, f"scripted:{script}", **overrides, **KERNEL_AGENTS)


def distance(document: Path) -> float:
    return float(json.loads(document.read_text())["features"][1]["distance"])


async def test_mcp_and_chat_edit_one_copy(
    jp_fetch: Any, jp_serverapp: Any, jp_http_port: int, jp_root_dir: Path
) -> None:
    (jp_root_dir / "parts").mkdir()
    document = jp_root_dir / "parts" / "p.solid.json"
    token = jp_serverapp.identity_provider.token
    url = f"http://127.0.0.1:{jp_http_port}{jp_serverapp.base_url}solidtype/mcp"
    headers = {"Authorization": f"token {token}", "X-Test-User": "alice"}
    chat = ChatClient(jp_fetch)
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300))
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        opened = await client.call_tool("open_document", {"path": "parts/p.solid.json"})
        assert not opened.is_error
        for name, arguments in [
            ("create_sketch", {"plane": "XY"}),
            ("add_rectangle", {"sketch_id": "sketch1", "width": 60, "height": 40}),
            ("extrude", {"sketch_id": "sketch1", "distance": 8}),
        ]:
            assert not (await client.call_tool(name, arguments)).is_error
        assert distance(document) == 8

        session = await chat.session("alice", "editor", documentPath="parts/p.solid.json")
        code, events = await chat.turn("alice", session, "make it 20 mm thick")
        assert code == 200
        assert any(e.get("type") == "RUN_FINISHED" for _, e in events), events
        assert distance(document) == 20

        # The MCP session sees the chat's change and builds on it.
        listed = await client.call_tool("list_features", {})
        assert listed.structured_content is not None
        assert listed.structured_content["features"][1]["distance"] == 20
        thicker = await client.call_tool(
            "modify_feature", {"feature_id": "extrude1", "changes": {"distance": 30}}
        )
        assert not thicker.is_error
        assert distance(document) == 30
        geometry = await client.call_tool("get_geometry", {})
        assert geometry.structured_content is not None
        assert geometry.structured_content["geometry"]["volume"] == pytest.approx(60 * 40 * 30)
        undone = await client.call_tool("undo", {})
        assert not undone.is_error and isinstance(undone.content[0], types.TextContent)
        assert distance(document) == 20
