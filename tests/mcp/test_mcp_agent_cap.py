"""An MCP session's agent kernel counts against ``max_agents_per_user`` like a chat's: a
second session of the same user stops the first one's idle agent to start its own, and the
first session's next call starts a new agent on the saved document (nothing lost).
"""

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

from agent.conftest import KERNEL_AGENTS, server_config  # noqa: E402


@pytest.fixture
def jp_server_config(sqlite_url: str) -> dict[str, Any]:
    return server_config(sqlite_url, "scripted:quickstart", max_agents_per_user=1, **KERNEL_AGENTS)


def text(result: types.CallToolResult) -> dict[str, Any]:
    first = result.content[0]
    assert isinstance(first, types.TextContent)
    return json.loads(first.text)  # type: ignore[no-any-return]


async def test_mcp_agents_count_against_the_per_user_cap(
    jp_fetch: Any, jp_serverapp: Any, jp_http_port: int, jp_root_dir: Path
) -> None:
    url = f"http://127.0.0.1:{jp_http_port}{jp_serverapp.base_url}solidtype/mcp"
    token = jp_serverapp.identity_provider.token
    ext = jp_serverapp.extension_manager.extension_points["solidtype"].app
    headers = {"Authorization": f"token {token}", "X-Test-User": "alice"}
    first_http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300))
    second_http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(300))
    async with (
        first_http,
        second_http,
        Client(streamable_http_client(url, http_client=first_http)) as first,
        Client(streamable_http_client(url, http_client=second_http)) as second,
    ):
        assert not (await first.call_tool("open_document", {"path": "a.solid.json"})).is_error
        made = await first.call_tool("create_sketch", {"plane": "XY"})
        assert not made.is_error, text(made)
        [first_key] = [w.session_key for w in ext.mcp.workspaces.values()]
        first_agent = ext.agents.live(first_key)
        assert first_agent is not None and first_agent.alive

        # alice's second session needs an agent of its own: her idle one makes room.
        assert not (await second.call_tool("open_document", {"path": "b.solid.json"})).is_error
        made = await second.call_tool("create_sketch", {"plane": "XZ"})
        assert not made.is_error, text(made)
        assert ext.agents.live(first_key) is None
        assert not first_agent.alive

        # The first session goes on: a new agent on the document as saved.
        more = await first.call_tool(
            "add_rectangle", {"sketch_id": "sketch1", "width": 10, "height": 5}
        )
        assert not more.is_error, text(more)
        saved = json.loads((jp_root_dir / "a.solid.json").read_text())
        assert [f["id"] for f in saved["features"]] == ["sketch1"]
        assert saved["features"][0]["entities"], saved
        kernels = [
            key
            for key in (w.session_key for w in ext.mcp.workspaces.values())
            if ext.agents.live(key) is not None
        ]
        assert kernels == [first_key]  # still one agent for alice
